import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditProcesses
internal import AuditSystem
import AuditWriters

/// A configuration that passed every check, with the warnings worth logging.
package struct ParsedConfiguration: Hashable, Sendable {
    /// The typed configuration.
    package var configuration: DaemonConfiguration
    /// Settings that are valid but have no effect, and file permissions that are looser than they
    /// should be; the caller logs them (the parser prints nothing).
    package var warnings: [ConfigDiagnostic]

    /// Pairs a configuration with its warnings.
    package init(configuration: DaemonConfiguration, warnings: [ConfigDiagnostic] = []) {
        self.configuration = configuration
        self.warnings = warnings
    }
}

extension DaemonConfiguration {
    /// Parses configuration text, reporting every problem of the file at once.
    ///
    /// `file` is only used in diagnostics (`file:line: …`). Nothing is read from disk; see
    /// ``load(path:policy:)`` for the checked file read.
    package static func parse(_ text: String, file: String, users: UserLookup = .passwd()) throws(ConfigError)
        -> ParsedConfiguration
    {
        try parse(bytes: Array(text.utf8), file: file, users: users)
    }

    /// Parses configuration bytes (as read from the file, so a line that is not UTF-8 is reported
    /// with its number rather than repaired), reporting every problem at once.
    ///
    /// `users` resolves the user names of filter conditions (`filter.NAME.uid = root`).
    ///
    /// `checkFiles` also reads the files the configuration names for the outputs to use (the TLS
    /// certificates and keys), as ``load(path:policy:)`` does for a start, a reload and
    /// `--check-config`.
    package static func parse(
        bytes: [UInt8], file: String, users: UserLookup = .passwd(), checkFiles: Bool = false
    ) throws(ConfigError) -> ParsedConfiguration {
        var parser = ConfigParser(file: file, users: users)
        // Files edited on Windows: as in rules files (see `TextFileConventions`).
        let byteOrderMark = TextFileConventions.byteOrderMarkLength(bytes)
        if byteOrderMark > 0 {
            parser.warnings.append(
                ConfigDiagnostic(
                    kind: .warning, file: file, line: 1, message: TextFileConventions.byteOrderMarkWarning))
        }
        let assignments = lexConfiguration(
            Array(bytes.dropFirst(byteOrderMark)), file: file, diagnostics: &parser.errors)
        let configuration = parser.build(assignments)
        if checkFiles, parser.errors.isEmpty {
            parser.errors += configuration.tlsFileProblems(file: file, lines: parser.lineOf)
        }
        if !parser.errors.isEmpty {
            throw ConfigError(diagnostics: sortedByLine(parser.errors))
        }
        return ParsedConfiguration(configuration: configuration, warnings: sortedByLine(parser.warnings))
    }

    /// The top-level keys, in the order ``render()`` prints them.
    package static var topLevelKeys: [String] { topLevelSpecs.map(\.name) }

    /// Every key an output accepts, whatever its type.
    package static var outputKeys: [String] { OutputKeys.all }
}

/// Diagnostics without a line first, then by line; the order among equals is kept.
func sortedByLine(_ diagnostics: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
    diagnostics.enumerated().sorted { a, b in
        let la = a.element.line ?? 0
        let lb = b.element.line ?? 0
        return la != lb ? la < lb : a.offset < b.offset
    }.map(\.element)
}

// MARK: - Top-level keys

/// A top-level key: its name and how a value is checked and stored.
struct KeySpec: Sendable {
    let name: String
    let apply: @Sendable (String, inout DaemonConfiguration) -> ValueProblem?

    init<T>(
        _ name: String,
        _ parse: @escaping @Sendable (String) -> Result<T, ValueProblem>,
        _ store: @escaping @Sendable (inout DaemonConfiguration, T) -> Void
    ) {
        self.name = name
        self.apply = { text, configuration in
            switch parse(text) {
            case .success(let value):
                store(&configuration, value)
                return nil
            case .failure(let problem):
                return problem
            }
        }
    }
}

