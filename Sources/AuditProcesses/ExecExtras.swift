package import AuditSystem
internal import Glibc

/// Why an executable could not be hashed; carries the path it tried.
package struct ExecutableHashError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Hashable, Sendable {
        /// `open(2)` or `fstat(2)` failed.
        case open(Errno)
        /// `read(2)` failed.
        case read(Errno)
        /// Not a regular file.
        case notRegular
        /// Larger than the configured limit.
        case tooLarge(size: Int64, limit: Int64)
    }

    package var kind: Kind
    /// The path as opened (bytes: paths need not be UTF-8).
    package var path: [UInt8]

    package var description: String {
        let name = String(decoding: path, as: UTF8.self)
        switch kind {
        case .open(let errno): return "cannot open \(name) to hash it: \(errno)"
        case .read(let errno): return "cannot read \(name) to hash it: \(errno)"
        case .notRegular: return "\(name) is not a regular file"
        case .tooLarge(let size, let limit): return "\(name) holds \(size) bytes, over the hash limit of \(limit)"
        }
    }
}

/// SHA-256 of executables with a bounded cache keyed on what identifies a file's content without
/// reading it: device, inode, size and modification time (a rewritten binary changes at least the
/// time; a replaced one the inode). Hashing costs one read of the file; a hit costs one `open` and
/// one `fstat`.
struct ExecutableHasher: Sendable {
    struct FileKey: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }

    private var cache: [FileKey: [UInt8]] = [:]
    /// Insertion order, oldest first, for evicting when the cache is full.
    private var order: [FileKey] = []
    private var orderHead = 0
    var capacity: Int
    var hits = 0
    var misses = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { cache.count }

    /// The digest of the file at `path` (read up to `sizeLimit` bytes; a larger file is an error).
    mutating func digest(path: [UInt8], sizeLimit: Int64) throws(ExecutableHashError) -> [UInt8] {
        let descriptor = openPath(path)
        guard descriptor >= 0 else { throw ExecutableHashError(kind: .open(.current), path: path) }
        defer { SystemCall.close(descriptor) }
        let status: stat
        do { status = try SystemCall.status(of: descriptor) } catch {
            throw ExecutableHashError(kind: .open(error), path: path)
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw ExecutableHashError(kind: .notRegular, path: path) }
        let size = Int64(status.st_size)
        guard size <= sizeLimit else {
            throw ExecutableHashError(kind: .tooLarge(size: size, limit: sizeLimit), path: path)
        }
        let key = FileKey(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: size,
            seconds: status.st_mtim.tv_sec, nanoseconds: status.st_mtim.tv_nsec)
        if let known = cache[key] {
            hits += 1
            return known
        }
        misses += 1
        var hasher = SHA256()
        var total: Int64 = 0
        let chunk = 1 << 16
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count: Int
            do { count = try SystemCall.read(descriptor, into: buffer) } catch {
                throw ExecutableHashError(kind: .read(error), path: path)
            }
            if count == 0 { break }
            total += Int64(count)
            // The file grew past the limit while being read: refuse rather than hash a prefix.
            guard total <= sizeLimit else {
                throw ExecutableHashError(kind: .tooLarge(size: total, limit: sizeLimit), path: path)
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        let digest = hasher.finish()
        insert(key, digest)
        return digest
    }

    private mutating func insert(_ key: FileKey, _ digest: [UInt8]) {
        while cache.count >= capacity, orderHead < order.count {
            cache[order[orderHead]] = nil
            orderHead += 1
        }
        if orderHead > 64, orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
        cache[key] = digest
        order.append(key)
    }

    /// Drops entries beyond a new capacity.
    mutating func resize(_ newCapacity: Int) {
        capacity = max(1, newCapacity)
        while cache.count > capacity, orderHead < order.count {
            cache[order[orderHead]] = nil
            orderHead += 1
        }
    }
}

/// `open(2)` of a byte path (read-only, close-on-exec), -1 with errno set on failure.
func openPath(_ path: [UInt8]) -> Int32 {
    guard !path.contains(0) else {
        errno = EINVAL
        return -1
    }
    var terminated = path
    terminated.append(0)
    return terminated.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { name in
            (try? SystemCall.retryingOnInterrupt { Glibc.open(name, O_RDONLY | O_CLOEXEC) }) ?? -1
        }
    }
}

