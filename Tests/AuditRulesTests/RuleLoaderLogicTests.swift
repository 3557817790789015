import AuditNetlink
import AuditRules
import Glibc
import Testing

/// A kernel in memory with the behaviour the loader relies on: rules kept per filter list in
/// order, EEXIST for a duplicate, ENOENT for a missing rule, `-A` at the head of its list, EPERM
/// for everything once locked. Every request is logged, so tests see what was sent and in which
/// order. Nothing here touches the machine.
final class FakeAuditKernel: AuditRuleKernel {
    var rules: [[UInt8]] = []
    var state = AuditStatus(enabled: .disabled, failure: .printk, backlogLimit: 64, lost: 7, backlogWaitTime: 15000)
    var loginUIDImmutable = (enabled: false, locked: false)
    var log: [String] = []
    /// An errno to answer for adding a blob (an EINVAL the parser could not foresee).
    var rejectAdd: ([UInt8]) -> Int32? = { _ in nil }
    /// An errno to answer for every deletion (to break the rollback).
    var deleteFailure: Int32?
    /// An errno to answer for AUDIT_GET (kernel unreachable).
    var statusFailure: Int32?

    static func list(of blob: [UInt8]) -> UInt32 { UInt32(blob[0]) & 0x0F }

    func status() throws(AuditNetlinkError) -> AuditStatus {
        if let statusFailure { throw AuditNetlinkError(.kernelRejected, errno: statusFailure, operation: "AUDIT_GET") }
        return state
    }

    func listRules() throws(AuditNetlinkError) -> [[UInt8]] {
        // The kernel lists list by list (user, task, entry, watch, exit, exclude, filesystem, io_uring).
        rules.enumerated().sorted { (Self.list(of: $0.element), $0.offset) < (Self.list(of: $1.element), $1.offset) }
            .map(\.element)
    }

    func addRule(_ rule: [UInt8]) throws(AuditNetlinkError) {
        log.append("add \(try! AuditRule(kernelBlob: rule).keys.joined(separator: ","))")
        if state.enabled == .locked {
            throw AuditNetlinkError(.kernelRejected, errno: EPERM, operation: "AUDIT_ADD_RULE")
        }
        if let errno = rejectAdd(rule) {
            throw AuditNetlinkError(.kernelRejected, errno: errno, operation: "AUDIT_ADD_RULE")
        }
        var stored = rule
        let prepend = stored[0] & 0x10 != 0
        stored[0] &= ~0x10
        if rules.contains(stored) {
            throw AuditNetlinkError(.kernelRejected, errno: EEXIST, operation: "AUDIT_ADD_RULE")
        }
        if prepend, let first = rules.firstIndex(where: { Self.list(of: $0) == Self.list(of: stored) }) {
            rules.insert(stored, at: first)
        } else {
            rules.append(stored)
        }
    }

    func deleteRule(_ rule: [UInt8]) throws(AuditNetlinkError) {
        log.append("delete \(try! AuditRule(kernelBlob: rule).keys.joined(separator: ","))")
        if state.enabled == .locked {
            throw AuditNetlinkError(.kernelRejected, errno: EPERM, operation: "AUDIT_DEL_RULE")
        }
        if let deleteFailure {
            throw AuditNetlinkError(.kernelRejected, errno: deleteFailure, operation: "AUDIT_DEL_RULE")
        }
        var stored = rule
        stored[0] &= ~0x10
        guard let index = rules.firstIndex(of: stored) else {
            throw AuditNetlinkError(.kernelRejected, errno: ENOENT, operation: "AUDIT_DEL_RULE")
        }
        rules.remove(at: index)
    }

    func set(_ request: AuditStatus) throws(AuditNetlinkError) -> Int32 {
        if state.enabled == .locked { throw AuditNetlinkError(.kernelRejected, errno: EPERM, operation: "AUDIT_SET") }
        var answer: Int32 = 0
        let mask = request.mask
        if mask.contains(.enabled) {
            state.enabled = request.enabled; log.append("set enabled=\(request.enabled.rawValue)")
        }
        if mask.contains(.failure) {
            state.failure = request.failure; log.append("set failure=\(request.failure.rawValue)")
        }
        if mask.contains(.rateLimit) {
            state.rateLimit = request.rateLimit; log.append("set rate_limit=\(request.rateLimit)")
        }
        if mask.contains(.backlogLimit) {
            state.backlogLimit = request.backlogLimit
            log.append("set backlog_limit=\(request.backlogLimit)")
        }
        if mask.contains(.backlogWaitTime) {
            state.backlogWaitTime = request.backlogWaitTime
            log.append("set backlog_wait_time=\(request.backlogWaitTime)")
        }
        if mask.contains(.lost) {
            answer = Int32(bitPattern: state.lost)
            state.lost = 0
            log.append("reset lost")
        }
        if mask.contains(.backlogWaitTimeActual) { log.append("reset backlog_wait_time_actual") }
        return answer
    }

