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

/// Fields the encoder treats apart from their kind: the translated `arch` and `syscall`, a
/// SOCKADDR's `saddr`, a PROCTITLE's `proctitle`, and a SYSCALL's `a0`–`a3` (its ARGV).
enum FieldRole {
    case none
    case arch
    case syscall
    case socketAddress
    case proctitle
    case argument
    case success
}

/// What the encoder needs to know about a field name, looked up once per field.
///
/// The lookup runs for every field of every event, so it is a small open-addressing table keyed by
/// the name's bytes packed into two words (names of more than 16 bytes are never in it), not a
/// `Dictionary<String, …>`: no hashing of a `Hasher`, no string made from the record's bytes.
struct FieldTraits {
    var kind: FieldKind
    var identity: IdentityKind?
    var role: FieldRole = .none
    /// The ECS format writes the field as an ECS field (`process.pid`, `user.id`, `tags`…), so it
    /// leaves it out of `auditd.data`.
    var ecsConsumed = false

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

    /// What the ECS format writes elsewhere than `auditd.data`.
    static let ecsConsumedKeys = [
        "success", "res", "ses", "auid", "uid", "gid", "euid", "suid", "fsuid", "egid", "sgid", "fsgid", "pid",
        "ppid", "comm", "exe", "proctitle", "cwd", "key", "items",
    ]

    static let table: NameTable = {
        var entries: [String: FieldTraits] = [:]
        for key in decimalKeys { entries[key, default: plain].kind = .decimal }
        for key in hexKeys { entries[key, default: plain].kind = .hex }
        for key in octalKeys { entries[key, default: plain].kind = .octal }
        for key in encodedKeys { entries[key, default: plain].kind = .encoded }
        for key in userKeys { entries[key, default: plain].identity = .user }
        for key in groupKeys { entries[key, default: plain].identity = .group }
        entries["arch", default: plain].role = .arch
        entries["syscall", default: plain].role = .syscall
        entries["saddr", default: plain].role = .socketAddress
        entries["proctitle", default: plain].role = .proctitle
        entries["success", default: plain].role = .success
        for key in ["a0", "a1", "a2", "a3"] { entries[key, default: plain].role = .argument }
        for key in ecsConsumedKeys { entries[key, default: plain].ecsConsumed = true }
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
        guard count <= 16, let base = bytes.baseAddress else { return nil }
        if count >= 8 {
            // Whole words where there are eight bytes (little-endian, as the byte loop packs them).
            low = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
            if count == 16 {
                high = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            } else {
                for index in 8..<count { high |= UInt64(bytes[index]) << (8 &* (index &- 8)) }
            }
        } else {
            for index in 0..<count { low |= UInt64(bytes[index]) << (8 &* index) }
        }
    }

    @inline(__always)
    var slot: Int {
        let mixed = (low ^ (high &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(count)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> (64 - NameTable.bits))
    }
}

/// A fixed open-addressing table from field names to traits, filled once.
///
/// One slot array, allocated once and never freed, read through a raw pointer: the lookup is a
/// hash and one or two slot compares, with no reference counting, bounds or optional checks (it
/// runs once per field of every event; held in arrays, each access retained and released them).
struct NameTable: @unchecked Sendable {
    static let bits = 9
    static let mask = (1 << bits) - 1

    private struct Slot {
        var low: UInt64 = 0
        var high: UInt64 = 0
        /// 0: an empty slot.
        var count = 0
        var traits = FieldTraits.plain
    }

    private let slots: UnsafeMutablePointer<Slot>

    init(_ entries: [String: FieldTraits]) {
        slots = UnsafeMutablePointer<Slot>.allocate(capacity: 1 << Self.bits)
        slots.initialize(repeating: Slot(), count: 1 << Self.bits)
        for (name, value) in entries {
            var bytes = Array(name.utf8)
            guard let packed = bytes.withUnsafeMutableBytes({ PackedName(UnsafeRawBufferPointer($0)) }) else {
                continue
            }
            var slot = packed.slot
            while slots[slot].count != 0 { slot = (slot + 1) & Self.mask }
            slots[slot] = Slot(low: packed.low, high: packed.high, count: packed.count, traits: value)
        }
    }

    @inline(__always)
    func lookup(_ name: PackedName) -> FieldTraits? {
        var slot = name.slot
        while true {
            let entry = slots + slot
            if entry.pointee.count == 0 { return nil }
            if entry.pointee.count == name.count, entry.pointee.low == name.low, entry.pointee.high == name.high {
                return entry.pointee.traits
            }
            slot = (slot &+ 1) & Self.mask
        }
    }
}
