import AuditNetlink
import AuditRules
import AuditTestSupport
import Foundation
import Testing

/// swift-audit against the real auditctl on this machine's kernel: the same file loaded by each
/// gives the same kernel rules, blob for blob, and the same `auditctl -l` text; and the library's
/// listing (what `swift-audit rules list` prints) is exactly `auditctl -l`.
///
/// Every test runs inside `withKernelAudit` (cross-process lock, snapshot, restore). The kernel must
/// have no rules when a test starts: a test deletes all rules between the two loads.
@Suite(.serialized, .requires(.kernel))
struct AuditctlRoundTripTests {
    /// One file to compare: its name, text, and where it came from.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var testDescription: String { name }
    }

    static func goLibauditCases() -> [Case] {
        HostTools.ruleFiles(in: RulesTestSupport.goLibauditRules).map {
            Case(name: "go-libaudit/" + $0.name, text: String(decoding: $0.bytes, as: UTF8.self))
        }
    }

    static func debianCases() -> [Case] {
        HostTools.ruleFiles(in: HostTools.debianExampleRules).map {
            Case(name: "debian/" + $0.name, text: String(decoding: $0.bytes, as: UTF8.self))
        }
    }

    static func handWrittenCases() -> [Case] {
        HandWrittenRules.files.map { Case(name: "hand-written/" + $0.name, text: $0.text) }
    }

    /// The parameterised test below has no case for the rule sets that are missing; say so.
    @Test(.requires(.corpus, .debianExampleRules))
    func theRealWorldRuleSetsAreThere() {
        #expect(!Self.goLibauditCases().isEmpty, "no go-libaudit rule fixtures in \(RulesTestSupport.goLibauditRules)")
        #expect(!Self.debianCases().isEmpty, "no Debian example rules in \(HostTools.debianExampleRules)")
        #expect(Self.handWrittenCases().count == HandWrittenRules.files.count)
    }

    @Test(.requires(.auditctl), arguments: goLibauditCases() + debianCases() + handWrittenCases())
    func loadingWithSwiftAuditGivesTheKernelStateAuditctlGives(_ testCase: Case) throws {
        let environment = try RulesTestSupport.systemEnvironment()
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-roundtrip")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        var rewriter = RuleFileRewriter(root: scratch + "/root")
        let rewritten = rewriter.rewrite(testCase.text)
        try rewriter.createDirectories()

        // Lines swift-audit rejects while parsing (names this machine lacks, such as user chrony)
        // leave the comparison; each must fail in auditctl too (checked below, on the kernel).
        var kept: [String] = []
        var rejected: [(line: String, errors: [RuleError])] = []
        for line in rewritten.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let parsed = RuleFile(parsing: line, name: testCase.name, environment: environment)
            if parsed.errors.isEmpty { kept.append(line) } else { rejected.append((line, parsed.errors)) }
        }
        let text = kept.joined(separator: "\n") + "\n"
        let path = scratch + "/" + (testCase.name as NSString).lastPathComponent
        try RulesTestSupport.write(text, to: path)

        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")

            let byAuditctl = try RulesTestSupport.runAuditctl(["-R", path])
            #expect(byAuditctl.status == 0, "auditctl -R \(testCase.name): \(byAuditctl.standardError)")
            let auditctlBlobs = try client.listRules()
            let auditctlListing = try RulesTestSupport.runAuditctl(["-l"]).standardOutput
            #expect(
                try RulesTestSupport.listing(auditctlBlobs, host: environment.machine) == auditctlListing,
                "the library's listing differs from auditctl -l for \(testCase.name)")
            try client.deleteAllRules()

            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: path, bytes: Array(text.utf8))], into: client)
            #expect(report.outcome == .applied, "\(testCase.name): \(report.errors.map(\.description))")
            let ourBlobs = try client.listRules()
            let ourListing = try RulesTestSupport.runAuditctl(["-l"]).standardOutput
            #expect(ourListing == auditctlListing, "\(testCase.name): auditctl -l after swift-audit's load differs")
            #expect(
                ourBlobs == auditctlBlobs,
                "\(testCase.name): the kernel holds other blobs than after auditctl -R: \(ourBlobs.count) vs \(auditctlBlobs.count), first difference at \(Array(zip(ourBlobs, auditctlBlobs)).firstIndex { $0.0 != $0.1 } ?? min(ourBlobs.count, auditctlBlobs.count))"
            )
            #expect(
                report.added
                    == text.split(separator: "\n").count {
                        $0.hasPrefix("-a") || $0.hasPrefix("-A") || $0.hasPrefix("-w")
                    })
            try client.deleteAllRules()

            for (line, errors) in rejected {
                let single = scratch + "/rejected.rules"
                try RulesTestSupport.write(line + "\n", to: single)
                let result = try RulesTestSupport.runAuditctl(["-R", single])
                #expect(
                    result.status != 0,
                    "swift-audit rejects \(line) (\(errors.map(\.description))) but auditctl loads it")
                try client.deleteAllRules()
            }
        }
        #expect(rewriter.dropped.allSatisfy { RuleFileRewriter.isUnsafe(RuleFileRewriter.words($0)) })
    }

    @Test(.requires(.auditctl))
    func swiftAuditExtensionsLoadAndAuditctlListsThemAsSwiftAuditDoes() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-extensions")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        var rewriter = RuleFileRewriter(root: scratch + "/root")
        _ = rewriter.rewrite(HandWrittenRules.extensions)  // only for the directories the paths need
        try rewriter.createDirectories()
        // Quoted paths keep their quotes here (the rewriter would turn them into `\ ` escapes).
        let text = HandWrittenRules.extensions
            .replacingOccurrences(of: "\"/etc/", with: "\"\(scratch)/root/etc/")
            .replacingOccurrences(of: "'/etc/", with: "'\(scratch)/root/etc/")
        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: "extensions.rules", text: text)], into: client)
            #expect(report.outcome == .applied, "\(report.errors.map(\.description))")
            let blobs = try client.listRules()
            #expect(blobs.count == 4)
            let auditctlListing = try RulesTestSupport.runAuditctl(["-l"]).standardOutput
            #expect(try RulesTestSupport.listing(blobs, host: environment.machine) == auditctlListing)
            #expect(auditctlListing.contains("-w \(scratch)/root/etc/quoted dir/file -p wa -k ext-quoted"))
            try client.deleteAllRules()
        }
    }

    @Test(.requires(.auditctl))
    func swiftAuditRulesListPrintsWhatAuditctlPrints() throws {
        let executable = TestEnvironment.executable.path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build swift-audit first: \(executable)")
        let environment = try RulesTestSupport.systemEnvironment()
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-list")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        var rewriter = RuleFileRewriter(root: scratch + "/root")
        let text = Self.handWrittenCases().map { rewriter.rewrite($0.text) }.joined(separator: "\n")
            .replacingOccurrences(of: "-D\n", with: "")
        try rewriter.createDirectories()
        let path = scratch + "/all.rules"
        try RulesTestSupport.write(text + "\n", to: path)

        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            let empty = try runProcess(executable, ["rules", "list"])
            #expect(empty.status == 0)
            #expect(empty.standardOutput == (try RulesTestSupport.runAuditctl(["-l"])).standardOutput)
            #expect(empty.standardOutput == "No rules\n")

            let loaded = try RulesTestSupport.runAuditctl(["-R", path])
            #expect(loaded.status == 0, "\(loaded.standardError)")
            let rules = try client.listRules()
            #expect(rules.count > 40)
            let ours = try runProcess(executable, ["rules", "list"])
            let theirs = try RulesTestSupport.runAuditctl(["-l"])
            #expect(ours.status == 0, "\(ours.standardError)")
            #expect(ours.standardOutput == theirs.standardOutput)
            #expect(try RulesTestSupport.listing(rules, host: environment.machine) == theirs.standardOutput)

            for key in ["identity", "access", "d1", "no-such-key"] {
                let oursByKey = try runProcess(executable, ["rules", "list", "-k", key])
                let theirsByKey = try RulesTestSupport.runAuditctl(["-l", "-k", key])
                #expect(oursByKey.standardOutput == theirsByKey.standardOutput, "-k \(key)")
            }
            try client.deleteAllRules()
        }
    }
}
