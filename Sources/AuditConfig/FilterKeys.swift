import AuditEncoding
import AuditFilters
import AuditSystem

/// How user names in filter conditions (`filter.NAME.uid = root`) become uids: resolved once,
/// when the configuration is read (and again on every reload), never per event.
package struct UserLookup: Sendable {
    /// The uid of a user name, or nil for an unknown name.
    package var resolve: @Sendable (String) -> UInt32?

    /// Wraps a resolver.
    package init(_ resolve: @escaping @Sendable (String) -> UInt32?) {
        self.resolve = resolve
    }

    /// Names from a passwd(5) file, read when a name is looked up (the daemon's names come from
    /// the local file only, as for the `UID` translations; see `UserDirectory`). The lowest uid
    /// wins when two lines share a name.
    package static func passwd(_ path: String = "/etc/passwd") -> UserLookup {
        UserLookup { name in
            guard let bytes = try? SystemFile.read(path: path, limit: UserDirectory.sizeLimit) else { return nil }
            let wanted = Array(name.utf8)
            return UserDirectory.parse(bytes).names.filter { $0.value == wanted }.map(\.key).min()
        }
    }

    /// A fixed table (tests).
    package static func table(_ users: [String: UInt32]) -> UserLookup {
        UserLookup { users[$0] }
    }
}

/// The value grammars of the filter keys.
extension Values {
    /// A comma-separated list of rule names (`filters`, `output.NAME.filters`): the order is the
    /// order the rules are tried in.
    static func ruleNames(_ text: String) -> Parsed<[String]> {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String(trimBlanks($0)) }
        guard names.allSatisfy(isValidName) else {
            return .failure(
                ValueProblem(
                    "expected rule names separated by commas (filters = noise,cron, or quoted with spaces); a name "
                        + "is 1…64 lower-case letters, digits, _ and -"))
        }
        var seen = Set<String>()
        if let twice = names.first(where: { !seen.insert($0).inserted }) {
            return .failure(ValueProblem("the rule \"\(twice)\" is listed twice; the second could never decide"))
        }
        return .success(names)
    }

    /// `all` or `filtered-by:NAME`.
    static func selection(_ text: String) -> Parsed<OutputSelection> {
        if text.lowercased() == "all" { return .success(.all) }
        let prefix = "filtered-by:"
        if text.lowercased().hasPrefix(prefix) {
            let name = String(text.dropFirst(prefix.count))
            if isValidName(name) { return .success(.filteredOutBy(name)) }
        }
        return .failure(
            ValueProblem("expected all, or filtered-by:NAME for exactly the events output NAME's filters keep from it"))
    }
}

/// A rule or output name: 1…64 lower-case letters, digits, `_` and `-`, starting with a letter or
/// digit.
func isValidName(_ name: String) -> Bool {
    name.utf8.count <= 64 && name.first.map { $0.isLetter || $0.isNumber } == true
        && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
}

/// The keys of one rule besides its conditions.
private let ruleKeys = ["action"] + FilterField.allCases.map(\.rawValue)

