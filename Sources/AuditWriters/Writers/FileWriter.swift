package import AuditEncoding
internal import AuditSystem
import Glibc

/// Appends one JSON line per event to a file, like auditd's `log_file`, with reopen for
/// logrotate, optional size rotation, a flush policy, and no torn lines.
///
/// # Opening
/// `O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW`: a symlink at the final path component is
/// refused (`WriterError.Code.symbolicLink`), and so is anything but a regular file (a FIFO would
/// block the thread, a device is a mistake). A file this writer creates gets `mode` with `fchmod`
/// (so the umask cannot widen or narrow it) and `owner`/`group` with `fchown`; an existing file's
/// mode and owner are left alone, but it must belong to the daemon's user (or `owner`) and not be
/// writable by others, and the directory holding it must not be writable by group or others
/// (`WriterError.Code.unsafePlacement`): whoever can write there can replace or edit the trail,
/// so the writer fails closed rather than append to it.
///
/// # Failures (disk full, quota, read-only remount, I/O error)
/// `write` throws a retryable error naming the errno; the worker retries with backoff and the
/// items stay queued (new ones are dropped and counted once the queue is full). Nothing is ever
/// left as half a line: after a short write the writer cuts the file back to the last complete
/// line (`ftruncate` to the size minus the torn bytes; it needs no free space) so the item is
/// retried whole. When even that fails (EROFS, EIO), the writer keeps the rest of the line and
/// writes it before anything else once the file accepts data again. At `reopen` or `close` with a
/// line still unfinished it tries both once more; if the old file cannot be repaired it keeps a
/// fragment at its end (reported as `tornLine`) and the whole line goes to the new file.
///
/// An existing file found ending mid-line at open (a run killed during a write: SIGKILL, power
/// loss) gets a newline first, so the new lines parse; this is reported as a `tornLine` warning
/// with the first write.
///
/// # Rotation
/// With `maxFileSize`, a write that would cross it first rotates like auditd's ROTATE:
/// `path.(n-2)` → `path.(n-1)` … `path` → `path.1`, the oldest overwritten, so at most `numLogs`
/// files exist; the rotated file is made read-only (0400, or 0440 when a group is set) through
/// its descriptor before it is renamed. With `numLogs` 1 the old file is deleted. A failed
/// rotation is a warning: writing continues in the current file and rotation is retried five
/// seconds later. Files beyond `numLogs` left by an earlier configuration are not removed.
package struct FileWriter: EventWriter {
    /// When written data is forced to stable storage.
    package enum FlushPolicy: Sendable, Hashable {
        /// Never explicitly (the kernel writes back; a power loss can lose the page cache).
        case none
        /// At most this long after a write (the worker's maintenance tick does it when idle).
        case interval(Duration)
        /// After every batch, before its items count as written (group commit).
        case everyWrite
    }

    /// Which system call flushes.
    package enum SyncMethod: Sendable, Hashable {
        /// `fdatasync(2)`: data and the size, not timestamps. Enough for an append-only log.
        case data
        /// `fsync(2)`.
        case full
    }

    /// Where and how to write.
    package struct Configuration: Sendable, Hashable {
        /// The log file's path (absolute in production).
        package var path: String
        /// Permission bits for a file this writer creates (0600 by default; 0640 for a group).
        package var mode: UInt32
        /// The owner to give a created file, or nil to keep the daemon's uid. A name is looked up
        /// when the writer opens (``resolvingAccounts()``).
        package var owner: AccountID?
        /// The group to give a created file (and that makes rotated files 0440), or nil; a name is
        /// looked up like ``owner``.
        package var group: AccountID?
        /// Rotate before the file would grow past this many bytes; nil never rotates.
        package var maxFileSize: Int?
        /// How many files to keep when rotating, the current one included (1…999).
        package var numLogs: Int
        /// When to sync.
        package var flush: FlushPolicy
        /// How to sync.
        package var syncMethod: SyncMethod

        /// A configuration with auditd-like defaults: 0600, no rotation, 5 logs, no sync.
        package init(
            path: String,
            mode: UInt32 = 0o600,
            owner: AccountID? = nil,
            group: AccountID? = nil,
            maxFileSize: Int? = nil,
            numLogs: Int = 5,
            flush: FlushPolicy = .none,
            syncMethod: SyncMethod = .data
        ) {
            self.path = path
            self.mode = mode
            self.owner = owner
            self.group = group
            self.maxFileSize = maxFileSize
            self.numLogs = numLogs
            self.flush = flush
            self.syncMethod = syncMethod
        }
    }

    /// Bytes gathered before a `write(2)` even in mid-batch, bounding the buffer. 128 KiB is
    /// about 180 events: the system call costs nothing next to the copy at that size, and the
    /// buffer (which keeps its capacity) stays small in the resident set; 1 MiB cost ~0.6 MiB of
    /// RSS under load for no measurable gain.
    private static let chunkSize = 128 << 10
    /// How long after a failed rotation the next attempt waits.
    private static let rotationRetryNanoseconds: UInt64 = 5_000_000_000

    /// The configuration in force.
    package let configuration: Configuration
    /// "file PATH".
    package let name: String

    private var descriptor: Int32
    /// Our count of the file's size: `fstat` at open plus what we wrote.
    private var size: Int
    private var dirty = false
    private var lastSync: UInt64
    private var lines = LineBuffer()
    private var partial: PartialLine?
    private var rotationRetryAt: UInt64?
    /// A warning from `reopen` delivered with the next write.
    private var pendingWarning: WriterError?

    /// Validates `configuration`, looks up owner and group names, and opens (or creates) the file,
    /// so that a bad path fails at start with the path and errno rather than later on the worker
    /// thread.
    package init(configuration requested: Configuration) throws(WriterError) {
        try Self.validate(requested)
        let configuration: Configuration
        do {
            configuration = try requested.resolvingAccounts()
        } catch {
            throw WriterError(
                code: .configuration, target: requested.path, detail: error.description, isRetryable: false)
        }
        self.configuration = configuration
        self.name = "file \(configuration.path)"
        let opened = try Self.openLog(configuration, code: .open)
        self.descriptor = opened.descriptor
        self.size = opened.size
        if opened.terminatedTornLine { pendingWarning = Self.tornTailWarning(configuration.path) }
        self.lastSync = SystemClock.monotonicNanoseconds()
    }

    /// The path.
    private var path: String { configuration.path }

    /// The flush interval with `.interval`, so the worker syncs an idle file on time; else nil.
    package var maintenanceInterval: Duration? {
        if case .interval(let interval) = configuration.flush { return interval }
        return nil
    }

    // MARK: Writing

    /// Appends one line per item with one `write(2)` per 128 KiB (`chunkSize`), rotating first when due.
    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        var outcome = WriteOutcome(warning: pendingWarning)
        pendingWarning = nil
        var done = 0
        try finishPartialLine()
        lines.reset()
        for item in items {
            let length = item.lineCount + 1
            if let limit = configuration.maxFileSize, size + lines.bytes.count + length > limit,
                size + lines.bytes.count > 0, rotationAllowed()
            {
                try writeOut(&outcome, done: &done)
                let rotation = rotate()
                if rotation.done { outcome.rotations += 1 }
                if let warning = rotation.warning { outcome.warning = warning }
            }
            lines.append(item)
            if lines.bytes.count >= Self.chunkSize { try writeOut(&outcome, done: &done) }
        }
        try writeOut(&outcome, done: &done)
        if let warning = syncAfterWrite() { outcome.warning = warning }
        return outcome
    }

    /// Writes the gathered lines with as few `write(2)` calls as the kernel allows (one, unless
    /// interrupted or short). On failure, repairs or takes over the torn line and throws.
    private mutating func writeOut(_ outcome: inout WriteOutcome, done: inout Int) throws(WriterError) {
        guard !lines.isEmpty else { return }
        let total = lines.bytes.count
        let (offset, failure) = lines.bytes.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
        size += offset
        if offset > 0 { dirty = true }
        guard let failure else {
            outcome.bytes += total
            done += lines.lineEnds.count
            lines.reset()
            return
        }
        let complete = lines.completeLines(within: offset)
        let completeEnd = lines.lineStart(complete)
        outcome.bytes += completeEnd
        done += complete
        let torn = offset - completeEnd
        if torn > 0 {
            let line = lines.line(complete)
            if !cutOff(torn) {
                // The file ends mid-line and cannot be cut: this writer now owns the line and
                // completes it before anything else.
                partial = PartialLine(bytes: line, written: torn)
                done += 1
                outcome.bytes += line.count
            }
        }
        lines.reset()
        throw WriterError(
            code: .write, target: path, errno: failure.rawValue,
            completedItems: done, completedBytes: outcome.bytes)
    }

    /// Removes the last `torn` bytes (the start of an unfinished line) from the file.
    private mutating func cutOff(_ torn: Int) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size >= torn else { return false }
        let target = Int(status.st_size) - torn
        guard (try? SystemCall.retryingOnInterrupt({ ftruncate(descriptor, off_t(target)) })) != nil else {
            return false
        }
        size = target
        return true
    }

    /// Writes the rest of a taken-over line. On failure, cuts the fragment off if it can (the
    /// line then stays pending whole) and throws.
    private mutating func finishPartialLine() throws(WriterError) {
        guard var pending = partial else { return }
        let start = pending.written
        let (count, failure) = pending.bytes.withUnsafeBytes { buffer in
            SystemCall.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
        pending.written += count
        size += count
        if count > 0 { dirty = true }
        if let failure {
            if pending.written > 0, cutOff(pending.written) { pending.written = 0 }
            partial = pending
            throw WriterError(
                code: .write, target: path, errno: failure.rawValue,
                detail: "completing a line cut short by an earlier error")
        }
        partial = nil
    }

    /// Before leaving the current file: finish a pending line in it, or cut it off, or (if
    /// neither works) accept the fragment. The whole line then goes to the next file. Returns
    /// a warning for a fragment left behind.
    private mutating func settlePartialLine() -> WriterError? {
        guard partial != nil else { return nil }
        do throws(WriterError) {
            try finishPartialLine()
            return nil
        } catch {
            guard var pending = partial else { return nil }
            let warning: WriterError? =
                pending.written == 0
                ? nil
                : WriterError(
                    code: .tornLine, target: path, errno: error.errno,
                    detail: "\(pending.written) of \(pending.bytes.count) bytes; the whole line follows in the new file"
                )
            pending.written = 0
            partial = pending
            return warning
        }
    }

    // MARK: Syncing

    private mutating func sync() -> WriterError? {
        guard dirty else { return nil }
        let failure: Errno?
        do throws(Errno) {
            try SystemCall.synchronize(descriptor, dataOnly: configuration.syncMethod == .data)
            failure = nil
        } catch {
            failure = error
        }
        lastSync = SystemClock.monotonicNanoseconds()
        if let failure { return WriterError(code: .sync, target: path, errno: failure.rawValue) }
        dirty = false
        return nil
    }

    private mutating func syncAfterWrite() -> WriterError? {
        switch configuration.flush {
        case .none:
            return nil
        case .everyWrite:
            return sync()
        case .interval(let interval):
            guard SystemClock.monotonicNanoseconds() &- lastSync >= interval.clampedNanoseconds else { return nil }
            return sync()
        }
    }

    /// Syncs now if anything was written since the last sync (whatever the policy).
    package mutating func flush() throws(WriterError) {
        if let error = sync() { throw error }
    }

    /// Syncs when the `.interval` policy says it is time.
    package mutating func performMaintenance() throws(WriterError) {
        if let error = syncAfterWrite() { throw error }
    }

    // MARK: Reopen, rotate, close

    /// Opens the path anew (after logrotate renamed the file) and closes the old descriptor.
    package mutating func reopen() throws(WriterError) {
        // Open first: if that fails, the old file stays in use exactly as it was.
        let opened = try Self.openLog(configuration, code: .reopen)
        let torn = settlePartialLine()
        if configuration.flush != .none { _ = sync() }
        SystemCall.close(descriptor)
        descriptor = opened.descriptor
        size = opened.size
        dirty = opened.terminatedTornLine
        if let torn {
            pendingWarning = torn
        } else if opened.terminatedTornLine {
            pendingWarning = Self.tornTailWarning(path)
        }
    }

    private func rotationAllowed() -> Bool {
        guard let retryAt = rotationRetryAt else { return true }
        return SystemClock.monotonicNanoseconds() >= retryAt
    }

    /// Rotates. On failure returns a warning and writing continues in the current file.
    private mutating func rotate() -> (done: Bool, warning: WriterError?) {
        if configuration.flush != .none { _ = sync() }
        let path = configuration.path
        let oldDescriptor = descriptor
        let writableMode = mode_t(configuration.mode)
        func failed(_ detail: String, _ code: Int32) -> WriterError {
            WriterError(code: .rotate, target: path, errno: code, detail: detail)
        }
        func restoreMode() { _ = fchmod(oldDescriptor, writableMode) }
        let readOnly: mode_t = configuration.group == nil ? 0o400 : 0o440
        if fchmod(descriptor, readOnly) != 0 {
            rotationRetryAt = SystemClock.monotonicNanoseconds() &+ Self.rotationRetryNanoseconds
            return (false, failed("chmod \(String(readOnly, radix: 8))", errno))
        }
        if configuration.numLogs <= 1 {
            if unlink(path) != 0 && errno != ENOENT {
                let code = errno
                restoreMode()
                rotationRetryAt = SystemClock.monotonicNanoseconds() &+ Self.rotationRetryNanoseconds
                return (false, failed("unlink", code))
            }
        } else {
            var index = configuration.numLogs - 2
            while index >= 1 {
                let from = "\(path).\(index)"
                let to = "\(path).\(index + 1)"
                if rename(from, to) != 0 && errno != ENOENT {
                    let code = errno
                    restoreMode()
                    rotationRetryAt = SystemClock.monotonicNanoseconds() &+ Self.rotationRetryNanoseconds
                    return (false, failed("rename \(from) to \(to)", code))
                }
                index -= 1
            }
            if rename(path, "\(path).1") != 0 {
                let code = errno
                restoreMode()
                rotationRetryAt = SystemClock.monotonicNanoseconds() &+ Self.rotationRetryNanoseconds
                return (false, failed("rename to \(path).1", code))
            }
        }
        let opened: OpenedLog
        do throws(WriterError) {
            opened = try Self.openLog(configuration, code: .rotate)
        } catch {
            // Put the old file back where it was and keep writing to it.
            if configuration.numLogs > 1 { _ = rename("\(path).1", path) }
            restoreMode()
            rotationRetryAt = SystemClock.monotonicNanoseconds() &+ Self.rotationRetryNanoseconds
            return (false, error)
        }
        SystemCall.close(descriptor)
        descriptor = opened.descriptor
        size = opened.size
        dirty = opened.terminatedTornLine
        rotationRetryAt = nil
        return (true, opened.terminatedTornLine ? Self.tornTailWarning(path) : nil)
    }

    /// Finishes a pending line if it can, syncs, and closes the file.
    package mutating func close() throws(WriterError) {
        var unwritten = 0
        var failure: WriterError?
        if partial != nil {
            do throws(WriterError) {
                try finishPartialLine()
            } catch {
                unwritten = 1
                let fragment = partial?.written ?? 0
                failure = WriterError(
                    code: fragment > 0 ? .tornLine : .close, target: path, errno: error.errno,
                    detail: "a line could not be finished at close", unwrittenItems: 1)
            }
        }
        let syncError = sync()
        SystemCall.close(descriptor)
        descriptor = -1
        if let failure { throw failure }
        if var syncError {
            syncError.unwrittenItems = unwritten
            throw syncError
        }
    }

    // MARK: Opening

    private static func validate(_ configuration: Configuration) throws(WriterError) {
        let path = configuration.path
        func refuse(_ detail: String) -> WriterError {
            WriterError(
                code: .configuration, target: path.isEmpty ? "(empty path)" : path, detail: detail, isRetryable: false)
        }
        if path.isEmpty || path.hasSuffix("/") || path.utf8.contains(0) {
            throw refuse("the path must name a file")
        }
        if configuration.mode & ~0o7777 != 0 {
            throw refuse("mode \(String(configuration.mode, radix: 8)) has bits beyond 07777")
        }
        if !(1...999).contains(configuration.numLogs) {
            throw refuse("num_logs \(configuration.numLogs) is not in 1…999")
        }
        if let size = configuration.maxFileSize, size <= 0 {
            throw refuse("max file size \(size) must be positive")
        }
        if case .interval(let interval) = configuration.flush, interval <= .zero {
            throw refuse("flush interval \(interval) must be positive")
        }
    }

    /// Opens or creates the log; returns the descriptor and the current size. `code` labels
    /// plain open failures (open, reopen, rotate).
    /// A freshly opened log.
    private struct OpenedLog {
        var descriptor: Int32
        var size: Int
        /// The existing file ended mid-line (an earlier run was killed during a write) and a
        /// newline was appended so that the next line starts clean.
        var terminatedTornLine: Bool
    }

    /// Opens or creates the log. `code` labels plain open failures (open, reopen, rotate).
    private static func openLog(_ configuration: Configuration, code: WriterError.Code) throws(WriterError) -> OpenedLog
    {
        let path = configuration.path
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT == S_IFDIR {
            throw WriterError(code: .notRegularFile, target: path, detail: fileKind(existing.st_mode))
        }
        if let problem = directoryProblem(of: path) {
            throw WriterError(code: .unsafePlacement, target: path, detail: problem)
        }
        // O_NONBLOCK: opening a FIFO must not hang the thread; it is cleared below for files.
        let flags = O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK
        func open(_ flags: Int32) -> Result<Int32, Errno> {
            Result { () throws(Errno) in try SystemCall.open(path, flags, mode: mode_t(configuration.mode)) }
        }
        var created = true
        var opening = open(flags | O_WRONLY | O_CREAT | O_EXCL)
        if case .failure(let error) = opening, error.rawValue == EEXIST {
            created = false
            // Read access lets us check the last byte; without it (no CAP_DAC_OVERRIDE on
            // someone else's file) write-only is enough.
            opening = open(flags | O_RDWR)
            if case .failure(let error) = opening, error.rawValue == EACCES { opening = open(flags | O_WRONLY) }
        }
        let descriptor: Int32
        switch opening {
        case .success(let opened): descriptor = opened
        case .failure(let failure):
            let error = failure.rawValue
            switch error {
            case ELOOP: throw WriterError(code: .symbolicLink, target: path, errno: error)
            case ENXIO, EISDIR: throw WriterError(code: .notRegularFile, target: path, errno: error)
            default: throw WriterError(code: code, target: path, errno: error)
            }
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = errno
            SystemCall.close(descriptor)
            throw WriterError(code: code, target: path, errno: error, detail: "fstat")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            SystemCall.close(descriptor)
            throw WriterError(code: .notRegularFile, target: path, detail: fileKind(status.st_mode))
        }
        if !created,
            let problem = fileProblem(status, owner: configuration.owner?.number, mode: mode_t(configuration.mode))
        {
            SystemCall.close(descriptor)
            throw WriterError(code: .unsafePlacement, target: path, detail: problem)
        }
        if created {
            if fchmod(descriptor, mode_t(configuration.mode)) != 0 {
                let error = errno
                SystemCall.close(descriptor)
                throw WriterError(
                    code: .permissions, target: path, errno: error,
                    detail: "chmod \(String(configuration.mode, radix: 8))")
            }
            // Names were looked up at init, so only ids are left here.
            let owner = configuration.owner?.number
            let group = configuration.group?.number
            if owner != nil || group != nil {
                if fchown(descriptor, owner ?? uid_t.max, group ?? gid_t.max) != 0 {
                    let error = errno
                    SystemCall.close(descriptor)
                    let ownerText = owner.map(String.init) ?? "-"
                    let groupText = group.map(String.init) ?? "-"
                    throw WriterError(
                        code: .permissions, target: path, errno: error, detail: "chown \(ownerText):\(groupText)")
                }
            }
        }
        let current = fcntl(descriptor, F_GETFL)
        if current >= 0 { _ = fcntl(descriptor, F_SETFL, current & ~O_NONBLOCK) }
        var opened = OpenedLog(descriptor: descriptor, size: Int(status.st_size), terminatedTornLine: false)
        if opened.size > 0 {
            var last: UInt8 = 0
            if pread(descriptor, &last, 1, off_t(opened.size - 1)) == 1, last != UInt8(ascii: "\n") {
                var newline = UInt8(ascii: "\n")
                if Glibc.write(descriptor, &newline, 1) == 1 {
                    opened.size += 1
                    opened.terminatedTornLine = true
                }
            }
        }
        return opened
    }

    /// Why the directory of `path` is no place for the trail (writable by group or others, or
    /// owned by another user than the daemon's), or nil. Checked at every open, reopen and
    /// rotation.
    static func directoryProblem(of path: String) -> String? {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var status = stat()
        guard lstat(directory, &status) == 0 else { return nil }  // the open reports a missing one
        let mode = status.st_mode & 0o7777
        if mode & 0o022 != 0 {
            let who = mode & 0o022 == 0o022 ? "its group and others" : (mode & 0o020 != 0 ? "its group" : "others")
            return "directory \(directory) is writable by \(who) (mode "
                + "\(String(mode, radix: 8))): anyone who can write there can replace the trail; "
                + "chmod go-w \(directory), or choose another directory"
        }
        if status.st_uid != 0, status.st_uid != geteuid() {
            return "directory \(directory) belongs to uid \(status.st_uid), not to the daemon's user: its owner can "
                + "replace the trail; chown it to root, or choose another directory"
        }
        return nil
    }

    /// Why an existing file is not to be appended to (another owner; writable by others when
    /// the configured `mode` does not ask for that), or nil.
    static func fileProblem(_ status: stat, owner: uid_t?, mode configured: mode_t) -> String? {
        let mode = status.st_mode & 0o7777
        if status.st_uid != geteuid(), status.st_uid != owner {
            return "the existing file belongs to uid \(status.st_uid), not to the daemon's user"
                + (owner.map { " or owner \($0)" } ?? "")
                + ": it may not be the trail; remove it or chown it"
        }
        if mode & 0o002 != 0, configured & 0o002 == 0 {
            return "the existing file is writable by others (mode \(String(mode, radix: 8))): anyone could edit the "
                + "trail; chmod o-w it"
        }
        return nil
    }

    /// The warning for a file found ending mid-line.
    private static func tornTailWarning(_ path: String) -> WriterError {
        WriterError(
            code: .tornLine, target: path,
            detail: "the file ended mid-line (an earlier run stopped during a write); a newline was added")
    }
}

/// "a FIFO", "a directory"… for messages about a path that is not a regular file.
func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: "a FIFO"
    case S_IFDIR: "a directory"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFSOCK: "a socket"
    case S_IFLNK: "a symbolic link"
    default: "not a regular file"
    }
}
