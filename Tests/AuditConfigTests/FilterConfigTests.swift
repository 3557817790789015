import AuditConfig
import AuditFilters
import Testing

@Suite struct FilterConfigTests {
    static let users = UserLookup.table(["root": 0, "backup": 34])

    static let text = """
        filter.cron.action = drop
        filter.cron.comm = cron
        filter.cron.uid = root
        filter.noise.action = drop
        filter.noise.key = (null)
        filter.noise.type = "SYSCALL, 1100-1199"
        filter.ssh.action = keep
        filter.ssh.saddr = :22
        filter.ssh.regex = "comm=\\"ssh[d]?\\" "
        filter.backup.action = drop
        filter.backup.auid = backup
        filter.backup.syscall = openat,read
        filters = cron,noise
        output.main.type = stdout
        output.main.filters = ssh,backup
        output.dropped.type = file
        output.dropped.path = /var/log/swift-audit/dropped.json
        output.dropped.take = filtered-by:main

        """

    static func parse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ParsedConfiguration? {
        do {
            return try DaemonConfiguration.parse(text, file: testFile, users: users)
        } catch {
            Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    static func refuse(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigDiagnostic] {
        do {
            _ = try DaemonConfiguration.parse(text, file: testFile, users: users)
            Issue.record("accepted, expected errors", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.diagnostics
        }
    }

    @Test func rulesListsAndSelectionsAreReadWithNamesResolved() throws {
        let parsed = try #require(Self.parse(Self.text))
        #expect(parsed.warnings == [])
        let configuration = parsed.configuration
        #expect(configuration.filterRules.map(\.name) == ["cron", "noise", "ssh", "backup"])
        #expect(configuration.filterRules.map(\.action) == [.drop, .drop, .keep, .drop])
        #expect(configuration.filters == ["cron", "noise"])
        #expect(configuration.outputs.map(\.filters) == [["ssh", "backup"], []])
        #expect(configuration.outputs.map(\.selection) == [.all, .filteredOutBy("main")])
        let cron = configuration.filterRules[0].conditions
        #expect(cron.map(\.field) == [.uid, .comm])
        #expect(cron.first?.matcher == .ids([0]))
        #expect(configuration.filterRules[3].conditions.last?.matcher == .ids([34]))
        #expect(configuration.filterRules[1].conditions.map(\.text) == ["(null)", "SYSCALL, 1100-1199"])
        let plan = configuration.filterPlan
        #expect(plan.global == ["cron", "noise"])
        #expect(plan.outputs.map(\.name) == ["main", "dropped"])
        _ = try EventFilter(plan)
    }

    @Test func checkConfigPrintsTheOrderPerOutputAndParsesBack() throws {
        let configuration = try #require(Self.parse(Self.text)).configuration
        let rendered = configuration.render()
        #expect(rendered.contains("filter.noise.type = \"SYSCALL, 1100-1199\"\n"))
        #expect(rendered.contains("filter.ssh.regex = \"comm=\\\"ssh[d]?\\\" \"\n"))
        #expect(rendered.contains("filters = cron,noise\n"))
        #expect(rendered.contains("output.dropped.take = filtered-by:main\n"))
        #expect(
            rendered.contains(
                "# events of \"main\": every event, through filters: cron (drop), noise (drop); "
                    + "then output.main.filters: ssh (keep), backup (drop); no match keeps the event\n"))
        #expect(rendered.contains("# events of \"dropped\": exactly the events output \"main\" filters out\n"))
        #expect(rendered.contains("the first rule that matches decides; no match keeps the event."))
        let again = try #require(Self.parse(rendered)).configuration
        #expect(again == configuration)
    }

    @Test(arguments: [
        ("filter.a.action = drop\nfilter.a.kye = x\n", 2, "unknown filter key \"kye\"; did you mean filter.a.key?"),
        ("filter.a.comm = cron\n", 1, "filter.a.action: is required: keep or drop"),
        ("filter.a.action = discard\nfilter.a.comm = x\n", 1, "filter.a.action = \"discard\": expected keep or drop"),
        ("filter.a.action = drop\n", 1, "filter.a: the rule has no condition"),
        (
            "filter.a.action = drop\nfilter.a.saddr = 10.0.0.0/33\n", 2,
            "filter.a.saddr = \"10.0.0.0/33\": \"10.0.0.0/33\" is not an address pattern"
        ),
        ("filter.a.action = drop\nfilter.a.regex = (x\n", 2, "filter.a.regex = \"(x\": not a POSIX extended regular"),
        ("filter.a.action = drop\nfilter.a.syscall = exceve\n", 2, "unknown syscall \"exceve\""),
        ("filter.a.action = drop\nfilter.a.uid = nobody2\n", 2, "unknown user \"nobody2\""),
        (
            "filter.a.action = drop\nfilter.a.all = yes\nfilter.a.key = k\n", 2,
            "all = yes matches every event and cannot be combined with other conditions (lines 3)"
        ),
        ("filter._a.action = drop\n", 1, "a rule NAME is"),
        ("filter.a = drop\n", 1, "expected filter.NAME.KEY"),
    ])
    func aBadRuleIsRefusedWithFileLineKeyAndValue(rule: String, line: Int, message: String) {
        let diagnostics = Self.refuse(rule + "filters = a\n" + stdoutOutput)
        let prefix = "\(testFile):\(line): "
        #expect(
            diagnostics.contains { $0.description.hasPrefix(prefix) && $0.description.contains(message) },
            "\(diagnostics)")
    }

    @Test func listsNamingUnknownRulesAreRefusedWithASuggestion() {
        let diagnostics = Self.refuse(
            "filter.noise.action = drop\nfilter.noise.key = x\nfilters = nosie\n" + "output.o.type = stdout\n"
                + "output.o.filters = noise,other\n")
        #expect(
            diagnostics.map(\.description) == [
                "\(testFile):3: filters = \"nosie\": names the rule \"nosie\", which no filter.nosie.* line defines; "
                    + "did you mean noise?",
                "\(testFile):5: output.o.filters = \"noise,other\": names the rule \"other\", which no filter.other.* "
                    + "line defines",
            ])
    }

