import AuditNetlink

/// How one kind of event is normalized: what happened (`action`), who did it, to what, how, and
/// the ECS categorization. The facts are go-libaudit's (`aucoalesce/normalizations.yaml`,
/// Apache-2.0, re-expressed here as data), updated to what its golden outputs at v2.6.2 show
/// (the `linked` action, `clock_adjtime` and the `TIME_*` records as changed-system-time, the
/// `session` category of USER_START/USER_END, `alert` kind of the two anomalies), and with `end`
/// where aucoalesce writes `stop` (not an ECS `event.type` value: SERVICE_STOP, DAEMON_END…).
///
/// Keys are record field names (`auid`, `acct`…) looked up in the event's fields, first found wins.
struct EcsNormalization: Sendable {
    var action: StaticString?
    var subjectPrimary: [StaticString] = []
    var subjectSecondary: [StaticString] = []
    var objectPrimary: [StaticString] = []
    var objectSecondary: [StaticString] = []
    /// The object's type (`file`, `socket`, `user-session`…).
    var objectWhat: StaticString?
    /// Which PATH record names the object (file and filesystem objects).
    var pathIndex = 0
    var how: [StaticString] = []
    /// Fields that give `source.ip` when no socket address did.
    var sourceIP: [StaticString] = []
    /// Fields that must be present for this normalization to apply (AVC: SELinux or AppArmor).
    var hasFields: [StaticString] = []
    var kind: StaticString?
    var categories: [StaticString] = []
    var types: [StaticString] = []
    var mappings: [EcsMapping] = []
    var syscalls: [String] = []
    var recordTypes: [String] = []
}

/// One `mappings` entry: a summary value copied to an ECS user or group entity.
struct EcsMapping: Sendable {
    enum Source: Sendable {
        case subjectPrimary, subjectSecondary, objectPrimary, objectSecondary
        /// The event's id field of that name (`uid`).
        case identity(StaticString)
    }
    enum Target: Sendable, Equatable {
        case user, userEffective, userTarget, userChanges, group, groupTarget
    }
    var from: Source
    var to: Target
}

