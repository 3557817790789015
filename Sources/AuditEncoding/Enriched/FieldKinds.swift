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
}

/// Which ids a field holds, for the upper-case translation beside it (`UID`, `OGID`…).
enum IdentityKind {
    case user
    case group
}

/// What the encoder needs to know about a field name, looked up once per field.
///
/// The lookup runs for every field of every event, so it is a small open-addressing table keyed by
/// the name's bytes packed into two words (names of more than 16 bytes are never in it), not a
/// `Dictionary<String, …>`: no hashing of a `Hasher`, no string made from the record's bytes.
struct FieldTraits {
    var kind: FieldKind
    var identity: IdentityKind?

    static let plain = FieldTraits(kind: .text, identity: nil)

    /// The traits of the field named by `key` (bytes of the record).
    @inline(__always)
    static func of(_ key: UnsafeRawBufferPointer) -> FieldTraits {
        guard key.count <= 16, let packed = PackedName(key) else { return plain }
        return table.lookup(packed) ?? plain
    }

    static let decimalKeys = [
        "pid", "ppid", "opid", "uid", "auid", "euid", "suid", "fsuid", "ouid", "oauid", "old-auid", "iuid",
        "sauid", "gid", "egid", "sgid", "fsgid", "ogid", "igid", "ses", "oses", "old-ses", "items", "item",
        "syscall", "exit", "inode", "argc", "fe", "cap_fe", "res", "list", "prom", "old_prom", "sig", "code",
        "per", "nargs", "val", "old_val", "new-ses", "old_enforcing", "enforcing", "auid_old", "tty_pid",
        "new_pid", "old_pid", "lport", "rport", "sport", "dport", "pport", "kernel_pid", "sig_pid", "id",
        "new-auid", "old_auid", "inode_uid", "inode_gid", "obj_uid", "obj_gid", "new_gid",
    ]
    static let hexKeys = [
        "arch", "cap_fp", "cap_fi", "cap_fver", "cap_pp", "cap_pi", "cap_pe", "cap_pa", "cap_pb", "fver", "fp",
        "fi", "pp", "pi", "pe", "pa", "old_pp", "old_pi", "old_pe", "old_pa", "pb", "old_pb", "a0", "a1", "a2",
        "a3",
    ]
    static let octalKeys = ["mode", "oflag"]
    static let encodedKeys = [
        "comm", "exe", "name", "cwd", "path", "key", "proctitle", "cmd", "acct", "dir", "file", "watch", "vm",
        "data", "ocomm", "old-chardev", "new-chardev", "root_dir", "sw",
    ]
    static let userKeys = [
        "auid", "uid", "euid", "suid", "fsuid", "ouid", "oauid", "old-auid", "iuid", "id", "inode_uid", "sauid",
        "obj_uid", "new-auid", "old_auid",
    ]
    static let groupKeys = ["gid", "egid", "sgid", "fsgid", "ogid", "igid", "inode_gid", "new_gid", "obj_gid"]

    static let table: NameTable = {
        var entries: [String: FieldTraits] = [:]
        for key in decimalKeys { entries[key, default: plain].kind = .decimal }
        for key in hexKeys { entries[key, default: plain].kind = .hex }
        for key in octalKeys { entries[key, default: plain].kind = .octal }
        for key in encodedKeys { entries[key, default: plain].kind = .encoded }
        for key in userKeys { entries[key, default: plain].identity = .user }
        for key in groupKeys { entries[key, default: plain].identity = .group }
        return NameTable(entries)
    }()
}

/// A field name of at most 16 bytes as two words and a length.
struct PackedName: Equatable {
    var low: UInt64 = 0
    var high: UInt64 = 0
    var count: Int

    @inline(__always)
    init?(_ bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        guard count <= 16 else { return nil }
        for index in 0..<min(count, 8) { low |= UInt64(bytes[index]) << (8 &* index) }
        if count > 8 { for index in 8..<count { high |= UInt64(bytes[index]) << (8 &* (index &- 8)) } }
    }

    @inline(__always)
    var slot: Int {
        let mixed = (low ^ (high &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(count)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> (64 - NameTable.bits))
    }
}

/// A fixed open-addressing table from field names to traits, filled once.
struct NameTable {
    static let bits = 9
    private var names: [PackedName?]
    private var traits: [FieldTraits]

    init(_ entries: [String: FieldTraits]) {
        names = Array(repeating: nil, count: 1 << Self.bits)
        traits = Array(repeating: FieldTraits.plain, count: 1 << Self.bits)
        for (name, value) in entries {
            var bytes = Array(name.utf8)
            guard let packed = bytes.withUnsafeMutableBytes({ PackedName(UnsafeRawBufferPointer($0)) }) else {
                continue
            }
            var slot = packed.slot
            while names[slot] != nil { slot = (slot + 1) & ((1 << Self.bits) - 1) }
            names[slot] = packed
            traits[slot] = value
        }
    }

    @inline(__always)
    func lookup(_ name: PackedName) -> FieldTraits? {
        var slot = name.slot
        while let candidate = names[slot] {
            if candidate == name { return traits[slot] }
            slot = (slot + 1) & ((1 << Self.bits) - 1)
        }
        return nil
    }
}
