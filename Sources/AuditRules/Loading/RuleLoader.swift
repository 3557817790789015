public import AuditNetlink
internal import AuditSystem
internal import Glibc

/// Applies rules files to the kernel as `auditctl -R` does, but all or nothing.
///
/// auditctl stops at the first rejected line and leaves the lines before it loaded; a daemon that
/// reloads on SIGHUP must not leave a half-written rule set (a STIG file cut after its `-D` audits
/// nothing). So the loader:
///
/// 1. parses every file first: any error in any file and nothing is sent;
/// 2. reads the status: a kernel locked with `-e 2` is refused before anything is sent;
/// 3. snapshots the loaded rules;
/// 4. applies the commands in file order (`-D`, `-a`/`-A`/`-w`, `-d`/`-W`, `-b -r -f -e
///    --backlog_wait_time`);
/// 5. on a kernel rejection undoes everything (deletes what it added, re-adds what it deleted, in
///    the kernel's order, and restores the settings it changed), unless an earlier `-c` or `-i`
///    asked to go on, as in auditctl: after `-c` the failed command is skipped and the load ends
///    as failed; after `-i` it is skipped and the load still succeeds;
/// 6. last, sends the commands that cannot be undone: `--reset-lost`,
///    `--reset_backlog_wait_time_actual`, `--loginuid-immutable` (enabled and locked until reboot,
///    as auditctl does), and `-e 2`, which must be the very last command of the last file.
///
/// Parse errors are never skipped, even after `-c`/`-i` (auditctl skips them too): a rule that does
/// not parse is a mistake in the file, not a difference between kernels.
///
/// Run it on a control socket, not on the socket registered as the audit daemon: records that
/// arrive while waiting for replies are only kept up to the client's `pendingLimit`.
public struct RuleLoader: Sendable {
    /// How names, machine and watched paths are resolved while parsing.
    public var environment: RuleEnvironment
    /// What the loader may send.
    public var options: Options

    /// What the loader may send.
    public struct Options: Hashable, Sendable {
        /// What to do with `-e 2`, `-f 2` and `--loginuid-immutable`.
        public var sensitiveCommands: SensitiveCommandPolicy
        /// Whether the operator confirmed `-f 2` (`rules load --confirm-panic`, the daemon's
        /// `confirm_panic = yes`). Under ``SensitiveCommandPolicy/apply``, `-f 2` without it is an
        /// error: auditctl sends it without a word, but `swift-audit set` asks for the same
        /// confirmation, and a rules file must not be the way around it.
        public var confirmPanic: Bool
        /// The same for `-e 2` (`--confirm-lock`, `confirm_lock = yes`).
        public var confirmLock: Bool

        /// Options: every command is applied, `-f 2` and `-e 2` only when confirmed.
        public init(
            sensitiveCommands: SensitiveCommandPolicy = .apply, confirmPanic: Bool = false, confirmLock: Bool = false
        ) {
            self.sensitiveCommands = sensitiveCommands
            self.confirmPanic = confirmPanic
            self.confirmLock = confirmLock
        }
    }

    /// What to do with the commands whose effect lasts until reboot or can halt the machine:
    /// `-e 2` (configuration locked), `--loginuid-immutable` (locked feature) and `-f 2` (panic
    /// when a record is lost).
    public enum SensitiveCommandPolicy: Hashable, Sendable {
        /// Send them, as auditctl does (`-f 2` and `-e 2` only when confirmed: see
        /// ``Options/confirmPanic``).
        case apply
        /// For a check that sends nothing: accept them, with a warning for `-f 2` and `-e 2` that
        /// says which confirmation a load needs.
        case check
        /// Leave them out and list them in ``RuleLoadReport/skipped`` (to try a production rule
        /// set on a test machine).
        case skip
        /// Treat them as errors: nothing is applied.
        case refuse
    }

    /// Makes a loader.
    public init(environment: RuleEnvironment, options: Options = Options()) {
        self.environment = environment
        self.options = options
    }

    /// True for the commands ``SensitiveCommandPolicy`` governs.
    public static func isSensitive(_ kind: RuleCommand.Kind) -> Bool {
        switch kind {
        case .setEnabled(2), .setFailureMode(2), .setLoginUIDImmutable: true
        default: false
        }
    }

    // MARK: Planning