extension EcsNormalization {
    // The macros of normalizations.yaml.
    private static let userSession = EcsNormalization(
        subjectPrimary: ["auid"], subjectSecondary: ["acct", "id", "uid"], objectPrimary: ["terminal"],
        objectSecondary: ["addr", "hostname"], objectWhat: "user-session", how: ["exe", "terminal"])
    private static let authMappings = [
        EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .subjectSecondary, to: .userEffective),
    ]
    private static let userModification =
        authMappings + [EcsMapping(from: .objectPrimary, to: .userTarget)]
    private static let groupModification =
        authMappings + [EcsMapping(from: .objectPrimary, to: .groupTarget)]

    private static func ecs(
        _ action: StaticString?, from base: EcsNormalization = EcsNormalization(), records: [String] = [],
        syscalls: [String] = [], category: [StaticString], type: [StaticString], kind: StaticString? = nil,
        mappings: [EcsMapping] = [], edit: (inout EcsNormalization) -> Void = { _ in }
    ) -> EcsNormalization {
        var normalization = base
        normalization.action = action
        normalization.recordTypes = records
        normalization.syscalls = syscalls
        normalization.categories = category
        normalization.types = type
        normalization.kind = kind
        normalization.mappings = mappings
        edit(&normalization)
        return normalization
    }

    private static func file(
        _ action: StaticString, _ syscalls: [String], type: StaticString, what: StaticString = "file",
        pathIndex: Int = 0
    ) -> EcsNormalization {
        ecs(action, syscalls: syscalls, category: ["file"], type: [type]) {
            $0.objectWhat = what
            $0.pathIndex = pathIndex
        }
    }

    private static func network(
        _ action: StaticString, _ syscalls: [String], type: [StaticString] = ["connection", "info"]
    ) -> EcsNormalization {
        ecs(action, syscalls: syscalls, category: ["network"], type: type) { $0.objectWhat = "socket" }
    }

    private static func iam(
        _ action: StaticString, _ record: String, type: [StaticString], account: Bool = true,
        mappings: [EcsMapping] = []
    ) -> EcsNormalization {
        ecs(action, records: [record], category: ["iam"], type: type, mappings: mappings) {
            if account {
                $0.objectPrimary = ["id", "acct"]
                $0.objectWhat = "account"
            }
        }
    }

    private static func auth(
        _ action: StaticString, _ record: String, category: StaticString = "authentication",
        type: StaticString = "info", sourceIP: Bool = false
    ) -> EcsNormalization {
        ecs(action, from: userSession, records: [record], category: [category], type: [type], mappings: authMappings) {
            if sourceIP { $0.sourceIP = ["addr"] }
        }
    }

    private static func host(
        _ action: StaticString, _ record: String, type: StaticString = "info", primary: [StaticString] = [],
        secondary: [StaticString] = [], what: StaticString? = nil
    ) -> EcsNormalization {
        ecs(action, records: [record], category: ["host"], type: [type]) {
            $0.objectPrimary = primary
            $0.objectSecondary = secondary
            $0.objectWhat = what
        }
    }

    private static func process(
        _ action: StaticString?, _ record: String, type: StaticString = "info", what: StaticString? = nil,
        category: [StaticString] = ["process"], primary: [StaticString] = []
    ) -> EcsNormalization {
        ecs(action, records: [record], category: category, type: [type]) {
            $0.objectWhat = what
            $0.objectPrimary = primary
        }
    }

    private static func configuration(
        _ action: StaticString, _ record: String, type: StaticString = "change", primary: [StaticString] = [],
        what: StaticString
    ) -> EcsNormalization {
        ecs(action, records: [record], category: ["configuration"], type: [type]) {
            $0.objectPrimary = primary
            $0.objectWhat = what
        }
    }

    private static func plain(
        _ action: StaticString, _ records: [String], primary: [StaticString] = [], secondary: [StaticString] = [],
        what: StaticString? = nil
    ) -> EcsNormalization {
        var normalization = EcsNormalization(action: action, objectPrimary: primary, objectSecondary: secondary)
        normalization.objectWhat = what
        normalization.recordTypes = records
        return normalization
    }

    /// Every normalization. The first is the catch-all of system calls without one of their own.
    static let all: [EcsNormalization] = [
        ecs(nil, syscalls: ["*"], category: ["process"], type: ["info"]),

        // System calls: files.
        file("opened-file", ["creat"], type: "creation"),
        file("opened-file", ["fallocate", "truncate", "ftruncate"], type: "change"),
        file("opened-file", ["open", "openat", "openat2", "readlink", "readlinkat"], type: "info"),
        file("read-file", ["read"], type: "info"),
        file("wrote-to-file", ["write"], type: "change"),
        file(
            "changed-file-attributes-of",
            ["setxattr", "fsetxattr", "lsetxattr", "removexattr", "fremovexattr", "lremovexattr"], type: "change"),
        file("changed-file-permissions-of", ["chmod", "fchmod", "fchmodat", "fchmodat2"], type: "change"),
        file("changed-file-ownership-of", ["chown", "fchown", "fchownat", "lchown"], type: "change"),
        ecs(
            "loaded-kernel-module", records: ["KERN_MODULE"], syscalls: ["finit_module", "init_module"],
            category: ["driver"], type: ["start"]
        ) {
            $0.objectWhat = "file"
            $0.objectPrimary = ["name"]
        },
        ecs("unloaded-kernel-module", syscalls: ["delete_module"], category: ["driver"], type: ["end"]) {
            $0.objectWhat = "file"
        },
        file("created-directory", ["mkdir", "mkdirat"], type: "creation", pathIndex: 1),
        file("mounted", ["mount"], type: "creation", what: "filesystem", pathIndex: 1),
        file("renamed", ["rename", "renameat", "renameat2"], type: "change", pathIndex: 2),
        file(
            "checked-metadata-of",
            [
                "access", "faccessat", "faccessat2", "fstatat", "newfstatat", "stat", "stat64", "fstat", "lstat",
                "getxattr", "lgetxattr", "fgetxattr",
            ], type: "info"),
        file("checked-filesystem-metadata-of", ["statfs", "fstatfs"], type: "info", what: "filesystem"),
        file("symlinked", ["symlink", "symlinkat"], type: "creation"),
        file("linked", ["link", "linkat"], type: "creation"),
        file("unmounted", ["umount", "umount2"], type: "deletion", what: "filesystem"),
        file("deleted", ["rmdir", "unlink", "unlinkat"], type: "deletion"),
        file("changed-timestamp-of", ["utime", "utimes", "futimesat", "futimens", "utimensat"], type: "info"),

        // System calls: processes, sockets, the host.
        ecs("executed", syscalls: ["execve", "execveat"], category: ["process"], type: ["start"]) {
            $0.objectWhat = "file"
        },
        network("listen-for-connections", ["listen"], type: ["start"]),
        network("accepted-connection-from", ["accept", "accept4"], type: ["connection", "start"]),
        network("bound-socket", ["bind"], type: ["start"]),
        network("connected-to", ["connect"], type: ["connection", "start"]),
        network("received-from", ["recv", "recvfrom", "recvmsg", "recvmmsg"]),
        network("sent-to", ["send", "sendto", "sendmsg", "sendmmsg"]),
        ecs("killed-pid", syscalls: ["kill", "tkill", "tgkill"], category: ["process"], type: ["end"]) {
            $0.objectWhat = "process"
        },
        ecs(
            "changed-identity-of",
            syscalls: [
                "setuid", "seteuid", "setfsuid", "setreuid", "setgid", "setegid", "setfsgid", "setregid", "setresuid",
                "setresgid",
            ], category: ["process"], type: ["change"]
        ) {
            $0.objectWhat = "process"
            $0.how = ["syscall"]
        },
        ecs(
            "changed-system-time", records: ["TIME_INJOFFSET", "TIME_ADJNTPVAL"],
            syscalls: ["settimeofday", "clock_settime", "clock_adjtime", "stime", "adjtimex"], category: ["host"],
            type: ["change"]
        ) { $0.objectWhat = "system" },
        file("make-device", ["mknod", "mknodat"], type: "creation"),
        ecs("changed-system-name", syscalls: ["sethostname", "setdomainname"], category: ["host"], type: ["change"]) {
            $0.objectWhat = "system"
        },
        ecs("allocated-memory", syscalls: ["mmap", "mmap2", "brk"], category: ["process"], type: ["info"]) {
            $0.objectWhat = "memory"
        },
        ecs(
            "adjusted-scheduling-policy-of", syscalls: ["sched_setparam", "sched_setscheduler", "sched_setattr"],
            category: ["process"], type: ["change"]
        ) {
            $0.objectWhat = "process"
            $0.how = ["syscall"]
        },

        // Identity and access management.
        iam("locked-account", "ACCT_LOCK", type: ["user", "info"], account: false),
        iam("unlocked-account", "ACCT_UNLOCK", type: ["user", "info"], account: false),
        iam("added-group-account-to", "ADD_GROUP", type: ["group", "creation"], mappings: groupModification),
        iam("added-user-account", "ADD_USER", type: ["user", "creation"], mappings: userModification),
        iam("deleted-group-account-from", "DEL_GROUP", type: ["group", "deletion"], mappings: groupModification),
        iam("deleted-user-account", "DEL_USER", type: ["user", "deletion"], mappings: userModification),
        iam(
            "modified-group-account", "GRP_MGMT", type: ["group", "change"],
            mappings: [
                EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .subjectSecondary, to: .groupTarget),
                EcsMapping(from: .identity("uid"), to: .userEffective),
            ]),
        iam("assigned-user-role-to", "ROLE_ASSIGN", type: ["user", "change"]),
        iam("modified-role", "ROLE_MODIFY", type: ["change"], account: false),
        iam("removed-user-role-from", "ROLE_REMOVE", type: ["user", "change"]),
        ecs(
            "modified-user-account", from: userSession, records: ["USER_MGMT"], category: ["iam"],
            type: ["user", "change"],
            mappings: [
                EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .subjectSecondary, to: .userTarget),
                EcsMapping(from: .identity("uid"), to: .userEffective),
            ]),
        ecs(
            "changed-password", from: userSession, records: ["USER_CHAUTHTOK"], category: ["iam"],
            type: ["user", "change"],
            mappings: [
                EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .identity("uid"), to: .userEffective),
                EcsMapping(from: .subjectSecondary, to: .userTarget),
            ]),
        ecs(
            "changed-group-password", from: userSession, records: ["GRP_CHAUTHTOK"], category: ["iam"],
            type: ["group", "change"],
            mappings: [
                EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .identity("uid"), to: .userEffective),
                EcsMapping(from: .subjectSecondary, to: .groupTarget),
            ]
        ) {
            $0.objectPrimary = ["acct"]
            $0.objectSecondary = []
        },

        // Authentication and sessions.
        auth("acquired-credentials", "CRED_ACQ"),
        auth("disposed-credentials", "CRED_DISP"),
        auth("refreshed-credentials", "CRED_REFR"),
        ecs(
            "authenticated-to-group", records: ["GRP_AUTH"], category: ["authentication"], type: ["info"],
            mappings: authMappings),
        ecs(
            "changed-login-id-to", records: ["LOGIN"], category: ["authentication"], type: ["start"],
            mappings: [
                EcsMapping(from: .subjectPrimary, to: .user), EcsMapping(from: .objectPrimary, to: .userEffective),
            ]
        ) {
            $0.subjectPrimary = ["old_auid", "old-auid"]
            $0.subjectSecondary = ["uid"]
            $0.objectPrimary = ["new-auid", "new_auid", "auid"]
            $0.objectWhat = "user-session"
        },
        auth("was-authorized", "USER_ACCT"),
        auth("authenticated", "USER_AUTH"),
        auth("ended-session", "USER_END", category: "session", type: "end"),
        auth("error", "USER_ERR", sourceIP: true),
        auth("logged-in", "USER_LOGIN", type: "start", sourceIP: true),
        auth("logged-out", "USER_LOGOUT", type: "end"),
        {
            var normalization = userSession
            normalization.action = "changed-role-to"
            normalization.recordTypes = ["USER_ROLE_CHANGE"]
            normalization.objectPrimary = ["selected-context"]
            normalization.objectSecondary = []
            return normalization
        }(),
        auth("started-session", "USER_START", category: "session", type: "start", sourceIP: true),

        // Virtual machines.
        host("issued-vm-control", "VIRT_CONTROL", primary: ["op"], secondary: ["vm"], what: "virtual-machine"),
        host("created-vm-image", "VIRT_CREATE"),
        host("deleted-vm-image", "VIRT_DESTROY"),
        host("checked-integrity-of", "VIRT_INTEGRITY_CHECK"),
        host("assigned-vm-id", "VIRT_MACHINE_ID", primary: ["vm"], what: "virtual-machine"),
        host("migrated-vm-from", "VIRT_MIGRATE_IN"),
        host("migrated-vm-to", "VIRT_MIGRATE_OUT"),
        host("assigned-vm-resource", "VIRT_RESOURCE", primary: ["resrc"], secondary: ["vm"], what: "virtual-machine"),

        // User-space processes, the host, services.
        process("changed-group", "CHGRP_ID", type: "change"),
        process("changed-user-id", "CHUSER_ID", type: "change"),
        process("sent-test", "TEST"),
        process("unknown", "TRUSTED_APP"),
        process("ran-command", "USER_CMD", type: "start", what: "process", primary: ["cmd"]),
        host("booted-system", "SYSTEM_BOOT", type: "start", what: "system"),
        host("changed-to-runlevel", "SYSTEM_RUNLEVEL", type: "change", primary: ["new-level"], what: "system"),
        host("shutdown-system", "SYSTEM_SHUTDOWN", type: "end", what: "system"),
        process("started-service", "SERVICE_START", type: "start", what: "service", primary: ["unit"]),
        process("stopped-service", "SERVICE_STOP", type: "end", what: "service", primary: ["unit"]),

        // The audit system itself.
        process(
            "changed-audit-configuration", "CONFIG_CHANGE", type: "change", what: "audit-config",
            category: ["process", "configuration"],
            primary: ["op", "key", "audit_enabled", "audit_pid", "audit_backlog_limit", "audit_failure"]),
        process("aborted-auditd-startup", "DAEMON_ABORT", type: "end", what: "service"),
        ecs("remote-audit-connected", records: ["DAEMON_ACCEPT"], category: ["network"], type: ["connection", "start"])
        {
            $0.objectWhat = "service"
        },
        ecs(
            "remote-audit-disconnected", records: ["DAEMON_CLOSE"], category: ["network"],
            type: ["connection", "start"]
        ) {
            $0.objectWhat = "service"
        },
        process(
            "changed-auditd-configuration", "DAEMON_CONFIG", type: "change", what: "service",
            category: ["process", "configuration"]),
        process("shutdown-audit", "DAEMON_END", type: "end", what: "service"),
        process("audit-error", "DAEMON_ERR", what: "service"),
        process(
            "reconfigured-auditd", "DAEMON_RECONFIG", type: "info", what: "service",
            category: ["process", "configuration"]),
        process("resumed-audit-logging", "DAEMON_RESUME", type: "change", what: "service"),
        process("rotated-audit-logs", "DAEMON_ROTATE", type: "change", what: "service"),
        process("started-audit", "DAEMON_START", type: "start", what: "service"),
        process("initialized-audit-subsystem", "KERNEL"),

        // Configuration.
        configuration("changed-configuration", "USYS_CONFIG", primary: ["op"], what: "system"),
        configuration("loaded-firewall-rule-to", "NETFILTER_CFG", primary: ["table"], what: "firewall"),
        configuration("changed-audit-feature", "FEATURE_CHANGE", primary: ["feature"], what: "system"),
        configuration("changed-selinux-boolean", "MAC_CONFIG_CHANGE", primary: ["bool"], what: "mac-config"),
        configuration("loaded-selinux-policy", "MAC_POLICY_LOAD", type: "access", what: "mac-config"),
        configuration("changed-selinux-enforcement", "MAC_STATUS", primary: ["enforcing"], what: "mac-config"),
        configuration("changed-mac-configuration", "USER_MAC_CONFIG_CHANGE", what: "mac-config"),
        configuration("loaded-mac-policy", "USER_MAC_POLICY_LOAD", type: "access", what: "mac-config"),

        // Terminals.
        {
            var normalization = plain("typed", ["TTY", "USER_TTY"], primary: ["data"], what: "keystrokes")
            normalization.how = ["comm", "exe"]
            return normalization
        }(),

        // Mandatory access control (no ECS categorization of their own).
        {
            var normalization = plain(
                "violated-selinux-policy", ["AVC"], primary: ["tcontext"], secondary: ["tclass"])
            normalization.subjectPrimary = ["scontext"]
            normalization.hasFields = ["seresult"]
            return normalization
        }(),
        {
            var normalization = plain(
                "violated-apparmor-policy", ["AVC"], primary: ["operation"],
                secondary: ["requested_mask", "denied_mask", "capname"], what: "policy")
            normalization.hasFields = ["apparmor"]
            return normalization
        }(),
        plain("relabeled-filesystem", ["FS_RELABEL"], what: "mac-config"),
        plain("modified-level-of", ["LABEL_LEVEL_CHANGE"], primary: ["printer"], what: "printer"),
        plain("overrode-label-of", ["LABEL_OVERRIDE"], what: "mac-config"),
        plain("mac-permission", ["MAC_CHECK"]),
        plain("access-permission", ["USER_AVC"]),
        plain("access-error", ["USER_SELINUX_ERR"]),
        plain("violated-seccomp-policy", ["SECCOMP"], primary: ["syscall"], what: "process"),
        plain("caused-mac-policy-error", ["SELINUX_ERR"], what: "system"),

        // Cryptography.
        ecs(
            "negotiated-crypto-key", from: userSession, records: ["CRYPTO_KEY_USER"], category: ["process"],
            type: ["info"]
        ) {
            $0.objectPrimary = ["fp"]
            $0.objectSecondary = ["addr", "hostname"]
            $0.sourceIP = ["addr"]
        },
        plain("crypto-officer-logged-in", ["CRYPTO_LOGIN"]),
        ecs("crypto-officer-logged-out", records: ["CRYPTO_LOGOUT"], category: ["process"], type: ["info"]),
        ecs(
            "started-crypto-session", from: userSession, records: ["CRYPTO_SESSION"], category: ["process"],
            type: ["info"]
        ) {
            $0.objectPrimary = ["addr"]
            $0.objectSecondary = ["rport"]
            $0.sourceIP = ["addr"]
        },
        plain("access-result", ["DAC_CHECK"]),

        // Anomalies.
        ecs(
            "crashed-program", records: ["ANOM_ABEND"], category: ["process", "intrusion_detection"],
            type: ["end", "info"], kind: "alert"
        ) {
            $0.objectPrimary = ["comm", "exe"]
            $0.objectSecondary = ["pid"]
            $0.objectWhat = "process"
            $0.how = ["sig"]
        },
        ecs(
            "attempted-execution-of-forbidden-program", records: ["ANOM_EXEC"], category: ["process"], type: ["start"]
        ) {
            $0.objectPrimary = ["cmd"]
            $0.objectWhat = "process"
            $0.how = ["terminal"]
        },
        plain("used-suspicious-link", ["ANOM_LINK"]),
        {
            var normalization = userSession
            normalization.action = "failed-log-in-too-many-times-to"
            normalization.recordTypes = ["ANOM_LOGIN_FAILURES"]
            return normalization
        }(),
        {
            var normalization = userSession
            normalization.action = "attempted-log-in-from-unusual-place-to"
            normalization.recordTypes = ["ANOM_LOGIN_LOCATION"]
            return normalization
        }(),
        {
            var normalization = userSession
            normalization.action = "opened-too-many-sessions-to"
            normalization.recordTypes = ["ANOM_LOGIN_SESSIONS"]
            return normalization
        }(),
        {
            var normalization = userSession
            normalization.action = "attempted-log-in-during-unusual-hour-to"
            normalization.recordTypes = ["ANOM_LOGIN_TIME"]
            return normalization
        }(),
        ecs(
            "changed-promiscuous-mode-on-device", records: ["ANOM_PROMISCUOUS"], category: ["intrusion_detection"],
            type: ["info", "change"], kind: "alert"
        ) {
            $0.objectPrimary = ["dev"]
            $0.objectWhat = "network-device"
        },
        plain(
            "tested-file-system-integrity-of", ["ANOM_RBAC_INTEGRITY_FAIL"], primary: ["hostname"], what: "filesystem"),

        // Various.
        plain("sent-message", ["USER"], primary: ["addr"]),
    ]

    /// The index in ``all`` of each system call's normalization, by name.
    static let bySyscall: [String: Int] = {
        var table: [String: Int] = [:]
        for (index, normalization) in all.enumerated() {
            for name in normalization.syscalls { table[name] = index }
        }
        return table
    }()

    /// The indices in ``all`` of the normalizations of each record type, by type number.
    static let byRecordType: [UInt16: [Int]] = {
        var table: [UInt16: [Int]] = [:]
        for (index, normalization) in all.enumerated() {
            for name in normalization.recordTypes {
                guard let type = AuditMessageType(name: name) else { continue }
                table[type.rawValue, default: []].append(index)
            }
        }
        return table
    }()
}
