/// Decides when to ping systemd's watchdog (`WATCHDOG=1`): only while both pipeline threads go
/// round their loops.
///
/// Each thread advances its heartbeat at least every 100 ms, idle or not. A ping goes out when
/// both advanced within the last half interval, at most every quarter interval; a thread stuck
/// for longer stops the pings and systemd restarts the daemon. Judged by time, not by loop turns,
/// so a burst of signals or a long reload cannot starve the pings of a healthy pipeline.
package struct Watchdog {
    /// `WatchdogSec=`, in milliseconds.
    package let intervalMilliseconds: UInt64
    private var lastBeats: (reader: Int, processor: Int) = (-1, -1)
    private var lastProgress: (reader: UInt64, processor: UInt64)
    private var lastPing: UInt64?

    /// A watchdog whose threads count as alive at `now`.
    package init(intervalMilliseconds: UInt64, now: UInt64) {
        self.intervalMilliseconds = max(1, intervalMilliseconds)
        lastProgress = (now, now)
    }

    /// How long the control loop may sleep between checks.
    package var checkMilliseconds: Int { Int(max(50, intervalMilliseconds / 4)) }

    /// Takes the threads' heartbeats at `now`; true when a ping is due.
    package mutating func shouldPing(readerBeat: Int, processorBeat: Int, now: UInt64) -> Bool {
        if readerBeat != lastBeats.reader { lastProgress.reader = now }
        if processorBeat != lastBeats.processor { lastProgress.processor = now }
        lastBeats = (readerBeat, processorBeat)
        let window = max(1, intervalMilliseconds / 2)
        let alive = now &- lastProgress.reader < window && now &- lastProgress.processor < window
        if let lastPing, now &- lastPing < max(1, intervalMilliseconds / 4) { return false }
        guard alive else { return false }
        lastPing = now
        return true
    }
}
