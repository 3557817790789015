import AuditTestSupport
import Foundation
import Testing

/// `swift-audit parse` (and `replay` given the wrong kind of file), run as an operator runs them.
@Suite struct ParseCommandTests {
    static var binary: String { CommandLineTests.binary }

    static let scenarios = ["exec", "file_watch", "user_mgmt", "mount", "module", "ptrace", "misc_kernel"]

    /// The JSON objects of the output, one per line; records an issue for a line that is not one.
    static func objects(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if object == nil { Issue.record("not a JSON object: \(line.prefix(200))", sourceLocation: sourceLocation) }
            return object
        }
    }

    @Test(.requires(.corpus), arguments: scenarios)
    func aLogBecomesOneJSONLinePerEventWithTheKernelsText(scenario: String) throws {
        try TestRequirement.corpus.check()
        let path = Corpus.path("local/\(scenario).audit.log")
        let result = try runProcess(Self.binary, ["parse", path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        let keys = AuditLogText.recordKeys(try Corpus.read("local/\(scenario).audit.log"))
        let objects = Self.objects(result.standardOutput)
        #expect(objects.count == Set(keys).count)
        let records = objects.reduce(0) { $0 + (($1["messages"] as? [[String: Any]])?.count ?? 0) }
        #expect(records == keys.count)
        // Raw is the kernel's text: the ENRICHED translations (after 0x1d) are not in it.
        #expect(!result.standardOutput.contains("\\u001d"))
        #expect(!result.standardOutput.contains("AUID=\\\"cloudsdk\\\""))
        #expect(objects.allSatisfy { $0["completion"] == nil && $0["flags"] == nil && $0["hostname"] == nil })
    }

    @Test(.requires(.corpus))
    func aCaptureIsReadToo() throws {
        try TestRequirement.corpus.check()
        let capture = Corpus.path("local/exec.unicast.bin")
        let parsed = try runProcess(Self.binary, ["parse", capture])
        let replayed = try runProcess(Self.binary, ["replay", capture])
        #expect(parsed.status == 0, "\(parsed.standardError)")
        let sequences = Self.objects(parsed.standardOutput).map { $0["sequence"] as? Int }
        #expect(sequences.count > 10)
        #expect(sequences == Self.objects(replayed.standardOutput).map { $0["sequence"] as? Int })
    }

    @Test(.requires(.corpus))
    func standardInputIsReadWithADashOrWithoutArguments() throws {
        try TestRequirement.corpus.check()
        let path = Corpus.path("local/file_watch.audit.log")
        let direct = try runProcess(Self.binary, ["parse", path])
        #expect(direct.status == 0)
        for arguments in [["parse", "-"], ["parse"]] {
            // Through a pipe, which cannot be read twice: what was read to tell its kind is kept.
            let piped = try runProcess(
                "/bin/sh", ["-c", "f=$1; shift; cat \"$f\" | \"$0\" \"$@\"", Self.binary, path] + arguments)
            #expect(piped.status == 0, "\(arguments): \(piped.standardError)")
            #expect(piped.standardOutput == direct.standardOutput, "\(arguments)")
        }
    }

    @Test(.requires(.corpus))
    func rotatedFilesGivenOldestFirstAreOneStream() throws {
        try TestRequirement.corpus.check()
        let bytes = try Corpus.read("local/exec.audit.log")
        let lines = bytes.split(separator: 0x0A).map { Array($0) + [0x0A] }
        let keys = AuditLogText.recordKeys(bytes)
        // Cut between two records of one event (the one with the most records).
        let counts = Dictionary(keys.map { ($0, 1) }, uniquingKeysWith: +)
        let biggest = try #require(counts.max { $0.value < $1.value }?.key)
        let cut = try #require(keys.firstIndex(of: biggest)) + counts[biggest]! / 2
        let directory = try TemporaryDirectory()
        let older = directory.file("audit.log.1")
        let newer = directory.file("audit.log")
        try Data(lines[..<cut].joined()).write(to: URL(fileURLWithPath: older))
        try Data(lines[cut...].joined()).write(to: URL(fileURLWithPath: newer))
        let whole = try runProcess(Self.binary, ["parse", Corpus.path("local/exec.audit.log")])
        let rotated = try runProcess(Self.binary, ["parse", older, newer])
        #expect(rotated.status == 0, "\(rotated.standardError)")
        #expect(rotated.standardError.isEmpty)
        #expect(rotated.standardOutput == whole.standardOutput)
    }

    @Test(.requires(.corpus))
    func interleavedNodesComeOutAsEventsOfEachHost() throws {
        try TestRequirement.corpus.check()
        let bytes = try Corpus.read("local/mount.audit.log")
        var interleaved: [UInt8] = []
        for line in bytes.split(separator: 0x0A) {
            interleaved += Array("node=web1 ".utf8) + line + [0x0A]
            interleaved += Array("node=db2 ".utf8) + line + [0x0A]
        }
        let directory = try TemporaryDirectory()
        let path = directory.file("aggregated.log")
        try Data(interleaved).write(to: URL(fileURLWithPath: path))
        let single = Self.objects(
            try runProcess(Self.binary, ["parse", Corpus.path("local/mount.audit.log")]).standardOutput)
        let result = try runProcess(Self.binary, ["parse", path])
        #expect(result.status == 0, "\(result.standardError)")
        let objects = Self.objects(result.standardOutput)
        for host in ["web1", "db2"] {
            let mine = objects.filter { $0["hostname"] as? String == host }
            #expect(mine.map { $0["sequence"] as? Int } == single.map { $0["sequence"] as? Int }, "\(host)")
            #expect(mine.map { ($0["messages"] as? [Any])?.count } == single.map { ($0["messages"] as? [Any])?.count })
        }
        #expect(objects.count == 2 * single.count)
    }

    @Test func filesOfTheWrongKindAreNamedWithWhatWasExpectedAndFound() throws {
        let directory = try TemporaryDirectory()
        let binary = directory.file("core.bin")
        try Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + [UInt8](repeating: 0, count: 100)).write(
            to: URL(fileURLWithPath: binary))
        let text = try directory.write("notes.txt", "shopping list\nmilk\n")
        let interpreted = try directory.write(
            "interpreted.txt",
            "----\ntime->Mon Dec  5 10:00:00 2016\ntype=SYSCALL msg=audit(12/05/2016 10:00:00.123:45) : arch=x86_64\n")
        for (path, found) in [
            (binary, "found binary data starting \"\\x7fELF"),
            (text, "found text that is not an audit.log, starting \"shopping list\""),
            (interpreted, "found ausearch's interpreted output (ausearch -i"),
        ] {
            let result = try runProcess(Self.binary, ["parse", path])
            #expect(result.status == 1)
            #expect(result.standardOutput.isEmpty)
            #expect(result.standardError.contains("\(path): expected an audit.log"), "\(result.standardError)")
            #expect(result.standardError.contains(found), "\(result.standardError)")
        }
        let missing = try runProcess(Self.binary, ["parse", directory.file("absent.log")])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("absent.log: cannot open: ENOENT"), "\(missing.standardError)")
    }

    @Test(.requires(.corpus))
    func oneBadInputDoesNotStopTheOthers() throws {
        try TestRequirement.corpus.check()
        let directory = try TemporaryDirectory()
        let text = try directory.write("notes.txt", "shopping list\n")
        let result = try runProcess(Self.binary, ["parse", text, Corpus.path("local/module.audit.log")])
        #expect(result.status == 1)
        #expect(
            Self.objects(result.standardOutput).count
                == Set(AuditLogText.recordKeys(try Corpus.read("local/module.audit.log"))).count)
    }

    @Test(.requires(.corpus))
    func replayNamesAnAuditLogAndPointsToParse() throws {
        try TestRequirement.corpus.check()
        let path = Corpus.path("local/exec.audit.log")
        let result = try runProcess(Self.binary, ["replay", path])
        #expect(result.status == 1)
        #expect(result.standardError.contains("not a capture but an audit.log"), "\(result.standardError)")
        #expect(result.standardError.contains("swift-audit parse \(path)"))
        #expect(!result.standardError.contains("frame length"))
        let multicast = try runProcess(Self.binary, ["replay", Corpus.path("local/exec.netlink.bin")])
        #expect(multicast.status == 0)
        #expect(multicast.standardError.contains("multicast capture"), "\(multicast.standardError)")
    }

    @Test func linesThatAreNotRecordsAreReportedAfterTheEvents() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(
            "mixed.log",
            """
            type=USER msg=audit(1700000000.100:5): pid=1 uid=0 msg='one'
            this line is noise
            type=USER msg=audit(1700000000.200:6): pid=1 uid=0 msg='two'

            """)
        let result = try runProcess(Self.binary, ["parse", path])
        #expect(result.status == 0)
        #expect(Self.objects(result.standardOutput).count == 2)
        #expect(
            result.standardError.contains("\(path):2: audit.log line lacks \"type=NAME\""), "\(result.standardError)")
        #expect(result.standardError.contains("\"this line is noise\""))
        #expect(result.standardError.contains("1 of 3 lines skipped: not audit records"))

        let noise = try directory.write("noise.log", "type=SYSCALL msg=nothing here\nnor here\n")
        let nothing = try runProcess(Self.binary, ["parse", noise])
        #expect(nothing.status == 1, "no line was a record")
        #expect(nothing.standardError.contains("2 of 2 lines skipped"), "\(nothing.standardError)")
    }

    @Test(.requires(.corpus))
    func theFormatOptionTakesRawOrEnriched() throws {
        try TestRequirement.corpus.check()
        let path = Corpus.path("local/exec.audit.log")
        let enriched = try runProcess(Self.binary, ["parse", "--format", "enriched", path])
        #expect(enriched.status == 0, "\(enriched.standardError)")
        #expect(
            Self.objects(enriched.standardOutput).count
                == Set(AuditLogText.recordKeys(try Corpus.read("local/exec.audit.log"))).count)
        let wrong = try runProcess(Self.binary, ["parse", "--format", "xml", path])
        #expect(wrong.status == 64)
        #expect(wrong.standardError.contains("--format xml: expected raw, enriched or ecs"))
    }

    @Test func helpTeachesTheInputsAndExamples() throws {
        let help = try runProcess(Self.binary, ["parse", "--help"])
        #expect(help.status == 0)
        for text in [
            "ENRICHED", "node=NAME", "run --record", "oldest first", "audit.log.1 /var/log/audit/audit.log",
            "ausearch --raw", "--format enriched", "0x1d", "Exit codes",
        ] {
            #expect(help.standardOutput.contains(text), "\(text)")
        }
        let top = try runProcess(Self.binary, ["--help"])
        #expect(top.standardOutput.contains("parse"))
    }
}

