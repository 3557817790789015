internal import AuditSystem

/// Reads one process's entry from /proc: `stat` (command, parent, start time), `exe` and `cwd`
/// (links), `cmdline` (its first bytes only) and `cgroup`. Five opens or readlinks, no parsing
/// beyond the fields the table keeps. A process can vanish between the reads: what was read is
/// kept, nothing is guessed.
enum ProcReader {
    /// What /proc says of `pid`, or nil when its `stat` cannot be read (gone, or not a process).
    static func read(pid: Int32, maximumArgumentBytes: Int, maximumArguments: Int) -> (ProcessInfo, startTime: UInt64)?
    {
        guard let stat = try? SystemFile.readPrefix(path: "/proc/\(pid)/stat", limit: 1024).bytes,
            let fields = parseStat(stat)
        else { return nil }
        var info = ProcessInfo(pid: pid, ppid: fields.ppid > 0 ? fields.ppid : nil, command: fields.command)
        info.executable = try? SystemFile.readLink(path: "/proc/\(pid)/exe")
        info.workingDirectory = try? SystemFile.readLink(path: "/proc/\(pid)/cwd")
        // One byte per argument more than the cap: the NULs that separate them.
        if let cmdline = try? SystemFile.readPrefix(
            path: "/proc/\(pid)/cmdline", limit: maximumArgumentBytes + maximumArguments)
        {
            let (arguments, cut) = splitArguments(
                cmdline.bytes, maximumBytes: maximumArgumentBytes, maximumCount: maximumArguments)
            if !arguments.isEmpty {
                info.arguments = arguments
                info.argumentsTruncated = cut || cmdline.truncated
            }
        }
        if let identity = cgroupIdentity(pid: pid) { info.adopt(identity) }
        return (info, fields.startTime)
    }

    /// The identity of `/proc/PID/cgroup`, or nil when it cannot be read.
    static func cgroupIdentity(pid: Int32) -> CgroupIdentity? {
        guard let file = try? SystemFile.readPrefix(path: "/proc/\(pid)/cgroup", limit: 16_384).bytes else {
            return nil
        }
        return CgroupParser.identity(ofFile: file)
    }

    /// The command, parent and start time (clock ticks since boot) of a `/proc/PID/stat` line:
    /// `pid (comm) state ppid … starttime(22nd) …`. The command may itself hold `)` and spaces, so
    /// it runs to the last `)`.
    static func parseStat(_ bytes: [UInt8]) -> (command: [UInt8], ppid: Int32, startTime: UInt64)? {
        guard let open = bytes.firstIndex(of: 0x28), let close = bytes.lastIndex(of: 0x29), open < close else {
            return nil
        }
        let command = Array(bytes[(open + 1)..<close])
        // After ") ": field 3 (state) is the first.
        let rest = bytes[(close + 1)...].split(separator: 0x20)
        guard rest.count >= 20 else { return nil }
        func number(_ slice: ArraySlice<UInt8>) -> Int64? {
            slice.withUnsafeBytes { EventText.decimal($0) }
        }
        guard let ppid = number(rest[1]).flatMap(Int32.init(exactly:)), let start = number(rest[19]), start >= 0 else {
            return nil
        }
        return (command, ppid, UInt64(start))
    }

    /// NUL-separated arguments (`cmdline`), cut to the caps; true when something was cut.
    static func splitArguments(_ bytes: [UInt8], maximumBytes: Int, maximumCount: Int) -> ([[UInt8]], Bool) {
        var body = bytes[...]
        if body.last == 0 { body.removeLast() }
        guard !body.isEmpty else { return ([], false) }
        var arguments: [[UInt8]] = []
        var total = 0
        var cut = false
        for part in body.split(separator: 0, omittingEmptySubsequences: false) {
            guard arguments.count < maximumCount, total < maximumBytes else {
                cut = true
                break
            }
            let room = maximumBytes - total
            if part.count > room {
                arguments.append(Array(part.prefix(room)))
                cut = true
                break
            }
            arguments.append(Array(part))
            total += part.count
        }
        return (arguments, cut)
    }

    /// This boot's id (`/proc/sys/kernel/random/boot_id`), which makes pids in a state file mean
    /// something; nil when it cannot be read.
    static func bootID() -> String? {
        guard var text = SystemFile.readText(path: "/proc/sys/kernel/random/boot_id", limit: 128) else { return nil }
        while text.last == "\n" { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