    @Test func takingFromAMissingOutputOrFromATakerIsRefused() {
        let missing = Self.refuse("output.a.type = stdout\noutput.a.take = filtered-by:b\n")
        #expect(
            missing.map(\.description) == ["\(testFile):2: output.a.take = \"filtered-by:b\": there is no output \"b\""]
        )
        let chained = Self.refuse(
            "output.a.type = stdout\noutput.b.type = file\noutput.b.path = /b\noutput.b.take = filtered-by:a\n"
                + "output.c.type = file\noutput.c.path = /c\noutput.c.take = filtered-by:b\n")
        #expect(chained.map(\.line) == [7])
        #expect(chained.first?.relatedLines == [4])
        #expect(chained.first?.message.contains("itself takes filtered events") == true)
    }

    @Test func aRuleNoListUsesIsAWarning() throws {
        let parsed = try #require(Self.parse("filter.idle.action = drop\nfilter.idle.key = x\n" + stdoutOutput))
        #expect(parsed.warnings.map(\.line) == [1])
        #expect(parsed.warnings.first?.message.contains("has no effect") == true)
    }
}

extension FilterConfigTests {
    @Test func theExampleFilterSectionParsesWhenUncommented() throws {
        let example = try ExampleConfigTests().exampleText()
        let lines = example.split(separator: "\n").filter {
            $0.hasPrefix("# filter.") || $0.hasPrefix("# filters = ") || $0.hasPrefix("# output.ssh.")
                || $0.hasPrefix("# output.not-ssh.")
        }.map { $0.dropFirst(2) }
        #expect(lines.count == 18)
        let parsed = try #require(Self.parse(lines.joined(separator: "\n") + "\n"))
        #expect(parsed.warnings == [])
        #expect(parsed.configuration.filters == ["cron-noise", "agents"])
        #expect(parsed.configuration.outputs.map(\.selection) == [.all, .filteredOutBy("ssh")])
    }
}
