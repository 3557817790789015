import ArgumentParser
import AuditEncoding
import AuditNetlink
import AuditSystem

/// `swift-audit status`: the kernel's audit state, for people or for scripts.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the kernel's audit status (like `auditctl -s`).",
        discussion: """
            Reads AUDIT_GET and AUDIT_GET_FEATURE. Fields:
              enabled            0 off, 1 on, 2 on and locked until reboot
              failure            what the kernel does when it must drop a record: silent, printk, panic
              pid                the process registered as the audit daemon (0: none; records then go
                                 to the kernel log and are dropped once the backlog is full)
              rate_limit         records per second the kernel sends at most (0: no limit)
              backlog_limit      records queued for the daemon before the kernel drops or waits
              lost               records the kernel dropped since boot or the last --reset-lost
              backlog            records queued now
              backlog_wait_time  jiffies an audited task waits for room in a full backlog (0: drop at once)
              loginuid_immutable whether a set login uid can change, and whether that is locked
            Needs CAP_AUDIT_CONTROL (root).
            """
    )

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    func run() throws {
        let client: AuditClient
        let status: AuditStatus
        let features: AuditFeatures?
        do {
            client = try AuditClient()
            status = try client.status()
            features = try? client.features()
        } catch {
            throw reportedExitCode(error)
        }
        let report = StatusReport(status: status, features: features, ownerCommand: ProcFS.processName(status.pid))
        print(json ? report.json() : report.table(), terminator: json ? "\n" : "")
    }
}

/// The status as the CLI shows it: the kernel's numbers plus what they mean.
struct StatusReport {
    var status: AuditStatus
    var features: AuditFeatures?
    /// `/proc/PID/comm` of the registered daemon; nil when none is registered or it is gone.
    var ownerCommand: String?

    /// Names of the `feature_bitmap` bits (`AUDIT_FEATURE_BITMAP_*`).
    static let featureBitNames: [(UInt32, String)] = [
        (0x01, "backlog_limit"), (0x02, "backlog_wait_time"), (0x04, "executable_path"),
        (0x08, "exclude_extend"), (0x10, "sessionid_filter"), (0x20, "lost_reset"), (0x40, "filter_fs"),
    ]

    var featureNames: [String] {
        Self.featureBitNames.filter { status.featureBitmap & $0.0 != 0 }.map(\.1)
    }

    var ownerDescription: String {
        if status.pid == 0 { return "no audit daemon registered" }
        if let command = ownerCommand { return "\(command), running" }
        return "not running: the kernel still names a process that is gone"
    }

    func table() -> String {
        var rows: [(String, String)] = [
            ("enabled", "\(status.enabled.rawValue) (\(status.enabled))"),
            ("failure", "\(status.failure.rawValue) (\(status.failure))"),
            ("pid", "\(status.pid) (\(ownerDescription))"),
            ("rate_limit", status.rateLimit == 0 ? "0 (unlimited)" : "\(status.rateLimit) records/s"),
            ("backlog_limit", "\(status.backlogLimit)"),
            ("lost", "\(status.lost)"),
            ("backlog", "\(status.backlog)"),
            ("backlog_wait_time", "\(status.backlogWaitTime) jiffies"),
            ("backlog_wait_time_actual", "\(status.backlogWaitTimeActual) jiffies"),
        ]
        if let features {
            rows.append(("loginuid_immutable", Self.describe(.loginUIDImmutable, in: features)))
            rows.append(("only_unset_loginuid", Self.describe(.onlyUnsetLoginUID, in: features)))
        }
        rows.append(
            (
                "kernel_features",
                String(status.featureBitmap, radix: 16).prefixed("0x") + " (" + featureNames.joined(separator: ", ")
                    + ")"
            ))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { name, value in
            name + String(repeating: " ", count: width - name.count + 2) + value + "\n"
        }.joined()
    }

    static func describe(_ feature: AuditFeatures.Feature, in features: AuditFeatures) -> String {
        (features.enabled.contains(feature) ? "1" : "0") + (features.locked.contains(feature) ? " locked" : " unlocked")
    }

    /// One JSON object; strings go through the daemon's own escaping (process names may hold any
    /// byte but `/` and NUL).
    func json() -> String {
        var writer = JSONWriter()
        func key(_ name: String, first: Bool = false) {
            if !first { writer.appendByte(UInt8(ascii: ",")) }
            writer.appendString(name)
            writer.appendByte(UInt8(ascii: ":"))
        }
        func number(_ name: String, _ value: UInt32, first: Bool = false) {
            key(name, first: first)
            writer.appendDecimal(UInt64(value))
        }
        func boolean(_ name: String, _ value: Bool) {
            key(name)
            writer.appendRaw(value ? "true" : "false")
        }
        writer.appendByte(UInt8(ascii: "{"))
        number("enabled", status.enabled.rawValue, first: true)
        number("failure", status.failure.rawValue)
        key("failure_name")
        writer.appendString(status.failure.description)
        number("pid", status.pid)
        boolean("pid_alive", ownerCommand != nil)
        key("pid_command")
        if let ownerCommand { writer.appendString(ownerCommand) } else { writer.appendRaw("null") }
        number("rate_limit", status.rateLimit)
        number("backlog_limit", status.backlogLimit)
        number("lost", status.lost)
        number("backlog", status.backlog)
        number("backlog_wait_time", status.backlogWaitTime)
        number("backlog_wait_time_actual", status.backlogWaitTimeActual)
        number("feature_bitmap", status.featureBitmap)
        key("kernel_features")
        writer.appendByte(UInt8(ascii: "["))
        for (index, name) in featureNames.enumerated() {
            if index > 0 { writer.appendByte(UInt8(ascii: ",")) }
            writer.appendString(name)
        }
        writer.appendByte(UInt8(ascii: "]"))
        if let features {
            number("loginuid_immutable", features.enabled.contains(.loginUIDImmutable) ? 1 : 0)
            boolean("loginuid_immutable_locked", features.locked.contains(.loginUIDImmutable))
            number("only_unset_loginuid", features.enabled.contains(.onlyUnsetLoginUID) ? 1 : 0)
        }
        writer.appendByte(UInt8(ascii: "}"))
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func prefixed(_ prefix: String) -> String { prefix + self }
}
