import AuditRules
import AuditTestSupport
import Testing

/// go-libaudit's rule fixtures: every rule line, loaded by auditctl into a real kernel, with the
/// blob the kernel returned. Our encoding must be that blob, and our listing what auditctl -l says.
@Suite(.requires(.corpus)) struct GoldenFixtureTests {
    /// go-libaudit's test loaded the rules with watched paths moved under this directory.
    static let testRoot = "/tmp/audit-test"

    /// The rule lines of a rules file, rewritten the way go-libaudit's test did (watched paths
    /// under ``testRoot``), and the directories that existed on the test machine.
    static func ruleLines(_ text: String) -> (lines: [String], directories: Set<String>) {
        var lines: [String] = []
        var directories: Set<String> = []
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var rewritten = line
            for (from, to) in [
                ("-w \"/", "-w \"\(testRoot)/"), ("-w '/", "-w '\(testRoot)/"), ("-w /", "-w \(testRoot)/"),
                ("path=/", "path=\(testRoot)/"), ("dir=/", "dir=\(testRoot)/"),
            ] {
                rewritten = rewritten.replacing(from, with: to)
            }
            // A watch written with a trailing slash was a directory on the test machine.
            let words = rewritten.split(separator: " ")
            if let index = words.firstIndex(of: "-w"), index + 1 < words.count, words[index + 1].hasSuffix("/") {
                var path = String(words[index + 1])
                while path.count > 1, path.hasSuffix("/") { path.removeLast() }
                directories.insert(path)
            }
            lines.append(rewritten)
        }
        return (lines, directories)
    }

    @Test(arguments: Corpus.goldenFiles)
    func everyRuleLineEncodesToTheGoldenKernelBlob(file: String) throws {
        let rulesText = try Corpus.read("\(Corpus.ruleTestData)/\(file)")
        let yml = try Corpus.read("\(Corpus.ruleTestData)/\(file).golden.yml")
        let golden = try goldenRules(yml)
        let (lines, directories) = Self.ruleLines(String(decoding: rulesText, as: UTF8.self))
        try #require(lines.count == golden.count, "\(lines.count) rule lines, \(golden.count) golden blobs")
        let environment = testEnvironment(directories: directories)
        for (line, expected) in zip(lines, golden) {
            let parsed = RuleFile(parsing: line, name: file, environment: environment)
            #expect(parsed.errors.isEmpty, "\(line): \(parsed.errors)")
            guard parsed.commands.count == 1, case .addRule(let rule) = parsed.commands[0].kind else {
                Issue.record("\(line): expected one rule, got \(parsed.commands)")
                continue
            }
            let encoded = try rule.encoded()
            #expect(
                kernelForm(encoded) == expected.blob,
                "\(line)\n ours:   \(hex(kernelForm(encoded)))\n golden: \(hex(expected.blob))")
        }
    }

    @Test(arguments: Corpus.goldenFiles + ["rule_data.yml"])
    func everyGoldenBlobDecodesToTheAuditctlListing(file: String) throws {
        let ymlName = file.hasSuffix(".yml") ? file : "\(file).golden.yml"
        let golden = try goldenRules(try Corpus.read("\(Corpus.ruleTestData)/\(ymlName)"))
        let expected = goldenListingFixture.split(separator: "\n").compactMap { line -> (Int, String)? in
            let parts = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == ymlName, let index = Int(parts[1]) else { return nil }
            return (index, String(parts[2]))
        }
        try #require(expected.count == golden.count, "fixture has \(expected.count) listings for \(golden.count) blobs")
        for (index, listing) in expected {
            let decoded = try AuditRule(kernelBlob: golden[index].blob)
            #expect(decoded.auditctlListing(host: .x86_64) == listing, "\(ymlName) #\(index)")
        }
    }

    @Test(arguments: Corpus.goldenFiles + ["rule_data.yml"])
    func decodingAndReencodingAGoldenBlobGivesItBack(file: String) throws {
        let ymlName = file.hasSuffix(".yml") ? file : "\(file).golden.yml"
        let golden = try goldenRules(try Corpus.read("\(Corpus.ruleTestData)/\(ymlName)"))
        try #require(!golden.isEmpty, "\(ymlName) has no rules")
        for entry in golden {
            let decoded = try AuditRule(kernelBlob: entry.blob)
            let encoded = try decoded.encoded()
            #expect(Array(entry.blob.prefix(encoded.count)) == encoded, "\(entry.text)")
            #expect(entry.blob.dropFirst(encoded.count).allSatisfy { $0 == 0 }, "\(entry.text): non-zero padding")
        }
    }

    /// rule_data.yml holds go-libaudit's own encodings of three rules (written by hand from
    /// auditctl's layout, unpadded); its text is auditctl input.
    @Test func ruleDataRulesEncodeToTheirBlobs() throws {
        let golden = try goldenRules(try Corpus.read("\(Corpus.ruleTestData)/rule_data.yml"))
        try #require(golden.count == 3)
        for entry in golden {
            guard let rule = parsedRule(entry.text) else { continue }
            #expect(try rule.encoded() == entry.blob, "\(entry.text)")
        }
    }
}
