package import AuditNetlink
import AuditRules
package import Logging

/// What the control thread learns from the kernel's `AUDIT_GET`, read every `status_interval`
/// (never `AUDIT_SET`: each SET writes a CONFIG_CHANGE record into the trail).
package struct KernelMonitor {
    /// How often to poll, in milliseconds.
    package var intervalMilliseconds: UInt64
    /// Records the kernel dropped since the first reading, as a running total: the kernel's
    /// counter is 32 bits wide and `--reset-lost` sets it back to 0.
    package private(set) var lostTotal = 0
    /// The kernel's backlog at the last reading.
    package private(set) var backlog: UInt32 = 0
    /// The last reading whole (for the metrics); nil before the first one.
    package private(set) var lastStatus: AuditStatus?
    private var lastLostReading: UInt32?
    private var lastPoll: UInt64?

    package init(intervalMilliseconds: UInt64) {
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Reads the status when `interval` has passed since the last reading (or with `force`) and
    /// returns it; nil when it was not time yet or the kernel did not answer (logged).
    ///
    /// - Parameter ownPID: the pid the kernel should name as the audit daemon, or nil when the
    ///   daemon has unregistered. A different pid is logged as an error: another process took the
    ///   audit socket over.
    package mutating func poll(
        _ kernel: some DaemonKernel, now: UInt64, force: Bool = false, ownPID: UInt32?, logger: Logger
    ) -> AuditStatus? {
        if !force, let lastPoll, now &- lastPoll < intervalMilliseconds { return nil }
        lastPoll = now
        defer { kernel.discardPendingRecords() }
        let status: AuditStatus
        do {
            status = try kernel.status()
        } catch {
            logger.error("cannot read the kernel audit status", metadata: ["error": "\(error)"])
            return nil
        }
        record(status)
        if let ownPID, status.pid != ownPID {
            logger.error(
                "the kernel no longer names this process as the audit daemon",
                metadata: ["registered_pid": "\(status.pid)"])
        }
        return status
    }

    /// Folds a reading into the totals; the first reading is the baseline.
    package mutating func record(_ status: AuditStatus) {
        backlog = status.backlog
        lastStatus = status
        defer { lastLostReading = status.lost }
        guard let last = lastLostReading else { return }
        lostTotal += status.lost >= last ? Int(status.lost - last) : Int(status.lost)
    }
}