extension ConfigParser {
    /// `filter.NAME.KEY` lines into rules, in the order the file first names them; every problem
    /// is reported with its line.
    mutating func buildFilterRules(_ assignments: [Assignment]) -> [FilterRule] {
        var order: [String] = []
        var entries: [String: [(subkey: String, assignment: Assignment)]] = [:]
        for assignment in assignments {
            let parts = assignment.key.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else {
                error(
                    .unknownKey, line: assignment.line, key: assignment.key, value: assignment.value,
                    "expected filter.NAME.KEY, e.g. filter.noise.action = drop")
                continue
            }
            let name = String(parts[1])
            let subkey = String(parts[2])
            guard isValidName(name) else {
                error(
                    .unknownKey, line: assignment.line, key: assignment.key, value: assignment.value,
                    "a rule NAME is 1…64 lower-case letters, digits, _ and -, starting with a letter or digit")
                continue
            }
            guard ruleKeys.contains(subkey) else {
                var message = "unknown filter key \"\(subkey)\"; a rule accepts " + ruleKeys.joined(separator: ", ")
                if let suggestion = closestKey(to: subkey, among: ruleKeys) {
                    message = "unknown filter key \"\(subkey)\"; did you mean filter.\(name).\(suggestion)?"
                }
                error(.unknownKey, line: assignment.line, key: assignment.key, value: assignment.value, message)
                continue
            }
            if entries[name] == nil { order.append(name) }
            entries[name, default: []].append((subkey, assignment))
        }

        var rules: [FilterRule] = []
        for name in order {
            let lines = entries[name] ?? []
            var action: FilterAction?
            var conditions: [FilterCondition] = []
            var failed = false
            for (subkey, assignment) in lines {
                if subkey == "action" {
                    switch Values.choice(assignment.value, FilterAction.allCases.map { ($0.rawValue, $0) }) {
                    case .success(let value): action = value
                    case .failure(let problem):
                        failed = true
                        error(
                            .invalidValue, line: assignment.line, key: assignment.key, value: assignment.value,
                            problem.message)
                    }
                    continue
                }
                guard let field = FilterField(rawValue: subkey) else { continue }
                do {
                    conditions.append(try FilterCondition.parse(field, assignment.value, users: users.resolve))
                } catch {
                    failed = true
                    self.error(
                        .invalidValue, line: assignment.line, key: assignment.key, value: assignment.value,
                        error.message)
                }
            }
            let firstLine = lines.first?.assignment.line
            if lines.first(where: { $0.subkey == "action" }) == nil {
                failed = true
                error(
                    .missingValue, line: firstLine, key: "filter.\(name).action", value: nil,
                    "is required: keep or drop (rule \"\(name)\" is first named on this line)")
            }
            let conditionLines = lines.filter { $0.subkey != "action" }
            if conditionLines.isEmpty {
                failed = true
                error(
                    .missingValue, line: firstLine, key: "filter.\(name)", value: nil,
                    "the rule has no condition: add at least one (key, type, syscall, arch, success, uid, auid, "
                        + "euid, exe, comm, saddr, regex), or all = yes for a rule that matches every event")
            }
            if let all = conditionLines.first(where: { $0.subkey == "all" }), conditionLines.count > 1 {
                failed = true
                let others = conditionLines.filter { $0.subkey != "all" }.map(\.assignment.line)
                error(
                    .conflict, line: all.assignment.line, key: all.assignment.key, value: all.assignment.value,
                    "all = yes matches every event and cannot be combined with other conditions (lines "
                        + others.map(String.init).joined(separator: ", ") + ")",
                    related: others)
            }
            if !failed, let action {
                rules.append(FilterRule(name: name, action: action, conditions: conditions))
            }
        }
        return rules
    }

    /// The lists name defined rules, `take` names an output that takes all events, and every rule
    /// is used somewhere (a warning otherwise).
    mutating func checkFilterLists(
        _ configuration: DaemonConfiguration, definedRules: Set<String>,
        outputNames: [String], entries: [String: [String: Assignment]]
    ) {
        var used = Set<String>()
        func check(_ names: [String], _ entry: Assignment?) {
            used.formUnion(names)
            guard let entry else { return }
            for name in names where !definedRules.contains(name) {
                var message = "names the rule \"\(name)\", which no filter.\(name).* line defines"
                if let suggestion = closestKey(to: name, among: Array(definedRules)) {
                    message += "; did you mean \(suggestion)?"
                }
                error(.invalidValue, line: entry.line, key: entry.key, value: entry.value, message)
            }
        }
        let globalLine = lineOf["filters"]
        check(
            configuration.filters,
            globalLine.map { Assignment(key: "filters", value: configuration.filters.joined(separator: ","), line: $0) }
        )
        for output in configuration.outputs {
            check(output.filters, entries[output.name]?["filters"])
            guard case .filteredOutBy(let other) = output.selection, let entry = entries[output.name]?["take"] else {
                continue
            }
            if other == output.name {
                error(
                    .invalidValue, line: entry.line, key: entry.key, value: entry.value,
                    "an output cannot take from itself")
            } else if !outputNames.contains(other) {
                error(
                    .invalidValue, line: entry.line, key: entry.key, value: entry.value,
                    "there is no output \"\(other)\"")
            } else if let source = configuration.outputs.first(where: { $0.name == other }), source.selection != .all {
                error(
                    .conflict, line: entry.line, key: entry.key, value: entry.value,
                    "output \"\(other)\" itself takes filtered events (\(entries[other]?["take"].map { "line \($0.line)" } ?? "")); "
                        + "take from the output that filters",
                    related: entries[other]?["take"].map { [$0.line] } ?? [])
            }
        }
        for rule in configuration.filterRules where !used.contains(rule.name) {
            let line = lineOf["filter.\(rule.name).action"]
            warnings.append(
                ConfigDiagnostic(
                    kind: .warning, file: file, line: line, key: "filter.\(rule.name).action",
                    value: rule.action.rawValue,
                    message:
                        "the rule \"\(rule.name)\" is not in filters nor in any output.NAME.filters: it has no effect"))
        }
    }
}
