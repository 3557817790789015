import ArgumentParser
import AuditDaemon

/// The `swift-audit` command: the audit daemon and the tools an operator uses around it.
struct SwiftAudit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-audit",
        abstract: "A Linux audit daemon: kernel audit records to JSON files, syslog and Graylog.",
        discussion: """
            swift-audit talks to the kernel's audit subsystem over NETLINK_AUDIT. Most subcommands \
            need root (CAP_AUDIT_CONTROL).

            Start with `swift-audit status` to see what the kernel is doing now.
            """,
        subcommands: [
            RunCommand.self, ReplayCommand.self, ParseCommand.self, StatusCommand.self, SetCommand.self,
            RulesCommand.self, StatsCommand.self,
        ]
    )
}

extension ExitCode {
    /// The daemon's exit status as ArgumentParser's exit code: one set of codes for every
    /// command (``ExitStatus``).
    init(_ status: ExitStatus) { self.init(status.rawValue) }

    /// A privilege is missing (auditd: 4).
    static let privilege = ExitCode(ExitStatus.privilege)
    /// The configuration or a rule file is invalid (auditd: 6).
    static let configuration = ExitCode(ExitStatus.configuration)
}
