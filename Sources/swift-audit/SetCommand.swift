import ArgumentParser
import AuditNetlink

/// `swift-audit set`: change the kernel's audit settings, each one confirmed by reading it back.
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change the kernel's audit settings (like `auditctl -e/-f/-r/-b`).",
        discussion: """
            Each setting is sent with AUDIT_SET, then read back with AUDIT_GET; a value the kernel \
            did not take is an error. Settings last until reboot or until changed again. Needs \
            CAP_AUDIT_CONTROL (root).

            Examples:
              swift-audit set --enabled 1 --backlog-limit 8192
              swift-audit set --backlog-wait-time 0 --reset-lost
            """
    )

    @Option(
        help: ArgumentHelp(
            "Auditing off (0) or on (1). 2 turns it on and locks every audit setting and rule until reboot; it needs --confirm-lock.",
            valueName: "0|1|2"))
    var enabled: UInt32?

    @Option(
        help: ArgumentHelp(
            "What the kernel does when it must drop a record: silent (only count it), printk (also log to the kernel log; the default), or panic (halt the machine; needs --confirm-panic).",
            valueName: "silent|printk|panic"))
    var failure: String?

    @Option(help: "Records per second the kernel sends at most; 0 means no limit. Records over the limit are lost.")
    var rateLimit: UInt32?

    @Option(
        help:
            "Records the kernel queues for the daemon. When the queue is full the kernel makes audited tasks wait (see --backlog-wait-time), then drops records."
    )
    var backlogLimit: UInt32?

    @Option(
        help:
            "How long, in jiffies (1/HZ s), an audited task waits for room in a full backlog before its record is lost. 0 drops at once and never slows the system."
    )
    var backlogWaitTime: UInt32?

    @Flag(help: "Reset the kernel's lost-record counter to 0 and print the old value.")
    var resetLost = false

    @Flag(help: "Reset the kernel's accumulated backlog wait time to 0 and print the old value.")
    var resetBacklogWaitTimeActual = false

    @Option(
        help: ArgumentHelp(
            "Whether a login uid, once set, may never change (1) or may (0). Not locked: unlike `auditctl --loginuid-immutable`, this does not fix the choice until reboot.",
            valueName: "0|1"))
    var loginuidImmutable: UInt32?

    @Flag(help: "Confirm --enabled 2: no rule or setting can change again until reboot.")
    var confirmLock = false

    @Flag(help: "Confirm --failure panic: the machine halts whenever the kernel loses an audit record.")
    var confirmPanic = false

    func validate() throws {
        if let enabled, AuditEnabledState(rawValue: enabled) == nil {
            throw ValidationError("--enabled \(enabled): expected 0 (off), 1 (on) or 2 (on and locked)")
        }
        if enabled == 2 && !confirmLock {
            throw ValidationError(
                "--enabled 2 locks the audit configuration until reboot; add --confirm-lock if you mean it")
        }
        if let failure {
            guard let mode = AuditFailureMode(name: failure) else {
                throw ValidationError("--failure \(failure): expected silent (0), printk (1) or panic (2)")
            }
            if mode == .panic && !confirmPanic {
                throw ValidationError(
                    "--failure panic halts the machine when a record is lost; add --confirm-panic if you mean it")
            }
        }
        if let loginuidImmutable, loginuidImmutable > 1 {
            throw ValidationError("--loginuid-immutable \(loginuidImmutable): expected 0 or 1")
        }
        if enabled == nil && failure == nil && rateLimit == nil && backlogLimit == nil && backlogWaitTime == nil
            && !resetLost && !resetBacklogWaitTimeActual && loginuidImmutable == nil
        {
            throw ValidationError("nothing to set; see `swift-audit set --help`")
        }
    }

    func run() throws {
        do {
            let client = try AuditClient()
            let before = try client.status()
            var changes: [SettingChange] = []
            if let enabled, let state = AuditEnabledState(rawValue: enabled) {
                try client.setEnabled(state)
                changes.append(
                    .init(name: "enabled", old: before.enabled.rawValue, requested: enabled, read: \.enabled.rawValue))
            }
            if let failure, let mode = AuditFailureMode(name: failure) {
                try client.setFailureMode(mode)
                changes.append(
                    .init(
                        name: "failure", old: before.failure.rawValue, requested: mode.rawValue,
                        read: \.failure.rawValue))
            }
            if let rateLimit {
                try client.setRateLimit(rateLimit)
                changes.append(
                    .init(name: "rate_limit", old: before.rateLimit, requested: rateLimit, read: \.rateLimit))
            }
            if let backlogLimit {
                try client.setBacklogLimit(backlogLimit)
                changes.append(
                    .init(
                        name: "backlog_limit", old: before.backlogLimit, requested: backlogLimit, read: \.backlogLimit))
            }
            if let backlogWaitTime {
                try client.setBacklogWaitTime(backlogWaitTime)
                changes.append(
                    .init(
                        name: "backlog_wait_time", old: before.backlogWaitTime, requested: backlogWaitTime,
                        read: \.backlogWaitTime))
            }
            if let loginuidImmutable {
                try client.setFeature(.loginUIDImmutable, enabled: loginuidImmutable == 1)
                let now = try client.features().enabled.contains(.loginUIDImmutable) ? UInt32(1) : 0
                guard now == loginuidImmutable else {
                    printError(
                        "swift-audit: loginuid_immutable is \(now) after setting it to \(loginuidImmutable) (locked?)")
                    throw ExitCode.failure
                }
                print("loginuid_immutable: \(loginuidImmutable)")
            }
            if resetLost {
                let old = try client.resetLostCounter()
                print("lost: \(old) -> 0")
            }
            if resetBacklogWaitTimeActual {
                let old = try client.resetBacklogWaitTimeActual()
                print("backlog_wait_time_actual: \(old) -> 0")
            }
            let after = try client.status()
            var mismatched = false
            for change in changes {
                let now = after[keyPath: change.read]
                if now == change.requested {
                    print("\(change.name): \(change.old) -> \(now)")
                } else {
                    printError("swift-audit: \(change.name) reads \(now) after setting \(change.requested)")
                    mismatched = true
                }
            }
            if mismatched { throw ExitCode.failure }
        } catch let error as AuditNetlinkError {
            throw reportedExitCode(error)
        }
    }
}

/// One requested change and how to read it back from the status.
private struct SettingChange {
    var name: String
    var old: UInt32
    var requested: UInt32
    var read: KeyPath<AuditStatus, UInt32>
}
