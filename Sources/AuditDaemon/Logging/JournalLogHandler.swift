import AuditSystem
import AuditThreads
internal import Glibc
package import Logging
internal import Synchronization

/// A swift-log handler for a daemon under systemd: one line per message on stderr, prefixed with
/// the syslog priority in `<N>` form when stderr is the journal (journald turns it into the
/// entry's priority), plain text on a terminal, a pipe or a file.
///
/// Lines are written with one `write(2)` each so concurrent threads never interleave within a line.
/// A message that repeats (same text) more than `burst` times within `window` seconds is
/// suppressed; the number suppressed is added to the next line with that text after the window:
/// a failing output must not flood the journal, while the loss events and counters it reports
/// are never rate-limited.
package struct JournalLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level
    private let label: String
    private let limiter: RateLimiter
    /// Whether lines start with `<N>`.
    private let priorityPrefix: Bool

    /// Makes a handler; `Logger(label:)` calls this through `LoggingSystem.bootstrap`.
    ///
    /// - Parameter priorityPrefix: write journald's `<N>` priority prefix; by default only when
    ///   stderr is the journal (``standardErrorIsJournal``).
    package init(
        label: String, level: Logger.Level = .info, burst: Int = 10, windowSeconds: UInt64 = 60,
        priorityPrefix: Bool = JournalLogHandler.standardErrorIsJournal
    ) {
        self.label = label
        self.logLevel = level
        self.limiter = RateLimiter(burst: burst, windowMilliseconds: windowSeconds * 1000)
        self.priorityPrefix = priorityPrefix
    }

    /// Whether fd 2 is connected to the journal, read once: systemd sets `JOURNAL_STREAM` to the
    /// `DEVICE:INODE` of the stream it connects to stdout/stderr (systemd.exec(5)), and a program
    /// compares it with `fstat(2)` of its stderr, because a child whose stderr was redirected
    /// inherits the variable all the same (sd_journal_stream_fd(3)).
    package static let standardErrorIsJournal: Bool = {
        var info = stat()
        guard let value = getenv("JOURNAL_STREAM"), fstat(2, &info) == 0 else { return false }
        return journalStream(String(cString: value), names: UInt64(info.st_dev), UInt64(info.st_ino))
    }()

    /// Whether a `JOURNAL_STREAM` value (`DEVICE:INODE`, both decimal) names the stream with this
    /// device and inode.
    package static func journalStream(_ value: String, names device: UInt64, _ inode: UInt64) -> Bool {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let streamDevice = UInt64(parts[0]), let streamInode = UInt64(parts[1]) else {
            return false
        }
        return streamDevice == device && streamInode == inode
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let text = event.message.description
        guard let suppressed = limiter.admit(text) else { return }
        var line = priorityPrefix ? "<\(Self.priority(event.level))>" : ""
        line += text
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        if suppressed > 0 { line += " (\(suppressed) similar messages suppressed)" }
        line += "\n"
        writeStandardError(line)
    }

    /// syslog priorities: 7 debug … 2 critical.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// Writes `text` to fd 2 with as few `write(2)` calls as it takes (one, normally), so lines from
/// several threads never interleave; unbuffered, so diagnostics never wait behind other output.
package func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = SystemCall.writeAll(2, UnsafeRawBufferPointer(bytes)) }
}

/// Counts identical messages per time window; shared by every copy of the handler.
final class RateLimiter: Sendable {
    private struct Entry {
        var windowStart: UInt64
        var count: Int
        var suppressed: Int
    }

    private let burst: Int
    private let windowMilliseconds: UInt64
    private let entries = Mutex<[String: Entry]>([:])

    init(burst: Int, windowMilliseconds: UInt64) {
        self.burst = burst
        self.windowMilliseconds = windowMilliseconds
    }

    /// nil: drop this line. Otherwise the number of lines suppressed before it, to report.
    func admit(_ text: String) -> Int? {
        let now = SystemClock.monotonicMilliseconds()
        return entries.withLock { entries in
            var entry = entries[text] ?? Entry(windowStart: now, count: 0, suppressed: 0)
            if now &- entry.windowStart >= windowMilliseconds {
                let suppressed = entry.suppressed
                entry = Entry(windowStart: now, count: 1, suppressed: 0)
                entries[text] = entry
                if entries.count > 1024 { entries = [text: entry] }  // bounded: texts carry counters
                return suppressed
            }
            entry.count += 1
            if entry.count > burst {
                entry.suppressed += 1
                entries[text] = entry
                return nil
            }
            entries[text] = entry
            return 0
        }
    }
}
