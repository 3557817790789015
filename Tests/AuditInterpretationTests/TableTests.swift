import AuditInterpretation
import Testing

/// The tables on values picked by hand: what a reader of the code can check against auditd's text.
struct TableTests {
    @Test func failedOpenExitReadsAsENOENT() {
        #expect(ErrnoNames.exitDescription(-2) == "ENOENT(No such file or directory)")
        #expect(ErrnoNames.exitDescription(-13) == "EACCES(Permission denied)")
        #expect(ErrnoNames.name(115) == "EINPROGRESS")
    }

    @Test func successfulAndUnknownExitsStayNumbers() {
        #expect(ErrnoNames.exitDescription(0) == nil)
        #expect(ErrnoNames.exitDescription(3) == nil)
        #expect(ErrnoNames.exitDescription(-41) == nil)  // no errno 41 (EWOULDBLOCK's old slot)
        #expect(ErrnoNames.exitDescription(-100_000) == nil)
        #expect(ErrnoNames.name(0) == nil)
    }

    @Test func fileModesReadAsAuditdPrintsThem() {
        #expect(FileModes.interpretation(0o100644) == "file,644")
        #expect(FileModes.interpretation(0o104755) == "file,suid,755")
        #expect(FileModes.interpretation(0o041777) == "dir,sticky,777")
        #expect(FileModes.interpretation(0o020666) == "character,666")
        #expect(FileModes.interpretation(0o0644) == "000,644")
        #expect(FileModes.typeName(0o060660) == "block")
        #expect(FileModes.typeName(0o644) == nil)
        #expect(FileModes.shortInterpretation(0o4755) == "suid,0755")
        #expect(FileModes.shortInterpretation(0o644) == "0644")
        #expect(FileModes.parseOctal("0100644") == 0o100644)
        #expect(FileModes.parseOctal("0100648") == nil)
    }

    @Test func capabilitySetsListNamesOrNone() {
        #expect(CapabilityNames.name(21) == "sys_admin")
        #expect(CapabilityNames.lastCapability == 40)
        #expect(CapabilityNames.setInterpretation(0) == "none")
        #expect(CapabilityNames.setInterpretation(0x3) == "chown,dac_override")
        #expect(CapabilityNames.setInterpretation(1 << 41) == "none")
        #expect(CapabilityNames.setInterpretation(.max).hasSuffix(",bpf,checkpoint_restore"))
        #expect(CapabilityNames.interpretation(50, logged: "50", hexadecimal: false) == "unknown-capability(50)")
    }

    @Test func signalsAndPersonalitiesReadAsAuditdPrintsThem() {
        #expect(SignalNames.name(9) == "SIGKILL")
        #expect(SignalNames.name(31) == "SIGSYS")
        #expect(SignalNames.name(32) == nil)
        #expect(SignalNames.interpretation(0x28, logged: "28", hexadecimal: true) == "unknown-signal(0x28)")
        #expect(PersonalityNames.interpretation(0x40008, logged: "40008") == "PER_LINUX32|~ADDR_NO_RANDOMIZE")
        #expect(PersonalityNames.interpretation(0x1, logged: "1") == "unknown-personality(0x1)")
    }

    @Test func syscallArgumentsReadAsAusearchPrintsThem() {
        func text(_ syscall: String, _ index: Int, _ value: String, a0: UInt64? = nil, a1: UInt64? = nil) -> String? {
            SyscallArgumentInterpretation.interpretation(
                syscall: syscall, argument: index, value: value, a0: a0, a1: a1)
        }
        #expect(text("openat", 0, "ffffff9c") == "AT_FDCWD")
        #expect(text("openat", 2, "80241") == "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC")
        #expect(text("open", 1, "0") == "O_RDONLY")
        #expect(text("open", 2, "1a4", a1: 0o101) == "0644")
        #expect(text("open", 2, "1a4", a1: 0) == nil)
        #expect(text("socket", 0, "2") == "inet")
        #expect(text("socket", 1, "80801") == "SOCK_STREAM")
        #expect(text("kill", 1, "9") == "SIGKILL")
        #expect(text("clone", 0, "1200011") == "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD")
        #expect(text("mmap", 2, "5") == "PROT_READ|PROT_EXEC")
        #expect(text("mmap", 3, "22") == "MAP_PRIVATE|MAP_ANONYMOUS")
        #expect(text("fcntl", 1, "406") == "F_DUPFD_CLOEXEC")
        #expect(text("access", 1, "0") == "F_OK")
        #expect(text("prctl", 1, "15", a0: 24) == "sys_admin")
        #expect(text("socketcall", 0, "3") == "connect")
        #expect(text("umount2", 1, "2") == "MNT_DETACH")
        #expect(text("ptrace", 0, "4206") == "PTRACE_SEIZE")
        #expect(text("setxattr", 0, "7fffffa9a9f0") == nil)
        #expect(text("kill", 4, "9") == nil)
        #expect(text("kill", 1, "zz") == nil)
        #expect(SyscallArgumentInterpretation.identityArgument(syscall: "setresgid", argument: 2) == .group)
        #expect(SyscallArgumentInterpretation.identityArgument(syscall: "fchown", argument: 1) == .user)
        #expect(SyscallArgumentInterpretation.identityArgument(syscall: "kill", argument: 1) == nil)
    }

    @Test func unsetIdsAndOutcomesNormalise() {
        #expect(UnsetIdentity.interpretation("4294967295") == "unset")
        #expect(UnsetIdentity.interpretation("1000") == nil)
        #expect(Outcome("yes") == .success)
        #expect(Outcome("1") == .success)
        #expect(Outcome("success") == .success)
        #expect(Outcome("no") == .failure)
        #expect(Outcome("failed") == .failure)
        #expect(Outcome("0") == .failure)
        #expect(Outcome("maybe") == nil)
        #expect(Outcome.auditdText("1") == "yes")
        #expect(Outcome.auditdText("failed") == "failed")
    }
}
