/// A kernel filter list (`AUDIT_FILTER_*`): where in the kernel a rule is evaluated.
///
/// An open struct, not an enum: a kernel may return a list this build does not know, and the rule
/// must still decode and re-encode unchanged.
public struct RuleList: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `AUDIT_FILTER_*` number (the low bits of `audit_rule_data.flags`).
    public var rawValue: UInt32
    /// Wraps a raw list number.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `AUDIT_FILTER_USER`: messages sent by user space.
    public static let user = RuleList(rawValue: 0)
    /// `AUDIT_FILTER_TASK`: at fork/clone.
    public static let task = RuleList(rawValue: 1)
    /// `AUDIT_FILTER_ENTRY`: syscall entry (deprecated; the kernel refuses it).
    public static let entry = RuleList(rawValue: 2)
    /// `AUDIT_FILTER_WATCH`: obsolete watch list.
    public static let watch = RuleList(rawValue: 3)
    /// `AUDIT_FILTER_EXIT`: syscall exit, where syscall and file rules live.
    public static let exit = RuleList(rawValue: 4)
    /// `AUDIT_FILTER_EXCLUDE`: drops records before they are created.
    public static let exclude = RuleList(rawValue: 5)
    /// `AUDIT_FILTER_FS`: whole file systems (by `fstype`).
    public static let filesystem = RuleList(rawValue: 6)
    /// `AUDIT_FILTER_URING_EXIT`: io_uring operations.
    public static let ioUring = RuleList(rawValue: 7)

    /// The name auditctl uses (`exit`), or nil for a list it has no name for.
    public var name: String? {
        switch rawValue {
        case 0: "user"
        case 1: "task"
        case 2: "entry"
        case 4: "exit"
        case 5: "exclude"
        case 6: "filesystem"
        case 7: "io_uring"
        default: nil
        }
    }

    /// The auditctl name, or `list<n>` for an unknown list.
    public var description: String { name ?? "list\(rawValue)" }

    /// The lists `-a list,action` accepts, by name.
    static let selectable: [(String, RuleList)] = [
        ("task", .task), ("exit", .exit), ("user", .user), ("exclude", .exclude),
        ("filesystem", .filesystem), ("io_uring", .ioUring),
    ]
}

/// What a matching rule does (`AUDIT_NEVER`, `AUDIT_ALWAYS`).
public struct RuleAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `audit_rule_data.action` number.
    public var rawValue: UInt32
    /// Wraps a raw action number.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `AUDIT_NEVER`: do not audit.
    public static let never = RuleAction(rawValue: 0)
    /// `AUDIT_POSSIBLE`: deprecated, refused by auditctl and the kernel.
    public static let possible = RuleAction(rawValue: 1)
    /// `AUDIT_ALWAYS`: audit.
    public static let always = RuleAction(rawValue: 2)

    /// The auditctl name (`always`), or nil for an unknown action.
    public var name: String? {
        switch rawValue {
        case 0: "never"
        case 1: "possible"
        case 2: "always"
        default: nil
        }
    }

    /// The auditctl name, or `action<n>` for an unknown action.
    public var description: String { name ?? "action\(rawValue)" }
}

/// A comparison operator (`AUDIT_EQUAL`…), as stored in `audit_rule_data.fieldflags`.
public struct RuleOperator: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `fieldflags` value.
    public var rawValue: UInt32
    /// Wraps a raw operator value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `=` (`AUDIT_EQUAL`).
    public static let equal = RuleOperator(rawValue: 0x4000_0000)
    /// `!=` (`AUDIT_NOT_EQUAL`).
    public static let notEqual = RuleOperator(rawValue: 0x3000_0000)
    /// `<` (`AUDIT_LESS_THAN`).
    public static let lessThan = RuleOperator(rawValue: 0x1000_0000)
    /// `>` (`AUDIT_GREATER_THAN`).
    public static let greaterThan = RuleOperator(rawValue: 0x2000_0000)
    /// `<=` (`AUDIT_LESS_THAN_OR_EQUAL`).
    public static let lessThanOrEqual = RuleOperator(rawValue: 0x5000_0000)
    /// `>=` (`AUDIT_GREATER_THAN_OR_EQUAL`).
    public static let greaterThanOrEqual = RuleOperator(rawValue: 0x6000_0000)
    /// `&` (`AUDIT_BIT_MASK`): any of the bits set.
    public static let bitMask = RuleOperator(rawValue: 0x0800_0000)
    /// `&=` (`AUDIT_BIT_TEST`): all of the bits set.
    public static let bitTest = RuleOperator(rawValue: 0x4800_0000)

    /// The auditctl symbol (`>=`), or nil for a value that is no operator.
    public var symbol: String? {
        switch rawValue {
        case 0x4000_0000: "="
        case 0x3000_0000: "!="
        case 0x1000_0000: "<"
        case 0x2000_0000: ">"
        case 0x5000_0000: "<="
        case 0x6000_0000: ">="
        case 0x0800_0000: "&"
        case 0x4800_0000: "&="
        default: nil
        }
    }

    /// The symbol, or `op<hex>` for an unknown value.
    public var description: String { symbol ?? "op0x\(String(rawValue, radix: 16))" }

    /// The operators in the order auditctl looks for them in `field<op>value` (two-character ones
    /// first, each by its first occurrence).
    static let searchOrder: [(String, RuleOperator)] = [
        ("!=", .notEqual), (">=", .greaterThanOrEqual), ("<=", .lessThanOrEqual), ("&=", .bitTest),
        ("=", .equal), (">", .greaterThan), ("<", .lessThan), ("&", .bitMask),
    ]
}

