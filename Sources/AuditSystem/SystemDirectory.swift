package import Glibc

/// The calls on files relative to an open directory (`openat`, `renameat`, `unlinkat`,
/// `mkdirat`), positioned reads and writes, truncation, and listing a directory: what a component
/// that owns a directory of its own files (the disk spool) needs, so that it opens the directory
/// once, `O_NOFOLLOW`, checks it, and from then on never follows a path through a link someone
/// swapped in.
extension SystemCall {
    /// `openat(2)`: `name` inside the open directory `directory`, with `flags` and, with
    /// `O_CREAT`, `mode`.
    @inlinable
    package static func open(at directory: Int32, _ name: String, _ flags: Int32, mode: mode_t = 0) throws(Errno)
        -> Int32
    {
        try retryingOnInterrupt { Glibc.openat(directory, name, flags, mode) }
    }

    /// `mkdir(2)` of `path` with `mode` (the umask still applies; callers `fchmod` afterwards).
    @inlinable
    package static func makeDirectory(_ path: String, mode: mode_t) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.mkdir(path, mode) }
    }

    /// `renameat(2)` within one directory: atomically replaces `new` by `old`.
    @inlinable
    package static func rename(at directory: Int32, _ old: String, to new: String) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.renameat(directory, old, directory, new) }
    }

    /// `unlinkat(2)` of a file in `directory`.
    @inlinable
    package static func unlink(at directory: Int32, _ name: String) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.unlinkat(directory, name, 0) }
    }

    /// `fstatat(2)` of `name` in `directory`, not following a final symbolic link.
    @inlinable
    package static func status(at directory: Int32, _ name: String) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingOnInterrupt { Glibc.fstatat(directory, name, &result, AT_SYMLINK_NOFOLLOW) }
        return result
    }

    /// `pread(2)`: how many bytes arrived from `offset` (0 at end of file).
    @inlinable
    package static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int)
        throws(Errno) -> Int
    {
        try retryingOnInterrupt { Glibc.pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Reads exactly `count` bytes from `offset` with `pread(2)`, fewer only at end of file.
    package static func read(_ descriptor: Int32, count: Int, at offset: Int) throws(Errno) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) in
                    try read(
                        descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]),
                        at: offset + filled)
                }
            }
            let got = try result.get()
            if got == 0 { break }
            filled += got
        }
        if filled < count { bytes.removeSubrange(filled...) }
        return bytes
    }

    /// `ftruncate(2)`.
    @inlinable
    package static func truncate(_ descriptor: Int32, size: Int) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.ftruncate(descriptor, off_t(size)) }
    }

    /// `flock(2)` with `LOCK_EX | LOCK_NB`: false when another open file description holds it.
    package static func lockExclusively(_ descriptor: Int32) throws(Errno) -> Bool {
        // `flock` names both the function and the `struct flock` of fcntl locks.
        let lock: (Int32, Int32) -> Int32 = Glibc.flock(_:_:)
        do throws(Errno) {
            _ = try retryingOnInterrupt { lock(descriptor, LOCK_EX | LOCK_NB) }
            return true
        } catch {
            if error.rawValue == EWOULDBLOCK { return false }
            throw error
        }
    }

    /// `fchmod(2)`.
    @inlinable
    package static func changeMode(_ descriptor: Int32, _ mode: mode_t) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.fchmod(descriptor, mode) }
    }

    /// The names in the open directory `directory` (`.` and `..` left out), read through a
    /// duplicate of the descriptor so that `directory` stays open and positioned as it was.
    package static func directoryEntries(_ directory: Int32) throws(Errno) -> [String] {
        let copy = try retryingOnInterrupt { Glibc.fcntl(directory, F_DUPFD_CLOEXEC, 0) }
        guard let stream = Glibc.fdopendir(copy) else {
            let error = Errno.current
            close(copy)
            throw error
        }
        defer { Glibc.closedir(stream) }
        Glibc.rewinddir(stream)
        var names: [String] = []
        while true {
            Glibc.errno = 0
            guard let entry = Glibc.readdir(stream) else {
                if Glibc.errno != 0 { throw Errno.current }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