let topLevelSpecs: [KeySpec] = [
    KeySpec("enabled", parseEnabled) { $0.audit.enabled = $1 },
    KeySpec("failure", parseFailure) { $0.audit.failure = $1 },
    KeySpec("rate_limit", Values.uint32) { $0.audit.rateLimit = $1 },
    KeySpec("backlog_limit", Values.uint32) { $0.audit.backlogLimit = $1 },
    KeySpec("backlog_wait_time", Values.uint32) { $0.audit.backlogWaitTime = $1 },
    KeySpec("socket_buffer", { Values.size($0, in: (64 << 10)...(1 << 30), allowZero: true) }) {
        $0.audit.socketBufferSize = $1
    },
    KeySpec("nap_socket_buffer", { Values.size($0, in: (64 << 10)...(1 << 30), allowZero: true) }) {
        $0.audit.napSocketBufferSize = $1
    },
    KeySpec("takeover", Values.bool) { $0.audit.takeover = $1 },
    KeySpec("confirm_panic", Values.bool) { $0.audit.confirmPanic = $1 },
    KeySpec("confirm_lock", Values.bool) { $0.audit.confirmLock = $1 },
    KeySpec("socket", { Values.choice($0, [("unicast", AuditSocket.Mode.unicast), ("multicast", .multicast)]) }) {
        $0.audit.socket = $1
    },
    KeySpec("multicast_load_rules", Values.bool) { $0.rules.loadInMulticast = $1 },
    KeySpec("rules_file", Values.absolutePath) { $0.rules.file = $1 },
    KeySpec("rules_dir", Values.absolutePath) { $0.rules.directory = $1 },
    KeySpec("rules_at_exit", { Values.choice($0, RulesAtExit.allCases.map { ($0.rawValue, $0) }) }) {
        $0.rules.atExit = $1
    },
    KeySpec("end_of_event_timeout", { Values.milliseconds($0, in: .milliseconds(10) ... .seconds(600)) }) {
        $0.reassembly.endOfEventTimeout = $1
    },
    KeySpec("reorder_window", { Values.milliseconds($0, in: .zero ... .seconds(1)) }) {
        $0.reassembly.reorderWindow = $1
    },
    KeySpec("max_in_flight", { Values.integer($0, in: 1...1_048_576) }) { $0.reassembly.maxInFlight = $1 },
    KeySpec("max_event_records", { Values.integer($0, in: 16...1_048_576) }) { $0.reassembly.maxEventRecords = $1 },
    KeySpec("max_event_bytes", { Values.size($0, in: (64 << 10)...(1 << 30), allowZero: false) }) {
        $0.reassembly.maxEventBytes = $1
    },
    KeySpec("min_type", { Values.integer($0, in: 1000...65535) }) {
        $0.reassembly.minType = AuditMessageType(UInt16($1))
    },
    KeySpec("max_type", { Values.integer($0, in: 1000...65535) }) {
        $0.reassembly.maxType = AuditMessageType(UInt16($1))
    },
    KeySpec("hostname", Values.hostnameFormat) { $0.hostname = $1 },
    KeySpec("filters", Values.ruleNames) { $0.filters = $1 },
    KeySpec("process_context", Values.bool) { $0.processes.enabled = $1 },
    KeySpec("process_table_size", { Values.integer($0, in: 64...1_048_576) }) {
        $0.processes.table.maximumEntries = $1
    },
    KeySpec("process_state_file", Values.absolutePath) { $0.processes.stateFile = $1 },
    KeySpec("process_executable_hash", Values.bool) { $0.processes.table.hashExecutables = $1 },
    KeySpec("process_environment", Values.environmentNames) {
        $0.processes.table.captureEnvironment = !$1.isEmpty
        if !$1.isEmpty { $0.processes.table.environmentVariables = $1 }
    },
    KeySpec("process_scripts", Values.bool) { $0.processes.table.detectScripts = $1 },
    KeySpec("ring_size", { Values.size($0, in: (64 << 10)...(1 << 30), allowZero: false) }) {
        $0.pipeline.ringSize = $1
    },
    KeySpec("status_interval", { Values.duration($0, in: .milliseconds(100) ... .seconds(3600)) }) {
        $0.pipeline.statusInterval = $1
    },
    KeySpec("loss_report_interval", { Values.duration($0, in: .milliseconds(100) ... .seconds(3600)) }) {
        $0.pipeline.lossReportInterval = $1
    },
    KeySpec("metrics_listen", MetricsListenAddress.parse) { $0.metrics.listen = $1 },
    KeySpec("metrics_textfile", Values.metricsTextfile) { $0.metrics.textfile = $1 },
    KeySpec("metrics_interval", { Values.duration($0, in: .seconds(1) ... .seconds(3600)) }) {
        $0.metrics.interval = $1
    },
    KeySpec("queue_memory_budget", parseQueueBudget) { $0.pipeline.queueMemoryBudget = $1 },
]

