internal import Glibc

/// A signal the daemon acts on, with who sent it (for the stop/reload events in the trail).
package struct DaemonSignal: Hashable, Sendable, CustomStringConvertible {
    /// What the signal asks for.
    package enum Action: Hashable, Sendable {
        /// SIGTERM or SIGINT: drain and stop.
        case stop
        /// SIGHUP: re-read the configuration.
        case reload
        /// SIGUSR1: reopen file outputs (after logrotate moved them).
        case reopen
    }

    /// What the signal asks for.
    package var action: Action
    /// The signal number.
    package var number: Int32
    /// The sender's pid (0 when the kernel sent it).
    package var senderPID: Int32
    /// The sender's real uid.
    package var senderUID: UInt32

    package var description: String {
        let name: String =
            switch number {
            case SIGTERM: "SIGTERM"
            case SIGINT: "SIGINT"
            case SIGHUP: "SIGHUP"
            case SIGUSR1: "SIGUSR1"
            default: "signal \(number)"
            }
        return "\(name) from pid \(senderPID) uid \(senderUID)"
    }
}

/// Receives the daemon's signals synchronously on one thread, instead of in async handlers.
///
/// `blockDaemonSignals()` must run in the main thread before any other thread starts, so every
/// thread inherits the mask and the signals stay pending until `wait` takes them; no handler ever
/// runs in the middle of a write or a lock.
package enum SignalWaiter {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]

    /// Blocks the daemon's signals in the calling thread (and so in threads it starts later), and
    /// ignores SIGPIPE so a closed pipe or socket is an EPIPE error rather than death.
    package static func blockDaemonSignals() {
        var set = signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Waits at most `timeoutMilliseconds` for one of the daemon's signals.
    package static func wait(timeoutMilliseconds: Int) -> DaemonSignal? {
        var set = signalSet()
        var info = siginfo_t()
        var timeout = timespec(tv_sec: timeoutMilliseconds / 1000, tv_nsec: (timeoutMilliseconds % 1000) * 1_000_000)
        let number = sigtimedwait(&set, &info, &timeout)
        guard number > 0 else { return nil }
        let action: DaemonSignal.Action =
            switch number {
            case SIGHUP: .reload
            case SIGUSR1: .reopen
            default: .stop
            }
        return DaemonSignal(
            action: action, number: number, senderPID: info._sifields._kill.si_pid,
            senderUID: info._sifields._kill.si_uid)
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in handled { sigaddset(&set, number) }
        return set
    }
}
