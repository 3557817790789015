internal import AuditSystem
import Glibc

// The module's file and host look-ups; the system calls themselves are AuditSystem's.

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
        do { return FileIdentity(try SystemCall.status(ofPath: path)) } catch {
            throw UserDirectoryError(path: path, operation: .stat, errno: error.rawValue)
        }
    }

    /// Reads a whole regular file of at most `limit` bytes, with the identity `fstat` saw before reading.
    static func readFile(
        path: String,
        limit: Int
    ) throws(UserDirectoryError) -> (identity: FileIdentity, content: [UInt8]) {
        let descriptor: Int32
        do { descriptor = try SystemCall.open(path, O_RDONLY | O_CLOEXEC) } catch {
            throw UserDirectoryError(path: path, operation: .open, errno: error.rawValue)
        }
        defer { SystemCall.close(descriptor) }
        let identity: FileIdentity
        do { identity = FileIdentity(try SystemCall.status(of: descriptor)) } catch {
            throw UserDirectoryError(path: path, operation: .stat, errno: error.rawValue)
        }
        guard identity.size <= Int64(limit) else {
            throw UserDirectoryError(path: path, operation: .tooLarge(size: identity.size, limit: limit), errno: 0)
        }
        do {
            // The file may grow while we read it; read on, but never beyond the limit.
            let content = try SystemFile.readToEnd(descriptor, limit: limit, sizeHint: Int(identity.size))
            return (identity, content)
        } catch {
            switch error {
            case .open(let code), .read(let code):
                throw UserDirectoryError(path: path, operation: .read, errno: code.rawValue)
            case .tooLarge:
                throw UserDirectoryError(
                    path: path, operation: .tooLarge(size: Int64(limit) + 1, limit: limit), errno: 0)
            }
        }
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
