/// Signal numbers as auditd names them: `sig=` (ANOM_ABEND, decimal) and the signal arguments of
/// kill, tkill, tgkill, rt_sigaction (hex).
///
/// The numbering is the generic and x86 one (<asm-generic/signal.h>, <asm/signal.h>), which arm,
/// aarch64, powerpc, s390 and riscv share for 1…31; alpha, mips, sparc and parisc number several
/// signals differently, and auditd uses this one table for every architecture. Like auditd we
/// name 0…31 only: real-time signals (32…64) are `unknown-signal(…)`.
package enum SignalNames {
    /// The name of a signal (`9` → `SIGKILL`; `0` → `SIG0`, auditd's spelling), or nil above 31.
    package static func name(_ number: Int) -> String? {
        number >= 0 && number < names.count ? names[number] : nil
    }

    /// auditd's text for a signal: its name, else `unknown-signal(N)` with the number as logged
    /// (`hexadecimal` for a syscall argument, then with `0x`).
    package static func interpretation(_ number: UInt64, logged text: some StringProtocol, hexadecimal: Bool) -> String
    {
        if number < UInt64(names.count) { return names[Int(number)] }
        return "unknown-signal(\(hexadecimal ? "0x" : "")\(text))"
    }

    private static let names: [String] = [
        "SIG0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ]
}
