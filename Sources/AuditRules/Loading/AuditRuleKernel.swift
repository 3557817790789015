public import AuditNetlink

/// The kernel operations that loading rules needs: status, the rule list, and the requests that
/// change them.
///
/// ``AuditClient`` is the real implementation. The loader is written against this protocol so that
/// its decisions (refusing a locked kernel, rolling back after a rejection) can be tested without
/// touching the machine's audit state.
public protocol AuditRuleKernel {
    /// The kernel's audit status (`AUDIT_GET`).
    func status() throws(AuditNetlinkError) -> AuditStatus
    /// The loaded rules as `audit_rule_data` blobs, in the kernel's order (`AUDIT_LIST_RULES`).
    func listRules() throws(AuditNetlinkError) -> [[UInt8]]
    /// Adds one rule (`AUDIT_ADD_RULE`); the kernel answers EEXIST for a duplicate.
    func addRule(_ rule: [UInt8]) throws(AuditNetlinkError)
    /// Deletes the rule equal to this one (`AUDIT_DEL_RULE`); ENOENT when there is none.
    func deleteRule(_ rule: [UInt8]) throws(AuditNetlinkError)
    /// Applies the status fields named by `status.mask` (`AUDIT_SET`) and returns the ACK's value
    /// (the old counter for the reset masks).
    @discardableResult
    func set(_ status: AuditStatus) throws(AuditNetlinkError) -> Int32
    /// Switches a feature (`AUDIT_SET_FEATURE`); with `lock` it stays so until reboot.
    func setFeature(_ feature: AuditFeatures.Feature, enabled: Bool, lock: Bool) throws(AuditNetlinkError)
}

extension AuditClient: AuditRuleKernel {}