    func setFeature(_ feature: AuditFeatures.Feature, enabled: Bool, lock: Bool) throws(AuditNetlinkError) {
        log.append("feature \(feature.rawValue) enabled=\(enabled) lock=\(lock)")
        if loginUIDImmutable.locked {
            throw AuditNetlinkError(.kernelRejected, errno: EPERM, operation: "AUDIT_SET_FEATURE")
        }
        loginUIDImmutable = (enabled, lock)
    }

    /// Loads rules as a starting state (not logged).
    func preload(_ text: String, environment: RuleEnvironment) {
        let file = RuleFile(parsing: text, name: "preload", environment: environment)
        #expect(file.errors.isEmpty, "\(file.errors)")
        for command in file.commands {
            if case .addRule(let rule) = command.kind { try? addRule(try rule.encoded()) }
        }
        log = []
    }
}

/// The loader's decisions, on a kernel in memory: refusing, ordering, rolling back.
@Suite struct RuleLoaderLogicTests {
    static let environment = RuleEnvironment(
        machine: .x86_64,
        accounts: AccountDatabase(users: ["root": 0, "daemon": 1], groups: ["root": 0]),
        isDirectory: { $0 == "/etc" })

    static let existing = """
        -a always,exit -F arch=b64 -S chmod -k e1
        -a never,exclude -F msgtype=CWD
        -a always,exit -F arch=b64 -S chown -k e2
        -w /etc/passwd -p wa -k e-watch
        -a always,exit -F arch=b64 -S fchmod -k e-three
        """

    func load(_ text: String, into kernel: FakeAuditKernel, policy: RuleLoader.SensitiveCommandPolicy = .apply)
        -> RuleLoadReport
    {
        RuleLoader(
            environment: Self.environment,
            options: .init(sensitiveCommands: policy, confirmPanic: true, confirmLock: true)
        )
        .load([RuleSource(name: "test.rules", text: text)], into: kernel)
    }

    // MARK: Locked kernel

    @Test func aLockedKernelIsRefusedBeforeAnythingIsSent() {
        let kernel = FakeAuditKernel()
        kernel.preload(Self.existing, environment: Self.environment)
        kernel.state.enabled = .locked
        let before = kernel.rules
        let report = load("-D\n-b 100\n-a always,exit -F arch=b64 -S getpid -k new\n", into: kernel)
        #expect(report.outcome == .notApplied)
        #expect(report.errors.count == 1)
        #expect(report.errors[0].location == nil)
        #expect(report.errors[0].errno == EPERM)
        #expect(report.errors[0].message.contains("locked (enabled 2"))
        #expect(report.errors[0].message.contains("until reboot"))
        #expect(kernel.log.isEmpty, "nothing may be sent to a locked kernel: \(kernel.log)")
        #expect(kernel.rules == before)
    }

    @Test(arguments: [
        (AuditEnabledState.locked, "-a always,exit -F arch=b64 -S getpid", true),
        (.locked, "-b 100", true),
        (.locked, "-D", true),
        (.locked, "# only a comment\n-i", false),
        (.enabled, "-a always,exit -F arch=b64 -S getpid", false),
        (.disabled, "-e 2", false),
    ])
    func refusalDependsOnTheLockAndOnWhetherTheFilesChangeAnything(
        enabled: AuditEnabledState, text: String, refused: Bool
    ) {
        let plan = RuleLoader(environment: Self.environment, options: .init(confirmLock: true)).plan([
            RuleSource(name: "t.rules", text: text)
        ])
        #expect(plan.isValid)
        let refusal = RuleLoader.refusal(status: AuditStatus(enabled: enabled), plan: plan)
        #expect((refusal != nil) == refused)
    }

    // MARK: Planning

