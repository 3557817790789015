/// How a command of the daemon ends, as a process exit status: auditd's codes where they
/// overlap, so units and scripts treat both alike. The command line maps its errors onto these
/// too; nothing else defines an exit code.
package enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Done, or stopped on request.
    case success = 0
    /// The kernel or the system refused (a socket, an output, a rule the kernel rejected).
    case failure = 1
    /// A privilege is missing; the message names the capability.
    case privilege = 4
    /// The configuration or a rule file is invalid; nothing was started.
    case configuration = 6
    /// The command line is wrong (sysexits' EX_USAGE, as ArgumentParser uses it).
    case usage = 64
}

/// Why the daemon could not start or go on, with the exit status it ends with.
package struct DaemonError: Error, CustomStringConvertible, Sendable {
    /// What happened, for the log: names the file, output or capability concerned.
    package var message: String
    /// The exit status this error ends the process with.
    package var status: ExitStatus

    package init(_ message: String, status: ExitStatus = .failure) {
        self.message = message
        self.status = status
    }

    package var description: String { message }
}