    /// Parses every source and checks what the loader will send; touches nothing.
    ///
    /// Besides parse errors, these are errors: a command after `-e 2` (it locks the configuration,
    /// so it must come last: auditctl would fail on every later line), `-q` and `-t` (not supported
    /// by this loader), and sensitive commands under ``SensitiveCommandPolicy/refuse``.
    public func plan(_ sources: [RuleSource]) -> RuleLoadPlan {
        var plan = RuleLoadPlan(sources: sources.map(\.name), commands: [])
        for source in sources {
            let file = RuleFile(parsing: source.bytes, name: source.name, environment: environment)
            plan.commands.append(contentsOf: file.commands)
            plan.errors.append(contentsOf: file.errors)
            plan.warnings.append(contentsOf: file.warnings)
        }
        for (index, command) in plan.commands.enumerated() {
            switch command.kind {
            case .setEnabled(2) where index + 1 < plan.commands.count:
                let next = plan.commands[index + 1].location
                plan.errors.append(
                    RuleError(
                        location: command.location, token: "-e 2",
                        message: "-e 2 locks the audit configuration until reboot, so it must be the last command, "
                            + "but \(next) follows it",
                        expected: "-e 2 as the last line of the last rules file"))
            case .makeEquivalent:
                plan.errors.append(
                    RuleError(
                        location: command.location, token: "-q",
                        message:
                            "-q (make a subtree equivalent, AUDIT_MAKE_EQUIV) is not supported by swift-audit's loader",
                        expected: "auditctl -q run separately"))
            case .trimSubtrees:
                plan.errors.append(
                    RuleError(
                        location: command.location, token: "-t",
                        message: "-t (trim directory watches, AUDIT_TRIM) is not supported by swift-audit's loader",
                        expected: "auditctl -t run separately"))
            default:
                break
            }
            if let confirmation = Self.confirmation(needed: command.kind) {
                let text = Self.commandText(command.kind, host: environment.machine)
                let confirmed = command.kind == .setFailureMode(2) ? options.confirmPanic : options.confirmLock
                let needs =
                    "\(text): \(Self.sensitiveReason(command.kind)), so it is sent only when confirmed: "
                    + "rules load --\(confirmation.option), or \(confirmation.key) = yes in the daemon's configuration"
                switch options.sensitiveCommands {
                case .apply where !confirmed:
                    plan.errors.append(
                        RuleError(
                            location: command.location, token: text, message: needs,
                            expected: "the confirmation, or a rules file without \(text)"))
                case .check:
                    plan.warnings.append(RuleWarning(location: command.location, message: needs))
                default:
                    break
                }
            }
            if Self.isSensitive(command.kind), options.sensitiveCommands == .refuse {
                plan.errors.append(
                    RuleError(
                        location: command.location, token: Self.commandText(command.kind, host: environment.machine),
                        message: "\(Self.commandText(command.kind, host: environment.machine)) is refused here: "
                            + Self.sensitiveReason(command.kind),
                        expected: "a rules file without it, or a load that allows it"))
            }
        }
        if plan.errors.isEmpty { predictKernelRefusals(&plan) }
        // Parse errors and the checks above, in file order (the original order breaks ties).
        let sourceNames = plan.sources
        plan.errors = plan.errors.enumerated().sorted { lhs, rhs in
            func key(_ entry: (offset: Int, element: RuleError)) -> (Int, Int, Int, Int) {
                let location = entry.element.location
                return (sourceNames.firstIndex(of: location.file) ?? 0, location.line, location.column, entry.offset)
            }
            return key(lhs) < key(rhs)
        }.map(\.element)
        return plan
    }

    /// The confirmation a command needs before it is sent (`-f 2`: panic, `-e 2`: lock), as the
    /// `rules load` option and the configuration key that give it; nil for every other command.
    public static func confirmation(needed kind: RuleCommand.Kind) -> (option: String, key: String)? {
        switch kind {
        case .setFailureMode(2): ("confirm-panic", "confirm_panic")
        case .setEnabled(2): ("confirm-lock", "confirm_lock")
        default: nil
        }
    }

    static func sensitiveReason(_ kind: RuleCommand.Kind) -> String {
        switch kind {
        case .setEnabled: "it locks every audit rule and setting until reboot"
        case .setFailureMode: "it makes the kernel panic (halt the machine) when it loses a record"
        case .setLoginUIDImmutable: "it makes login uids immutable and locks that choice until reboot"
        default: "it cannot be undone"
        }
    }

