/// A netlink audit message type: a control request (`AUDIT_GET`, `AUDIT_SET`…) or a record type
/// (`SYSCALL` = 1300, `EOE` = 1320…).
///
/// Kept as an open struct rather than an enum because kernels and user-space tools add types every
/// year; an unknown number must survive a round trip (it is printed as `UNKNOWN[n]`, as auditd does).
public struct AuditMessageType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 16-bit netlink message type.
    public var rawValue: UInt16

    /// Wraps a raw netlink message type.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Wraps a raw netlink message type.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Looks a type up by its auditd name (`"SYSCALL"`, `"user_login"`) or by `UNKNOWN[n]`; case-insensitive.
    public init?(name: some StringProtocol) {
        let upper = name.uppercased()
        if let value = Self.valuesByName[upper] {
            self.rawValue = value
            return
        }
        if upper.hasPrefix("UNKNOWN["), upper.hasSuffix("]"),
            let value = UInt16(upper.dropFirst(8).dropLast())
        {
            self.rawValue = value
            return
        }
        return nil
    }

    /// The auditd name of the type (`SYSCALL`), or `nil` when this build does not know it.
    public var name: String? { Self.namesByValue[rawValue] }

    /// The name auditd prints: the known name, or `UNKNOWN[n]`.
    public var description: String { name ?? "UNKNOWN[\(rawValue)]" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// True for netlink control messages (below 16: `NLMSG_NOOP`, `NLMSG_ERROR`, `NLMSG_DONE`…).
    public var isNetlinkControl: Bool { rawValue < 16 }

    /// True for records that user space sends through the kernel (`AUDIT_USER*`, 1100–1299, 2100–2999).
    ///
    /// These come alone: the kernel never follows them with an EOE.
    public var isUserSpace: Bool {
        (1100...1299).contains(rawValue) || (2100...2999).contains(rawValue) || rawValue == 1005
    }

    /// True for record types that form a whole event by themselves, so a reassembler may emit them
    /// on arrival instead of waiting for an EOE or a timeout.
    ///
    /// Only user-space and daemon records qualify. Kernel records such as \`LOGIN\`,
    /// \`CONFIG_CHANGE\` or \`ANOM_PROMISCUOUS\` share a serial with a SYSCALL and an EOE when they
    /// are logged inside a syscall, and stand alone otherwise; only EOE or a timeout can tell.
    public var isStandalone: Bool { isUserSpace }

    package static let names: [(UInt16, String)] = [
        (1000, "GET"),
        (1001, "SET"),
        (1002, "LIST"),
        (1003, "ADD"),
        (1004, "DEL"),
        (1005, "USER"),
        (1006, "LOGIN"),
        (1007, "WATCH_INS"),
        (1008, "WATCH_REM"),
        (1009, "WATCH_LIST"),
        (1010, "SIGNAL_INFO"),
        (1011, "ADD_RULE"),
        (1012, "DEL_RULE"),
        (1013, "LIST_RULES"),
        (1014, "TRIM"),
        (1015, "MAKE_EQUIV"),
        (1016, "TTY_GET"),
        (1017, "TTY_SET"),
        (1018, "SET_FEATURE"),
        (1019, "GET_FEATURE"),
        (1100, "USER_AUTH"),
        (1101, "USER_ACCT"),
        (1102, "USER_MGMT"),
        (1103, "CRED_ACQ"),
        (1104, "CRED_DISP"),
        (1105, "USER_START"),
        (1106, "USER_END"),
        (1107, "USER_AVC"),
        (1108, "USER_CHAUTHTOK"),
        (1109, "USER_ERR"),
        (1110, "CRED_REFR"),
        (1111, "USYS_CONFIG"),
        (1112, "USER_LOGIN"),
        (1113, "USER_LOGOUT"),
        (1114, "ADD_USER"),
        (1115, "DEL_USER"),
        (1116, "ADD_GROUP"),
        (1117, "DEL_GROUP"),
        (1118, "DAC_CHECK"),
        (1119, "CHGRP_ID"),
        (1120, "TEST"),
        (1121, "TRUSTED_APP"),
        (1122, "USER_SELINUX_ERR"),
        (1123, "USER_CMD"),
        (1124, "USER_TTY"),
        (1125, "CHUSER_ID"),
        (1126, "GRP_AUTH"),
        (1127, "SYSTEM_BOOT"),
        (1128, "SYSTEM_SHUTDOWN"),
        (1129, "SYSTEM_RUNLEVEL"),
        (1130, "SERVICE_START"),
        (1131, "SERVICE_STOP"),
        (1132, "GRP_MGMT"),
        (1133, "GRP_CHAUTHTOK"),
        (1134, "MAC_CHECK"),
        (1135, "ACCT_LOCK"),
        (1136, "ACCT_UNLOCK"),
        (1137, "USER_DEVICE"),
        (1138, "SOFTWARE_UPDATE"),
        (1200, "DAEMON_START"),
        (1201, "DAEMON_END"),
        (1202, "DAEMON_ABORT"),
        (1203, "DAEMON_CONFIG"),
        (1204, "DAEMON_RECONFIG"),
        (1205, "DAEMON_ROTATE"),
        (1206, "DAEMON_RESUME"),
        (1207, "DAEMON_ACCEPT"),
        (1208, "DAEMON_CLOSE"),
        (1209, "DAEMON_ERR"),
        (1300, "SYSCALL"),
        (1302, "PATH"),
        (1303, "IPC"),
        (1304, "SOCKETCALL"),
        (1305, "CONFIG_CHANGE"),
        (1306, "SOCKADDR"),
        (1307, "CWD"),
        (1309, "EXECVE"),
        (1311, "IPC_SET_PERM"),
        (1312, "MQ_OPEN"),
        (1313, "MQ_SENDRECV"),
        (1314, "MQ_NOTIFY"),
        (1315, "MQ_GETSETATTR"),
        (1316, "KERNEL_OTHER"),
        (1317, "FD_PAIR"),
        (1318, "OBJ_PID"),
        (1319, "TTY"),
        (1320, "EOE"),
        (1321, "BPRM_FCAPS"),
        (1322, "CAPSET"),
        (1323, "MMAP"),
        (1324, "NETFILTER_PKT"),
        (1325, "NETFILTER_CFG"),
        (1326, "SECCOMP"),
        (1327, "PROCTITLE"),
        (1328, "FEATURE_CHANGE"),
        (1329, "REPLACE"),
        (1330, "KERN_MODULE"),
        (1331, "FANOTIFY"),
        (1332, "TIME_INJOFFSET"),
        (1333, "TIME_ADJNTPVAL"),
        (1334, "BPF"),
        (1335, "EVENT_LISTENER"),
        (1336, "URINGOP"),
        (1337, "OPENAT2"),
        (1338, "DM_CTRL"),
        (1339, "DM_EVENT"),
        (1400, "AVC"),
        (1401, "SELINUX_ERR"),
        (1402, "AVC_PATH"),
        (1403, "MAC_POLICY_LOAD"),
        (1404, "MAC_STATUS"),
        (1405, "MAC_CONFIG_CHANGE"),
        (1406, "MAC_UNLBL_ALLOW"),
        (1407, "MAC_CIPSOV4_ADD"),
        (1408, "MAC_CIPSOV4_DEL"),
        (1409, "MAC_MAP_ADD"),
        (1410, "MAC_MAP_DEL"),
        (1411, "MAC_IPSEC_ADDSA"),
        (1412, "MAC_IPSEC_DELSA"),
        (1413, "MAC_IPSEC_ADDSPD"),
        (1414, "MAC_IPSEC_DELSPD"),
        (1415, "MAC_IPSEC_EVENT"),
        (1416, "MAC_UNLBL_STCADD"),
        (1417, "MAC_UNLBL_STCDEL"),
        (1418, "MAC_CALIPSO_ADD"),
        (1419, "MAC_CALIPSO_DEL"),
        (1420, "IPE_ACCESS"),
        (1421, "IPE_CONFIG_CHANGE"),
        (1422, "IPE_POLICY_LOAD"),
        (1423, "LANDLOCK_ACCESS"),
        (1424, "LANDLOCK_DOMAIN"),
        (1425, "MAC_TASK_CONTEXTS"),
        (1426, "MAC_OBJ_CONTEXTS"),
        (1500, "APPARMOR"),
        (1501, "APPARMOR_AUDIT"),
        (1502, "APPARMOR_ALLOWED"),
        (1503, "APPARMOR_DENIED"),
        (1504, "APPARMOR_HINT"),
        (1505, "APPARMOR_STATUS"),
        (1506, "APPARMOR_ERROR"),
        (1507, "APPARMOR_KILL"),
        (1700, "ANOM_PROMISCUOUS"),
        (1701, "ANOM_ABEND"),
        (1702, "ANOM_LINK"),
        (1703, "ANOM_CREAT"),
        (1800, "INTEGRITY_DATA"),
        (1801, "INTEGRITY_METADATA"),
        (1802, "INTEGRITY_STATUS"),
        (1803, "INTEGRITY_HASH"),
        (1804, "INTEGRITY_PCR"),
        (1805, "INTEGRITY_RULE"),
        (1806, "INTEGRITY_EVM_XATTR"),
        (1807, "INTEGRITY_POLICY_RULE"),
        (2000, "KERNEL"),
        (2100, "ANOM_LOGIN_FAILURES"),
        (2101, "ANOM_LOGIN_TIME"),
        (2102, "ANOM_LOGIN_SESSIONS"),
        (2103, "ANOM_LOGIN_ACCT"),
        (2104, "ANOM_LOGIN_LOCATION"),
        (2105, "ANOM_MAX_DAC"),
        (2106, "ANOM_MAX_MAC"),
        (2107, "ANOM_AMTU_FAIL"),
        (2108, "ANOM_RBAC_FAIL"),
        (2109, "ANOM_RBAC_INTEGRITY_FAIL"),
        (2110, "ANOM_CRYPTO_FAIL"),
        (2111, "ANOM_ACCESS_FS"),
        (2112, "ANOM_EXEC"),
        (2113, "ANOM_MK_EXEC"),
        (2114, "ANOM_ADD_ACCT"),
        (2115, "ANOM_DEL_ACCT"),
        (2116, "ANOM_MOD_ACCT"),
        (2117, "ANOM_ROOT_TRANS"),
        (2118, "ANOM_LOGIN_SERVICE"),
        (2119, "ANOM_LOGIN_ROOT"),
        (2120, "ANOM_ORIGIN_FAILURES"),
        (2121, "ANOM_SESSION"),
        (2200, "RESP_ANOMALY"),
        (2201, "RESP_ALERT"),
        (2202, "RESP_KILL_PROC"),
        (2203, "RESP_TERM_ACCESS"),
        (2204, "RESP_ACCT_REMOTE"),
        (2205, "RESP_ACCT_LOCK_TIMED"),
        (2206, "RESP_ACCT_UNLOCK_TIMED"),
        (2207, "RESP_ACCT_LOCK"),
        (2208, "RESP_TERM_LOCK"),
        (2209, "RESP_SEBOOL"),
        (2210, "RESP_EXEC"),
        (2211, "RESP_SINGLE"),
        (2212, "RESP_HALT"),
        (2213, "RESP_ORIGIN_BLOCK"),
        (2214, "RESP_ORIGIN_BLOCK_TIMED"),
        (2215, "RESP_ORIGIN_UNBLOCK_TIMED"),
        (2300, "USER_ROLE_CHANGE"),
        (2301, "ROLE_ASSIGN"),
        (2302, "ROLE_REMOVE"),
        (2303, "LABEL_OVERRIDE"),
        (2304, "LABEL_LEVEL_CHANGE"),
        (2305, "USER_LABELED_EXPORT"),
        (2306, "USER_UNLABELED_EXPORT"),
        (2307, "DEV_ALLOC"),
        (2308, "DEV_DEALLOC"),
        (2309, "FS_RELABEL"),
        (2310, "USER_MAC_POLICY_LOAD"),
        (2311, "ROLE_MODIFY"),
        (2312, "USER_MAC_CONFIG_CHANGE"),
        (2313, "USER_MAC_STATUS"),
        (2400, "CRYPTO_TEST_USER"),
        (2401, "CRYPTO_PARAM_CHANGE_USER"),
        (2402, "CRYPTO_LOGIN"),
        (2403, "CRYPTO_LOGOUT"),
        (2404, "CRYPTO_KEY_USER"),
        (2405, "CRYPTO_FAILURE_USER"),
        (2406, "CRYPTO_REPLAY_USER"),
        (2407, "CRYPTO_SESSION"),
        (2408, "CRYPTO_IKE_SA"),
        (2409, "CRYPTO_IPSEC_SA"),
        (2500, "VIRT_CONTROL"),
        (2501, "VIRT_RESOURCE"),
        (2502, "VIRT_MACHINE_ID"),
        (2503, "VIRT_INTEGRITY_CHECK"),
        (2504, "VIRT_CREATE"),
        (2505, "VIRT_DESTROY"),
        (2506, "VIRT_MIGRATE_IN"),
        (2507, "VIRT_MIGRATE_OUT"),
    ]

    private static let namesByValue: [UInt16: String] = Dictionary(names.map { ($0.0, $0.1) }) { first, _ in first }
    private static let valuesByName: [String: UInt16] = Dictionary(names.map { ($0.1, $0.0) }) { first, _ in first }
}

