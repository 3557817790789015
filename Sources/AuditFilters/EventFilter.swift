package import AuditEvents
internal import AuditNetlink

/// A ``FilterPlan`` that names a rule or an output that does not exist (the configuration checks
/// this first, so only a plan built by hand can fail).
package struct FilterPlanError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    package var message: String
    package var description: String { message }
}

/// Counters of an ``EventFilter``: filtered events are a metric, not loss.
package struct FilterCounters: Hashable, Sendable {
    /// Events evaluated.
    package var events: UInt64 = 0
    /// Events the global list dropped (they reached no output, except those that take filtered events).
    package var droppedGlobally: UInt64 = 0
    /// Per rule of the plan (``FilterPlan/rules`` order): the events it decided, that is matched
    /// first in a list (a rule that decides in two lists for one event counts once).
    package var rules: [UInt64]
    /// Per output of the plan (``FilterPlan/outputs`` order): the events it would have received
    /// but its filters kept from it (the global list's drops included; for an output that takes
    /// another's filtered events, those of them its own list dropped).
    package var outputs: [UInt64]

    /// Zero counters for `rules` rules and `outputs` outputs.
    package init(rules: Int, outputs: Int) {
        self.rules = [UInt64](repeating: 0, count: rules)
        self.outputs = [UInt64](repeating: 0, count: outputs)
    }
}

/// A filter plan compiled for the processing thread: which outputs get an event.
///
/// ```swift
/// var filter = try EventFilter(plan)
/// filter.evaluate(event)
/// if filter.delivers(toOutput: 0) { … }
/// ```
///
/// Per event: the fields the rules need are collected in one pass over the records
/// (``EventFacts``), each rule is evaluated at most once (its result is remembered for the other
/// lists), values are compared as bytes (hex-encoded values decoded on the fly), and nothing is
/// allocated. Not thread-safe: one thread evaluates; counters are read with ``counters``.
package struct EventFilter: Sendable {
    /// The plan this filter runs.
    package let plan: FilterPlan
    /// The counters since creation.
    package private(set) var counters: FilterCounters

    private let rules: [CompiledRule]
    private let global: [Int]
    private let outputs: [CompiledOutput]
    /// Outputs that take from another, after the ones they take from.
    private let order: [Int]
    private let needs: FactSet
    /// True when nothing filters: every output gets every event.
    package let isPassThrough: Bool

    private var facts = EventFacts()
    /// Per rule, for the current event: 0 not evaluated, 1 no match, 2 matched (and counted).
    private var memo: [UInt8]
    private var delivered: [Bool]
    private var lastGlobalKeeps = true

    /// Compiles `plan`.
    ///
    /// - Throws: ``FilterPlanError`` when a list names an unknown rule, an output takes from an
    ///   unknown output or from one that itself takes filtered events, or a regular expression
    ///   does not compile.
    package init(_ plan: FilterPlan) throws(FilterPlanError) {
        self.plan = plan
        var index: [String: Int] = [:]
        for (i, rule) in plan.rules.enumerated() { index[rule.name] = i }
        func indices(_ names: [String], _ list: String) throws(FilterPlanError) -> [Int] {
            var result: [Int] = []
            for name in names {
                guard let i = index[name] else {
                    throw FilterPlanError(message: "\(list) names the rule \"\(name)\", which is not defined")
                }
                result.append(i)
            }
            return result
        }
        var compiled: [CompiledRule] = []
        for rule in plan.rules {
            do {
                compiled.append(try CompiledRule(rule))
            } catch {
                throw FilterPlanError(message: "rule \"\(rule.name)\": \(error.message)")
            }
        }
        rules = compiled
        global = try indices(plan.global, "filters")
        var outputs: [CompiledOutput] = []
        for output in plan.outputs {
            var source: Int?
            if case .filteredOutBy(let other) = output.selection {
                guard let i = plan.outputs.firstIndex(where: { $0.name == other }), i != outputs.count,
                    plan.outputs[i].selection == .all
                else {
                    throw FilterPlanError(
                        message: "output \"\(output.name)\" takes the events filtered out by \"\(other)\", "
                            + "which is not an output that takes all events")
                }
                source = i
            }
            outputs.append(
                CompiledOutput(chain: try indices(output.rules, "output.\(output.name).filters"), source: source))
        }
        self.outputs = outputs
        order =
            outputs.indices.filter { outputs[$0].source == nil }
            + outputs.indices.filter {
                outputs[$0].source != nil
            }
        var used = Set(global)
        for output in outputs { used.formUnion(output.chain) }
        needs = used.reduce(into: FactSet()) { $0.formUnion(compiled[$1].needs) }
        isPassThrough = plan.isPassThrough
        counters = FilterCounters(rules: plan.rules.count, outputs: plan.outputs.count)
        memo = [UInt8](repeating: 0, count: plan.rules.count)
        delivered = [Bool](repeating: true, count: plan.outputs.count)
    }

    /// Decides which outputs get `event` (read them with ``delivers(toOutput:)``) and counts.
    package mutating func evaluate(_ event: AuditEvent) {
        counters.events &+= 1
        guard !isPassThrough else { return }
        for i in memo.indices { memo[i] = 0 }
        event.storage.withUnsafeBytes { buffer in
            if !needs.isEmpty { facts.collect(event, buffer, needs: needs) }
            let globalKeeps = run(global, event, buffer) != .drop
            lastGlobalKeeps = globalKeeps
            if !globalKeeps { counters.droppedGlobally &+= 1 }
            for o in order {
                let output = outputs[o]
                let receives = output.source.map { !delivered[$0] } ?? globalKeeps
                let keeps = receives && run(output.chain, event, buffer) != .drop
                delivered[o] = keeps
                if !keeps, receives || output.source == nil { counters.outputs[o] &+= 1 }
            }
        }
    }

    /// Whether the last evaluated event goes to output `index` (``FilterPlan/outputs`` order).
    @inline(__always)
    package func delivers(toOutput index: Int) -> Bool { delivered[index] }

    /// Whether the global list kept the last evaluated event: what an output the plan does not
    /// name gets.
    package var globalListKeeps: Bool { lastGlobalKeeps }

    /// Whether the last evaluated event goes to any output; when not, it need not be encoded.
    package var deliversToAny: Bool { delivered.contains(true) }

    /// The first rule of `chain` that matches decides; nil when none does.
    private mutating func run(
        _ chain: [Int], _ event: AuditEvent, _ buffer: UnsafeRawBufferPointer
    ) -> FilterAction? {
        for r in chain {
            switch memo[r] {
            case 1: continue
            case 2: return rules[r].action
            default:
                if rules[r].matches(event, buffer, facts) {
                    memo[r] = 2
                    counters.rules[r] &+= 1
                    return rules[r].action
                }
                memo[r] = 1
            }
        }
        return nil
    }
}

