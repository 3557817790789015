import AuditDaemon
import AuditEncoding
import AuditNetlink
import AuditPipeline
import AuditRules
import AuditWriters

/// A kernel that answers from memory and records every request, in order.
final class FakeKernel: DaemonKernel {
    var current: AuditStatus
    /// Backlog values the next `status()` calls return, one each; the last one repeats.
    var backlogs: [UInt32] = []
    var calls: [String] = []
    var failStatus = false
    var pendingDiscards = 0

    init(_ status: AuditStatus = AuditStatus(enabled: .enabled, failure: .printk, backlogLimit: 8192)) {
        current = status
    }

    func status() throws(AuditNetlinkError) -> AuditStatus {
        calls.append("status")
        if failStatus { throw AuditNetlinkError(.kernelRejected, errno: 5, operation: "AUDIT_GET") }
        if !backlogs.isEmpty { current.backlog = backlogs.count > 1 ? backlogs.removeFirst() : backlogs[0] }
        return current
    }

    func listRules() throws(AuditNetlinkError) -> [[UInt8]] { [] }
    func addRule(_ rule: [UInt8]) throws(AuditNetlinkError) { calls.append("add rule") }
    func deleteRule(_ rule: [UInt8]) throws(AuditNetlinkError) { calls.append("delete rule") }

    @discardableResult
    func set(_ status: AuditStatus) throws(AuditNetlinkError) -> Int32 {
        let mask = status.mask
        if mask.contains(.enabled) { calls.append("set enabled \(status.enabled.rawValue)") }
        if mask.contains(.failure) { calls.append("set failure \(status.failure.rawValue)") }
        if mask.contains(.rateLimit) { calls.append("set rate_limit \(status.rateLimit)") }
        if mask.contains(.backlogLimit) { calls.append("set backlog_limit \(status.backlogLimit)") }
        if mask.contains(.backlogWaitTime) { calls.append("set backlog_wait_time \(status.backlogWaitTime)") }
        if mask.contains(.pid) { calls.append("set pid \(status.pid)") }
        return 0
    }

    func setFeature(_ feature: AuditFeatures.Feature, enabled: Bool, lock: Bool) throws(AuditNetlinkError) {}

    func unregister() throws(AuditNetlinkError) { calls.append("unregister") }

    func deleteAllRules() throws(AuditNetlinkError) -> Int {
        calls.append("delete all rules")
        return 0
    }

    func discardPendingRecords() { pendingDiscards += 1 }
}

/// A writer that accepts everything and keeps nothing.
struct NullWriter: EventWriter {
    var name = "null"
    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        WriteOutcome(bytes: items.reduce(0) { $0 + $1.lineCount })
    }
    mutating func flush() throws(WriterError) {}
    mutating func reopen() throws(WriterError) {}
    mutating func close() throws(WriterError) {}
}

/// A running output on a `NullWriter`.
func nullOutput(_ name: String) throws -> DaemonOutput {
    Output(name: name, worker: try OutputWorker(NullWriter(name: name)), wantsEvent: false)
}