extension AuditMessageType {
    // Netlink control messages (<linux/netlink.h>).
    /// `NLMSG_NOOP`.
    public static let netlinkNoop = Self(1)
    /// `NLMSG_ERROR`: an ACK (error 0) or a negative errno for a request.
    public static let netlinkError = Self(2)
    /// `NLMSG_DONE`: the end of a multipart reply.
    public static let netlinkDone = Self(3)
    /// `NLMSG_OVERRUN`.
    public static let netlinkOverrun = Self(4)

    // Control requests (<linux/audit.h>).
    /// `AUDIT_GET`: read the status.
    public static let get = Self(1000)
    /// `AUDIT_SET`: change the status fields named by its mask.
    public static let set = Self(1001)
    /// `AUDIT_USER`: a user-space message (old form).
    public static let user = Self(1005)
    /// `AUDIT_LOGIN`: loginuid change.
    public static let login = Self(1006)
    /// `AUDIT_SIGNAL_INFO`: who last signalled the audit daemon.
    public static let signalInfo = Self(1010)
    /// `AUDIT_ADD_RULE`.
    public static let addRule = Self(1011)
    /// `AUDIT_DEL_RULE`.
    public static let deleteRule = Self(1012)
    /// `AUDIT_LIST_RULES`.
    public static let listRules = Self(1013)
    /// `AUDIT_SET_FEATURE`.
    public static let setFeature = Self(1018)
    /// `AUDIT_GET_FEATURE`.
    public static let getFeature = Self(1019)

    // Records.
    /// `AUDIT_DAEMON_START` (written by auditd itself, never by the kernel).
    public static let daemonStart = Self(1200)
    /// `AUDIT_SYSCALL`.
    public static let syscall = Self(1300)
    /// `AUDIT_PATH`.
    public static let path = Self(1302)
    /// `AUDIT_CONFIG_CHANGE`.
    public static let configChange = Self(1305)
    /// `AUDIT_SOCKADDR`.
    public static let sockaddr = Self(1306)
    /// `AUDIT_CWD`.
    public static let cwd = Self(1307)
    /// `AUDIT_EXECVE`.
    public static let execve = Self(1309)
    /// `AUDIT_EOE`: closes a multi-record kernel event.
    public static let endOfEvent = Self(1320)
    /// `AUDIT_PROCTITLE`.
    public static let proctitle = Self(1327)
    /// `AUDIT_REPLACE`: the kernel probing a registered daemon before replacing it.
    public static let replace = Self(1329)
    /// `AUDIT_ANOM_ABEND`.
    public static let anomalyAbend = Self(1701)
}