private struct CompiledOutput: Sendable {
    var chain: [Int]
    /// The output whose filtered events this one takes.
    var source: Int?
}

/// A rule in the evaluator's form: regular expressions compiled, the fields it needs known.
private struct CompiledRule: Sendable {
    var action: FilterAction
    var conditions: [Condition]
    var needs: FactSet
    /// The rule's `type` ranges: its regular expression is tried on those records only.
    var regexTypes: [ClosedRange<UInt16>]?

    enum Condition: Sendable {
        case all
        case keys([BytePattern?])
        case types([ClosedRange<UInt16>])
        case syscalls(Set<SyscallSelector>)
        case arches([ArchSelector])
        case success(Bool)
        case uid([UInt32]), auid([UInt32]), euid([UInt32])
        case exe([BytePattern]), comm([BytePattern])
        case addresses([AddressPattern])
        case regex(PosixRegex)
    }

    init(_ rule: FilterRule) throws(PosixRegex.CompileError) {
        action = rule.action
        var conditions: [Condition] = []
        var needs: FactSet = []
        for condition in rule.conditions {
            switch (condition.field, condition.matcher) {
            case (_, .all): conditions.append(.all)
            case (_, .keys(let keys)):
                conditions.append(.keys(keys))
                needs.insert(.key)
            case (_, .types(let ranges)):
                conditions.append(.types(ranges))
                regexTypes = ranges
            case (_, .syscalls(let selectors)):
                conditions.append(.syscalls(selectors))
                needs.formUnion([.syscall, .arch])
            case (_, .arches(let arches)):
                conditions.append(.arches(arches))
                needs.insert(.arch)
            case (_, .success(let value)):
                conditions.append(.success(value))
                needs.insert(.success)
            case (.auid, .ids(let ids)):
                conditions.append(.auid(ids))
                needs.insert(.auid)
            case (.euid, .ids(let ids)):
                conditions.append(.euid(ids))
                needs.insert(.euid)
            case (_, .ids(let ids)):
                conditions.append(.uid(ids))
                needs.insert(.uid)
            case (.comm, .strings(let patterns)):
                conditions.append(.comm(patterns))
                needs.insert(.comm)
            case (_, .strings(let patterns)):
                conditions.append(.exe(patterns))
                needs.insert(.exe)
            case (_, .addresses(let patterns)):
                conditions.append(.addresses(patterns))
                needs.insert(.saddr)
            case (_, .regex(let pattern)):
                conditions.append(.regex(try PosixRegex(pattern)))
            }
        }
        // Cheap conditions first, the regular expression last.
        self.conditions = conditions.sorted { a, b in
            if case .regex = b { if case .regex = a { return false } else { return true } }
            return false
        }
        self.needs = needs
    }

    func matches(_ event: AuditEvent, _ buffer: UnsafeRawBufferPointer, _ facts: EventFacts) -> Bool {
        for condition in conditions {
            guard Self.holds(condition, event, buffer, facts, regexTypes: regexTypes) else { return false }
        }
        return true
    }

