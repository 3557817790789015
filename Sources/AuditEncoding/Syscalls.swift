import Glibc

// Every system call of the module goes through this file, with EINTR handled in one place.

/// What identifies one version of a file cheaply: if any of these change, the content may have.
///
/// Editors and `useradd`/`vipw` replace /etc/passwd by rename (new inode); an in-place write changes
/// size or mtime/ctime (nanosecond resolution).
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int64
    var modifiedNanoseconds: Int64
    var changedSeconds: Int64
    var changedNanoseconds: Int64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modifiedSeconds = Int64(status.st_mtim.tv_sec)
        modifiedNanoseconds = Int64(status.st_mtim.tv_nsec)
        changedSeconds = Int64(status.st_ctim.tv_sec)
        changedNanoseconds = Int64(status.st_ctim.tv_nsec)
    }
}

enum Syscalls {
    /// `stat(2)` of a path.
    static func identity(ofPath path: String) throws(UserDirectoryError) -> FileIdentity {
        var status = stat()
        while true {
            if stat(path, &status) == 0 { return FileIdentity(status) }
            if errno != EINTR { throw UserDirectoryError(path: path, operation: .stat, errno: errno) }
        }
    }

    /// Reads a whole regular file of at most `limit` bytes, with the identity `fstat` saw before reading.
    static func readFile(
        path: String,
        limit: Int
    ) throws(UserDirectoryError) -> (identity: FileIdentity, content: [UInt8]) {
        var descriptor: CInt
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw UserDirectoryError(path: path, operation: .open, errno: errno) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw UserDirectoryError(path: path, operation: .stat, errno: errno)
        }
        let identity = FileIdentity(status)
        guard identity.size <= Int64(limit) else {
            throw UserDirectoryError(path: path, operation: .tooLarge(size: identity.size, limit: limit), errno: 0)
        }
        var content = [UInt8](repeating: 0, count: Int(identity.size) + 1)
        var filled = 0
        while true {
            if filled == content.count {
                // The file grew while we read it; read on, but never beyond the limit.
                guard content.count < limit else {
                    throw UserDirectoryError(
                        path: path, operation: .tooLarge(size: Int64(content.count), limit: limit), errno: 0)
                }
                content.append(contentsOf: repeatElement(0, count: min(content.count, limit - content.count)))
            }
            let received = content.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if received > 0 {
                filled += received
            } else if received == 0 {
                break
            } else if errno != EINTR {
                throw UserDirectoryError(path: path, operation: .read, errno: errno)
            }
        }
        content.removeSubrange(filled...)
        return (identity, content)
    }

    /// The system's text for an errno value (`strerror`).
    static func errorDescription(_ code: CInt) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// A monotonic clock in nanoseconds, for "at most once per interval" checks.
    ///
    /// `CLOCK_MONOTONIC_COARSE` costs a few nanoseconds (vDSO, no syscall); its 4 ms resolution is
    /// plenty for intervals of seconds.
    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The wall clock as seconds and milliseconds since the epoch.
    static func realtime() -> (seconds: UInt64, milliseconds: UInt16) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (UInt64(max(0, time.tv_sec)), UInt16(max(0, min(999, time.tv_nsec / 1_000_000))))
    }

    /// `gethostname(2)`, or `nil` when it fails.
    static func hostname() -> [UInt8]? {
        var buffer = [CChar](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBufferPointer { gethostname($0.baseAddress!, $0.count - 1) }
        guard result == 0 else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? nil : bytes
    }

    /// The canonical name of `host` from `getaddrinfo(AI_CANONNAME)`, or `nil` when resolution fails.
    static func canonicalName(of host: [UInt8]) -> [UInt8]? {
        var hints = addrinfo()
        hints.ai_flags = AI_CANONNAME
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = CInt(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let cHost = host.map { CChar(bitPattern: $0) } + [0]
        let status = cHost.withUnsafeBufferPointer { getaddrinfo($0.baseAddress, nil, &hints, &list) }
        guard status == 0, let list else { return nil }
        defer { freeaddrinfo(list) }
        guard let name = list.pointee.ai_canonname else { return nil }
        let bytes = Array(
            UnsafeBufferPointer(
                start: UnsafeRawPointer(name).assumingMemoryBound(to: UInt8.self),
                count: strlen(name)))
        return bytes.isEmpty ? nil : bytes
    }
}