/// `auto` (nil: a quarter of physical memory) or a size of 16M…1T.
@Sendable func parseQueueBudget(_ text: String) -> Result<Int?, ValueProblem> {
    if text.lowercased() == "auto" { return .success(nil) }
    switch Values.size(text, in: (16 << 20)...(1 << 40), allowZero: false) {
    case .success(let bytes): return .success(bytes)
    case .failure(let problem): return .failure(ValueProblem("auto, or " + problem.message))
    }
}

/// `0`, `1` or `lock`. The kernel's 2 must be spelled `lock`: it cannot be undone without a reboot,
/// so a typo must not do it.
@Sendable func parseEnabled(_ text: String) -> Result<AuditEnabledState, ValueProblem> {
    switch text.lowercased() {
    case "0": return .success(.disabled)
    case "1": return .success(.enabled)
    case "lock": return .success(.locked)
    case "2":
        return .failure(
            ValueProblem(
                "expected 0, 1 or lock; the kernel's 2 locks the audit configuration until reboot, "
                    + "so it is written lock here to make that deliberate"))
    default: return .failure(ValueProblem("expected 0, 1 or lock"))
    }
}

@Sendable func parseFailure(_ text: String) -> Result<AuditFailureMode, ValueProblem> {
    if let mode = AuditFailureMode(name: text) { return .success(mode) }
    return .failure(ValueProblem("expected silent, printk or panic (or 0, 1, 2)"))
}

// MARK: - Output keys

enum OutputKeys {
    static let common = ["type", "enabled", "queue_size", "format", "include_raw", "take", "filters"]
    static let file = ["path", "mode", "owner", "group", "max_size", "num_logs", "flush", "flush_interval"]
    static let stdout: [String] = []
    /// The disk spool of a network output (`OutputReader.spool()`).
    static let spool = ["spool_dir", "spool_max_size", "spool_sync"]
    static let syslog =
        [
            "target", "address", "syslog_format", "facility", "severity", "tag", "hostname", "framing",
            "structured_data", "oversize", "max_message", "reconnect_min", "reconnect_max",
        ] + TLSKeys.all + spool
    static let gelf =
        [
            "transport", "address", "compression", "chunk_size", "hostname", "reconnect_min", "reconnect_max",
        ] + TLSKeys.all + spool
    static let relp =
        [
            "target", "address", "relp_window", "ack_timeout", "syslog_format", "structured_data", "facility",
            "severity", "tag", "hostname", "oversize", "max_message", "reconnect_min", "reconnect_max",
        ] + TLSKeys.all + spool
    static let types = ["file", "stdout", "syslog", "gelf", "relp"]

    static let all: [String] = {
        var seen = Set<String>()
        return (common + file + syslog + gelf + relp).filter { seen.insert($0).inserted }
    }()

    static func keys(ofType type: String) -> [String] {
        switch type {
        case "file": file
        case "syslog": syslog
        case "gelf": gelf
        case "relp": relp
        default: stdout
        }
    }

    /// The types whose outputs accept `key`, for "applies only to …" messages.
    static func types(accepting key: String) -> [String] {
        types.filter { keys(ofType: $0).contains(key) }
    }
}

/// auditd.conf keys an operator may carry over, with where their meaning lives in swift-audit.
let auditdKeyHints: [String: String] = [
    "log_file": "events go to outputs here: output.NAME.type = file with output.NAME.path",
    "max_log_file": "use output.NAME.max_size (bytes with a K, M or G suffix, not megabytes)",
    "max_log_file_action": "use output.NAME.max_size and output.NAME.num_logs (rotation)",
    "num_logs": "use output.NAME.num_logs",
    "flush": "use output.NAME.flush (none, interval or every)",
    "freq": "use output.NAME.flush = interval with output.NAME.flush_interval",
    "name_format": "use hostname = none, hostname, fqdn or user:NAME",
    "name": "use hostname = user:NAME",
    "log_format": "events are always written as JSON",
    "log_group": "use output.NAME.group",
    "q_depth": "use output.NAME.queue_size",
    "write_logs": "use output.NAME.enabled",
]

