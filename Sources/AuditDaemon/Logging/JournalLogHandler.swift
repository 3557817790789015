import AuditSystem
import AuditThreads
internal import Glibc
package import Logging
internal import Synchronization

/// A swift-log handler for a daemon under systemd: one line per message on stderr, prefixed with
/// the syslog priority in `<N>` form, which journald turns into the entry's priority.
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

    /// Makes a handler; `Logger(label:)` calls this through `LoggingSystem.bootstrap`.
    package init(label: String, level: Logger.Level = .info, burst: Int = 10, windowSeconds: UInt64 = 60) {
        self.label = label
        self.logLevel = level
        self.limiter = RateLimiter(burst: burst, windowMilliseconds: windowSeconds * 1000)
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let text = event.message.description
        guard let suppressed = limiter.admit(text) else { return }
        var line = "<\(Self.priority(event.level))>"
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
