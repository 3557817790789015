internal import AuditSystem

/// Why an output failed, naming the output, the operation and the errno, plus how far the
/// failed call got (so the worker retries exactly the rest).
package struct WriterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done.
    package enum Code: Hashable, Sendable {
        /// Opening or creating the destination.
        case open
        /// The path is a symlink (the file writer opens with O_NOFOLLOW).
        case symbolicLink
        /// The path exists but is not a regular file (a FIFO, a directory, a device).
        case notRegularFile
        /// Setting the mode or the owner of a new file.
        case permissions
        /// The file or its directory could be changed by someone else (another owner, writable
        /// by group or others): the trail is not written there (fail closed).
        case unsafePlacement
        /// Writing (`errno` says why: ENOSPC, EDQUOT, EROFS, EIO, EPIPE…).
        case write
        /// The destination accepted nothing for the stall timeout (a full pipe, a slow socket).
        case stalled
        /// `fsync`/`fdatasync`.
        case sync
        /// Size rotation (rename, chmod or opening the new file).
        case rotate
        /// Reopening after a rotation by someone else.
        case reopen
        /// Closing, or finishing a partial line at close.
        case close
        /// A half-written line could be neither completed nor cut off; the file ends mid-line.
        case tornLine
        /// The item cannot be written by this output at all (too large, malformed); not retried.
        case rejected
        /// The worker thread could not be started.
        case threadStart
        /// The writer's configuration is invalid.
        case configuration
        /// Connecting a network or local socket (refused, timed out, unreachable).
        case connect
        /// Looking up a host name (`getaddrinfo`); `detail` has the resolver's message.
        case resolve
        /// The collector broke its protocol (a malformed RELP frame); `detail` has the bytes.
        case protocolViolation
        /// The collector answered that it did not take an item (RELP `rsp 500`); retried.
        case notAcknowledged
    }

    /// What was being done.
    package var code: Code
    /// The output: a path, "stdout", a host:port.
    package var target: String
    /// The errno, or 0 when none applies.
    package var errno: Int32
    /// More context: the value that was refused, the other path of a rename.
    package var detail: String
    /// How many of the items passed to the failing `write` were completely written.
    package var completedItems: Int
    /// Bytes of those completed items.
    package var completedBytes: Int
    /// Items previously reported completed that turned out unwritable (only from `close`).
    package var unwrittenItems: Int
    /// Whether the same items may succeed later (disk full, collector down) rather than never.
    package var isRetryable: Bool
    /// Reconnections and oversize handling done before the failure (added to
    /// `WriterCounters.activity` like a successful write's).
    package var activity: WriterActivity

    /// Describes a failure.
    package init(
        code: Code,
        target: String,
        errno: Int32 = 0,
        detail: String = "",
        completedItems: Int = 0,
        completedBytes: Int = 0,
        unwrittenItems: Int = 0,
        isRetryable: Bool = true,
        activity: WriterActivity = WriterActivity()
    ) {
        self.code = code
        self.target = target
        self.errno = errno
        self.detail = detail
        self.completedItems = completedItems
        self.completedBytes = completedBytes
        self.unwrittenItems = unwrittenItems
        self.isRetryable = isRetryable
        self.activity = activity
    }

    /// The errno's symbolic name (`ENOSPC`), or nil when there is none.
    package var errnoName: String? { errno == 0 ? nil : Errno(rawValue: errno).name ?? "errno \(errno)" }

    /// "cannot write to PATH: No space left on device (ENOSPC)…", for logs and loss events.
    package var description: String {
        let operation =
            switch code {
            case .open: "cannot open"
            case .symbolicLink: "refusing to follow a symbolic link at"
            case .notRegularFile: "not a regular file:"
            case .permissions: "cannot set mode or owner of"
            case .unsafePlacement: "refusing to write the trail to"
            case .write: "cannot write to"
            case .stalled: "output stalled:"
            case .sync: "cannot sync"
            case .rotate: "cannot rotate"
            case .reopen: "cannot reopen"
            case .close: "cannot close"
            case .tornLine: "left an incomplete last line in"
            case .rejected: "item rejected by"
            case .threadStart: "cannot start the writer thread for"
            case .configuration: "invalid configuration for"
            case .connect: "cannot connect to"
            case .resolve: "cannot resolve"
            case .protocolViolation: "protocol error from"
            case .notAcknowledged: "item not acknowledged by"
            }
        var text = "\(operation) \(target)"
        if !detail.isEmpty { text += " (\(detail))" }
        if errno != 0 { text += ": \(Errno(rawValue: errno).message) (\(errnoName ?? ""))" }
        if completedItems > 0 { text += "; \(completedItems) item(s) written before the error" }
        if unwrittenItems > 0 { text += "; \(unwrittenItems) item(s) lost" }
        return text
    }
}

extension WriterError {
    /// This error, completed with the progress a write made before it: the items and bytes done
    /// and the connection activity, as `EventWriter.write`'s contract asks.
    func after(items: Int, bytes: Int, activity: WriterActivity) -> WriterError {
        var error = self
        error.completedItems = items
        error.completedBytes = bytes
        error.activity += activity
        return error
    }
}
