/// What is known about one process: from /proc, or from the events that showed it (execve, the
/// results of fork/clone), inherited from its parent when it lived too short for either.
package struct ProcessInfo: Hashable, Sendable {
    /// The process id.
    package var pid: Int32
    /// The parent's process id, when known.
    package var ppid: Int32?
    /// The executable's path (`exe=`, or /proc/PID/exe), as bytes: paths need not be UTF-8.
    package var executable: [UInt8]?
    /// The command name (`comm=`, at most 15 bytes).
    package var command: [UInt8]?
    /// The arguments of the program it runs, when known (EXECVE, or /proc/PID/cmdline).
    package var arguments: [[UInt8]]?
    /// The working directory at exec, when known (CWD).
    package var workingDirectory: [UInt8]?
    /// The container the process runs in (a 64-hex-digit id for Docker/containerd/CRI-O/podman).
    package var containerID: String?
    /// The systemd unit (`nginx.service`, `session-3.scope`), when the cgroup path names one.
    package var unit: String?
    /// The event that last told us about it (`sec.ms:serial`), for laurel's `EVENT_ID`.
    package var eventID: String?

    package init(
        pid: Int32, ppid: Int32? = nil, executable: [UInt8]? = nil, command: [UInt8]? = nil,
        arguments: [[UInt8]]? = nil, workingDirectory: [UInt8]? = nil, containerID: String? = nil,
        unit: String? = nil, eventID: String? = nil
    ) {
        self.pid = pid
        self.ppid = ppid
        self.executable = executable
        self.command = command
        self.arguments = arguments
        self.workingDirectory = workingDirectory
        self.containerID = containerID
        self.unit = unit
        self.eventID = eventID
    }
}

/// The context of one event's process, as the encoders write it: the process itself as the table
/// knows it, its parent, and the chain of ancestors above the parent (nearest first).
package struct ProcessContext: Hashable, Sendable {
    package var process: ProcessInfo?
    package var parent: ProcessInfo?
    package var ancestors: [ProcessInfo]

    package init(process: ProcessInfo? = nil, parent: ProcessInfo? = nil, ancestors: [ProcessInfo] = []) {
        self.process = process
        self.parent = parent
        self.ancestors = ancestors
    }
}