// MARK: - Parser

struct ConfigParser {
    let file: String
    /// Resolves the user names of filter conditions.
    let users: UserLookup
    var errors: [ConfigDiagnostic] = []
    var warnings: [ConfigDiagnostic] = []
    /// First line of every key that was set (duplicates are not stored).
    var lineOf: [String: Int] = [:]
    /// The value of every key that was set, as written (for messages about a key's value).
    var valueOf: [String: String] = [:]

    init(file: String, users: UserLookup = .passwd()) {
        self.file = file
        self.users = users
    }

    mutating func error(
        _ kind: ConfigDiagnostic.Kind, line: Int?, key: String?, value: String? = nil, _ message: String,
        related: [Int] = []
    ) {
        errors.append(
            ConfigDiagnostic(
                kind: kind, file: file, line: line, key: key, value: value, message: message, relatedLines: related))
    }

    mutating func build(_ assignments: [Assignment]) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        var outputOrder: [String] = []
        var outputEntries: [String: [String: Assignment]] = [:]
        var outputFirstLine: [String: Int] = [:]
        var filterAssignments: [Assignment] = []

        for assignment in assignments {
            if let first = lineOf[assignment.key] {
                error(
                    .duplicateKey, line: assignment.line, key: assignment.key, value: assignment.value,
                    "set twice: first at line \(first), again here; keep one", related: [first])
                continue
            }
            lineOf[assignment.key] = assignment.line
            valueOf[assignment.key] = assignment.value

            if assignment.key.hasPrefix("filter.") {
                filterAssignments.append(assignment)
                continue
            }
            if assignment.key.hasPrefix("output.") {
                guard let (name, subkey) = splitOutputKey(assignment) else { continue }
                if outputEntries[name] == nil {
                    outputOrder.append(name)
                    outputFirstLine[name] = assignment.line
                }
                outputEntries[name, default: [:]][subkey] = assignment
                continue
            }
            guard let spec = topLevelSpecs.first(where: { $0.name == assignment.key }) else {
                unknownKey(assignment, candidates: DaemonConfiguration.topLevelKeys + ["output.NAME.type"])
                continue
            }
            if let problem = spec.apply(assignment.value, &configuration) {
                error(
                    .invalidValue, line: assignment.line, key: assignment.key, value: assignment.value, problem.message)
            }
        }