@Suite struct ParseFilterTests {
    /// `--config` applies the configuration's global filters; `--output` adds that output's, so a
    /// filterlog output's view is exactly the complement.
    @Test(.requires(.corpus))
    func parseAppliesTheConfigurationsFiltersAndCountsWhatTheyDrop() throws {
        try TestRequirement.corpus.check()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(
            """
            filter.noexec.action = drop
            filter.noexec.key = exec
            filters = noexec
            filter.cwdonly.action = keep
            filter.cwdonly.type = CONFIG_CHANGE
            filter.rest.action = drop
            filter.rest.all = yes
            output.main.type = file
            output.main.path = \(directory.file("main.json"))
            output.main.filters = cwdonly,rest
            output.dropped.type = file
            output.dropped.path = \(directory.file("dropped.json"))
            output.dropped.take = filtered-by:main
            """, to: "c.conf")
        chmod(directory.file("c.conf"), 0o600)
        let log = Corpus.path("local/exec.audit.log")
        let all = ParseCommandTests.objects(try runProcess(ParseCommandTests.binary, ["parse", log]).standardOutput)
        func keyOf(_ object: [String: Any]) -> Bool {
            (object["messages"] as? [[String: Any]])?.contains {
                ($0["data"] as? String)?.contains("key=\"exec\"") == true
            }
                ?? false
        }
        func hasConfigChange(_ object: [String: Any]) -> Bool {
            (object["messages"] as? [[String: Any]])?.contains { $0["type"] as? Int == 1305 } ?? false
        }
        let global = try runProcess(ParseCommandTests.binary, ["parse", "--config", directory.file("c.conf"), log])
        #expect(global.status == 0, "\(global.standardError)")
        let kept = ParseCommandTests.objects(global.standardOutput)
        let dropped = all.filter(keyOf).count
        #expect(dropped > 5)
        #expect(kept.count == all.count - dropped)
        #expect(!kept.contains(where: keyOf))
        #expect(global.standardError.contains("\(dropped) events filtered out by the global filters"))

        let main = ParseCommandTests.objects(
            try runProcess(
                ParseCommandTests.binary, ["parse", "--config", directory.file("c.conf"), "--output", "main", log]
            ).standardOutput)
        let rest = ParseCommandTests.objects(
            try runProcess(
                ParseCommandTests.binary, ["parse", "--config", directory.file("c.conf"), "--output", "dropped", log]
            ).standardOutput)
        #expect(!main.isEmpty && main.allSatisfy(hasConfigChange))
        #expect(main.count == kept.filter(hasConfigChange).count)
        // The filterlog output takes every event main does not write, the global list's drops too.
        #expect(main.count + rest.count == all.count, "the filterlog output takes exactly the rest")

        let unknown = try runProcess(
            ParseCommandTests.binary, ["parse", "--config", directory.file("c.conf"), "--output", "nope", log])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("--output nope: the configuration has no such output"))
    }
}
