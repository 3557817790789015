internal import AuditSystem

/// Which host name events carry in `"hostname"`, like auditd's `name_format`.
///
/// Resolve it once, at start and on reload, with ``resolve()``: `fqdn` may ask DNS, which must never
/// happen on the encoder's hot path.
package enum HostnameFormat: Hashable, Sendable {
    /// No `"hostname"` key (go-audit's exact format).
    case none
    /// The kernel's host name, `gethostname(2)`.
    case hostname
    /// The canonical name of the host name from `getaddrinfo(AI_CANONNAME)`; the plain host name
    /// when that fails, so that a DNS outage at start does not drop the field.
    case fqdn
    /// A fixed string from the configuration.
    case user(String)

    /// The name to write, or `nil` for ``none`` (and when even `gethostname` fails).
    ///
    /// A host name that is not valid UTF-8 is repaired here: unlike record data, it is configuration
    /// the operator can see and fix.
    package func resolve() -> String? {
        switch self {
        case .none:
            return nil
        case .user(let name):
            return name
        case .hostname:
            return SystemHost.name().map { String(decoding: $0, as: UTF8.self) }
        case .fqdn:
            guard let host = SystemHost.name() else { return nil }
            return String(decoding: Syscalls.canonicalName(of: host) ?? host, as: UTF8.self)
        }
    }
}
