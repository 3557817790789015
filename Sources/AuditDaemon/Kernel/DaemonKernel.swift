package import AuditNetlink
package import AuditRules

/// The kernel requests the daemon's control plane makes besides loading rules: reading the
/// status, unregistering, clearing the rules at exit, discarding records that reached the
/// control socket.
///
/// ``AuditClient`` is the real one. The control plane (kernel setup, the status poll, the stop
/// sequence) is written against this protocol so that its decisions are tested without root and
/// without touching the machine's audit state.
package protocol DaemonKernel: AuditRuleKernel {
    /// Gives up the audit pid (`AUDIT_SET pid=0`).
    func unregister() throws(AuditNetlinkError)
    /// Deletes every rule (`auditctl -D`); returns how many there were.
    @discardableResult
    func deleteAllRules() throws(AuditNetlinkError) -> Int
    /// Records that reached this socket while it waited for replies: not ours to route on a
    /// control socket, dropped so they do not pile up.
    func discardPendingRecords()
}

extension AuditClient: DaemonKernel {
    package func discardPendingRecords() { _ = takePendingRecords() }
}
