/// auditd's reading of the `a0`…`a3` of a SYSCALL record (`ausearch -i`), for the syscalls and
/// arguments auditd interprets; every other argument it prints as `0x` and the logged hex.
///
/// Covered, as auditd 3.0.9 prints them (checked against `ausearch -i` by the tests):
/// - signals: kill a1, tkill a1, tgkill a2, rt_sigaction a0, prctl(PR_SET_PDEATHSIG) a1;
/// - clone a0, unshare a0, setns a1 (CLONE_* flags, and clone's exit signal);
/// - the `*at` calls' directory (AT_FDCWD): openat, mkdirat, mknodat, fchownat, futimesat,
///   fchmodat, faccessat, futimensat, unlinkat, utimensat, renameat, renameat2, readlinkat, linkat,
///   newfstatat a0; renameat, renameat2, readlinkat and linkat a2;
/// - open a1 and openat a2, mq_open a1 (O_* flags); access a1, faccessat a2 (R_OK…);
/// - modes: chmod, fchmod, creat, mkdir a1; fchmodat, mkdirat, mknodat a2; open and mq_open a2
///   when a1 has O_CREAT (`0644`, `suid,0755`); mknod a1 (`character,644`);
/// - socket a0 (family), a1 (type), a2 (protocol: the common ones only), socketcall a0;
/// - mmap a2 and mprotect a2 (PROT_*), mmap a3 (MAP_*), mount a3 (MS_*), umount2 a1 (MNT_*);
/// - fcntl a1 (F_* command), fcntl a2 = FD_CLOEXEC for F_SETFD; epoll_ctl a1; lseek a2;
/// - ptrace a0, prctl a0, prctl(PR_CAPBSET_READ/DROP) a1 (capability), personality a0,
///   getrlimit/setrlimit a0, clock_settime a0, exit/exit_group a0;
/// - send/recv flags: sendmsg and recvmsg a2; send, sendto, sendmmsg, recv, recvfrom, recvmmsg a3.
///
/// Not covered (nil although auditd interprets them): user and group ids (setuid family, chown
/// family: see `identityArgument`, their names need the user directory), socket options
/// (get/setsockopt a1, a2), shmget a2, sched_setscheduler a1, ioctl a1, ipc a0, fcntl F_SETOWN a2,
/// socket protocols other than the common ones (auditd reads /etc/protocols).
///
/// The flag and number tables are the x86_64 / generic values, which auditd uses for every
/// architecture (open flags, for one, differ on aarch64, powerpc and others).
package enum SyscallArgumentInterpretation {
    /// Whose id a syscall argument is: auditd prints the user or group name (or `unset`).
    package enum IdentityKind: Sendable, Hashable {
        case user
        case group
    }

    /// auditd's text for argument `index` (0…3) of `syscall`, given the value as logged (hex,
    /// without `0x`); nil when auditd prints `0x` and the value, or when it is not covered.
    ///
    /// `a0` and `a1` are the call's first arguments, needed by prctl's, open's and fcntl's later
    /// arguments (nil when unknown: those then read as nil too).
    package static func interpretation(
        syscall: String, argument index: Int, value text: some StringProtocol, a0: UInt64? = nil, a1: UInt64? = nil
    ) -> String? {
        guard let kinds = table[syscall], index >= 0, index < 4, let kind = kinds[index],
            let value = parseHex(text)
        else { return nil }
        return render(kind, value, text, a0: a0, a1: a1)
    }

    /// Whether argument `index` of `syscall` is a user or group id that auditd prints by name.
    package static func identityArgument(syscall: String, argument index: Int) -> IdentityKind? {
        switch (syscall, index) {
        case ("setuid", 0), ("setreuid", 0...1), ("setresuid", 0...2), ("setfsuid", 0): .user
        case ("setgid", 0), ("setregid", 0...1), ("setresgid", 0...2), ("setfsgid", 0): .group
        case (let name, 1) where name.contains("chown"): .user
        case (let name, 2) where name.contains("chown"): .group
        default: nil
        }
    }

    /// Parses the hex digits of a logged argument (at most 16); nil for anything else.
    package static func parseHex(_ text: some StringProtocol) -> UInt64? {
        var value: UInt64 = 0
        var digits = 0
        for byte in text.utf8 {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            digits += 1
            if digits > 16 { return nil }
            value = value << 4 | UInt64(digit)
        }
        return digits == 0 ? nil : value
    }

    // MARK: - Kinds of argument

    enum Kind: Sendable {
        case signal, dirfd, cloneFlags, clockID, personality, ptraceRequest, prctlOption, prctlArgument
        case resourceLimit, socketFamily, socketType, socketProtocol, socketcall
        case openFlags, accessMode, shortMode, mode, creationMode, fcntlCommand, fcntlArgument
        case epollOperation, umountFlags, mountFlags, messageFlags, mmapProtection, mprotectProtection
        case mmapFlags, seekWhence, exitStatus
    }

    /// The interpreted arguments of each syscall, a0…a3.
    static let table: [String: [Kind?]] = {
        var table: [String: [Kind?]] = [:]
        func set(_ names: [String], _ index: Int, _ kind: Kind) {
            for name in names {
                var kinds = table[name] ?? [nil, nil, nil, nil]
                kinds[index] = kind
                table[name] = kinds
            }
        }
        set(["rt_sigaction"], 0, .signal)
        set(["kill", "tkill"], 1, .signal)
        set(["tgkill"], 2, .signal)
        set(["clone", "unshare"], 0, .cloneFlags)
        set(["setns"], 1, .cloneFlags)
        set(
            [
                "openat", "mkdirat", "mknodat", "fchownat", "futimesat", "fchmodat", "faccessat", "futimensat",
                "unlinkat", "utimensat", "renameat", "renameat2", "readlinkat", "linkat", "newfstatat",
            ], 0, .dirfd)
        set(["renameat", "renameat2", "readlinkat", "linkat"], 2, .dirfd)
        set(["clock_settime"], 0, .clockID)
        set(["personality"], 0, .personality)
        set(["ptrace"], 0, .ptraceRequest)
        set(["prctl"], 0, .prctlOption)
        set(["prctl"], 1, .prctlArgument)
        set(["getrlimit", "setrlimit"], 0, .resourceLimit)
        set(["socket"], 0, .socketFamily)
        set(["socket"], 1, .socketType)
        set(["socket"], 2, .socketProtocol)
        set(["socketcall"], 0, .socketcall)
        set(["open", "mq_open"], 1, .openFlags)
        set(["openat"], 2, .openFlags)
        set(["access"], 1, .accessMode)
        set(["faccessat"], 2, .accessMode)
        set(["chmod", "fchmod", "creat", "mkdir"], 1, .shortMode)
        set(["fchmodat", "mkdirat", "mknodat"], 2, .shortMode)
        set(["open", "mq_open"], 2, .creationMode)
        set(["mknod"], 1, .mode)
        set(["fcntl", "fcntl64"], 1, .fcntlCommand)
        set(["fcntl", "fcntl64"], 2, .fcntlArgument)
        set(["epoll_ctl"], 1, .epollOperation)
        set(["umount2"], 1, .umountFlags)
        set(["mount"], 3, .mountFlags)
        set(["sendmsg", "recvmsg"], 2, .messageFlags)
        set(["send", "sendto", "sendmmsg", "recv", "recvfrom", "recvmmsg"], 3, .messageFlags)
        set(["mmap"], 2, .mmapProtection)
        set(["mprotect"], 2, .mprotectProtection)
        set(["mmap"], 3, .mmapFlags)
        set(["lseek"], 2, .seekWhence)
        set(["exit", "exit_group"], 0, .exitStatus)
        return table
    }()

    static func render(_ kind: Kind, _ value: UInt64, _ text: some StringProtocol, a0: UInt64?, a1: UInt64?)
        -> String?
    {
        // auditd converts into a C int or unsigned int: only the low 32 bits count.
        let low = UInt32(truncatingIfNeeded: value)
        let number = UInt64(low)
        switch kind {
        case .signal:
            return SignalNames.interpretation(number, logged: text, hexadecimal: true)
        case .dirfd:
            return Int32(truncatingIfNeeded: value) == -100 ? "AT_FDCWD" : nil
        case .cloneFlags:
            var result = flags(low, cloneFlagNames)
            let signal = low & 0xff
            if signal != 0, signal < 32, let name = SignalNames.name(Int(signal)) {
                result = result.map { $0 + "|" + name } ?? name
            }
            return result
        case .clockID:
            return number < UInt64(clockNames.count) ? clockNames[Int(number)] : "unknown-clk_id(0x\(text))"
        case .personality:
            return PersonalityNames.interpretation(number, logged: text)
        case .ptraceRequest:
            return ptraceNames[number] ?? "unknown-ptrace(0x\(text))"
        case .prctlOption:
            let name = number < UInt64(prctlNames.count) ? prctlNames[Int(number)] : nil
            return name ?? "unknown-prctl-option(0x\(text))"
        case .prctlArgument:
            switch a0 {
            case 23, 24: return CapabilityNames.interpretation(number, logged: text, hexadecimal: true)
            case 1: return SignalNames.interpretation(number, logged: text, hexadecimal: true)
            default: return nil
            }
        case .resourceLimit:
            return number < UInt64(resourceLimitNames.count)
                ? resourceLimitNames[Int(number)] : "unknown-rlimit(0x\(text))"
        case .socketFamily:
            let name = number < UInt64(familyNames.count) ? familyNames[Int(number)] : nil
            return name ?? "unknown-family(0x\(text))"
        case .socketType:
            return socketTypeNames[low & 0xff] ?? "unknown-type(\(text))"
        case .socketProtocol:
            return protocolNames[number]
        case .socketcall:
            return number >= 1 && number <= UInt64(socketcallNames.count)
                ? socketcallNames[Int(number) - 1] : "unknown-socketcall(\(text))"
        case .openFlags:
            let names = flags(low, openFlagNames)
            guard low & 3 == 0 else { return names }
            return names.map { "O_RDONLY|" + $0 } ?? "O_RDONLY"
        case .accessMode:
            return low & 0xf == 0 ? "F_OK" : flags(low, accessNames)
        case .shortMode:
            return FileModes.shortInterpretation(low)
        case .creationMode:
            guard let a1, a1 & 0o100 != 0 else { return nil }
            return FileModes.shortInterpretation(low)
        case .mode:
            return FileModes.interpretation(low)
        case .fcntlCommand:
            let command = Int32(bitPattern: low)
            return fcntlNames[command] ?? "unknown-fcntl-command(\(command))"
        case .fcntlArgument:
            return a1 == 2 && number == 1 ? "FD_CLOEXEC" : nil
        case .epollOperation:
            return number >= 1 && number <= 3
                ? ["EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"][Int(number) - 1]
                : "unknown-epoll_ctl-operation(\(Int32(bitPattern: low)))"
        case .umountFlags:
            return flags(low, umountFlagNames)
        case .mountFlags:
            return flags(low, mountFlagNames)
        case .messageFlags:
            return flags(low, messageFlagNames)
        case .mmapProtection, .mprotectProtection:
            if low & 7 == 0 { return "PROT_NONE" }
            return flags(low, kind == .mmapProtection ? protectionNames : Array(protectionNames.prefix(3)))
        case .mmapFlags:
            let names = flags(low, mmapFlagNames)
            guard low & 0xf == 0 else { return names }
            return names.map { "MAP_FILE|" + $0 } ?? "MAP_FILE"
        case .seekWhence:
            let whence = low & 0xff
            return whence < 5
                ? ["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"][Int(whence)]
                : "unknown-whence(\(text))"
        case .exitStatus:
            return value == 0 ? "EXIT_SUCCESS" : value == 1 ? "EXIT_FAILURE" : "UNKNOWN"  // compared as text by auditd
        }
    }

    /// The names of the set bits joined by `|`, in table order; nil when none is set.
    static func flags(_ value: UInt32, _ names: [(UInt32, String)]) -> String? {
        var result: String?
        for (bit, name) in names where value & bit != 0 {
            result = result.map { $0 + "|" + name } ?? name
        }
        return result
    }
}
