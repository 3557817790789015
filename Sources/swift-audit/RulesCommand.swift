import ArgumentParser
import AuditConfig
import AuditDaemon
import AuditNetlink
import AuditRules
import AuditSystem
internal import Glibc

/// `swift-audit rules`: audit rules in auditctl syntax, checked, loaded, listed and deleted without
/// auditctl.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, load, list and delete audit rules written in auditctl syntax (no auditctl needed).",
        discussion: """
            Rule files use the audit.rules syntax of `auditctl -R`: one command per line (-a, -A, -d, \
            -w, -W, -D, -b, -r, -f, -e, --backlog_wait_time, --reset-lost, --loginuid-immutable, -i, -c), \
            `#` comments. Files edited on Windows are read as meant: a line may end in CR LF, and a \
            UTF-8 byte-order mark at the start is skipped with a warning (the configuration file \
            follows the same rule). A directory argument stands for its *.rules files in byte order, as \
            augenrules reads /etc/audit/rules.d (but the lines are applied as written: augenrules \
            would move -D first and -e last).

            Exit codes:
              0  done
              1  the kernel refused (the load was rolled back), or the audit configuration is locked
              4  a privilege is missing (CAP_AUDIT_CONTROL: run as root)
              6  a rules file is invalid or unreadable (nothing was applied)

            Examples:
              swift-audit rules check /etc/audit/rules.d
              swift-audit rules load /etc/audit/rules.d/*.rules
              swift-audit rules list -k identity
              swift-audit rules delete-all -k identity
            """,
        subcommands: [
            RulesCheckCommand.self, RulesLoadCommand.self, RulesListCommand.self, RulesDeleteAllCommand.self,
        ]
    )
}

/// `swift-audit rules check`: parse only.
struct RulesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check rules files without touching the kernel; report every error with file:line:column.",
        discussion: """
            Every file is parsed completely, and every error is printed as \
            `file:line:column: message; expected …` on standard error, followed by the warnings. \
            Beyond syntax, the check reports what `rules load` would refuse: a command after `-e 2`, \
            `-q` and `-t`, and what the kernel is sure to refuse, so that `rules load` would roll \
            back: the same rule added twice (EEXIST), a watch or exe= whose directory, or a dir= \
            that, does not exist (ENOENT; not with --machine). It warns about `-f 2` (panic) and `-e 2` (lock), which `rules load` \
            sends only with --confirm-panic/--confirm-lock and the daemon only with \
            confirm_panic/confirm_lock = yes. User and group names are resolved from /etc/passwd and /etc/group, and \
            `-w` paths are looked up (an existing directory becomes a directory watch), as auditctl \
            does on the machine that loads the rules. Files must be owned by root (or you) and not \
            world-writable, as the daemon requires.

            Exits 0 when every file is valid, 6 otherwise. Needs no privilege.

            Examples:
              swift-audit rules check /etc/audit/audit.rules
              swift-audit rules check /etc/audit/rules.d
              swift-audit rules check --machine aarch64 stig.rules
            """
    )

    @Option(
        help: ArgumentHelp(
            "Check for another machine: names the syscall table used for rules without -F arch (x86_64, i386, aarch64, arm, …). Default: this machine.",
            valueName: "name"))
    var machine: String?

    @Argument(help: ArgumentHelp("Rules files, or directories of *.rules files.", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one rules file or directory") }
        if let machine, AuditMachine(name: machine) == nil {
            throw ValidationError(
                "--machine \(machine): unknown machine; expected x86_64, i386, aarch64, arm, ppc64le, s390x…")
        }
    }

    func run() throws {
        guard var environment = RuleEnvironment.system() ?? machine.flatMap(environmentFor(machine:)) else {
            printError("swift-audit: this machine's architecture has no syscall table; pass --machine")
            throw ExitCode.failure
        }
        if let machine, let chosen = AuditMachine(name: machine) {
            environment.machine = chosen
            // Another machine's files are not here: its watch and exe= paths cannot be looked up.
            environment.pathExists = nil
        }
        let sources = try readRuleSources(files)
        let plan = RuleLoader(environment: environment, options: .init(sensitiveCommands: .check)).plan(sources)
        // What the kernel is sure to refuse is an error here: `rules load` would roll back.
        let errors = plan.errors + plan.kernelRefusals
        for error in errors { printError(error.description) }
        for warning in plan.warnings { printError(warning.description) }
        let fileCount = "\(sources.count) file\(sources.count == 1 ? "" : "s")"
        if errors.isEmpty {
            print("\(fileCount), \(plan.ruleCount) rule\(plan.ruleCount == 1 ? "" : "s"): no errors")
        } else {
            printError("swift-audit: \(errors.count) error\(errors.count == 1 ? "" : "s") in \(fileCount)")
            throw ExitCode.configuration
        }
    }

    private func environmentFor(machine name: String) -> RuleEnvironment? {
        guard let machine = AuditMachine(name: name) else { return nil }
        return RuleEnvironment(machine: machine, accounts: .system(), isDirectory: { _ in false })
    }
}

