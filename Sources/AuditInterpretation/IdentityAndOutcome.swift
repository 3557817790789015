/// The "not set" id: `auid=` and `ses=` of a process that never logged in, (uid_t)-1.
package enum UnsetIdentity {
    /// 4294967295.
    package static let value: UInt32 = .max

    /// `unset` for 4294967295 (auditd's text for auid, ses, and uid/gid fields and arguments),
    /// nil for any other value: that one is a real id (a user name lookup, or a session number).
    package static func interpretation(_ text: some StringProtocol) -> String? {
        text.elementsEqual("4294967295") ? "unset" : nil
    }
}

/// Whether the event reports success: SYSCALL `success=yes|no`, user-space `res=success|failed`,
/// kernel `res=1|0` (CONFIG_CHANGE, LOGIN), normalised to one of two values.
package enum Outcome: Sendable, Hashable {
    case success
    case failure

    /// `yes`, `success`, `1` → success; `no`, `failed`, `fail`, `0` → failure; nil otherwise.
    package init?(_ text: some StringProtocol) {
        switch text {
        case "yes", "success", "1": self = .success
        case "no", "failed", "fail", "0": self = .failure
        default: return nil
        }
    }

    /// auditd's text for `success=` and `res=`: a number becomes `yes`/`no`, words stay as logged.
    package static func auditdText(_ text: some StringProtocol) -> String {
        switch text {
        case "1": "yes"
        case "0": "no"
        default: String(text)
        }
    }
}