    /// Why a kernel in this state must not be sent the plan, or nil when it may.
    ///
    /// A kernel locked with `enabled 2` refuses every rule and setting change (EPERM) until reboot;
    /// saying so up front beats a rejection at the first line.
    public static func refusal(status: AuditStatus, plan: RuleLoadPlan) -> RuleLoadIssue? {
        guard status.enabled == .locked, plan.changesKernel else { return nil }
        return RuleLoadIssue(
            location: nil,
            message: "the audit configuration is locked (enabled 2, set by `-e 2`) until reboot: "
                + "no rule or setting can change; nothing was applied. Reboot to load new rules "
                + "(and drop `-e 2` from the rules while testing them)",
            errno: EPERM)
    }

    // MARK: Applying

    /// Parses `sources` and applies them to the kernel all or nothing (see the type's summary).
    public func load(_ sources: [RuleSource], into kernel: some AuditRuleKernel) -> RuleLoadReport {
        apply(plan(sources), to: kernel)
    }

    /// Applies a plan made by ``plan(_:)`` (see the type's summary).
    public func apply(_ plan: RuleLoadPlan, to kernel: some AuditRuleKernel) -> RuleLoadReport {
        var report = RuleLoadReport(outcome: .notApplied, warnings: plan.warnings)
        guard plan.isValid else {
            report.errors = plan.errors.map { error in
                var message = error.message
                if let expected = error.expected { message += "; expected \(expected)" }
                return RuleLoadIssue(location: error.location, message: message)
            }
            return report
        }
        let status: AuditStatus
        let snapshot: [[UInt8]]
        do {
            status = try kernel.status()
            if let refusal = Self.refusal(status: status, plan: plan) {
                report.errors.append(refusal)
                return report
            }
            snapshot = try kernel.listRules()
        } catch {
            report.errors.append(
                RuleLoadIssue(
                    location: nil, message: "cannot read the kernel's audit state, nothing was applied: \(error)",
                    errno: error.errno == 0 ? nil : error.errno))
            return report
        }

        var session = LoadSession(kernel: kernel, status: status, snapshot: snapshot, host: environment.machine)
        var ignoreErrors = false
        var continueOnErrors = false
        var deferred: [(command: RuleCommand, ignore: Bool, continueOn: Bool)] = []
        var failedButContinued = false

        func handle(_ command: RuleCommand, ignore: Bool, continueOn: Bool) -> Bool {
            do {
                try session.execute(command)
                return true
            } catch {
                if continueOn {
                    report.errors.append(error)
                    failedButContinued = true
                    return true
                }
                if ignore {
                    report.ignored.append(error)
                    return true
                }
                report.errors.append(error)
                return false
            }
        }

        var failed = false
        for command in plan.commands {
            switch command.kind {
            case .ignoreErrors:
                ignoreErrors = true
                continue
            case .continueOnErrors:
                ignoreErrors = true
                continueOnErrors = true
                continue
            default:
                break
            }
            // A loader made for checking never sends what it only warned about.
            if Self.isSensitive(command.kind), [.skip, .check].contains(options.sensitiveCommands) {
                report.skipped.append(
                    RuleLoadIssue(
                        location: command.location,
                        message: "\(Self.commandText(command.kind, host: environment.machine)) skipped: "
                            + Self.sensitiveReason(command.kind)))
                continue
            }
            if Self.isIrreversible(command.kind) {
                deferred.append((command, ignoreErrors, continueOnErrors))
                continue
            }
            if !handle(command, ignore: ignoreErrors, continueOn: continueOnErrors) {
                failed = true
                break
            }
        }
        if !failed {
            for entry in deferred where !handle(entry.command, ignore: entry.ignore, continueOn: entry.continueOn) {
                failed = true
                break
            }
        }

        if failed {
            let problems = session.rollback()
            report.errors.append(contentsOf: problems)
            report.errors.append(
                contentsOf: session.irreversibleDone.map { done in
                    RuleLoadIssue(location: done.location, message: "\(done.text) stays in effect: it cannot be undone")
                })
            report.outcome = problems.isEmpty ? .rolledBack : .rollbackIncomplete
            return report
        }
        report.added = session.added
        report.deleted = session.deleted
        report.settings = session.settingChanges
        report.outcome = failedButContinued ? .appliedWithErrors : .applied
        return report
    }