/// `swift-audit rules load`: apply rules files, all or nothing.
struct RulesLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load rules files into the kernel, all or nothing (like `auditctl -R`, but transactional).",
        discussion: """
            Every file is parsed first: one error anywhere and nothing is applied (exit 6). Then the \
            kernel's status and rules are read: a configuration locked by `-e 2` is refused \
            (exit 1). The commands are applied in file order; if the kernel rejects one (a \
            duplicate rule: EEXIST; a field it does not support: EINVAL; a watch whose directory is \
            missing: ENOENT), its file:line and the errno are printed and everything already applied \
            is undone: the rules and settings are as before (exit 1).

            As in auditctl, after a `-c` line a rejected command is skipped and the load ends with \
            exit 1, and after `-i` it is skipped and the load still succeeds. Commands that cannot \
            be undone are sent last, after everything else succeeded: --reset-lost, \
            --loginuid-immutable (set and locked until reboot, as auditctl does) and `-e 2`, which \
            must be the last line of the last file. `-f 2` and `-e 2` are refused (exit 6, nothing \
            sent) unless confirmed with --confirm-panic and --confirm-lock, as `swift-audit set` asks.

            Needs CAP_AUDIT_CONTROL (root). Rules files must be owned by root and not world-writable.

            Examples:
              swift-audit rules load /etc/audit/audit.rules
              swift-audit rules load /etc/audit/rules.d
              swift-audit rules load --skip-locking production.rules   # try a rule set that ends with -e 2
              swift-audit rules load --confirm-lock production.rules   # and load it for real, locked
            """
    )

    @Flag(
        help:
            "Skip `-e 2` (locks the configuration until reboot), `--loginuid-immutable` (locked until reboot) and `-f 2` (panic when a record is lost); each skipped line is listed. To try a production rule set on a test machine."
    )
    var skipLocking = false

    @Flag(
        help:
            "Send `-f 2` (the kernel panics, halting the machine, when it loses a record); without this flag a file with it is refused, as `swift-audit set --failure panic` is."
    )
    var confirmPanic = false

    @Flag(
        help:
            "Send `-e 2` (every rule and setting locked until reboot); without this flag a file with it is refused, as `swift-audit set --enabled 2` is."
    )
    var confirmLock = false

    @Argument(
        help: ArgumentHelp(
            "Rules files, or directories of *.rules files, applied in the order given.", valueName: "file"))
    var files: [String] = []

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one rules file or directory") }
    }

    func run() throws {
        guard let environment = RuleEnvironment.system() else {
            printError("swift-audit: this machine's architecture has no syscall table; rules cannot be loaded here")
            throw ExitCode.failure
        }
        let sources = try readRuleSources(files)
        let loader = RuleLoader(
            environment: environment,
            options: .init(
                sensitiveCommands: skipLocking ? .skip : .apply, confirmPanic: confirmPanic, confirmLock: confirmLock))
        let plan = loader.plan(sources)
        for warning in plan.warnings { printError(warning.description) }
        guard plan.isValid else {
            for error in plan.errors { printError(error.description) }
            printError(
                "swift-audit: \(plan.errors.count) error\(plan.errors.count == 1 ? "" : "s"); nothing was applied")
            throw ExitCode.configuration
        }
        let client: AuditClient
        do {
            client = try AuditClient()
        } catch {
            throw reportedExitCode(error)
        }
        let report = loader.apply(plan, to: client)
        for skipped in report.skipped { printIssue(skipped) }
        for ignored in report.ignored { printIssue(ignored, suffix: " (ignored after -i)") }
        for error in report.errors { printIssue(error) }
        switch report.outcome {
        case .applied:
            print("loaded \(sources.count) file\(sources.count == 1 ? "" : "s"): \(report.summary)")
        case .appliedWithErrors:
            printError("swift-audit: loaded with errors (-c): \(report.summary)")
            throw ExitCode.failure
        case .rolledBack:
            printError("swift-audit: nothing was applied: the kernel's rules and settings were restored")
            throw ExitCode.failure
        case .rollbackIncomplete:
            printError("swift-audit: the load failed and could not be fully undone; check `swift-audit rules list`")
            throw ExitCode.failure
        case .notApplied:
            throw failureExitCode(report)
        }
    }
}

