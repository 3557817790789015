import AuditSystem
import AuditThreads
internal import CSystemd

/// Tells systemd how the service is doing, through `sd_notify` (a datagram to `$NOTIFY_SOCKET`).
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call is a cheap no-op, so the daemon calls it
/// unconditionally. The unit uses `Type=notify`: systemd considers the service started only on
/// `READY=1`, which the daemon sends once events flow.
package struct ServiceNotifier: Sendable {
    /// Makes a notifier for this process.
    package init() {}

    /// The watchdog interval systemd expects (`WatchdogSec=`), or nil when the watchdog is off.
    package var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    /// Sends raw `KEY=value` lines; returns whether a notification socket received them.
    @discardableResult
    package func send(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// `READY=1` with a status line.
    package func ready(status: String) { send("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// `RELOADING=1` with the monotonic timestamp systemd 253+ asks for (older ones ignore it).
    package func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
    }

    /// `STOPPING=1`.
    package func stopping(status: String) { send("STOPPING=1\nSTATUS=\(Self.oneLine(status))") }

    /// `STATUS=…`: the line `systemctl status` shows.
    package func status(_ text: String) { send("STATUS=\(Self.oneLine(text))") }

    /// `WATCHDOG=1`: the pipeline made progress since the last ping.
    package func watchdog() { send("WATCHDOG=1") }

    /// Status text must be one line: a newline would start a new (bogus) assignment.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    static func monotonicMicroseconds() -> UInt64 {
        SystemClock.monotonicNanoseconds() / 1000
    }
}