        configuration.outputs = outputOrder.compactMap { name in
            buildOutput(name: name, entries: outputEntries[name] ?? [:], firstLine: outputFirstLine[name] ?? 0)
        }
        configuration.filterRules = buildFilterRules(filterAssignments)
        let definedRules = Set(
            filterAssignments.compactMap {
                $0.key.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first
            }
            .map(String.init))
        checkFilterLists(configuration, definedRules: definedRules, outputNames: outputOrder, entries: outputEntries)
        checkWholeConfiguration(configuration, outputNames: outputOrder, entries: outputEntries)
        return configuration
    }

    /// `output.NAME.KEY` → (NAME, KEY), reporting malformed names and unknown keys.
    private mutating func splitOutputKey(_ assignment: Assignment) -> (String, String)? {
        let parts = assignment.key.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else {
            error(
                .unknownKey, line: assignment.line, key: assignment.key, value: assignment.value,
                "expected output.NAME.KEY, e.g. output.main.type = file")
            return nil
        }
        let name = String(parts[1])
        let subkey = String(parts[2])
        let nameIsValid =
            name.utf8.count <= 64 && name.first.map { $0.isLetter || $0.isNumber } == true
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
        guard nameIsValid else {
            error(
                .unknownKey, line: assignment.line, key: assignment.key, value: assignment.value,
                "an output NAME is 1…64 lower-case letters, digits, _ and -, starting with a letter or digit")
            return nil
        }
        guard OutputKeys.all.contains(subkey) else {
            var message =
                "unknown output key \"\(subkey)\"; an output accepts " + OutputKeys.all.joined(separator: ", ")
            if let suggestion = closestKey(to: subkey, among: OutputKeys.all) {
                message = "unknown output key \"\(subkey)\"; did you mean output.\(name).\(suggestion)?"
            }
            error(.unknownKey, line: assignment.line, key: assignment.key, value: assignment.value, message)
            return nil
        }
        return (name, subkey)
    }

    private mutating func unknownKey(_ assignment: Assignment, candidates: [String]) {
        var message = "unknown key"
        if let hint = auditdKeyHints[assignment.key] {
            message += " (an auditd.conf key): " + hint
        } else if let suggestion = closestKey(to: assignment.key, among: candidates) {
            message += "; did you mean \(suggestion)?"
        } else {
            message += "; see config/swift-audit.conf for the accepted keys"
        }
        error(.unknownKey, line: assignment.line, key: assignment.key, value: assignment.value, message)
    }

    // MARK: Outputs

    private mutating func buildOutput(
        name: String, entries: [String: Assignment], firstLine: Int
    ) -> OutputConfiguration? {
        var entries = entries
        // Before `format` chose the event layout it chose a syslog output's header; the values do
        // not overlap, so an old line keeps working, with a warning that says what to write now.
        var renamedSyslogFormat = false
        if entries["type"]?.value.lowercased() == "syslog", entries["syslog_format"] == nil,
            let old = entries["format"], ["rfc5424", "rfc3164"].contains(old.value.lowercased())
        {
            entries["syslog_format"] = old
            entries["format"] = nil
            renamedSyslogFormat = true
        }
        var reader = OutputReader(name: name, entries: entries)
        if renamedSyslogFormat {
            reader.warn(
                "syslog_format",
                "was written as output.\(name).format, which now selects the event layout (raw, enriched or ecs); "
                    + "write output.\(name).syslog_format instead")
        }
        defer {
            errors += reader.errors(file: file)
            warnings += reader.warnings(file: file)
        }
        let enabled = reader.value("enabled", Values.bool) ?? true
        let queueSize = reader.value("queue_size") { Values.integer($0, in: 1...1_048_576) } ?? 8192
        let format =
            reader.value("format") { Values.choice($0, EventFormat.allCases.map { ($0.rawValue, $0) }) } ?? .raw
        let includeRaw = reader.value("include_raw", Values.bool) ?? false
        if format != .ecs {
            reader.conflict(
                "include_raw",
                "applies only to format = ecs (\(reader.origin("format", default: "raw")))", dependsOn: "format")
        }
        let selection = reader.value("take", Values.selection) ?? .all
        let filters = reader.value("filters", Values.ruleNames) ?? []

        guard let typeEntry = entries["type"] else {
            reader.problem(
                .missingValue, line: firstLine, subkey: "type", value: nil,
                "is required: every output needs type = " + listOfChoices(OutputKeys.types)
                    + " (output \"\(name)\" is first named on this line)")
            return nil
        }
        guard let type = reader.value("type", { Values.choice($0, OutputKeys.types.map { ($0, $0) }) }) else {
            return nil
        }
        let allowed = Set(OutputKeys.common + OutputKeys.keys(ofType: type))
        for (subkey, entry) in entries where !allowed.contains(subkey) {
            let owners = OutputKeys.types(accepting: subkey).map { "type = \($0)" }
            reader.problem(
                .conflict, line: entry.line, subkey: subkey, value: entry.value,
                "applies only to outputs of " + listOfChoices(owners)
                    + "; this output has type = \(type) (line \(typeEntry.line))",
                related: [typeEntry.line])
        }

        let kind: OutputConfiguration.Kind?
        switch type {
        case "file": kind = reader.fileOutput(typeLine: typeEntry.line).map { .file($0) }
        case "syslog": kind = reader.syslogOutput(typeLine: typeEntry.line).map { .syslog($0) }
        case "gelf": kind = reader.gelfOutput(typeLine: typeEntry.line).map { .gelf($0) }
        case "relp": kind = reader.relpOutput(typeLine: typeEntry.line).map { .relp($0) }
        default: kind = .stdout
        }
        let spool = OutputKeys.keys(ofType: type).contains("spool_dir") ? reader.spool() : nil
        guard let kind, !reader.failed else { return nil }
        return OutputConfiguration(
            name: name, enabled: enabled, queueSize: queueSize, format: format, kind: kind, selection: selection,
            filters: filters, includeRaw: includeRaw, spool: spool)
    }

    // MARK: Cross-field checks

    private mutating func checkWholeConfiguration(
        _ configuration: DaemonConfiguration, outputNames: [String], entries: [String: [String: Assignment]]
    ) {
        let reassembly = configuration.reassembly
        if reassembly.minType > reassembly.maxType {
            let minLine = lineOf["min_type"]
            let maxLine = lineOf["max_type"]
            let maxWhere = maxLine.map { "line \($0)" } ?? "the default"
            let low = reassembly.minType.rawValue
            let high = reassembly.maxType.rawValue
            error(
                .conflict, line: minLine ?? maxLine, key: minLine != nil ? "min_type" : "max_type",
                value: String(minLine != nil ? low : high),
                "min_type (\(low)) must not exceed max_type (\(high), \(maxWhere))",
                related: [minLine, maxLine].compactMap { $0 })
        }

        checkConfirmations(configuration.audit)
        checkMulticast(configuration)
        checkQueueBudget(configuration, outputNames: outputNames, entries: entries)

        if outputNames.isEmpty {
            error(
                .missingValue, line: nil, key: nil,
                "no output is configured: add at least output.NAME.type = file, stdout, syslog, gelf or relp "
                    + "(events read from the kernel would have nowhere to go)")
            return
        }
        // These compare the outputs as written, so an output with another mistake is still checked.
        let disabledLines = outputNames.compactMap { name -> Int? in
            guard let entry = entries[name]?["enabled"], entry.value.lowercased() == "no" else { return nil }
            return entry.line
        }
        if disabledLines.count == outputNames.count, let last = disabledLines.last {
            let name = outputNames.first { entries[$0]?["enabled"]?.line == last } ?? ""
            error(
                .conflict, line: last, key: "output.\(name).enabled", value: "no",
                "every output is disabled (lines \(disabledLines.map(String.init).joined(separator: ", "))): "
                    + "events read from the kernel would have nowhere to go",
                related: disabledLines)
        }

        func declaredType(_ name: String) -> String? { entries[name]?["type"]?.value.lowercased() }
        let stdoutLines = outputNames.filter { declaredType($0) == "stdout" }.compactMap { entries[$0]?["type"]?.line }
        for line in stdoutLines.dropFirst() {
            let name = outputNames.first { entries[$0]?["type"]?.line == line } ?? ""
            error(
                .conflict, line: line, key: "output.\(name).type", value: "stdout",
                "only one stdout output is allowed (their lines would interleave); stdout outputs at lines "
                    + stdoutLines.map(String.init).joined(separator: ", "),
                related: stdoutLines.filter { $0 != line })
        }

        var pathOwner: [String: (name: String, line: Int)] = [:]
        for name in outputNames where declaredType(name) == "file" {
            guard let entry = entries[name]?["path"], entry.value.hasPrefix("/") else { continue }
            let key = normalizedPath(entry.value)
            if let other = pathOwner[key] {
                error(
                    .conflict, line: entry.line, key: entry.key, value: entry.value,
                    "output \"\(other.name)\" already writes this file (line \(other.line)); two writers would "
                        + "interleave and rotate each other's data",
                    related: [other.line])
            } else {
                pathOwner[key] = (name, entry.line)
            }
        }

        // One spool per directory: two outputs would read and delete each other's events.
        var spoolOwner: [String: (name: String, line: Int)] = [:]
        for name in outputNames {
            guard let entry = entries[name]?["spool_dir"], entry.value.hasPrefix("/") else { continue }
            let key = normalizedPath(entry.value)
            if let other = spoolOwner[key] {
                error(
                    .conflict, line: entry.line, key: entry.key, value: entry.value,
                    "output \"\(other.name)\" already spools in this directory (line \(other.line)); each output "
                        + "needs its own spool_dir",
                    related: [other.line])
            } else {
                spoolOwner[key] = (name, entry.line)
            }
        }
    }
}

