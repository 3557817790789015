public import AuditNetlink

extension AuditMessageType {
    /// True for message types that carry a text record with an `audit(…)` header, i.e. what the
    /// reassembler groups into events.
    ///
    /// Everything else on the audit socket is control traffic with a binary or empty payload:
    /// netlink messages below 16 (`NLMSG_ERROR` acks…), the command/reply range 1000–1099
    /// (`AUDIT_GET` status replies, rule lists, features), and `AUDIT_REPLACE` (1329), which the
    /// kernel sends a registered daemon with a bare pid as payload. The exceptions in 1000–1099
    /// are `AUDIT_USER` (1005) and `AUDIT_LOGIN` (1006), which are records.
    public var isAuditRecord: Bool {
        switch rawValue {
        case 1005, 1006: true
        case 1329: false
        default: rawValue >= 1100
        }
    }
}
