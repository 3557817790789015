import Glibc

/// A file's owner or group as the operator wrote it: a name, looked up when the file output opens
/// (so that a user added to `/etc/passwd` later works after a reload, and parsing a configuration
/// never asks NSS), or a number used as is.
package enum AccountID: Hashable, Sendable, CustomStringConvertible {
    /// A name to look up (`getpwnam_r`/`getgrnam_r`).
    case name(String)
    /// A numeric id, used as is.
    case id(UInt32)

    /// The name, or the number in decimal.
    package var description: String {
        switch self {
        case .name(let name): name
        case .id(let id): String(id)
        }
    }

    /// The id, or nil for a name that was not looked up.
    package var number: UInt32? {
        if case .id(let id) = self { id } else { nil }
    }
}

/// A file output's owner or group name that the system does not know.
package struct AccountLookupFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name as written.
    package var name: String
    /// Whether it names a group (else a user).
    package var isGroup: Bool

    /// `owner "NAME": no such user` or `group "NAME": no such group`.
    package var description: String {
        isGroup ? "group \"\(name)\": no such group" : "owner \"\(name)\": no such user"
    }
}

extension FileWriter.Configuration {
    /// This configuration with its `owner` and `group` names replaced by their ids: one lookup each,
    /// when the output opens (not on the hot path).
    package func resolvingAccounts() throws(AccountLookupFailure) -> Self {
        var resolved = self
        if case .name(let name) = owner {
            guard let id = Self.lookUp(name, group: false) else {
                throw AccountLookupFailure(name: name, isGroup: false)
            }
            resolved.owner = .id(id)
        }
        if case .name(let name) = group {
            guard let id = Self.lookUp(name, group: true) else {
                throw AccountLookupFailure(name: name, isGroup: true)
            }
            resolved.group = .id(id)
        }
        return resolved
    }

    private static func lookUp(_ name: String, group: Bool) -> UInt32? {
        var buffer = [CChar](repeating: 0, count: 16_384)
        if group {
            var entry = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result else { return nil }
            return result.pointee.gr_gid
        }
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result else { return nil }
        return result.pointee.pw_uid
    }
}