extension ConfigParser {
    /// `failure = panic` needs `confirm_panic = yes`, `enabled = lock` needs `confirm_lock = yes`: the
    /// confirmation `swift-audit set` asks for (`--confirm-panic`, `--confirm-lock`), as a key,
    /// because a panic halts the machine and a lock holds until reboot.
    fileprivate mutating func checkConfirmations(_ audit: AuditSettings) {
        if audit.failure == .panic, !audit.confirmPanic {
            error(
                .conflict, line: lineOf["failure"], key: "failure", value: valueOf["failure"],
                "halts the machine whenever the kernel loses an audit record; add confirm_panic = yes to mean it "
                    + "(as swift-audit set asks for --confirm-panic)")
        }
        if audit.enabled == .locked, !audit.confirmLock {
            error(
                .conflict, line: lineOf["enabled"], key: "enabled", value: valueOf["enabled"],
                "locks every audit rule and setting until reboot; add confirm_lock = yes to mean it "
                    + "(as swift-audit set asks for --confirm-lock)")
        }
    }
}

extension ConfigParser {
    /// Kernel settings the read-only mode never changes: written, they would be ignored, so they
    /// are refused (an operator who wrote `backlog_limit` expects it to act).
    static let kernelSettingKeys = [
        "enabled", "failure", "rate_limit", "backlog_limit", "backlog_wait_time", "takeover", "nap_socket_buffer",
    ]