    /// What an errno from the kernel means for any command (shared by the load's messages and the
    /// plan's ``RuleLoadPlan/kernelRefusals``, so both say the same).
    static func genericHint(_ code: Int32) -> String {
        switch code {
        case EEXIST: "an identical rule is already loaded"
        case EINVAL: "this kernel does not accept it (a field, operator, list or value it does not support)"
        case EPERM: "the configuration is locked (enabled 2) until reboot, or CAP_AUDIT_CONTROL is missing"
        default: ""
        }
    }

    /// What an errno means for an added rule.
    static func addHint(_ code: Int32, _ rule: AuditRule) -> String {
        switch code {
        case EEXIST:
            return "an identical rule is already loaded (start the rules with -D to replace them)"
        case ENOENT where rule.fields.contains { [.watch, .directory, .executable].contains($0.field) }:
            return "a directory of the watched path does not exist (a file watch needs its parent directory, "
                + "a dir= watch the directory itself)"
        default:
            return genericHint(code)
        }
    }

    /// Commands whose effect cannot be undone: they are sent after every other command succeeded.
    static func isIrreversible(_ kind: RuleCommand.Kind) -> Bool {
        switch kind {
        case .setEnabled(2), .setLoginUIDImmutable, .resetLostCounter, .resetBacklogWaitTimeActual: true
        default: false
        }
    }

    /// How a command reads in auditctl syntax, for messages (`-a always,exit -S open -k x`, `-b 8192`).
    public static func commandText(_ kind: RuleCommand.Kind, host: AuditMachine) -> String {
        switch kind {
        case .addRule(let rule): ruleText(rule, deleting: false, host: host)
        case .deleteRule(let rule): ruleText(rule, deleting: true, host: host)
        case .deleteAllRules(let key): key.map { "-D -k \($0)" } ?? "-D"
        case .setEnabled(let value): "-e \(value)"
        case .setFailureMode(let value): "-f \(value)"
        case .setBacklogLimit(let value): "-b \(value)"
        case .setRateLimit(let value): "-r \(value)"
        case .setBacklogWaitTime(let value): "--backlog_wait_time \(value)"
        case .resetLostCounter: "--reset-lost"
        case .resetBacklogWaitTimeActual: "--reset_backlog_wait_time_actual"
        case .setLoginUIDImmutable: "--loginuid-immutable"
        case .ignoreErrors: "-i"
        case .continueOnErrors: "-c"
        case .makeEquivalent(let mountPoint, let subtree): "-q \(mountPoint),\(subtree)"
        case .trimSubtrees: "-t"
        }
    }

    private static func ruleText(_ rule: AuditRule, deleting: Bool, host: AuditMachine) -> String {
        var plain = rule
        plain.prepend = false
        var text = plain.auditctlListing(host: host)
        if text.hasPrefix("-a ") {
            if deleting {
                text = "-d " + text.dropFirst(3)
            } else if rule.prepend {
                text = "-A " + text.dropFirst(3)
            }
        } else if text.hasPrefix("-w "), deleting {
            text = "-W " + text.dropFirst(3)
        }
        return text
    }
}

/// The state of one load: what was done so far, so it can be undone.
private struct LoadSession<Kernel: AuditRuleKernel> {
    let kernel: Kernel
    /// The status read before anything was sent.
    let initialStatus: AuditStatus
    /// The rules loaded before anything was sent.
    let snapshot: [[UInt8]]
    let host: AuditMachine
    /// The status as the loader last set it.
    var current: AuditStatus
    /// Status fields the loader changed.
    var touched: AuditStatusMask = []
    var added = 0
    var deleted = 0
    var settingChanges: [String] = []
    /// Commands sent that cannot be undone.
    var irreversibleDone: [(location: RuleLocation, text: String)] = []

    init(kernel: Kernel, status: AuditStatus, snapshot: [[UInt8]], host: AuditMachine) {
        self.kernel = kernel
        self.initialStatus = status
        self.current = status
        self.snapshot = snapshot
        self.host = host
    }

