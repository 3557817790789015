import AuditRules
import AuditTestSupport
import FoundationEssentials
import Testing

/// The example rule sets Debian's auditd package installs (STIG, OSPP, PCI, …): they must load,
/// and every rule must survive encode → decode → list → parse unchanged.
///
/// They are read at run time from the system (GPL files, not copied into the project); under
/// CI=true, where auditd is installed, their absence fails the test.
@Suite struct ExampleRulesTests {
    static var environment: RuleEnvironment {
        var environment = testEnvironment()
        environment.accounts.users["chrony"] = 100
        return environment
    }

    @Test(.requires(.debianExampleRules))
    func everyExampleRuleFileParsesWithoutErrors() throws {
        try TestRequirement.debianExampleRules.check()
        var rules = 0
        for (name, bytes) in HostTools.ruleFiles(in: HostTools.debianExampleRules) {
            let file = RuleFile(parsing: bytes, name: name, environment: Self.environment)
            #expect(file.errors.isEmpty, "\(file.errors)")
            for command in file.commands {
                guard case .addRule(let rule) = command.kind else { continue }
                rules += 1
                try expectListingReparses(rule, from: "\(command.location)")
            }
        }
        #expect(rules > 150)
    }

    /// The rules of the auditctl oracle fixture and of go-libaudit's golden files (the `flags:` text
    /// of each `*.golden.yml` entry): each one whose listing keeps everything must come back from
    /// its listing unchanged. The test counts what it checked, and fails when it checked nothing.
    @Test(.requires(.corpus))
    func oracleAndGoldenRulesSurviveListingAndReparsing() throws {
        var checked = 0
        var lossy = 0
        func check(_ rule: AuditRule, from origin: String) throws {
            if try expectListingReparses(rule, from: origin) { checked += 1 } else { lossy += 1 }
        }

        var oracleRules = 0
        for row in auditctlOracleFixture.split(separator: "\n") {
            let line = String(row.prefix { $0 != "\t" })
            for command in parseLine(line).commands {
                guard case .addRule(let rule) = command.kind else { continue }
                oracleRules += 1
                try check(rule, from: "oracle: \(line)")
            }
        }

        var goldenRuleCount = 0
        for file in Corpus.goldenFiles {
            let ymlName = "\(file).golden.yml"
            let golden = try goldenRules(try Corpus.read("\(Corpus.ruleTestData)/\(ymlName)"))
            #expect(!golden.isEmpty, "\(ymlName) has no rules")
            for entry in golden {
                // go-libaudit wrote these from auditctl -l: each is one rule, and must parse.
                let file = parseLine(entry.text, environment: Self.environment)
                #expect(file.errors.isEmpty, "\(ymlName): \(entry.text): \(file.errors)")
                guard file.commands.count == 1, case .addRule(let rule) = file.commands[0].kind else {
                    Issue.record("\(ymlName): \(entry.text): expected one rule, got \(file.commands)")
                    continue
                }
                goldenRuleCount += 1
                try check(rule, from: "\(ymlName): \(entry.text)")
            }
        }

        #expect(oracleRules > 0, "the oracle fixture gave no rule")
        #expect(goldenRuleCount > 0, "the golden files gave no rule")
        #expect(checked > 0, "no rule was checked (\(lossy) had a lossy listing)")
        #expect(checked + lossy == oracleRules + goldenRuleCount)
    }

    /// `auditctl -l` output is itself valid input: parsing a rule's listing gives the rule again,
    /// where the listing format keeps everything. It does not for: numeric filetype values, `exe!=`
    /// (printed as `exe=`), foreign arches (printed as b64/b32), values with spaces, `-A` rules,
    /// fields auditctl has no name for (printed as `f24=1`), and rules printed as watches (the
    /// path's trailing slash and dir/file kind are lost).
    ///
    /// Returns false, checking nothing, for a rule whose listing is lossy.
    @discardableResult
    func expectListingReparses(_ rule: AuditRule, from origin: String) throws -> Bool {
        let listing = rule.auditctlListing(host: .x86_64)
        let lossy =
            rule.prepend || listing.hasPrefix("-w ") || listing.hasPrefix(" ")
            || rule.fields.contains { condition in
                switch (condition.field, condition.value) {
                case (.fileType, _), (.loginuidSet, _): return true
                case (.executable, _): return condition.op != .equal
                case (.arch, .number(let elf)): return elf != AuditMachine.x86_64.elf && elf != AuditMachine.i386.elf
                case (_, .string(let bytes)): return bytes.contains(UInt8(ascii: " "))
                default: return false
                }
            }
        if lossy { return false }
        let reparsed = parseLine(listing, environment: Self.environment)
        #expect(reparsed.errors.isEmpty, "\(origin): listing \(listing) does not parse: \(reparsed.errors)")
        guard case .addRule(let again) = reparsed.commands.first?.kind else {
            Issue.record("\(origin): listing \(listing) gives no rule")
            return true
        }
        #expect(try again.encoded() == rule.encoded(), "\(origin): \(listing)")
        return true
    }
}
