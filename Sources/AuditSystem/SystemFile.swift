internal import Glibc

/// Reading whole small files: /proc entries, /etc/passwd, configuration and rules files.
package enum SystemFile {
    /// Why a file could not be read whole.
    package enum ReadError: Error, Hashable, Sendable {
        /// `open(2)` failed.
        case open(Errno)
        /// `read(2)` failed.
        case read(Errno)
        /// The file holds more than the caller's limit (it may have grown while being read).
        case tooLarge(limit: Int)
    }

    /// Reads `descriptor` from its current offset to the end of the file: at most `limit` bytes,
    /// more is ``ReadError/tooLarge(limit:)``. `sizeHint` (from `fstat`; procfs files say 0) sizes
    /// the first buffer.
    package static func readToEnd(_ descriptor: Int32, limit: Int, sizeHint: Int = 0) throws(ReadError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(4096, min(limit, sizeHint) + 1))
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count <= limit else { throw .tooLarge(limit: limit) }
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
            }
            let count: Int
            do { count = try SystemCall.read(descriptor, into: &bytes, from: filled) } catch { throw .read(error) }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else { throw .tooLarge(limit: limit) }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Opens `path` read-only and reads it whole (at most `limit` bytes).
    package static func read(path: String, limit: Int = 1 << 20) throws(ReadError) -> [UInt8] {
        let descriptor: Int32
        do { descriptor = try SystemCall.open(path, O_RDONLY | O_CLOEXEC) } catch { throw .open(error) }
        defer { SystemCall.close(descriptor) }
        return try readToEnd(descriptor, limit: limit)
    }

    /// The file as UTF-8 text (invalid bytes repaired), or nil when it cannot be read whole.
    package static func readText(path: String, limit: Int = 1 << 20) -> String? {
        guard let bytes = try? read(path: path, limit: limit) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension SystemFile {
    /// The first `limit` bytes of `path` and whether the file held more: for files whose prefix is
    /// enough and whose size is not bounded (`/proc/PID/cmdline` and `environ` run to `ARG_MAX`).
    package static func readPrefix(path: String, limit: Int) throws(ReadError) -> (bytes: [UInt8], truncated: Bool) {
        let descriptor: Int32
        do { descriptor = try SystemCall.open(path, O_RDONLY | O_CLOEXEC) } catch { throw .open(error) }
        defer { SystemCall.close(descriptor) }
        // One byte more than the limit tells whether there was more.
        var bytes = [UInt8](repeating: 0, count: max(0, limit) + 1)
        var filled = 0
        while filled < bytes.count {
            let count: Int
            do { count = try SystemCall.read(descriptor, into: &bytes, from: filled) } catch { throw .read(error) }
            if count == 0 { break }
            filled += count
        }
        let truncated = filled > limit
        bytes.removeSubrange(min(filled, limit)...)
        return (bytes, truncated)
    }

    /// The target of the symbolic link `path` (`readlink(2)`, at most `limit` bytes; a longer
    /// target is ``ReadError/tooLarge(limit:)``). `/proc/PID/exe` and `cwd` name their file this way.
    package static func readLink(path: String, limit: Int = 4096) throws(ReadError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let count = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                Glibc.readlink(path, $0, buffer.count)
            }
        }
        if count < 0 { throw .open(.current) }
        guard count <= limit else { throw .tooLarge(limit: limit) }
        bytes.removeSubrange(count...)
        return bytes
    }
}
