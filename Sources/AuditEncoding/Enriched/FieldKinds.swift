/// How the enriched format types a field's value, by the field's name: what auditd's field table
/// (libauparse's `typetab`) and laurel agree on. A name not listed is written as a string.
enum FieldKind {
    /// A decimal number (`pid`, `uid`, `inode`, `exit`…): written as a JSON number when the value
    /// is one, else as a string.
    case decimal
    /// Hex without `0x` (`arch`, capability sets): written as the string `"0x…"`.
    case hex
    /// Octal (`mode`): written as the string `"0o…"`.
    case octal
    /// A string the kernel writes quoted or, when it holds unsafe bytes, as hex (`comm`, `exe`,
    /// `name`, `cwd`, `key`…): decoded to its bytes.
    case encoded
    /// Anything else: the value's text.
    case text

    /// The kind of the field named `key` (bytes of the record).
    static func of(_ key: UnsafeRawBufferPointer) -> FieldKind {
        table[Key(key)] ?? .text
    }

    /// A field name as a hashable value without allocation for the common short names.
    struct Key: Hashable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count: Int

        init(_ bytes: UnsafeRawBufferPointer) {
            count = bytes.count
            guard bytes.count <= 16 else { return }
            for (index, byte) in bytes.enumerated() {
                if index < 8 { low |= UInt64(byte) << (8 * index) } else { high |= UInt64(byte) << (8 * (index - 8)) }
            }
        }

        init(_ text: String) {
            var utf8 = Array(text.utf8)
            self = utf8.withUnsafeMutableBytes { Key(UnsafeRawBufferPointer($0)) }
        }
    }

    static let decimalKeys = [
        "pid", "ppid", "opid", "uid", "auid", "euid", "suid", "fsuid", "ouid", "oauid", "old-auid", "iuid",
        "sauid", "gid", "egid", "sgid", "fsgid", "ogid", "igid", "ses", "oses", "old-ses", "items", "item",
        "syscall", "exit", "inode", "argc", "fe", "cap_fe", "res", "list", "prom", "old_prom", "sig", "code",
        "per", "nargs", "val", "old_val", "new-ses", "old_enforcing", "enforcing", "auid_old",
        "tty_pid", "new_pid", "old_pid", "lport", "rport", "sport", "dport", "pport", "kernel_pid", "sig_pid",
    ]
    static let hexKeys = [
        "arch", "cap_fp", "cap_fi", "cap_fver", "cap_pp", "cap_pi", "cap_pe", "cap_pa", "cap_pb", "fver", "fp",
        "fi", "pp", "pi", "pe", "pa", "old_pp", "old_pi", "old_pe", "old_pa", "pb", "old_pb", "a0", "a1", "a2",
        "a3", "cap_pi_old", "cap_pp_old",
    ]
    static let octalKeys = ["mode", "oflag"]
    static let encodedKeys = [
        "comm", "exe", "name", "cwd", "path", "key", "proctitle", "cmd", "acct", "dir", "file", "watch", "vm",
        "data", "ocomm", "old-chardev", "new-chardev", "root_dir", "sw",
    ]

    static let table: [Key: FieldKind] = {
        var table: [Key: FieldKind] = [:]
        for key in decimalKeys { table[Key(key)] = .decimal }
        for key in hexKeys { table[Key(key)] = .hex }
        for key in octalKeys { table[Key(key)] = .octal }
        for key in encodedKeys where table[Key(key)] == nil { table[Key(key)] = .encoded }
        return table
    }()
}

/// Which ids a field holds, for the upper-case translation beside it (`UID`, `OGID`…).
enum IdentityKind {
    case user
    case group

    static func of(_ key: UnsafeRawBufferPointer) -> IdentityKind? {
        table[FieldKind.Key(key)]
    }

    static let userKeys = [
        "auid", "uid", "euid", "suid", "fsuid", "ouid", "oauid", "old-auid", "iuid", "id", "inode_uid", "sauid",
        "obj_uid", "new-auid", "old_auid",
    ]
    static let groupKeys = ["gid", "egid", "sgid", "fsgid", "ogid", "igid", "inode_gid", "new_gid", "obj_gid"]

    static let table: [FieldKind.Key: IdentityKind] = {
        var table: [FieldKind.Key: IdentityKind] = [:]
        for key in userKeys { table[FieldKind.Key(key)] = .user }
        for key in groupKeys { table[FieldKind.Key(key)] = .group }
        return table
    }()
}
