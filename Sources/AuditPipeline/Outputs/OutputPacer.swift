import AuditEncoding
import AuditSystem
import AuditThreads

/// Keeps the processing stage from running far ahead of a healthy output's writer.
///
/// Why: when there are more runnable threads than CPUs (a busy host, or the benchmark's
/// saturated runs), the scheduler often lets the processing thread run while a writer waits for a
/// CPU, and the difference piles up as encoded lines in the daemon's heap: 1.4–2.5 MiB measured
/// on the 2-vCPU VM at ~110k events/s. Pausing the processing thread briefly hands that CPU to the
/// writer; the backlog then stays in the ring (bounded) and in the kernel's socket buffer (not the
/// daemon's memory). Measured with a 256-item threshold: peak RSS ~1 MiB lower, throughput and CPU
/// per event unchanged or better.
///
/// It never holds the pipeline hostage: the pause is at most `maxWaitMicroseconds` per batch in
/// total, and an output that is failing, or has written nothing for `stallNanoseconds` (blocked in
/// a write, a reader that stopped reading), is not waited for; its queue fills and drops as it
/// always did, and the other outputs are unaffected.
package struct OutputPacer {
    /// Queued items above which the stage waits for a writer (0 disables pacing).
    package var threshold: Int
    /// The longest the stage waits per batch, over all outputs.
    package var maxWaitMicroseconds: Int
    /// How long an output may write nothing before it counts as stalled and is no longer waited for.
    package var stallNanoseconds: UInt64
    /// Per output: its written count when last seen, and since when it has not changed.
    private var progress: [ObjectIdentifier: (written: Int, since: UInt64)] = [:]

    /// How long each wait step lasts.
    package static let stepMicroseconds = 100

    package init(threshold: Int, maxWaitMicroseconds: Int, stallNanoseconds: UInt64 = 50_000_000) {
        self.threshold = threshold
        self.maxWaitMicroseconds = maxWaitMicroseconds
        self.stallNanoseconds = stallNanoseconds
    }

    /// Waits (briefly, bounded) for every healthy output whose queue is above the threshold to
    /// drain to half of it. Returns the microseconds waited.
    @discardableResult
    package mutating func pace(_ outputs: [OutputTarget]) -> Int {
        guard threshold > 0, maxWaitMicroseconds > 0 else { return 0 }
        var waited = 0
        for output in outputs {
            var backlog = output.queue.progress
            guard backlog.queued > threshold, !backlog.isFailing else { continue }
            let id = ObjectIdentifier(output.queue)
            let written = backlog.completed
            let now = SystemClock.monotonicNanoseconds()
            if let seen = progress[id], seen.written == written {
                if now &- seen.since > stallNanoseconds { continue }
            } else {
                if progress.count > 4 * max(1, outputs.count) { progress.removeAll() }
                progress[id] = (written, now)
            }
            while waited < maxWaitMicroseconds, backlog.queued > threshold / 2 {
                SystemClock.sleep(microseconds: Self.stepMicroseconds)
                waited += Self.stepMicroseconds
                backlog = output.queue.progress
            }
        }
        return waited
    }
}