    /// `socket = multicast` changes no kernel setting and, unless `multicast_load_rules = yes`,
    /// loads no rule and deletes none: every key that would is an error naming its line.
    fileprivate mutating func checkMulticast(_ configuration: DaemonConfiguration) {
        guard configuration.audit.socket == .multicast else { return }
        let socketLine = lineOf["socket"].map { "line \($0)" } ?? "socket = multicast"
        for key in Self.kernelSettingKeys {
            guard let line = lineOf[key] else { continue }
            let why =
                key == "nap_socket_buffer"
                ? "kauditd never waits for a multicast reader, so a smaller buffer would only lose records"
                : key == "takeover"
                    ? "the multicast reader never registers, so it stops no daemon"
                    : "the multicast reader changes no kernel setting; set it with the registered daemon's tools "
                        + "(auditctl, auditd's rules) or use socket = unicast"
            error(
                .conflict, line: line, key: key, value: valueOf[key],
                "not applied with socket = multicast (\(socketLine)): \(why)",
                related: lineOf["socket"].map { [$0] } ?? [])
        }
        if configuration.rules.atExit == .clear {
            error(
                .conflict, line: lineOf["rules_at_exit"], key: "rules_at_exit", value: valueOf["rules_at_exit"],
                "would delete the registered daemon's rules at exit; with socket = multicast (\(socketLine)) "
                    + "only keep is allowed")
        }
        if !configuration.rules.loadInMulticast {
            for key in ["rules_file", "rules_dir"] {
                guard let line = lineOf[key] else { continue }
                error(
                    .conflict, line: line, key: key, value: valueOf[key],
                    "with socket = multicast (\(socketLine)) the rules belong to the registered daemon "
                        + "(auditd loads them with augenrules); add multicast_load_rules = yes to load these too")
            }
        }
    }
}

extension ConfigParser {
    /// The most outputs a configuration may have: each is a thread, a queue and a file or socket;
    /// more than this is a generated file gone wrong, not a deployment.
    static let maximumOutputs = 256

    /// What one queued event is taken to hold, by output type: a syslog, GELF or RELP item holds
    /// its formatted message and framing (~5 KiB measured, see docs/design.md "Memory"); file and
    /// stdout items are encoded lines packed into shared chunks (~2 KiB covers the enriched and
    /// ECS layouts, raw lines are smaller). An estimate: the point is to refuse queues that
    /// cannot fit whatever the events, not to predict resident memory.
    static func estimatedQueueItemBytes(_ kind: OutputConfiguration.Kind) -> Int {
        switch kind {
        case .file, .stdout: 2 << 10
        case .syslog, .gelf, .relp: 5 << 10
        }
    }