    mutating func execute(_ command: RuleCommand) throws(RuleLoadIssue) {
        let text = RuleLoader.commandText(command.kind, host: host)
        func encode(_ rule: AuditRule) throws(RuleLoadIssue) -> [UInt8] {
            do {
                return try rule.encoded()
            } catch {
                throw RuleLoadIssue(location: command.location, message: "\(text): cannot be encoded: \(error)")
            }
        }
        func fail(_ error: AuditNetlinkError, _ hint: String = "") -> RuleLoadIssue {
            RuleLoadIssue(
                location: command.location, message: describe(error, text, hint),
                errno: error.errno == 0 ? nil : error.errno)
        }
        switch command.kind {
        case .addRule(let rule):
            let blob = try encode(rule)
            do {
                try kernel.addRule(blob)
            } catch {
                throw fail(error, addHint(error.errno, rule))
            }
            added += 1
        case .deleteRule(let rule):
            let blob = try encode(rule)
            do {
                try kernel.deleteRule(blob)
            } catch {
                throw fail(error, error.errno == ENOENT ? "no such rule is loaded" : "")
            }
            deleted += 1
        case .deleteAllRules(let key):
            let rules: [[UInt8]]
            do {
                rules = try kernel.listRules()
            } catch {
                throw fail(error)
            }
            for blob in rules {
                if let key {
                    let rule: AuditRule
                    do {
                        rule = try AuditRule(kernelBlob: blob)
                    } catch {
                        throw RuleLoadIssue(
                            location: command.location,
                            message: "\(text): a rule listed by the kernel does not decode: \(error)")
                    }
                    if !rule.matchesKeyFilter(key) { continue }
                }
                do {
                    try kernel.deleteRule(blob)
                } catch {
                    throw fail(error)
                }
                deleted += 1
            }
        case .setEnabled(let value):
            guard let state = AuditEnabledState(rawValue: value) else {
                throw RuleLoadIssue(location: command.location, message: "\(text): enabled must be 0, 1 or 2")
            }
            try setStatus(AuditStatus(mask: .enabled, enabled: state), command, text) { status, old in
                let previous = status.enabled.rawValue
                status.enabled = state
                return "enabled \(previous) -> \(value)"
            }
        case .setFailureMode(let value):
            guard let mode = AuditFailureMode(rawValue: value) else {
                throw RuleLoadIssue(location: command.location, message: "\(text): failure must be 0, 1 or 2")
            }
            try setStatus(AuditStatus(mask: .failure, failure: mode), command, text) { status, _ in
                let previous = status.failure.rawValue
                status.failure = mode
                return "failure \(previous) -> \(value)"
            }
        case .setBacklogLimit(let value):
            try setStatus(AuditStatus(mask: .backlogLimit, backlogLimit: value), command, text) { status, _ in
                defer { status.backlogLimit = value }
                return "backlog_limit \(status.backlogLimit) -> \(value)"
            }
        case .setRateLimit(let value):
            try setStatus(AuditStatus(mask: .rateLimit, rateLimit: value), command, text) { status, _ in
                defer { status.rateLimit = value }
                return "rate_limit \(status.rateLimit) -> \(value)"
            }
        case .setBacklogWaitTime(let value):
            try setStatus(AuditStatus(mask: .backlogWaitTime, backlogWaitTime: value), command, text) { status, _ in
                defer { status.backlogWaitTime = value }
                return "backlog_wait_time \(status.backlogWaitTime) -> \(value)"
            }
        case .resetLostCounter:
            try setStatus(AuditStatus(mask: .lost), command, text) { _, old in
                "lost reset (was \(UInt32(bitPattern: old)))"
            }
        case .resetBacklogWaitTimeActual:
            try setStatus(AuditStatus(mask: .backlogWaitTimeActual), command, text) { _, old in
                "backlog_wait_time_actual reset (was \(UInt32(bitPattern: old)))"
            }
        case .setLoginUIDImmutable:
            do {
                try kernel.setFeature(.loginUIDImmutable, enabled: true, lock: true)
            } catch {
                throw fail(error, "the feature may already be locked the other way, or the kernel predates it (3.13)")
            }
            settingChanges.append("loginuid_immutable 1 (locked)")
        case .ignoreErrors, .continueOnErrors:
            break
        case .makeEquivalent, .trimSubtrees:
            throw RuleLoadIssue(location: command.location, message: "\(text) is not supported by swift-audit's loader")
        }
        if RuleLoader.isIrreversible(command.kind) {
            irreversibleDone.append((command.location, text))
        }
    }

