package import AuditEvents

/// What is known about one process: from /proc, or from the events that showed it (execve, the
/// results of fork/clone), inherited from its parent when it lived too short for either.
///
/// Byte fields stay bytes (paths and arguments need not be UTF-8); the encoders escape them. Copying
/// a `ProcessInfo` copies references to its arrays and strings, not their contents, so the table can
/// hand one out per event without allocating.
package struct ProcessInfo: Hashable, Sendable {
    /// The process id.
    package var pid: Int32
    /// The parent's process id, when known.
    package var ppid: Int32?
    /// The executable's path (`exe=`, or /proc/PID/exe), as bytes: paths need not be UTF-8.
    package var executable: [UInt8]?
    /// The command name (`comm=`, at most 15 bytes).
    package var command: [UInt8]?
    /// The arguments of the program it runs, when known (EXECVE, or /proc/PID/cmdline), cut to the
    /// table's byte and count caps (``argumentsTruncated`` then says so).
    package var arguments: [[UInt8]]?
    /// True when ``arguments`` is shorter than what the program was given (the table's caps, or an
    /// EXECVE record the kernel cut).
    package var argumentsTruncated: Bool
    /// The working directory at exec, when known (CWD, or /proc/PID/cwd at seeding).
    package var workingDirectory: [UInt8]?
    /// The container the process runs in (a 64-hex-digit id for Docker/containerd/CRI-O/podman).
    package var containerID: String?
    /// The runtime the cgroup path names, when it names one.
    package var containerRuntime: ContainerRuntime?
    /// The Kubernetes pod's uid (`kubepods-…-pod<uid>.slice`, dashes restored), when in a pod.
    package var podUID: String?
    /// The systemd unit (`nginx.service`, `session-3.scope`), when the cgroup path names one.
    package var unit: String?
    /// The event that last told us about it, for laurel's `EVENT_ID` (`description` gives
    /// `sec.ms:serial`); kept as the 16-byte id so that updating it allocates nothing.
    package var eventID: AuditEventID?
    /// The SHA-256 of the executable (32 bytes), when hashing is on and the file could be read.
    package var executableSHA256: [UInt8]?
    /// The selected environment variables of the program at exec (`LD_PRELOAD`…), when reading
    /// them is on and /proc still showed the program.
    package var environment: [EnvironmentVariable]?
    /// The script an interpreter runs (its first argument that is an existing file), when script
    /// detection is on.
    package var script: [UInt8]?

    package init(
        pid: Int32, ppid: Int32? = nil, executable: [UInt8]? = nil, command: [UInt8]? = nil,
        arguments: [[UInt8]]? = nil, argumentsTruncated: Bool = false, workingDirectory: [UInt8]? = nil,
        containerID: String? = nil, containerRuntime: ContainerRuntime? = nil, podUID: String? = nil,
        unit: String? = nil, eventID: AuditEventID? = nil, executableSHA256: [UInt8]? = nil,
        environment: [EnvironmentVariable]? = nil, script: [UInt8]? = nil
    ) {
        self.pid = pid
        self.ppid = ppid
        self.executable = executable
        self.command = command
        self.arguments = arguments
        self.argumentsTruncated = argumentsTruncated
        self.workingDirectory = workingDirectory
        self.containerID = containerID
        self.containerRuntime = containerRuntime
        self.podUID = podUID
        self.unit = unit
        self.eventID = eventID
        self.executableSHA256 = executableSHA256
        self.environment = environment
        self.script = script
    }

    /// Takes the container, pod and unit of `identity` (children inherit them from their parent).
    package mutating func adopt(_ identity: CgroupIdentity) {
        containerID = identity.containerID
        containerRuntime = identity.runtime
        podUID = identity.podUID
        unit = identity.unit
    }

    /// The container, pod and unit as one value.
    package var cgroupIdentity: CgroupIdentity {
        CgroupIdentity(containerID: containerID, runtime: containerRuntime, podUID: podUID, unit: unit)
    }
}

/// One environment variable of a program, as bytes (`LD_PRELOAD` = `/tmp/x.so`).
package struct EnvironmentVariable: Hashable, Sendable {
    package var name: [UInt8]
    package var value: [UInt8]

    package init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// The context of one event's process, as the encoders write it: the process itself as the table
/// knows it, its parent, and the chain of ancestors above the parent (nearest first, at most the
/// table's `maximumAncestors`).
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
