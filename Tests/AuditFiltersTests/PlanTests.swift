import AuditEvents
import AuditFilters
import AuditNetlink
import AuditTestSupport
import Testing

@Suite(.requires(.corpus)) struct PlanTests {
    /// Which outputs get each event: one array of output indices per event.
    static func deliveries(_ filter: inout EventFilter, _ events: [AuditEvent]) -> [[Int]] {
        events.map { event in
            filter.evaluate(event)
            return filter.plan.outputs.indices.filter { filter.delivers(toOutput: $0) }
        }
    }

    // MARK: precedence

    @Test func theFirstRuleThatMatchesDecides() throws {
        let keepDash = rule("keep-dash", .keep, [(.exe, "/usr/bin/dash")])
        let dropExec = rule("drop-exec", .drop, [(.key, "exec")])
        let events = try corpusEvents("exec")
        let dash = events.filter { firstValue("exe", in: $0) == "\"/usr/bin/dash\"" }
        #expect(!dash.isEmpty)
        #expect(dash.allSatisfy { firstValue("key", in: $0) == "\"exec\"" })

        var keepFirst = try globalFilter([keepDash, dropExec])
        var dropFirst = try globalFilter([dropExec, keepDash])
        for event in dash {
            keepFirst.evaluate(event)
            #expect(keepFirst.delivers(toOutput: 0))
            dropFirst.evaluate(event)
            #expect(!dropFirst.delivers(toOutput: 0))
        }
        #expect(keepFirst.counters.rules == [UInt64(dash.count), 0])
        // Counters follow the plan's rule order: here drop-exec first.
        #expect(dropFirst.counters.rules == [UInt64(dash.count), 0])
    }

    @Test func anEventThatNoRuleMatchesIsKept() throws {
        var filter = try globalFilter([rule("nothing", .drop, [(.key, "no-such-key")])])
        let events = try corpusEvents("file_watch")
        #expect(Self.deliveries(&filter, events).allSatisfy { $0 == [0] })
        #expect(filter.counters.events == UInt64(events.count))
        #expect(filter.counters.outputs == [0])
    }

    @Test func theGlobalListDecidesBeforeAnOutputsOwnList() throws {
        // auditctl's events are dropped by the global list for both outputs; "quiet" also drops
        // the exec events by its own list.
        let rules = [
            rule("drop-auditctl", .drop, [(.comm, "auditctl")]),
            rule("drop-exec", .drop, [(.key, "exec")]),
        ]
        let plan = FilterPlan(
            rules: rules, global: ["drop-auditctl"],
            outputs: [OutputFilters(name: "all"), OutputFilters(name: "quiet", rules: ["drop-exec", "drop-auditctl"])])
        var filter = try EventFilter(plan)
        let events = try corpusEvents("exec")
        let got = Self.deliveries(&filter, events)
        for (event, outputs) in zip(events, got) {
            let auditctl = firstValue("comm", in: event) == "\"auditctl\""
            let exec = firstValue("key", in: event) == "\"exec\""
            #expect(outputs.contains(0) == !auditctl)
            #expect(outputs.contains(1) == (!auditctl && !exec))
        }
        // drop-auditctl decided in the global list; the output's list never saw those events.
        let auditctlCount = UInt64(events.filter { firstValue("comm", in: $0) == "\"auditctl\"" }.count)
        // auditctl's own execs carry the exec key too: the global list dropped them first.
        let execCount = UInt64(
            events.filter { firstValue("key", in: $0) == "\"exec\"" && firstValue("comm", in: $0) != "\"auditctl\"" }
                .count)
        #expect(auditctlCount > 0 && execCount > 0)
        #expect(filter.counters.droppedGlobally == auditctlCount)
        #expect(filter.counters.rules == [auditctlCount, execCount])
        #expect(filter.counters.outputs == [auditctlCount, auditctlCount + execCount])
    }

    @Test func aKeepRuleEndsTheListBeforeALaterDrop() throws {
        let rules = [
            rule("keep-ls", .keep, [(.comm, "ls")]),
            rule("drop-all", .drop, [(.all, "yes")]),
        ]
        var filter = try globalFilter(rules)
        let events = try corpusEvents("exec")
        let got = Self.deliveries(&filter, events)
        let ls = events.indices.filter { firstValue("comm", in: events[$0]) == "\"ls\"" }
        #expect(!ls.isEmpty)
        #expect(events.indices.filter { got[$0] == [0] } == ls)
        #expect(filter.counters.rules == [UInt64(ls.count), UInt64(events.count - ls.count)])
    }

    @Test func aKeepInTheGlobalListEndsOnlyThatListAndTheOutputsListStillRuns() throws {
        let plan = FilterPlan(
            rules: [rule("keep-exec", .keep, [(.key, "exec")]), rule("drop-exec", .drop, [(.key, "exec")])],
            global: ["keep-exec", "drop-exec"], outputs: [OutputFilters(name: "a", rules: ["drop-exec"])])
        var filter = try EventFilter(plan)
        let events = try corpusEvents("exec")
        let got = Self.deliveries(&filter, events)
        for (event, outputs) in zip(events, got) {
            #expect(outputs.isEmpty == (firstValue("key", in: event) == "\"exec\""))
        }
        #expect(filter.counters.droppedGlobally == 0)
        #expect(filter.counters.rules[0] == filter.counters.rules[1])
        #expect(filter.counters.rules[1] > 0)
    }

    // MARK: filtered events to another output

    @Test func anOutputTakingFilteredEventsGetsExactlyWhatAnotherOutputDoesNot() throws {
        let rules = [
            rule("noise", .drop, [(.comm, "auditctl,nullreader")]),
            rule("users", .drop, [(.type, "1100-1199")]),
            rule("ptrace", .drop, [(.key, "ptrace")]),
        ]
        let plan = FilterPlan(
            rules: rules, global: ["noise"],
            outputs: [
                OutputFilters(name: "main", rules: ["users", "ptrace"]),
                OutputFilters(name: "filterlog", selection: .filteredOutBy("main")),
                OutputFilters(name: "other"),
            ])
        var filter = try EventFilter(plan)
        var events: [AuditEvent] = []
        for scenario in ["exec", "user_mgmt", "ptrace"] { events += try corpusEvents(scenario) }
        let got = Self.deliveries(&filter, events)
        var toMain = 0
        var toLog = 0
        for outputs in got {
            // Every event goes to exactly one of main and filterlog.
            #expect(outputs.contains(0) != outputs.contains(1))
            if outputs.contains(0) { toMain += 1 } else { toLog += 1 }
        }
        #expect(toMain > 0 && toLog > 0)
        #expect(filter.counters.outputs[0] == UInt64(toLog))
        #expect(filter.counters.outputs[1] == 0)
        #expect(filter.counters.rules.reduce(0, +) == UInt64(toLog))
        #expect(filter.counters.droppedGlobally == filter.counters.rules[0])
        #expect(filter.counters.outputs[2] == filter.counters.droppedGlobally)
    }

    @Test func anOutputTakingFilteredEventsCanFilterThemAgain() throws {
        let plan = FilterPlan(
            rules: [rule("exec", .drop, [(.key, "exec")]), rule("no-true", .drop, [(.comm, "true")])],
            outputs: [
                OutputFilters(name: "main", rules: ["exec"]),
                OutputFilters(name: "log", selection: .filteredOutBy("main"), rules: ["no-true"]),
            ])
        var filter = try EventFilter(plan)
        let events = try corpusEvents("exec")
        let got = Self.deliveries(&filter, events)
        for (event, outputs) in zip(events, got) {
            let exec = firstValue("key", in: event) == "\"exec\""
            let isTrue = firstValue("comm", in: event) == "\"true\""
            #expect(outputs == (exec ? (isTrue ? [] : [1]) : [0]))
        }
        let trueExecs = UInt64(events.filter { firstValue("comm", in: $0) == "\"true\"" }.count)
        #expect(trueExecs > 0)
        #expect(filter.counters.outputs[1] == trueExecs)
    }

    // MARK: plans refused

    @Test func aPlanNamingAnUnknownRuleOrOutputIsRefused() {
        #expect(throws: FilterPlanError.self) {
            try EventFilter(FilterPlan(global: ["missing"], outputs: [OutputFilters(name: "a")]))
        }
        #expect(throws: FilterPlanError.self) {
            try EventFilter(FilterPlan(outputs: [OutputFilters(name: "a", selection: .filteredOutBy("b"))]))
        }
        #expect(throws: FilterPlanError.self) {
            try EventFilter(
                FilterPlan(outputs: [
                    OutputFilters(name: "a"), OutputFilters(name: "b", selection: .filteredOutBy("a")),
                    OutputFilters(name: "c", selection: .filteredOutBy("b")),
                ]))
        }
    }

    @Test func aPlanWithoutRulesPassesEverythingWithoutLookingAtIt() throws {
        var filter = try EventFilter(FilterPlan(outputs: [OutputFilters(name: "a"), OutputFilters(name: "b")]))
        #expect(filter.isPassThrough)
        filter.evaluate(connectEvent)
        #expect(filter.delivers(toOutput: 0) && filter.delivers(toOutput: 1))
        #expect(filter.counters.events == 1)
    }

    @Test func theOrderIsDescribedInWords() {
        let plan = FilterPlan(
            rules: [rule("a", .drop, [(.key, "x")]), rule("b", .keep, [(.comm, "y")])], global: ["a"],
            outputs: [
                OutputFilters(name: "main", rules: ["b"]),
                OutputFilters(name: "log", selection: .filteredOutBy("main")),
            ])
        #expect(
            plan.describeOrder(of: plan.outputs[0])
                == "every event, through filters: a (drop); then output.main.filters: b (keep); no match keeps the event"
        )
        #expect(plan.describeOrder(of: plan.outputs[1]) == "exactly the events output \"main\" filters out")
    }
}