/// A kernel rule field (`AUDIT_UID`, `AUDIT_WATCH`…), as stored in `audit_rule_data.fields`.
public struct RuleField: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `fields[i]` number.
    public var rawValue: UInt32
    /// Wraps a raw field number.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `AUDIT_PID`.
    public static let pid = RuleField(rawValue: 0)
    /// `AUDIT_UID`.
    public static let uid = RuleField(rawValue: 1)
    /// `AUDIT_EUID`.
    public static let euid = RuleField(rawValue: 2)
    /// `AUDIT_SUID`.
    public static let suid = RuleField(rawValue: 3)
    /// `AUDIT_FSUID`.
    public static let fsuid = RuleField(rawValue: 4)
    /// `AUDIT_GID`.
    public static let gid = RuleField(rawValue: 5)
    /// `AUDIT_EGID`.
    public static let egid = RuleField(rawValue: 6)
    /// `AUDIT_SGID`.
    public static let sgid = RuleField(rawValue: 7)
    /// `AUDIT_FSGID`.
    public static let fsgid = RuleField(rawValue: 8)
    /// `AUDIT_LOGINUID` (`auid`).
    public static let loginuid = RuleField(rawValue: 9)
    /// `AUDIT_PERS`.
    public static let personality = RuleField(rawValue: 10)
    /// `AUDIT_ARCH`.
    public static let arch = RuleField(rawValue: 11)
    /// `AUDIT_MSGTYPE`.
    public static let messageType = RuleField(rawValue: 12)
    /// `AUDIT_SUBJ_USER`.
    public static let subjectUser = RuleField(rawValue: 13)
    /// `AUDIT_SUBJ_ROLE`.
    public static let subjectRole = RuleField(rawValue: 14)
    /// `AUDIT_SUBJ_TYPE`.
    public static let subjectType = RuleField(rawValue: 15)
    /// `AUDIT_SUBJ_SEN`.
    public static let subjectSensitivity = RuleField(rawValue: 16)
    /// `AUDIT_SUBJ_CLR`.
    public static let subjectClearance = RuleField(rawValue: 17)
    /// `AUDIT_PPID`.
    public static let ppid = RuleField(rawValue: 18)
    /// `AUDIT_OBJ_USER`.
    public static let objectUser = RuleField(rawValue: 19)
    /// `AUDIT_OBJ_ROLE`.
    public static let objectRole = RuleField(rawValue: 20)
    /// `AUDIT_OBJ_TYPE`.
    public static let objectType = RuleField(rawValue: 21)
    /// `AUDIT_OBJ_LEV_LOW`.
    public static let objectLevelLow = RuleField(rawValue: 22)
    /// `AUDIT_OBJ_LEV_HIGH`.
    public static let objectLevelHigh = RuleField(rawValue: 23)
    /// `AUDIT_LOGINUID_SET`.
    public static let loginuidSet = RuleField(rawValue: 24)
    /// `AUDIT_SESSIONID`.
    public static let sessionID = RuleField(rawValue: 25)
    /// `AUDIT_FSTYPE`.
    public static let fileSystemType = RuleField(rawValue: 26)
    /// `AUDIT_DEVMAJOR`.
    public static let deviceMajor = RuleField(rawValue: 100)
    /// `AUDIT_DEVMINOR`.
    public static let deviceMinor = RuleField(rawValue: 101)
    /// `AUDIT_INODE`.
    public static let inode = RuleField(rawValue: 102)
    /// `AUDIT_EXIT`.
    public static let exit = RuleField(rawValue: 103)
    /// `AUDIT_SUCCESS`.
    public static let success = RuleField(rawValue: 104)
    /// `AUDIT_WATCH` (`path`).
    public static let watch = RuleField(rawValue: 105)
    /// `AUDIT_PERM`.
    public static let permission = RuleField(rawValue: 106)
    /// `AUDIT_DIR`.
    public static let directory = RuleField(rawValue: 107)
    /// `AUDIT_FILETYPE`.
    public static let fileType = RuleField(rawValue: 108)
    /// `AUDIT_OBJ_UID`.
    public static let objectUID = RuleField(rawValue: 109)
    /// `AUDIT_OBJ_GID`.
    public static let objectGID = RuleField(rawValue: 110)
    /// `AUDIT_FIELD_COMPARE` (`-C`).
    public static let fieldCompare = RuleField(rawValue: 111)
    /// `AUDIT_EXE`.
    public static let executable = RuleField(rawValue: 112)
    /// `AUDIT_SADDR_FAM`.
    public static let socketAddressFamily = RuleField(rawValue: 113)
    /// `AUDIT_ARG0` (`a0`).
    public static let argument0 = RuleField(rawValue: 200)
    /// `AUDIT_ARG1` (`a1`).
    public static let argument1 = RuleField(rawValue: 201)
    /// `AUDIT_ARG2` (`a2`).
    public static let argument2 = RuleField(rawValue: 202)
    /// `AUDIT_ARG3` (`a3`).
    public static let argument3 = RuleField(rawValue: 203)
    /// `AUDIT_FILTERKEY` (`key`).
    public static let filterKey = RuleField(rawValue: 210)

    /// auditctl's name for the field (`auid`, `path`), or nil when it has none.
    public var name: String? { Self.nameByValue[rawValue] }

    /// The name, or `f<n>` (how auditctl lists an unknown field).
    public var description: String { name ?? "f\(rawValue)" }

    /// True for fields whose value is a string in `buf` (the kernel's string fields).
    public var isString: Bool {
        switch rawValue {
        case 13...17, 19...23, 105, 107, 112, 210: true
        default: false
        }
    }

    /// True for the uid-valued fields (names resolve through the passwd database).
    var isUID: Bool { [0x1, 2, 3, 4, 9, 109].contains(rawValue) }
    /// True for the gid-valued fields (names resolve through the group database).
    var isGID: Bool { [5, 6, 7, 8, 110].contains(rawValue) }

    /// Field names accepted by `-F` and `-C`, with their field; `loginuid` is a synonym of `auid`.
    ///
    /// `loginuid_set` is not in auditctl 3.0.9's table; it is accepted here because the kernel
    /// accepts the field (values 0 and 1).
    static let names: [(String, RuleField)] = [
        ("pid", .pid), ("uid", .uid), ("euid", .euid), ("suid", .suid), ("fsuid", .fsuid),
        ("gid", .gid), ("egid", .egid), ("sgid", .sgid), ("fsgid", .fsgid), ("auid", .loginuid),
        ("loginuid", .loginuid), ("pers", .personality), ("arch", .arch), ("msgtype", .messageType),
        ("subj_user", .subjectUser), ("subj_role", .subjectRole), ("subj_type", .subjectType),
        ("subj_sen", .subjectSensitivity), ("subj_clr", .subjectClearance), ("ppid", .ppid),
        ("obj_user", .objectUser), ("obj_role", .objectRole), ("obj_type", .objectType),
        ("obj_lev_low", .objectLevelLow), ("obj_lev_high", .objectLevelHigh),
        ("devmajor", .deviceMajor), ("devminor", .deviceMinor), ("inode", .inode), ("exit", .exit),
        ("success", .success), ("path", .watch), ("perm", .permission), ("dir", .directory),
        ("filetype", .fileType), ("obj_uid", .objectUID), ("obj_gid", .objectGID),
        ("a0", .argument0), ("a1", .argument1), ("a2", .argument2), ("a3", .argument3),
        ("key", .filterKey), ("exe", .executable), ("sessionid", .sessionID),
        ("fstype", .fileSystemType), ("saddr_fam", .socketAddressFamily),
        ("loginuid_set", .loginuidSet),
    ]

    static let fieldByName: [String: RuleField] = Dictionary(names.map { ($0.0, $0.1) }) { first, _ in first }

    /// Names auditctl prints (the first name of each field wins, so `auid`, not `loginuid`).
    /// `loginuid_set` is left out: auditctl 3.0.9 lists it as `f24`.
    private static let nameByValue: [UInt32: String] = Dictionary(
        names.filter { $0.0 != "loginuid_set" }.map { ($0.1.rawValue, $0.0) }
    ) { first, _ in first }
}

