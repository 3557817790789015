internal import AuditSystem

/// The process the kernel names as the audit daemon (`AUDIT_GET`'s pid), as /proc shows it: for
/// the messages that tell an operator which program holds the audit socket and how to stop it.
///
/// Why both names: `/proc/PID/comm` is what `ps` shows and what the takeover list matches, but it
/// is 15 bytes and a script shows as `python3`; the command line says which program it really is.
/// journald is never this process: it reads the multicast group (systemd-journald-audit.socket),
/// which never conflicts with a registered daemon.
public struct RegisteredAuditDaemon: Hashable, Sendable, CustomStringConvertible {
    /// The pid the kernel names.
    public var pid: UInt32
    /// `/proc/PID/comm`, or nil when the process is gone.
    public var command: String?
    /// `/proc/PID/cmdline` with spaces between the arguments, or nil.
    public var commandLine: String?

    /// Makes a description from its parts.
    public init(pid: UInt32, command: String?, commandLine: String?) {
        self.pid = pid
        self.command = command
        self.commandLine = commandLine
    }

    /// Reads the process's names from /proc now.
    public static func lookup(_ pid: UInt32) -> RegisteredAuditDaemon {
        RegisteredAuditDaemon(pid: pid, command: ProcFS.processName(pid), commandLine: ProcFS.commandLine(pid))
    }

    /// `4242 (auditd: /sbin/auditd -n)`, `4242 (auditd)`, or `4242` when /proc names nothing.
    public var description: String {
        switch (command, commandLine) {
        case (let command?, let line?) where line != command: "\(pid) (\(command): \(line))"
        case (let command?, _): "\(pid) (\(command))"
        case (nil, let line?): "\(pid) (\(line))"
        case (nil, nil): "\(pid)"
        }
    }

    /// What to do about it: the systemd unit to stop for auditd, the way to find the unit of
    /// anything else.
    public var howToStop: String {
        if command == "auditd" {
            return "stop it first: systemctl stop auditd (and systemctl disable auditd, so that it does not "
                + "start again at boot)"
        }
        return "stop it first (systemctl status \(pid) names the unit that runs it)"
    }
}