/// Whether a byte path names a regular file (`stat(2)`, following links).
func isRegularFile(_ path: [UInt8]) -> Bool {
    guard !path.isEmpty, !path.contains(0) else { return false }
    var terminated = path
    terminated.append(0)
    var status = stat()
    let result = terminated.withUnsafeBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { stat($0, &status) }
    }
    return result == 0 && status.st_mode & S_IFMT == S_IFREG
}

/// The optional exec-time details: selected environment variables and the script an interpreter
/// runs.
enum ExecDetails {
    /// The variables named in `names` from `/proc/PID/environ`, read only while /proc still shows
    /// the program the event executed (its `exe` link equals `executable`): the process may have
    /// exited, or executed something else, since. Nil when it cannot be read or is another program.
    static func environment(pid: Int32, executable: [UInt8]?, names: [[UInt8]], limit: Int) -> [EnvironmentVariable]? {
        guard !names.isEmpty else { return nil }
        if let executable {
            guard let current = try? SystemFile.readLink(path: "/proc/\(pid)/exe"), current == executable else {
                return nil
            }
        }
        guard let environ = try? SystemFile.readPrefix(path: "/proc/\(pid)/environ", limit: limit).bytes else {
            return nil
        }
        return select(names, from: environ)
    }

    /// The variables of a NUL-separated `NAME=value` block whose names are in `names`, in the
    /// order they appear.
    static func select(_ names: [[UInt8]], from environ: [UInt8]) -> [EnvironmentVariable] {
        var found: [EnvironmentVariable] = []
        for entry in environ.split(separator: 0) {
            guard let equals = entry.firstIndex(of: 0x3D) else { continue }
            let name = entry[..<equals]
            if names.contains(where: { $0.elementsEqual(name) }) {
                found.append(EnvironmentVariable(name: Array(name), value: Array(entry[(equals + 1)...])))
            }
        }
        return found
    }

    /// The interpreters whose first argument is looked at (a name matches when it starts with one:
    /// `python3.11`, `perl5.36`).
    static let interpreters: [[UInt8]] = [
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish", "csh", "tcsh", "python", "perl",
        "ruby", "node", "nodejs", "php", "lua", "tclsh", "wish", "Rscript", "pwsh", "osascript", "awk", "gawk",
        "bun", "deno",
    ].map { Array($0.utf8) }

    /// The script an interpreter runs: its first argument after the options that names an
    /// existing regular file (relative names resolve against `cwd`, and under `root`, the
    /// process's `/proc/PID/root`, for a container). `pathRecord` is the name the kernel opened
    /// (PATH item 0): an argument equal to it exists without a `stat`. Options that take the
    /// program text (`-c`, `-e`, `-m`) mean there is no script.
    static func script(
        executable: [UInt8]?, arguments: [[UInt8]], cwd: [UInt8]?, root: [UInt8]?, pathRecord: [UInt8]?
    ) -> [UInt8]? {
        guard let executable, arguments.count >= 2 else { return nil }
        let base = executable.split(separator: 0x2F).last.map(Array.init) ?? executable
        guard interpreters.contains(where: { base.starts(with: $0) }) else { return nil }
        for argument in arguments.dropFirst() {
            guard let first = argument.first else { continue }
            if first == 0x2D {  // an option
                if argument == Array("-c".utf8) || argument == Array("-e".utf8) || argument == Array("-m".utf8)
                    || argument == Array("-E".utf8)
                {
                    return nil
                }
                continue
            }
            var resolved = argument
            if first != 0x2F, let cwd {
                resolved = cwd
                if resolved.last != 0x2F { resolved.append(0x2F) }
                resolved.append(contentsOf: argument)
            }
            if let pathRecord, argument == pathRecord || resolved == pathRecord { return resolved }
            var onDisk = resolved
            if let root, resolved.first == 0x2F { onDisk = root + resolved }
            return isRegularFile(onDisk) ? resolved : nil
        }
        return nil
    }
}