    private static func holds(
        _ condition: Condition, _ event: AuditEvent, _ buffer: UnsafeRawBufferPointer,
        _ facts: EventFacts, regexTypes: [ClosedRange<UInt16>]?
    ) -> Bool {
        switch condition {
        case .all:
            return true
        case .keys(let patterns):
            return keyMatches(patterns, facts, buffer)
        case .types(let ranges):
            for span in event.spans where contains(ranges, span.type.rawValue) { return true }
            return false
        case .syscalls(let selectors):
            guard facts.found.contains(.syscall) else { return false }
            if facts.found.contains(.arch),
                selectors.contains(SyscallSelector(arch: facts.arch, number: facts.syscall))
            {
                return true
            }
            return selectors.contains(SyscallSelector(arch: nil, number: facts.syscall))
        case .arches(let arches):
            guard facts.found.contains(.arch) else { return false }
            return arches.contains { $0.matches(facts.arch) }
        case .success(let value):
            return facts.found.contains(.success) && facts.success == value
        case .uid(let ids):
            return facts.found.contains(.uid) && ids.contains(facts.uid)
        case .auid(let ids):
            return facts.found.contains(.auid) && ids.contains(facts.auid)
        case .euid(let ids):
            return facts.found.contains(.euid) && ids.contains(facts.euid)
        case .exe(let patterns):
            return stringMatches(patterns, facts.found.contains(.exe) ? facts.exe : nil, buffer)
        case .comm(let patterns):
            return stringMatches(patterns, facts.found.contains(.comm) ? facts.comm : nil, buffer)
        case .addresses(let patterns):
            guard facts.found.contains(.saddr) else { return false }
            return patterns.contains { $0.matches(facts.saddr) }
        case .regex(let regex):
            for span in event.spans {
                if let regexTypes, !contains(regexTypes, span.type.rawValue) { continue }
                if regex.matches(buffer, span.range) { return true }
            }
            return false
        }
    }

    @inline(__always)
    private static func contains(_ ranges: [ClosedRange<UInt16>], _ value: UInt16) -> Bool {
        for range in ranges where range.contains(value) { return true }
        return false
    }

    private static func stringMatches(_ patterns: [BytePattern], _ value: ValueRef?, _ buffer: UnsafeRawBufferPointer)
        -> Bool
    {
        guard let value, !value.isAbsent else { return false }
        let whole = 0..<value.count
        for pattern in patterns where value.matches(pattern, buffer, segment: whole) { return true }
        return false
    }

    /// A key value may hold several keys separated by 0x01 (a rule with several `-k`); any of
    /// them can match. `nil` in `patterns` matches an event without a key.
    private static func keyMatches(_ patterns: [BytePattern?], _ facts: EventFacts, _ buffer: UnsafeRawBufferPointer)
        -> Bool
    {
        let hasKey = facts.found.contains(.key) && !facts.key.isAbsent
        guard hasKey else { return patterns.contains { $0 == nil } }
        let value = facts.key
        var start = 0
        let count = value.count
        while start <= count {
            var end = start
            while end < count, value.byte(buffer, end) != 0x01 { end += 1 }
            for case let pattern? in patterns where value.matches(pattern, buffer, segment: start..<end) {
                return true
            }
            start = end + 1
        }
        return false
    }
}

/// A count with the name of what it counts.
package struct NamedCount: Hashable, Sendable {
    /// A rule or output name.
    package var name: String
    /// The count.
    package var count: UInt64

    /// Pairs a name and a count.
    package init(name: String, count: UInt64) {
        self.name = name
        self.count = count
    }
}

/// The counters of a filter with the names of its rules and outputs, for status lines and the
/// stop event.
package struct FilterStatistics: Hashable, Sendable {
    /// Events evaluated.
    package var events: UInt64 = 0
    /// Events the global list dropped.
    package var droppedGlobally: UInt64 = 0
    /// Per rule: the events it decided (see ``FilterCounters/rules``).
    package var rules: [NamedCount] = []
    /// Per output: the events its filters kept from it (see ``FilterCounters/outputs``).
    package var outputs: [NamedCount] = []

    /// No counts.
    package init() {}
}

extension EventFilter {
    /// The counters with names.
    package var statistics: FilterStatistics {
        var result = FilterStatistics()
        result.events = counters.events
        result.droppedGlobally = counters.droppedGlobally
        result.rules = zip(plan.rules, counters.rules).map { NamedCount(name: $0.name, count: $1) }
        result.outputs = zip(plan.outputs, counters.outputs).map { NamedCount(name: $0.name, count: $1) }
        return result
    }

    /// Continues the counts of `previous` (a reload): rules and outputs keep their counts by name,
    /// so a rule that stays counts on; a new one starts at 0.
    package mutating func inheritCounters(from previous: EventFilter) {
        counters.events = previous.counters.events
        counters.droppedGlobally = previous.counters.droppedGlobally
        for (index, rule) in plan.rules.enumerated() {
            if let old = previous.plan.rules.firstIndex(where: { $0.name == rule.name }) {
                counters.rules[index] = previous.counters.rules[old]
            }
        }
        for (index, output) in plan.outputs.enumerated() {
            if let old = previous.plan.outputs.firstIndex(where: { $0.name == output.name }) {
                counters.outputs[index] = previous.counters.outputs[old]
            }
        }
    }
}
