import Foundation
import Glibc

/// A fresh 0700 directory under /tmp for one test, removed with everything in it by `remove()` or,
/// at the latest, when the value is released.
///
/// A test that hands only paths to the code under test keeps the value alive with
/// `defer { directory.remove() }`.
public final class TemporaryDirectory: @unchecked Sendable {  // used by one test at a time
    /// Its absolute path.
    public let path: String

    /// Makes the directory: `/tmp/PREFIX-XXXXXX`.
    public init(prefix: String = "swift-audit-test") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        path = String(cString: made)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` with `mode` (0600 unless told) and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let target = file(name)
        try Self.writeFile(target, Array(text.utf8), mode: mode)
        return target
    }

    /// Writes `content` to `name`: in place (truncating), or by writing a sibling and renaming it
    /// over the name, as tools that replace a file do.
    public func write(_ content: String, to name: String, byRename: Bool = false) throws {
        let target = file(name)
        let written = byRename ? target + ".new" : target
        try Self.writeFile(written, Array(content.utf8), mode: 0o600)
        if byRename, rename(written, target) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Removes one file of the directory.
    public func removeFile(_ name: String) { unlink(file(name)) }

    /// Removes the directory and everything in it. Symbolic links are removed, never followed; a
    /// file system still mounted inside stays (with its mount point). Calling it again does nothing.
    public func remove() { Self.removeTree(path) }

    deinit { remove() }

    private static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        let count = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard count == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        // open's mode is masked by the umask; a test asking for 0666 means 0666.
        guard fchmod(descriptor, mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    private static func removeTree(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            unlink(path)
            return
        }
        if let directory = opendir(path) {
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names { removeTree(path + "/" + name) }
        }
        rmdir(path)
    }
}
