package import AuditEncoding
internal import AuditSystem
import Glibc

/// Writes one JSON line per event to standard output (or another inherited descriptor), for
/// `swift-audit replay`, containers and journald's stdout stream.
///
/// A stdout that nobody drains must stall only this writer's thread, and for a bounded time:
/// - a pipe or FIFO is reopened through `/proc/self/fd/N` with `O_NONBLOCK`, which gives this
///   writer its own open file description (the shared one, and the other processes using it, keep
///   their blocking mode); writes then wait in `poll` for at most `stallTimeout`;
/// - a socket (systemd's journal stream) is written with `send(MSG_DONTWAIT | MSG_NOSIGNAL)`;
/// - anything else (a terminal, a regular file, `/dev/null`) with plain blocking `write`.
///
/// When nothing was accepted for `stallTimeout`, `write` throws a retryable `stalled` error and
/// the worker backs off; new events meanwhile are dropped and counted at the queue. A reader that
/// went away gives EPIPE (SIGPIPE is blocked on the worker thread), also retried: a FIFO may get
/// a new reader. A stream cannot be cut back, so a line cut short is always completed before
/// anything else is written, and output lines are never interleaved or torn.
package struct StdoutWriter: EventWriter {
    /// How the descriptor is driven.
    private enum Mode: Sendable {
        case blocking
        case nonBlocking
        case socket
    }

    /// "stdout", or the name given.
    package let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let mode: Mode
    private let stallMilliseconds: Int32
    private var lines = LineBuffer()
    private var partial: PartialLine?

    /// Writes to `fileDescriptor` (1 by default), which stays open after `close` unless this
    /// writer reopened it privately.
    package init(fileDescriptor: Int32 = 1, name: String = "stdout", stallTimeout: Duration = .milliseconds(500))
        throws(WriterError)
    {
        self.name = name
        self.stallMilliseconds = Int32(clamping: stallTimeout.clampedNanoseconds / 1_000_000)
        var status = stat()
        guard fstat(fileDescriptor, &status) == 0 else {
            throw WriterError(
                code: .open, target: name, errno: errno, detail: "descriptor \(fileDescriptor)", isRetryable: false)
        }
        switch status.st_mode & S_IFMT {
        case S_IFSOCK:
            (descriptor, ownsDescriptor, mode) = (fileDescriptor, false, .socket)
        case S_IFIFO:
            let own = open("/proc/self/fd/\(fileDescriptor)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if own >= 0 {
                (descriptor, ownsDescriptor, mode) = (own, true, .nonBlocking)
            } else {
                (descriptor, ownsDescriptor, mode) = (fileDescriptor, false, .blocking)
            }
        default:
            (descriptor, ownsDescriptor, mode) = (fileDescriptor, false, .blocking)
        }
    }

    /// Writes one line per item with one write per batch, waiting at most the stall timeout.
    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        var outcome = WriteOutcome()
        try finishPartialLine()
        lines.reset()
        for item in items { lines.append(item) }
        let (offset, failure) = lines.bytes.withUnsafeBytes { push($0) }
        if failure == 0 {
            outcome.bytes = lines.bytes.count
            lines.reset()
            return outcome
        }
        var done = lines.completeLines(within: offset)
        outcome.bytes = lines.lineStart(done)
        if offset > outcome.bytes {
            // Half a line is out: it must be finished before any other byte.
            let line = lines.line(done)
            partial = PartialLine(bytes: line, written: offset - outcome.bytes)
            done += 1
            outcome.bytes += line.count
        }
        lines.reset()
        throw failureError(failure, completedItems: done, completedBytes: outcome.bytes)
    }

    private func failureError(_ code: Int32, completedItems: Int = 0, completedBytes: Int = 0) -> WriterError {
        WriterError(
            code: code == EAGAIN ? .stalled : .write, target: name, errno: code,
            detail: code == EAGAIN ? "nothing accepted for \(stallMilliseconds) ms" : "",
            completedItems: completedItems, completedBytes: completedBytes)
    }

    /// Writes `buffer`; returns how far it got and 0, or the errno that stopped it (EAGAIN after
    /// a stall).
    private func push(_ buffer: UnsafeRawBufferPointer) -> (Int, Int32) {
        let (descriptor, socket) = (descriptor, mode == .socket)
        let (written, error) = SystemCall.writeAll(buffer, waitingOn: descriptor, stallMilliseconds: stallMilliseconds)
        {
            (rest) throws(Errno) in
            socket
                ? try SystemCall.send(descriptor, rest, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                : try SystemCall.write(descriptor, rest)
        }
        return (written, error?.rawValue ?? 0)
    }

    private mutating func finishPartialLine() throws(WriterError) {
        guard var pending = partial else { return }
        let (count, failure) = pending.bytes.withUnsafeBytes {
            push(UnsafeRawBufferPointer(rebasing: $0[pending.written...]))
        }
        pending.written += count
        if failure == 0 {
            partial = nil
            return
        }
        partial = pending
        throw failureError(failure)
    }

    /// Nothing to do: lines go out unbuffered.
    package mutating func flush() throws(WriterError) {}

    /// Finishes a pending line if it can and closes a privately reopened descriptor.
    package mutating func close() throws(WriterError) {
        var failure: WriterError?
        if partial != nil {
            do throws(WriterError) {
                try finishPartialLine()
            } catch {
                failure = WriterError(
                    code: .tornLine, target: name, errno: error.errno,
                    detail: "a line could not be finished at close", unwrittenItems: 1)
            }
        }
        if ownsDescriptor { SystemCall.close(descriptor) }
        if let failure { throw failure }
    }
}