    @Test func parseErrorsInAnyFileApplyNothingAndAreAllReported() {
        let kernel = FakeAuditKernel()
        let report = RuleLoader(environment: Self.environment).load(
            [
                RuleSource(name: "a.rules", text: "-b 100\n-a always,exit -F arch=b64 -S nosuchcall\n"),
                RuleSource(name: "b.rules", text: "-a always,exit -F arch=b64 -S getpid\n-w relative -p wa\n"),
            ], into: kernel)
        #expect(report.outcome == .notApplied)
        #expect(report.errors.map { "\($0.location!.file):\($0.location!.line)" } == ["a.rules:2", "b.rules:2"])
        #expect(kernel.log.isEmpty)
    }

    @Test func eTwoMustBeTheLastCommandOfTheLastFile() {
        let loader = RuleLoader(environment: Self.environment, options: .init(confirmLock: true))
        let misplaced = loader.plan([
            RuleSource(name: "99-finalize.rules", text: "-e 2\n"),
            RuleSource(name: "99-zz.rules", text: "-a always,exit -F arch=b64 -S getpid\n"),
        ])
        #expect(misplaced.errors.count == 1)
        #expect(misplaced.errors.first?.location == RuleLocation(file: "99-finalize.rules", line: 1, column: 1))
        #expect(misplaced.errors.first?.message.contains("99-zz.rules:1:1 follows it") == true)

        let last = loader.plan([
            RuleSource(name: "10.rules", text: "-a always,exit -F arch=b64 -S getpid\n"),
            RuleSource(name: "99.rules", text: "## lock\n-e 2\n\n# done\n"),
        ])
        #expect(last.isValid)
    }

