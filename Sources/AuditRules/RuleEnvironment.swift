import AuditNetlink
internal import AuditSystem
import Glibc

/// What rule parsing needs from the machine: the host ABI, user and group names, and whether a
/// watched path is a directory.
///
/// auditctl reads these from the running system; here they are injected so that a rule file can be
/// checked for another host, and tests are reproducible.
public struct RuleEnvironment: Sendable {
    /// The host machine: what `-F arch=b64`/`b32` mean, and the syscall table used without `arch`.
    public var machine: AuditMachine
    /// Resolves user and group names (`-F uid=root`).
    public var accounts: AccountDatabase
    /// Tells whether a `-w` path is an existing directory (then the watch is a `dir` watch).
    public var isDirectory: @Sendable (String) -> Bool
    /// Tells whether a path exists, for the paths the kernel looks up when a rule is added (a
    /// watch's directory, `dir=`, `exe=`'s directory; see ``RuleLoader/plan(_:)``); nil when the
    /// rules are checked for another machine, whose files are not here to look at.
    public var pathExists: (@Sendable (String) -> Bool)?

    /// Makes an environment from its parts.
    public init(
        machine: AuditMachine, accounts: AccountDatabase, isDirectory: @escaping @Sendable (String) -> Bool,
        pathExists: (@Sendable (String) -> Bool)? = nil
    ) {
        self.machine = machine
        self.accounts = accounts
        self.isDirectory = isDirectory
        self.pathExists = pathExists
    }

    /// The running system: `uname -m`, `/etc/passwd` and `/etc/group`, and `stat(2)` for watches
    /// and the paths the kernel looks up.
    ///
    /// Returns nil when the host machine is not one this build has a syscall table for.
    public static func system() -> RuleEnvironment? {
        guard let machine = hostMachine() else { return nil }
        return RuleEnvironment(
            machine: machine, accounts: .system(),
            isDirectory: { path in
                var info = stat()
                guard stat(path, &info) == 0 else { return false }
                return info.st_mode & S_IFMT == S_IFDIR
            },
            pathExists: { path in
                var info = stat()
                return stat(path, &info) == 0
            })
    }

    /// The machine `uname(2)` reports, if this build knows it.
    public static func hostMachine() -> AuditMachine? {
        var names = utsname()
        guard uname(&names) == 0 else { return nil }
        let machine = withUnsafeBytes(of: &names.machine) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return AuditMachine(name: machine)
    }
}

/// User and group names with their ids, as in `/etc/passwd` and `/etc/group`.
public struct AccountDatabase: Sendable, Hashable {
    /// User name to uid.
    public var users: [String: UInt32]
    /// Group name to gid.
    public var groups: [String: UInt32]

    /// Makes a database from explicit tables (for tests and cross-host checks).
    public init(users: [String: UInt32], groups: [String: UInt32]) {
        self.users = users
        self.groups = groups
    }

    /// Reads `/etc/passwd` and `/etc/group`; a missing or unreadable file gives an empty table.
    ///
    /// Only the local files are read: names served by NSS modules (LDAP, SSSD) are not seen, which
    /// is also what makes rule loading independent of the network at boot.
    public static func system() -> AccountDatabase {
        AccountDatabase(
            users: parseColonFile(readFile("/etc/passwd") ?? []),
            groups: parseColonFile(readFile("/etc/group") ?? []))
    }

    /// Parses `name:x:id:...` lines (passwd and group share the layout up to the id); the first
    /// entry of a name wins, as `getpwnam` does for files.
    public static func parseColonFile(_ bytes: [UInt8]) -> [String: UInt32] {
        var result: [String: UInt32] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            if line.first == UInt8(ascii: "#") { continue }
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[0].isEmpty else { continue }
            let name = String(decoding: parts[0], as: UTF8.self)
            guard let id = UInt32(String(decoding: parts[2], as: UTF8.self)) else { continue }
            if result[name] == nil { result[name] = id }
        }
        return result
    }

    static func readFile(_ path: String) -> [UInt8]? { try? SystemFile.read(path: path, limit: 64 << 20) }
}

/// Message type names for `msgtype=` (from ``AuditMessageType``).
enum AuditMessageTypeNames {
    /// The number for a type name such as `SYSCALL` or `avc` (case-insensitive).
    static func number(of name: String) -> UInt32? {
        if name.uppercased().hasPrefix("UNKNOWN[") { return nil }
        return AuditMessageType(name: name).map { UInt32($0.rawValue) }
    }

    /// The name of a type number, if known.
    static func name(of number: UInt32) -> String? {
        guard number <= UInt32(UInt16.max) else { return nil }
        return AuditMessageType(UInt16(number)).name
    }
}