/// Permission bits of the `perm` field and `-p` (`AUDIT_PERM_*`).
enum PermissionBits {
    static let exec: UInt32 = 1
    static let write: UInt32 = 2
    static let read: UInt32 = 4
    static let attribute: UInt32 = 8
    static let all: UInt32 = 15

    /// Parses `rwxa` (any order, any case, at most 4 letters); nil for another letter.
    static func parse(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0
        for character in text.lowercased() {
            switch character {
            case "r": value |= read
            case "w": value |= write
            case "x": value |= exec
            case "a": value |= attribute
            default: return nil
            }
        }
        return value
    }

    /// The `rwxa` letters auditctl prints for a value, in its fixed order.
    static func text(_ value: UInt32) -> String {
        var result = ""
        if value & read != 0 { result += "r" }
        if value & write != 0 { result += "w" }
        if value & exec != 0 { result += "x" }
        if value & attribute != 0 { result += "a" }
        return result
    }
}

/// `filetype` names and their `S_IF*` values.
enum FileTypeNames {
    static let table: [(String, UInt32)] = [
        ("file", 0o100000), ("dir", 0o040000), ("socket", 0o140000), ("link", 0o120000),
        ("character", 0o020000), ("block", 0o060000), ("fifo", 0o010000),
    ]
}

