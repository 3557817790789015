internal import Glibc

/// What /proc says about processes: names and the effective capability set.
package enum ProcFS {
    /// The name of a running process (`/proc/PID/comm`, without its newline), or nil when there is
    /// no such process (or pid 0, which names none).
    package static func processName(_ pid: UInt32) -> String? {
        guard pid != 0, var name = SystemFile.readText(path: "/proc/\(pid)/comm", limit: 4096) else { return nil }
        while name.last == "\n" { name.removeLast() }
        return name
    }

    /// The ids of the processes in /proc now (its all-digit entries), in directory order; empty
    /// when /proc cannot be listed. Threads are not listed: /proc shows only thread-group leaders.
    package static func processIDs() -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var pids: [Int32] = []
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { name -> Int32? in
                var value: Int32 = 0
                var digits = 0
                for byte in name {
                    if byte == 0 { break }
                    guard (0x30...0x39).contains(byte), value < Int32.max / 10 - 9 else { return nil }
                    value = value * 10 + Int32(byte - 0x30)
                    digits += 1
                }
                return digits > 0 && value > 0 ? value : nil
            }
            if let pid { pids.append(pid) }
        }
        return pids
    }

    /// The effective capability mask from the text of a `/proc/PID/status` file (its `CapEff:`
    /// line), or nil when there is no such line or its value is not hexadecimal.
    package static func effectiveCapabilities(status text: some StringProtocol) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = String(line.dropFirst("CapEff:".count).filter { $0 != " " && $0 != "\t" })
            return UInt64(hex, radix: 16)
        }
        return nil
    }

    /// This process's effective capability mask, or nil when /proc/self/status cannot be read or
    /// parsed.
    package static func effectiveCapabilities() -> UInt64? {
        SystemFile.readText(path: "/proc/self/status", limit: 65_536).flatMap { effectiveCapabilities(status: $0) }
    }
}

/// A Linux capability by number (`linux/capability.h`).
package struct Capability: Hashable, Sendable {
    /// The bit number in the capability sets.
    package var bit: Int

    package init(bit: Int) { self.bit = bit }

    /// `CAP_NET_ADMIN` (12).
    package static let netAdmin = Capability(bit: 12)
    /// `CAP_AUDIT_WRITE` (29).
    package static let auditWrite = Capability(bit: 29)
    /// `CAP_AUDIT_CONTROL` (30): rules, settings, registering as the audit daemon.
    package static let auditControl = Capability(bit: 30)
    /// `CAP_AUDIT_READ` (37): the multicast record socket.
    package static let auditRead = Capability(bit: 37)

    /// Whether `mask` (a `CapEff` value) holds this capability; nil mask means unknown, which
    /// answers true, as ``isEffective`` explains.
    package func isHeld(in mask: UInt64?) -> Bool {
        guard let mask else { return true }
        return bit < 64 && mask & (1 << UInt64(bit)) != 0
    }

    /// Whether this process holds the capability in its effective set (`CapEff` in
    /// /proc/self/status).
    ///
    /// **When that cannot be read or parsed, the answer is true ("has it").** The check never
    /// grants anything: the kernel is the judge and refuses the request itself (EPERM). The check
    /// only chooses the words of a refusal: "needs CAP_AUDIT_CONTROL" before start-up, "the
    /// capability is missing" instead of the generic EPERM text. Guessing "has not" would refuse to
    /// start an audit daemon that may well hold the capability (/proc hidden or not mounted), and
    /// an audit daemon that does not start loses records; guessing "has it" at worst lets the
    /// kernel's EPERM through with its generic message, which names the capability too. `geteuid()`
    /// is no better guess: root may lack the capability and a non-root service may hold it.
    package var isEffective: Bool { isHeld(in: ProcFS.effectiveCapabilities()) }
}

extension ProcFS {
    /// A process's command line (`/proc/PID/cmdline`, its NUL-separated arguments joined by
    /// spaces, control characters shown as `?`), cut to `limit` bytes with `…`; nil when there is no
    /// such process or it has none (a kernel thread).
    package static func commandLine(_ pid: UInt32, limit: Int = 256) -> String? {
        guard pid != 0, let read = try? SystemFile.readPrefix(path: "/proc/\(pid)/cmdline", limit: limit) else {
            return nil
        }
        var bytes = read.bytes
        while bytes.last == 0 { bytes.removeLast() }
        guard !bytes.isEmpty else { return nil }
        let text = String(
            decoding: bytes.map { $0 == 0 ? UInt8(ascii: " ") : ($0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0) },
            as: UTF8.self)
        return read.truncated ? text + "…" : text
    }
}
