import ArgumentParser

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
        subcommands: [RunCommand.self, ReplayCommand.self, StatusCommand.self, SetCommand.self, RulesCommand.self]
    )
}

/// Exit codes, as auditd uses them where they overlap, so unit files can treat them alike.
enum ExitCodes {
    /// The kernel or the system refused (auditd: 1).
    static let failure = ExitCode(1)
    /// A privilege is missing (auditd: 4).
    static let privilege = ExitCode(4)
    /// The configuration is invalid (auditd: 6).
    static let configuration = ExitCode(6)
}