/// `fstype` names auditctl knows and their file-system magic numbers.
enum FileSystemTypeNames {
    static let table: [(String, UInt32)] = [("debugfs", 0x6462_6720), ("tracefs", 0x7472_6163)]
}

/// io_uring operations that can be audited (`-a always,io_uring -S openat`): auditctl's table.
enum IOUringOperations {
    static let table: [(Int, String)] = [
        (9, "sendmsg"), (10, "recvmsg"), (13, "accept"), (16, "connect"), (17, "fallocate"),
        (18, "openat"), (19, "close"), (28, "openat2"), (34, "shutdown"), (35, "renameat"),
        (36, "unlinkat"), (37, "mkdirat"), (38, "symlinkat"), (39, "linkat"), (40, "msg_ring"),
        (41, "fsetxattr"), (42, "setxattr"), (43, "fgetxattr"), (44, "getxattr"), (46, "uring_cmd"),
        (48, "sendmsg_zc"),
    ]
}

/// `-C` field comparisons: the `AUDIT_COMPARE_*` values by their two fields.
enum FieldComparisons {
    /// (value, left name, right name) in the order auditctl prints them.
    static let table: [(UInt32, String, String)] = [
        (1, "uid", "obj_uid"), (2, "gid", "obj_gid"), (3, "euid", "obj_uid"), (4, "egid", "obj_gid"),
        (5, "auid", "obj_uid"), (6, "suid", "obj_uid"), (7, "sgid", "obj_gid"), (8, "fsuid", "obj_uid"),
        (9, "fsgid", "obj_gid"), (10, "uid", "auid"), (11, "uid", "euid"), (12, "uid", "fsuid"),
        (13, "uid", "suid"), (14, "auid", "fsuid"), (15, "auid", "suid"), (16, "auid", "euid"),
        (17, "euid", "suid"), (18, "euid", "fsuid"), (19, "suid", "fsuid"), (20, "gid", "egid"),
        (21, "gid", "fsgid"), (22, "gid", "sgid"), (23, "egid", "fsgid"), (24, "egid", "sgid"),
        (25, "sgid", "fsgid"),
    ]

    /// The comparison value for two fields, in either order; nil when they cannot be compared.
    static func value(_ left: RuleField, _ right: RuleField) -> UInt32? {
        for (value, a, b) in table {
            guard let fa = RuleField.fieldByName[a], let fb = RuleField.fieldByName[b] else { continue }
            if (fa == left && fb == right) || (fa == right && fb == left) { return value }
        }
        return nil
    }
}