    /// Sends one `AUDIT_SET`, records the change, and marks the field for rollback.
    private mutating func setStatus(
        _ request: AuditStatus, _ command: RuleCommand, _ text: String,
        record: (inout AuditStatus, Int32) -> String
    ) throws(RuleLoadIssue) {
        let answer: Int32
        do {
            answer = try kernel.set(request)
        } catch {
            throw RuleLoadIssue(
                location: command.location, message: describe(error, text, ""),
                errno: error.errno == 0 ? nil : error.errno)
        }
        settingChanges.append(record(&current, answer))
        touched.formUnion(request.mask.intersection([.enabled, .failure, .rateLimit, .backlogLimit, .backlogWaitTime]))
    }

    private func describe(_ error: AuditNetlinkError, _ text: String, _ hint: String) -> String {
        guard error.kind == .kernelRejected else { return "\(text): \(error)" }
        var message = "the kernel refused \(text): \(Errno(rawValue: error.errno))"
        let extra = hint.isEmpty ? genericHint(error.errno) : hint
        if !extra.isEmpty { message += "; " + extra }
        return message
    }

    private func genericHint(_ code: Int32) -> String { RuleLoader.genericHint(code) }

    private func addHint(_ code: Int32, _ rule: AuditRule) -> String { RuleLoader.addHint(code, rule) }

    // MARK: Rollback

    /// Puts back the rules and the settings found at the start; returns what could not be put back.
    mutating func rollback() -> [RuleLoadIssue] {
        var problems = RuleRestorer.restore(snapshot, in: kernel).map {
            RuleLoadIssue(location: nil, message: "undoing the load: " + $0)
        }
        let before = initialStatus
        for field in [AuditStatusMask.enabled, .failure, .rateLimit, .backlogLimit, .backlogWaitTime]
        where touched.contains(field) {
            var request = before
            request.mask = field
            if field == .enabled, before.enabled == .locked { continue }
            do {
                try kernel.set(request)
            } catch {
                problems.append(
                    RuleLoadIssue(location: nil, message: "undoing the load: cannot restore a setting: \(error)"))
            }
        }
        added = 0
        deleted = 0
        settingChanges = []
        return problems
    }
}

/// Brings a kernel's rule list back to an earlier listing, in the same order.
enum RuleRestorer {
    /// The filter list of a kernel blob (the `flags` word without `AUDIT_FILTER_PREPEND`).
    static func list(of blob: [UInt8]) -> UInt32 {
        guard blob.count >= 4 else { return .max }
        let flags = UInt32(blob[0]) | UInt32(blob[1]) << 8 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 24
        return flags & ~UInt32(0x10)
    }

    /// Makes the kernel's rules equal to `snapshot` (blob for blob, in order), touching as few rules
    /// as it can: rules added since are deleted; on each filter list, the rules after the first
    /// one out of place are deleted and the snapshot's re-added in order (the kernel appends, so
    /// this restores the order). Returns the problems met; empty when the kernel lists exactly
    /// `snapshot` afterwards.
    static func restore(_ snapshot: [[UInt8]], in kernel: some AuditRuleKernel) -> [String] {
        var problems: [String] = []
        let current: [[UInt8]]
        do {
            current = try kernel.listRules()
        } catch {
            return ["cannot list the rules: \(error)"]
        }
        if current == snapshot { return [] }
        let wanted = Set(snapshot)
        for blob in current where !wanted.contains(blob) {
            do { try kernel.deleteRule(blob) } catch { problems.append("cannot delete a rule it added: \(error)") }
        }
        let remaining = current.filter { wanted.contains($0) }
        let lists = Set(snapshot.map(list(of:))).union(remaining.map(list(of:))).sorted()
        for filter in lists {
            let before = snapshot.filter { list(of: $0) == filter }
            let now = remaining.filter { list(of: $0) == filter }
            var common = 0
            while common < before.count, common < now.count, before[common] == now[common] { common += 1 }
            for blob in now[common...] {
                do { try kernel.deleteRule(blob) } catch {
                    problems.append("cannot delete a rule to reorder: \(error)")
                }
            }
            for blob in before[common...] {
                do { try kernel.addRule(blob) } catch { problems.append("cannot re-add a rule it deleted: \(error)") }
            }
        }
        do {
            let after = try kernel.listRules()
            if after != snapshot {
                problems.append(
                    "the kernel lists \(after.count) rules afterwards, not the \(snapshot.count) it had before")
            }
        } catch {
            problems.append("cannot list the rules afterwards: \(error)")
        }
        return problems
    }
}