/// `swift-audit rules list`: the kernel's rules as `auditctl -l` prints them.
struct RulesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the kernel's rules exactly as `auditctl -l` prints them.",
        discussion: """
            One rule per line in auditctl syntax, byte for byte what `auditctl -l` prints for the \
            same rules, and `No rules` when the kernel has none (with -k, a key that matches \
            nothing prints nothing, as auditctl does). The output can be loaded again with \
            `swift-audit rules load`. Needs CAP_AUDIT_CONTROL (root).

            Examples:
              swift-audit rules list
              swift-audit rules list -k privileged   # rules whose key contains "privileged"
            """
    )

    @Option(
        name: [.customShort("k"), .long], help: "Only the rules whose key contains this text (as `auditctl -l -k`).")
    var key: String?

    func run() throws {
        guard let machine = RuleEnvironment.hostMachine() else {
            printError("swift-audit: this machine's architecture has no syscall table; cannot name the syscalls")
            throw ExitCode.failure
        }
        let blobs: [[UInt8]]
        do {
            blobs = try AuditClient().listRules()
        } catch {
            throw reportedExitCode(error)
        }
        var output: [UInt8] = []
        var undecodable = 0
        for (index, blob) in blobs.enumerated() {
            do {
                let rule = try AuditRule(kernelBlob: blob)
                if let key, !rule.matchesKeyFilter(key) { continue }
                output.append(contentsOf: rule.auditctlListingBytes(host: machine))
                output.append(UInt8(ascii: "\n"))
            } catch {
                printError("swift-audit: rule \(index + 1) from the kernel does not decode: \(error)")
                undecodable += 1
            }
        }
        // auditctl prints "No rules" only when the kernel has none: a key that matches nothing prints nothing.
        if blobs.isEmpty { output.append(contentsOf: "No rules\n".utf8) }
        writeStandardOutput(output)
        if undecodable > 0 { throw ExitCode.failure }
    }
}

/// `swift-audit rules delete-all`: `auditctl -D`, undone if it fails half-way.
struct RulesDeleteAllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-all",
        abstract: "Delete every rule, or those whose key contains -k KEY (like `auditctl -D`).",
        discussion: """
            Refused when the configuration is locked (`-e 2`). If the kernel refuses one deletion, the \
            rules already deleted are put back. Needs CAP_AUDIT_CONTROL (root).

            Examples:
              swift-audit rules delete-all
              swift-audit rules delete-all -k identity
            """
    )

    @Option(
        name: [.customShort("k"), .long], help: "Only the rules whose key contains this text (as `auditctl -D -k`).")
    var key: String?

    func run() throws {
        guard let environment = RuleEnvironment.system() else {
            printError("swift-audit: this machine's architecture has no syscall table")
            throw ExitCode.failure
        }
        let client: AuditClient
        do {
            client = try AuditClient()
        } catch {
            throw reportedExitCode(error)
        }
        let command = RuleCommand(
            location: RuleLocation(file: "<command line>", line: 1, column: 1), kind: .deleteAllRules(key: key))
        let report = RuleLoader(environment: environment).apply(
            RuleLoadPlan(sources: ["<command line>"], commands: [command]), to: client)
        for error in report.errors { printError("swift-audit: \(error.message)") }
        guard report.succeeded else { throw failureExitCode(report) }
        print("deleted \(report.deleted) rule\(report.deleted == 1 ? "" : "s")")
    }
}

// MARK: - Reporting

/// Prints a load problem: `file:line:column: message` like a compiler, or `swift-audit: message`
/// for problems of the whole load.
func printIssue(_ issue: RuleLoadIssue, suffix: String = "") {
    if issue.location != nil {
        printError(issue.description + suffix)
    } else {
        printError("swift-audit: " + issue.message + suffix)
    }
}

/// 4 when the kernel refused for lack of privilege (EPERM without root), 1 otherwise.
func failureExitCode(_ report: RuleLoadReport) -> ExitCode {
    if geteuid() != 0, report.errors.contains(where: { $0.errno == EPERM }) { return ExitCode.privilege }
    return ExitCode.failure
}

// MARK: - Reading rules files

/// Reads rules files and directories of `*.rules` (byte order) with the daemon's ownership checks;
/// prints every problem and exits 6 if any file cannot be used.
func readRuleSources(_ paths: [String]) throws -> [RuleSource] {
    let reading = RuleFiles.read(paths)
    for warning in reading.warnings { printError("\(warning)") }
    for problem in reading.problems { printError(problem) }
    if !reading.problems.isEmpty { throw ExitCode.configuration }
    return reading.sources
}

/// Writes bytes to standard output unchanged (rule paths and keys need not be UTF-8).
func writeStandardOutput(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in _ = SystemCall.writeAll(1, buffer) }
}