    /// What the kernel is sure to refuse, found without asking it, in the words `rules load` uses
    /// when the kernel does: the same rule added twice (EEXIST, also across files and until a `-D`
    /// or `-d` removes the first), a watch whose parent directory is missing, a `dir=` whose
    /// directory is, an `exe=` whose directory is (ENOENT). After `-i` the load would skip them:
    /// warnings. They do not make the plan invalid: `rules load` lets the kernel decide and rolls back.
    @Test func thePlanNamesWhatTheKernelIsSureToRefuse() {
        var environment = Self.environment
        environment.pathExists = { ["/", "/etc", "/etc/passwd", "/usr/bin"].contains($0) }
        environment.isDirectory = { ["/", "/etc", "/usr/bin"].contains($0) }
        let text = """
            -a always,exit -F arch=b64 -S getpid -k one
            -w /etc/passwd -p wa -k identity
            -a always,exit -F arch=b64 -S getpid -k one
            -w /nonexistent/dir/file -p wa -k missing
            -a always,exit -F dir=/srv/missing -F perm=w -k tree
            -a always,exit -F arch=b64 -S execve -F exe=/opt/missing/tool -k tool
            -a always,exit -F arch=b64 -S execve -F exe=/usr/bin/not-installed-yet -k fine
            -D
            -a always,exit -F arch=b64 -S getpid -k one
            -d always,exit -F arch=b64 -S getpid -k one
            -a always,exit -F arch=b64 -S getpid -k one
            -i
            -w /etc/passwd -p wa -k identity
            -w /etc/passwd -p wa -k identity
            """
        let plan = RuleLoader(environment: environment).plan([
            RuleSource(name: "t.rules", text: text),
            RuleSource(name: "u.rules", text: "-w /etc/passwd -p wa -k identity\n"),
        ])
        #expect(plan.isValid, "\(plan.errors)")
        #expect(plan.kernelRefusals.map(\.location.line) == [3, 4, 5, 6])
        #expect(
            plan.kernelRefusals.first?.description
                == "t.rules:3:1: the kernel will refuse -a always,exit -F arch=b64 -S getpid -F key=one: EEXIST (File exists); "
                + "an identical rule is already loaded (by t.rules:1:1; start the rules with -D to replace them)")
        #expect(
            plan.kernelRefusals[1].description.hasPrefix(
                "t.rules:4:1: the kernel will refuse -w /nonexistent/dir/file -p wa -k missing: ENOENT (No such file or directory); "
                    + "a directory of the watched path does not exist"), "\(plan.kernelRefusals[1])")
        #expect(plan.kernelRefusals[1].message.contains("/nonexistent/dir does not exist"))
        #expect(plan.kernelRefusals[2].message.contains("/srv/missing does not exist"))
        #expect(plan.kernelRefusals[3].message.contains("/opt/missing does not exist"))
        // After -i: skipped by the load, so a warning (the second line 14 duplicates line 13, and
        // u.rules's watch duplicates it too).
        let ignored = plan.warnings.filter { $0.message.contains("the kernel will refuse") }
        #expect(ignored.map(\.location.description) == ["t.rules:14:1", "u.rules:1:1"], "\(plan.warnings)")
        #expect(ignored.first?.message.hasSuffix("(skipped after -i)") == true)

        // Paths are only checked where the environment can look them up (not for another machine).
        environment.pathExists = nil
        let elsewhere = RuleLoader(environment: environment).plan([RuleSource(name: "t.rules", text: text)])
        #expect(elsewhere.kernelRefusals.map(\.location.line) == [3])
    }

    @Test func makeEquivalentAndTrimAreRefusedWhilePlanning() {
        let plan = RuleLoader(environment: Self.environment).plan([
            RuleSource(name: "q.rules", text: "-q /mnt,/data\n-t\n")
        ])
        #expect(plan.errors.map(\.location.line) == [1, 2])
        #expect(plan.errors.allSatisfy { $0.message.contains("not supported") })
    }

    // MARK: Order of what is sent

    @Test func commandsThatCannotBeUndoneAreSentLastAndELast() {
        let kernel = FakeAuditKernel()
        let report = load(
            """
            --loginuid-immutable
            --reset-lost
            -a always,exit -F arch=b64 -S getpid -k one
            -b 8192
            -a always,exit -F arch=b64 -S getppid -k two
            -e 2
            """, into: kernel)
        #expect(report.outcome == .applied, "\(report.errors)")
        #expect(
            kernel.log == [
                "add one", "set backlog_limit=8192", "add two", "feature 2 enabled=true lock=true", "reset lost",
                "set enabled=2",
            ])
        #expect(kernel.log.last == "set enabled=2")
        #expect(kernel.log.firstIndex(of: "feature 2 enabled=true lock=true")! > kernel.log.firstIndex(of: "add two")!)
        #expect(report.settings.contains("lost reset (was 7)"))
        #expect(report.settings.contains("loginuid_immutable 1 (locked)"))
        #expect(report.settings.contains("enabled 0 -> 2"))
        #expect(kernel.state.enabled == .locked)
    }

    @Test func aRejectionBeforeTheLockSendsNothingIrreversible() {
        let kernel = FakeAuditKernel()
        let report = load(
            """
            --loginuid-immutable
            --reset-lost
            -a always,exit -F arch=b64 -S getpid -k one
            -a always,exit -F arch=b64 -S getpid -k one
            -e 2
            """, into: kernel)
        #expect(report.outcome == .rolledBack)
        #expect(report.errors.map(\.errno) == [EEXIST])
        #expect(report.errors.first?.location?.line == 4)
        #expect(!kernel.log.contains { $0.hasPrefix("feature") || $0 == "reset lost" || $0 == "set enabled=2" })
        #expect(kernel.state.enabled == .disabled)
        #expect(kernel.state.lost == 7)
        #expect(kernel.rules.isEmpty)
    }

    /// `-f 2` and `-e 2` are sent only with the confirmation `swift-audit set` asks for: `rules load
    /// --confirm-panic/--confirm-lock`, the daemon's `confirm_panic`/`confirm_lock = yes`. Without
    /// it nothing is sent and the error says what to add; a check warns.
    @Test func panicAndLockInRulesAreSentOnlyWhenConfirmed() {
        let sources = [
            RuleSource(name: "test.rules", text: "-f 2\n-a always,exit -F arch=b64 -S getpid -k one\n-e 2\n")
        ]
        let kernel = FakeAuditKernel()
        let refused = RuleLoader(environment: Self.environment).load(sources, into: kernel)
        #expect(refused.outcome == .notApplied)
        #expect(refused.errors.map { $0.location?.line } == [1, 3])
        #expect(refused.errors.first?.message.contains("--confirm-panic") == true, "\(refused.errors)")
        #expect(refused.errors.first?.message.contains("confirm_panic = yes") == true)
        #expect(refused.errors.last?.message.contains("--confirm-lock") == true)
        #expect(refused.errors.last?.message.contains("confirm_lock = yes") == true)
        #expect(kernel.log.isEmpty)

        let onlyPanic = RuleLoader(environment: Self.environment, options: .init(confirmPanic: true)).plan(sources)
        #expect(onlyPanic.errors.map(\.location.line) == [3])

        let checked = RuleLoader(environment: Self.environment, options: .init(sensitiveCommands: .check)).plan(
            sources)
        #expect(checked.isValid)
        #expect(checked.warnings.map(\.location.line) == [1, 3])
        #expect(checked.warnings.first?.message.contains("--confirm-panic") == true, "\(checked.warnings)")

        let confirmed = FakeAuditKernel()
        let applied = RuleLoader(
            environment: Self.environment, options: .init(confirmPanic: true, confirmLock: true)
        ).load(sources, into: confirmed)
        #expect(applied.outcome == .applied)
        #expect(confirmed.state.failure == .panic && confirmed.state.enabled == .locked)
    }

    @Test func sensitiveCommandsCanBeSkippedOrRefused() {
        let text = "-f 2\n-a always,exit -F arch=b64 -S getpid -k one\n--loginuid-immutable\n-e 2\n"
        let skipping = FakeAuditKernel()
        let skipped = load(text, into: skipping, policy: .skip)
        #expect(skipped.outcome == .applied)
        #expect(skipped.skipped.map { $0.location?.line } == [1, 3, 4])
        #expect(skipping.log == ["add one"])
        #expect(skipping.state.enabled == .disabled && skipping.state.failure == .printk)

        let refusing = FakeAuditKernel()
        let refused = load(text, into: refusing, policy: .refuse)
        #expect(refused.outcome == .notApplied)
        #expect(refused.errors.map { $0.location?.line } == [1, 3, 4])
        #expect(refusing.log.isEmpty)
    }

    // MARK: Rollback

    @Test func aRejectionAfterDeleteAllRestoresEveryRuleInOrder() {
        let kernel = FakeAuditKernel()
        kernel.preload(Self.existing, environment: Self.environment)
        let before = try! kernel.listRules()
        let report = load(
            """
            -D
            -a always,exit -F arch=b64 -S getpid -k new1
            -A always,exit -F arch=b64 -S getppid -k new2
            -a always,exit -F arch=b64 -S getpid -k new1
            """, into: kernel)
        #expect(report.outcome == .rolledBack)
        #expect(report.errors.first?.description.hasPrefix("test.rules:4:1: the kernel refused -a always,exit") == true)
        #expect(try! kernel.listRules() == before)
    }

    @Test func aDeletedRuleGoesBackToItsPlaceNotToTheEnd() {
        let kernel = FakeAuditKernel()
        kernel.preload(Self.existing, environment: Self.environment)
        let before = try! kernel.listRules()
        let report = load(
            """
            -d always,exit -F arch=b64 -S chown -k e2
            -a always,exit -F arch=b64 -S getpid -k new
            -W /etc/passwd -p wa -k e-watch
            -a always,exit -F arch=b64 -S chmod -k e1
            """, into: kernel)
        #expect(report.outcome == .rolledBack)
        #expect(try! kernel.listRules() == before)
        // Only what was out of place was touched: e1 stayed, e2 and everything after it was re-added.
        let restoring = kernel.log.drop { !$0.hasPrefix("delete new") }
        #expect(!restoring.contains("delete e1") && !restoring.contains("add e1"))
        #expect(restoring.contains("add e2"))
    }

    @Test func changedSettingsAreRestoredOnRollback() {
        let kernel = FakeAuditKernel()
        kernel.state.rateLimit = 5
        let report = load(
            """
            -b 9999
            -r 100
            --backlog_wait_time 1
            -f 0
            -e 1
            -a always,exit -F arch=b64 -S getpid -k x
            -a always,exit -F arch=b64 -S getpid -k x
            """, into: kernel)
        #expect(report.outcome == .rolledBack)
        #expect(kernel.state.backlogLimit == 64)
        #expect(kernel.state.rateLimit == 5)
        #expect(kernel.state.backlogWaitTime == 15000)
        #expect(kernel.state.failure == .printk)
        #expect(kernel.state.enabled == .disabled)
        #expect(report.settings.isEmpty)
    }

    @Test func aRollbackThatFailsSaysSo() {
        let kernel = FakeAuditKernel()
        kernel.rejectAdd = { blob in
            let keys = (try? AuditRule(kernelBlob: blob).keys) ?? []
            return keys == ["bad"] ? EINVAL : nil
        }
        let report = load(
            "-a always,exit -F arch=b64 -S getpid -k good\n-a always,exit -F arch=b64 -S getppid -k bad\n", into: kernel
        )
        #expect(report.outcome == .rolledBack)
        #expect(report.errors.first?.errno == EINVAL)
        #expect(report.errors.first?.message.contains("does not accept") == true)

        let stuck = FakeAuditKernel()
        stuck.rejectAdd = kernel.rejectAdd
        stuck.deleteFailure = EIO
        let broken = load(
            "-a always,exit -F arch=b64 -S getpid -k good\n-a always,exit -F arch=b64 -S getppid -k bad\n", into: stuck)
        #expect(broken.outcome == .rollbackIncomplete)
        #expect(broken.errors.count >= 2)
        #expect(broken.errors.dropFirst().contains { $0.location == nil && $0.message.hasPrefix("undoing the load:") })
    }

    // MARK: -c and -i

    @Test func continueSkipsTheFailedCommandAndFailsAtTheEnd() {
        let kernel = FakeAuditKernel()
        let report = load(
            """
            -a always,exit -F arch=b64 -S getpid -k one
            -c
            -a always,exit -F arch=b64 -S getpid -k one
            -d always,exit -F arch=b64 -S getppid -k missing
            -a always,exit -F arch=b64 -S getppid -k two
            """, into: kernel)
        #expect(report.outcome == .appliedWithErrors)
        #expect(report.errors.map(\.errno) == [EEXIST, ENOENT])
        #expect(report.errors.map { $0.location?.line } == [3, 4])
        #expect(report.errors[1].message.contains("no such rule is loaded"))
        #expect(report.added == 2)
        #expect(kernel.rules.count == 2)
    }

    @Test func ignoreSkipsTheFailedCommandAndSucceeds() {
        let kernel = FakeAuditKernel()
        let report = load(
            """
            -i
            -W /etc/passwd -p wa -k never-loaded
            -a always,exit -F arch=b64 -S getppid -k two
            """, into: kernel)
        #expect(report.outcome == .applied)
        #expect(report.succeeded)
        #expect(report.ignored.map(\.errno) == [ENOENT])
        #expect(
            report.ignored.first?.message.hasPrefix("the kernel refused -W /etc/passwd -p wa -k never-loaded") == true)
        #expect(report.errors.isEmpty)
        #expect(kernel.rules.count == 1)
    }

    @Test func withoutContinueOrIgnoreTheFirstRejectionRollsBack() {
        let kernel = FakeAuditKernel()
        let report = load(
            "-a always,exit -F arch=b64 -S getpid -k one\n-d always,exit -F arch=b64 -S getppid -k missing\n",
            into: kernel)
        #expect(report.outcome == .rolledBack)
        #expect(kernel.rules.isEmpty)
    }

    // MARK: Delete all

    @Test func deleteAllWithAKeyDeletesTheRulesWhoseKeyContainsIt() {
        let kernel = FakeAuditKernel()
        kernel.preload(Self.existing, environment: Self.environment)
        let report = load("-D -k e-\n", into: kernel)
        #expect(report.outcome == .applied)
        #expect(report.deleted == 2)
        #expect(try! kernel.listRules().map { try! AuditRule(kernelBlob: $0).keys } == [["e1"], ["e2"], []])
    }

    // MARK: Kernel unreachable

    @Test func aKernelThatCannotBeReadIsNotTouched() {
        let kernel = FakeAuditKernel()
        kernel.statusFailure = EIO
        let report = load("-a always,exit -F arch=b64 -S getpid -k one\n", into: kernel)
        #expect(report.outcome == .notApplied)
        #expect(report.errors.first?.message.hasPrefix("cannot read the kernel's audit state") == true)
        #expect(kernel.log.isEmpty)
    }

    @Test func theSummaryCountsWhatIsInEffect() {
        let kernel = FakeAuditKernel()
        kernel.preload(Self.existing, environment: Self.environment)
        let report = load("-D\n-b 128\n-a always,exit -F arch=b64 -S getpid -k one\n", into: kernel)
        #expect(report.summary == "applied: 1 rule added; 5 deleted; backlog_limit 64 -> 128")
    }
}
