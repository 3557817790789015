internal import AuditSystem

/// A failure talking to the kernel's audit interface, with what was asked and what the kernel said.
public struct AuditNetlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// A system call failed; `errno` says why.
        case system
        /// The kernel has no audit support (no `CONFIG_AUDIT`, or audit is off in this namespace).
        case auditUnsupported
        /// The caller lacks the named capability (`CAP_AUDIT_CONTROL`, `CAP_AUDIT_READ`, `CAP_NET_ADMIN`).
        case permissionDenied(capability: String)
        /// The kernel answered the request with an error (`NLMSG_ERROR` with a negative errno).
        case kernelRejected
        /// Another process is registered as the audit daemon; the kernel refuses a second one.
        /// `command` is its `/proc/PID/comm`, `commandLine` its arguments (``RegisteredAuditDaemon``).
        case alreadyRegistered(pid: UInt32, command: String?, commandLine: String?)
        /// The kernel did not answer within the timeout.
        case timedOut
        /// A reply did not have the expected shape.
        case malformedReply(NetlinkDecodeError)
    }

    /// What went wrong.
    public var kind: Kind
    /// The errno involved, or 0.
    public var errno: Int32
    /// The call or request that failed, for example `AUDIT_SET pid=4242` or `bind(NETLINK_AUDIT)`.
    public var operation: String

    /// Makes an error.
    public init(_ kind: Kind, errno: Int32 = 0, operation: String) {
        self.kind = kind
        self.errno = errno
        self.operation = operation
    }

    public var description: String {
        let reason = errno != 0 ? Errno(rawValue: errno).description : ""
        switch kind {
        case .system:
            return "\(operation) failed: \(reason)"
        case .auditUnsupported:
            return
                "\(operation) failed: \(reason); this kernel has no audit support (CONFIG_AUDIT) or audit is not available here"
        case .permissionDenied(let capability):
            return "\(operation) failed: \(reason); this needs \(capability) (run as root)"
        case .kernelRejected:
            if errno == 1 {  // EPERM
                return "the kernel refused \(operation): \(reason); this needs CAP_AUDIT_CONTROL, "
                    + "or the audit configuration is locked (enabled 2) until reboot"
            }
            return "the kernel refused \(operation): \(reason)"
        case .alreadyRegistered(let pid, let command, let commandLine):
            let owner = RegisteredAuditDaemon(pid: pid, command: command, commandLine: commandLine)
            return "\(operation) failed: process \(owner) is registered as the audit daemon, and the kernel "
                + "sends its records to one registered process only; \(owner.howToStop)"
        case .timedOut:
            return "\(operation): no answer from the kernel"
        case .malformedReply(let error):
            return "\(operation): malformed reply: \(error)"
        }
    }
}
