import AuditNetlink
import Glibc
import Testing

/// The kernel audit state a test found, so it can put it back however the test ends.
public struct KernelStateSnapshot: Sendable {
    /// The status before the test.
    public var status: AuditStatus
    /// The rules loaded before the test, as kernel blobs.
    public var rules: [[UInt8]]

    /// Reads the current state.
    public static func take(_ client: AuditClient) throws -> KernelStateSnapshot {
        KernelStateSnapshot(status: try client.status(), rules: try client.listRules())
    }

    /// Restores settings, removes rules the test added, and unregisters this process if it is the
    /// registered daemon. Never sends enabled=2 or failure=2: a snapshot holding those is left alone.
    public func restore(_ client: AuditClient) throws {
        let now = try client.status()
        if now.pid == UInt32(getpid()) { try client.unregister() }
        for rule in try client.listRules() where !rules.contains(rule) {
            try client.deleteRule(rule)
        }
        if now.backlogLimit != status.backlogLimit { try client.setBacklogLimit(status.backlogLimit) }
        if now.backlogWaitTime != status.backlogWaitTime { try client.setBacklogWaitTime(status.backlogWaitTime) }
        if now.rateLimit != status.rateLimit { try client.setRateLimit(status.rateLimit) }
        if now.failure != status.failure, status.failure != .panic { try client.setFailureMode(status.failure) }
        if now.enabled != status.enabled, status.enabled != .locked, now.enabled != .locked {
            try client.setEnabled(status.enabled)
        }
    }
}

/// Runs a kernel test: takes the cross-process lock, checks that no other audit daemon is
/// registered (a test must never fight one), snapshots the state, runs `body`, and restores the
/// state even when `body` throws.
public func withKernelAudit(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (AuditClient) throws -> Void
) throws {
    try KernelTestLock.withLock {
        let client = try AuditClient()
        let snapshot = try KernelStateSnapshot.take(client)
        if snapshot.status.pid != 0, snapshot.status.pid != UInt32(getpid()), processName(snapshot.status.pid) != nil {
            let owner = processName(snapshot.status.pid) ?? "gone"
            Issue.record(
                "process \(snapshot.status.pid) (\(owner)) is registered as the audit daemon; kernel tests need it stopped",
                sourceLocation: sourceLocation)
            return
        }
        defer {
            do { try snapshot.restore(client) } catch {
                Issue.record("could not restore the kernel audit state: \(error)", sourceLocation: sourceLocation)
            }
        }
        try body(client)
    }
}
