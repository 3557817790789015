import AuditConfig
import AuditEncoding
import AuditNetlink
import AuditRules
import Logging

/// Loading the configured rules (`rules_file`, `rules_dir`) at start and on SIGHUP.
///
/// Parsing happens before anything touches the kernel: at start a rule file that does not parse
/// stops the daemon with exit 6 (like an invalid configuration: running without the intended
/// rules would be silent under-auditing); on SIGHUP it keeps the rules in force. Applying is
/// transactional (`RuleLoader`): a rule the kernel refuses rolls everything back.
enum DaemonRules {
    /// A loader and its checked plan, ready to apply.
    struct Prepared {
        var loader: RuleLoader
        var plan: RuleLoadPlan
    }

    /// Reads and checks the configured rule files; nil when none are configured. The error text
    /// lists every problem, each naming file, line and column.
    ///
    /// `-f 2` and `-e 2` are refused unless the configuration confirms them (`confirm_panic`,
    /// `confirm_lock`), as `failure = panic` and `enabled = lock` are.
    static func prepare(_ configuration: DaemonConfiguration, logger: Logger) throws(DaemonError) -> Prepared? {
        var warnings: [String] = []
        defer { for warning in warnings { logger.warning("\(warning)") } }
        return try prepare(configuration, warnings: &warnings)
    }

    /// ``prepare(_:logger:)`` with the warnings collected rather than logged, for
    /// `run --check-config` (``StartupChecks``), which runs this same code.
    static func prepare(_ configuration: DaemonConfiguration, warnings: inout [String]) throws(DaemonError)
        -> Prepared?
    {
        let paths = RuleFiles.paths(of: configuration.rules)
        guard !paths.isEmpty else { return nil }
        let reading = RuleFiles.read(paths)
        warnings += reading.warnings
        guard reading.problems.isEmpty else {
            throw DaemonError(reading.problems.joined(separator: "\n"), status: .configuration)
        }
        guard let environment = RuleEnvironment.system() else {
            throw DaemonError("rules: this machine's architecture has no syscall table")
        }
        let loader = RuleLoader(
            environment: environment,
            options: .init(confirmPanic: configuration.audit.confirmPanic, confirmLock: configuration.audit.confirmLock)
        )
        let plan = loader.plan(reading.sources)
        warnings += plan.warnings.map(\.description)
        // What the kernel is sure to refuse stops the start too: the load would roll back, and the
        // daemon would run without the intended rules (and `run --check-config` says the same).
        let errors = plan.errors + plan.kernelRefusals
        guard errors.isEmpty else {
            throw DaemonError(
                errors.map(\.description).joined(separator: "\n")
                    + "\n\(errors.count) rule error(s); no rule was loaded",
                status: .configuration)
        }
        return Prepared(loader: loader, plan: plan)
    }

    /// Applies a prepared plan through the control client, logs the outcome, and returns the
    /// `swift-audit.rules` event that records it in the trail.
    static func apply(_ prepared: Prepared, client: some AuditRuleKernel, logger: Logger) -> StatusEvent {
        let report = prepared.loader.apply(prepared.plan, to: client)
        for issue in report.errors { logger.error("\(issue)") }
        for issue in report.skipped + report.ignored { logger.warning("\(issue)") }
        let succeeded = report.outcome == .applied
        if succeeded {
            logger.info(
                "rules loaded",
                metadata: ["files": "\(prepared.plan.sources.joined(separator: ","))", "summary": "\(report.summary)"])
        } else {
            logger.error(
                "rules not (fully) loaded", metadata: ["outcome": "\(report.outcome)", "summary": "\(report.summary)"])
        }
        return StatusEvent(
            type: "swift-audit.rules",
            fields: [
                ("result", .string("\(report.outcome)")),
                ("files", .string(prepared.plan.sources.joined(separator: ","))),
                ("added", .integer(Int64(report.added))), ("deleted", .integer(Int64(report.deleted))),
                ("errors", .integer(Int64(report.errors.count))),
                ("first_error", .string(report.errors.first?.description ?? "")),
            ])
    }
}
