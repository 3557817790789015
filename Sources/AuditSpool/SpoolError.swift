internal import AuditSystem

/// Why the spool could not do something, naming the file or directory, the operation and the errno.
package struct SpoolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done.
    package enum Code: Hashable, Sendable {
        /// Creating or opening the spool directory.
        case directory
        /// The directory exists but is not safe to use: a symbolic link, not a directory, owned by
        /// another user, or writable by group or others (anyone who can write there can forge or
        /// delete events before they are sent).
        case unsafeDirectory
        /// Opening or creating a segment or the position file.
        case open
        /// Reading a segment or the position file.
        case read
        /// Appending to a segment.
        case write
        /// `fsync`/`fdatasync`.
        case sync
        /// Replacing the position file, or removing a consumed segment.
        case rename
        /// Removing a consumed segment or a stale file.
        case unlink
        /// Cutting a damaged tail off a segment.
        case truncate
    }

    /// What was being done.
    package var code: Code
    /// The directory or file.
    package var path: String
    /// The errno, or 0 when none applies.
    package var errno: Int32
    /// More context (why a directory is unsafe).
    package var detail: String
    /// For `append`: how many of the payloads were appended before the error.
    package var completed: Int

    /// Describes a failure.
    package init(code: Code, path: String, errno: Int32 = 0, detail: String = "", completed: Int = 0) {
        self.code = code
        self.path = path
        self.errno = errno
        self.detail = detail
        self.completed = completed
    }

    /// "spool: cannot write to PATH: No space left on device (ENOSPC)".
    package var description: String {
        let operation =
            switch code {
            case .directory: "cannot create or open the spool directory"
            case .unsafeDirectory: "refusing the spool directory"
            case .open: "cannot open"
            case .read: "cannot read"
            case .write: "cannot write to"
            case .sync: "cannot sync"
            case .rename: "cannot rename"
            case .unlink: "cannot remove"
            case .truncate: "cannot truncate"
            }
        var text = "spool: \(operation) \(path)"
        if !detail.isEmpty { text += ": \(detail)" }
        if errno != 0 { text += ": \(Errno(rawValue: errno))" }
        return text
    }
}