    /// Refuses more than `maximumOutputs` outputs, and enabled outputs whose full queues would
    /// exceed `queue_memory_budget`: an output whose destination stalls fills its queue, and
    /// thousands of million-event queues would take the machine's memory long before any loss is
    /// counted. The error sits on the largest queue's line, where lowering it helps most.
    fileprivate mutating func checkQueueBudget(
        _ configuration: DaemonConfiguration, outputNames: [String], entries: [String: [String: Assignment]]
    ) {
        if outputNames.count > Self.maximumOutputs {
            let name = outputNames[Self.maximumOutputs]
            let line = entries[name]?.values.map(\.line).min()
            error(
                .conflict, line: line, key: "output.\(name).type", value: entries[name]?["type"]?.value,
                "\(outputNames.count) outputs; at most \(Self.maximumOutputs) outputs are allowed (each is a thread, a "
                    + "queue and a file or connection); this is output number \(Self.maximumOutputs + 1)")
        }
        let physical = SystemHost.physicalMemoryBytes
        let budget = configuration.pipeline.queueMemoryBudget ?? (physical.map { $0 / 4 } ?? Int.max)
        var total = 0
        var largest: (output: OutputConfiguration, bytes: Int)?
        for output in configuration.outputs where output.enabled {
            let (bytes, overflow) = output.queueSize.multipliedReportingOverflow(
                by: Self.estimatedQueueItemBytes(output.kind))
            let clamped = overflow ? Int.max / 2 : bytes
            total = total > Int.max - clamped ? Int.max : total + clamped
            if clamped > largest?.bytes ?? -1 { largest = (output, clamped) }
        }
        guard total > budget, let largest else { return }
        let name = largest.output.name
        let entry = entries[name]?["queue_size"] ?? entries[name]?["type"]
        let key = entries[name]?["queue_size"] != nil ? "output.\(name).queue_size" : "output.\(name).type"
        let budgetText: String
        if let line = lineOf["queue_memory_budget"] {
            budgetText = "queue_memory_budget = \(valueOf["queue_memory_budget"] ?? "") (line \(line))"
        } else {
            budgetText =
                "queue_memory_budget (auto: a quarter of this machine's \(physical.map(approximateSize) ?? "?") of memory, "
                + "\(approximateSize(budget)))"
        }
        let enabled = configuration.outputs.filter(\.enabled).count
        error(
            .conflict, line: entry?.line, key: key, value: entry?.value,
            "the output queues could hold ~\(approximateSize(total)) when full (\(enabled) enabled outputs; queue_size × "
                + "~5K per event for syslog, gelf and relp, ~2K for file and stdout), over \(budgetText). The "
                + "largest is output \"\(name)\": queue_size \(largest.output.queueSize) × "
                + "~\(approximateSize(Self.estimatedQueueItemBytes(largest.output.kind))) = "
                + "~\(approximateSize(largest.bytes)). Lower queue_size, disable outputs, or raise queue_memory_budget")
    }
}

/// A size rounded for a message: `~98M` for 102,400,000 bytes.
func approximateSize(_ bytes: Int) -> String {
    for (suffix, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where bytes >= 1 << shift {
        let whole = bytes >> shift
        if whole >= 10 { return "\(Int((Double(bytes) / Double(1 << shift)).rounded()))\(suffix)" }
        let tenths = (Double(bytes) / Double(1 << shift) * 10).rounded() / 10
        return "\(tenths)\(suffix)"
    }
    return "\(bytes)"
}

/// Collapses `//`, `/./` and a trailing `/` so that two spellings of one path compare equal (`..`
/// is kept: resolving it needs the file system).
func normalizedPath(_ path: String) -> String {
    let parts = path.split(separator: "/").filter { $0 != "." }
    return "/" + parts.joined(separator: "/")
}

/// The known key within edit distance 2 of `key` (the closest), or else the only one that starts
/// with `key` (`queue` → `queue_size`).
func closestKey(to key: String, among candidates: [String]) -> String? {
    var best: (String, Int)?
    let extensions = candidates.filter { key.utf8.count >= 4 && $0.hasPrefix(key) }
    for candidate in candidates {
        let distance = editDistance(Array(key.utf8), Array(candidate.utf8))
        if distance <= 2, distance < key.utf8.count, best == nil || distance < best?.1 ?? .max {
            best = (candidate, distance)
        }
    }
    return best?.0 ?? (extensions.count == 1 ? extensions[0] : nil)
}

func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

extension Values {
    /// `no`, `yes` (LD_PRELOAD and LD_LIBRARY_PATH), or variable names separated by commas.
    static func environmentNames(_ text: String) -> Parsed<[String]> {
        switch text.lowercased() {
        case "no", "none": return .success([])
        case "yes": return .success(ProcessTable.Configuration().environmentVariables)
        default: break
        }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String(trimBlanks($0)) }
        let valid = names.allSatisfy { name in
            !name.isEmpty && name.utf8.count <= 128 && name.utf8.first.map { !(0x30...0x39).contains($0) } == true
                && name.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                        || byte == UInt8(ascii: "_")
                }
        }
        guard valid else {
            return .failure(
                ValueProblem(
                    "expected no, yes (LD_PRELOAD,LD_LIBRARY_PATH) or environment variable names separated by commas"))
        }
        return .success(names)
    }
}
