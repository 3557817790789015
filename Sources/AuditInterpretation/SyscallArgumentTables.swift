// The name tables behind SyscallArgumentInterpretation: the x86_64 / generic values of the Linux
// UAPI headers (<linux/sched.h>, <asm-generic/fcntl.h>, <asm-generic/mman-common.h>,
// <linux/mount.h>, <linux/socket.h>, <linux/ptrace.h>, <linux/prctl.h>, …), restricted to the names
// auditd 3.0.9 prints; ordered by value, which is the order auditd joins flags in.

extension SyscallArgumentInterpretation {
    static let cloneFlagNames: [(UInt32, String)] = [
        (0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"), (0x800, "CLONE_SIGHAND"),
        (0x2000, "CLONE_PTRACE"), (0x4000, "CLONE_VFORK"), (0x8000, "CLONE_PARENT"),
        (0x10000, "CLONE_THREAD"), (0x20000, "CLONE_NEWNS"), (0x40000, "CLONE_SYSVSEM"),
        (0x80000, "CLONE_SETTLS"), (0x100000, "CLONE_PARENT_SETTID"), (0x200000, "CLONE_CHILD_CLEARTID"),
        (0x400000, "CLONE_DETACHED"), (0x800000, "CLONE_UNTRACED"), (0x1000000, "CLONE_CHILD_SETTID"),
        (0x2000000, "CLONE_STOPPED"), (0x4000000, "CLONE_NEWUTS"), (0x8000000, "CLONE_NEWIPC"),
        (0x1000_0000, "CLONE_NEWUSER"), (0x2000_0000, "CLONE_NEWPID"), (0x4000_0000, "CLONE_NEWNET"),
        (0x8000_0000, "CLONE_IO"),
    ]

    static let openFlagNames: [(UInt32, String)] = [
        (0o1, "O_WRONLY"), (0o2, "O_RDWR"), (0o100, "O_CREAT"), (0o200, "O_EXCL"), (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"), (0o4000, "O_NONBLOCK"), (0o10000, "O_DSYNC"),
        (0o20000, "O_ASYNC"), (0o40000, "O_DIRECT"), (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"), (0o4000000, "__O_SYNC"), (0o10000000, "O_PATH"),
        (0o20000000, "__O_TMPFILE"),
    ]

    static let accessNames: [(UInt32, String)] = [(1, "X_OK"), (2, "W_OK"), (4, "R_OK")]

    static let protectionNames: [(UInt32, String)] = [
        (1, "PROT_READ"), (2, "PROT_WRITE"), (4, "PROT_EXEC"), (8, "PROT_SEM"),
    ]

    static let mmapFlagNames: [(UInt32, String)] = [
        (0x1, "MAP_SHARED"), (0x2, "MAP_PRIVATE"), (0x10, "MAP_FIXED"), (0x20, "MAP_ANONYMOUS"),
        (0x40, "MAP_32BIT"), (0x100, "MAP_GROWSDOWN"), (0x800, "MAP_DENYWRITE"), (0x1000, "MAP_EXECUTABLE"),
        (0x2000, "MAP_LOCKED"), (0x4000, "MAP_NORESERVE"), (0x8000, "MAP_POPULATE"), (0x10000, "MAP_NONBLOCK"),
        (0x20000, "MAP_STACK"), (0x40000, "MAP_HUGETLB"), (0x80000, "MAP_SYNC"),
        (0x100000, "MAP_FIXED_NOREPLACE"), (0x4000000, "MAP_UNINITIALIZED"),
    ]

    static let mountFlagNames: [(UInt32, String)] = [
        (0x1, "MS_RDONLY"), (0x2, "MS_NOSUID"), (0x4, "MS_NODEV"), (0x8, "MS_NOEXEC"),
        (0x10, "MS_SYNCHRONOUS"), (0x20, "MS_REMOUNT"), (0x40, "MS_MANDLOCK"), (0x80, "MS_DIRSYNC"),
        (0x400, "MS_NOATIME"), (0x800, "MS_NODIRATIME"), (0x1000, "MS_BIND"), (0x2000, "MS_MOVE"),
        (0x4000, "MS_REC"), (0x8000, "MS_SILENT"), (0x10000, "MS_POSIXACL"), (0x20000, "MS_UNBINDABLE"),
        (0x40000, "MS_PRIVATE"), (0x80000, "MS_SLAVE"), (0x100000, "MS_SHARED"), (0x200000, "MS_RELATIME"),
        (0x400000, "MS_KERNMOUNT"), (0x800000, "MS_I_VERSION"), (0x1000000, "MS_STRICTATIME"),
        (0x2000000, "MS_LAZYTIME"), (0x4000000, "MS_SUBMOUNT"), (0x8000000, "MS_SNAP_STABLE"),
        (0x1000_0000, "MS_NOSEC"), (0x2000_0000, "MS_BORN"), (0x4000_0000, "MS_ACTIVE"),
        (0x8000_0000, "MS_NOUSER"),
    ]

    static let umountFlagNames: [(UInt32, String)] = [
        (1, "MNT_FORCE"), (2, "MNT_DETACH"), (4, "MNT_EXPIRE"), (8, "UMOUNT_NOFOLLOW"), (0x8000_0000, "UMOUNT_UNUSED"),
    ]

    static let messageFlagNames: [(UInt32, String)] = [
        (0x1, "MSG_OOB"), (0x2, "MSG_PEEK"), (0x4, "MSG_DONTROUTE"), (0x8, "MSG_CTRUNC"), (0x10, "MSG_PROXY"),
        (0x20, "MSG_TRUNC"), (0x40, "MSG_DONTWAIT"), (0x80, "MSG_EOR"), (0x100, "MSG_WAITALL"),
        (0x200, "MSG_FIN"), (0x400, "MSG_SYN"), (0x800, "MSG_CONFIRM"), (0x1000, "MSG_RST"),
        (0x2000, "MSG_ERRQUEUE"), (0x4000, "MSG_NOSIGNAL"), (0x8000, "MSG_MORE"), (0x10000, "MSG_WAITFORONE"),
        (0x20000, "MSG_SENDPAGE_NOTLAST"), (0x40000, "MSG_BATCH"), (0x2000_0000, "MSG_FASTOPEN"),
        (0x4000_0000, "MSG_CMSG_CLOEXEC"), (0x8000_0000, "MSG_CMSG_COMPAT"),
    ]

    /// Address families by number (<linux/socket.h> AF_*, as auditd spells them).
    static let familyNames: [String?] = [
        nil, "local", "inet", "ax25", "ipx", "appletalk", "netrom", "bridge", "atmpvc", "x25", "inet6",
        "rose", "decnet", "netbeui", "security", "key", "netlink", "packet", "ash", "econet", "atmsvc",
        "rds", "sna", "irda", "pppox", "wanpipe", "llc", nil, nil, "can", "tipc", "bluetooth", "iucv",
        "rxrpc", "isdn", "phonet", "ieee802154", "caif", "alg", "nfc", "vsock", "kcm", "qipcrtr", "smc",
        "xdp",
    ]

    static let socketTypeNames: [UInt32: String] = [
        1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM", 5: "SOCK_SEQPACKET", 6: "SOCK_DCCP",
        10: "SOCK_PACKET",
    ]

    /// The common IP protocols, as /etc/protocols names them (auditd asks getprotobynumber).
    static let protocolNames: [UInt64: String] = [
        0: "ip", 1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 41: "ipv6", 47: "gre", 50: "esp", 51: "ah",
        58: "ipv6-icmp", 132: "sctp", 136: "udplite",
    ]

    /// socketcall's call numbers 1…20 (<linux/net.h> SYS_*).
    static let socketcallNames: [String] = [
        "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send",
        "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4",
        "recvmmsg", "sendmmsg",
    ]

    static let clockNames: [String] = [
        "CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID",
        "CLOCK_MONOTONIC_RAW", "CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE",
    ]

    static let resourceLimitNames: [String] = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
        "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]

    static let fcntlNames: [Int32: String] = [
        0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL", 5: "F_GETLK", 6: "F_SETLK",
        7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN", 10: "F_SETSIG", 11: "F_GETSIG", 12: "F_GETLK64",
        13: "F_SETLK64", 14: "F_SETLKW64", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX", 17: "F_GETOWNER_UIDS",
        1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1029: "F_CANCELLK", 1030: "F_DUPFD_CLOEXEC",
        1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
        1035: "F_GET_RW_HINT", 1036: "F_SET_RW_HINT", 1037: "F_GET_FILE_RW_HINT", 1038: "F_SET_FILE_RW_HINT",
    ]

    /// ptrace requests (<linux/ptrace.h>, x86 <asm/ptrace-abi.h>).
    static let ptraceNames: [UInt64: String] = [
        0: "PTRACE_TRACEME", 1: "PTRACE_PEEKTEXT", 2: "PTRACE_PEEKDATA", 3: "PTRACE_PEEKUSER",
        4: "PTRACE_POKETEXT", 5: "PTRACE_POKEDATA", 6: "PTRACE_POKEUSER", 7: "PTRACE_CONT", 8: "PTRACE_KILL",
        9: "PTRACE_SINGLESTEP", 12: "PTRACE_GETREGS", 13: "PTRACE_SETREGS", 14: "PTRACE_GETFPREGS",
        15: "PTRACE_SETFPREGS", 16: "PTRACE_ATTACH", 17: "PTRACE_DETACH", 18: "PTRACE_GETFPXREGS",
        19: "PTRACE_SETFPXREGS", 24: "PTRACE_SYSCALL", 25: "PTRACE_GET_THREAD_AREA",
        26: "PTRACE_SET_THREAD_AREA", 30: "PTRACE_ARCH_PRCTL", 31: "PTRACE_SYSEMU", 32: "PTRACE_SYSEMU_SINGLESTEP",
        33: "PTRACE_SINGLEBLOCK", 0x4200: "PTRACE_SETOPTIONS", 0x4201: "PTRACE_GETEVENTMSG",
        0x4202: "PTRACE_GETSIGINFO", 0x4203: "PTRACE_SETSIGINFO", 0x4204: "PTRACE_GETREGSET",
        0x4205: "PTRACE_SETREGSET", 0x4206: "PTRACE_SEIZE", 0x4207: "PTRACE_INTERRUPT",
        0x4208: "PTRACE_LISTEN", 0x4209: "PTRACE_PEEKSIGINFO", 0x420a: "PTRACE_GETSIGMASK",
        0x420b: "PTRACE_SETSIGMASK", 0x420c: "PTRACE_SECCOMP_GET_FILTER", 0x420d: "PTRACE_SECCOMP_GET_METADATA",
        0x420e: "PTRACE_GET_SYSCALL_INFO",
    ]

    /// prctl options by number (<linux/prctl.h>); nil where auditd 3.0.9 has no name.
    static let prctlNames: [String?] = [
        nil, "PR_SET_PDEATHSIG", "PR_GET_PDEATHSIG", "PR_GET_DUMPABLE", "PR_SET_DUMPABLE", "PR_GET_UNALIGN",
        "PR_SET_UNALIGN", "PR_GET_KEEPCAPS", "PR_SET_KEEPCAPS", "PR_GET_FPEMU", "PR_SET_FPEMU", "PR_GET_FPEXC",
        "PR_SET_FPEXC", "PR_GET_TIMING", "PR_SET_TIMING", "PR_SET_NAME", "PR_GET_NAME", nil, nil,
        "PR_GET_ENDIAN", "PR_SET_ENDIAN", "PR_GET_SECCOMP", "PR_SET_SECCOMP", "PR_CAPBSET_READ",
        "PR_CAPBSET_DROP", "PR_GET_TSC", "PR_SET_TSC", "PR_GET_SECUREBITS", "PR_SET_SECUREBITS",
        "PR_SET_TIMERSLACK", "PR_GET_TIMERSLACK", "PR_TASK_PERF_EVENTS_DISABLE", "PR_TASK_PERF_EVENTS_ENABLE",
        "PR_MCE_KILL", "PR_MCE_KILL_GET", "PR_SET_MM", "PR_SET_CHILD_SUBREAPER", "PR_GET_CHILD_SUBREAPER",
        "PR_SET_NO_NEW_PRIVS", "PR_GET_NO_NEW_PRIVS", "PR_GET_TID_ADDRESS", "PR_SET_THP_DISABLE",
        "PR_GET_THP_DISABLE", "PR_MPX_ENABLE_MANAGEMENT", "PR_MPX_DISABLE_MANAGEMENT", "PR_SET_FP_MODE",
        "PR_GET_FP_MODE", "PR_CAP_AMBIENT", nil, nil, "PR_SVE_SET_VL", "PR_SVE_GET_VL",
        "PR_GET_SPECULATION_CTRL", "PR_SET_SPECULATION_CTRL", "PR_PAC_RESET_KEYS", "PR_SET_TAGGED_ADDR_CTRL",
        "PR_GET_TAGGED_ADDR_CTRL",
    ]
}
