import AuditEvents
import AuditNetlink
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// `AuditLogReader`: audit.log text, streamed in chunks, into events per node; and
/// `AuditFileKind`, which tells a log from a capture.
@Suite struct AuditLogReaderTests {
    /// One event as the tests compare it: node, identity, record types and bodies.
    struct Read: Equatable, CustomStringConvertible {
        var node: String?
        var id: String
        var types: [UInt16]
        var bodies: [[UInt8]]
        var completion: AuditEvent.Completion
        var flags: AuditEvent.Flags.RawValue

        init(node: String?, _ event: AuditEvent) {
            self.node = node
            id = event.id.description
            types = event.typeNumbers
            bodies = event.records.map { Array($0.body) }
            completion = event.completion
            flags = event.flags.rawValue
        }

        var description: String { "\(node ?? "-") \(id) \(types) \(completion)" }
    }

    /// Reads `sources` in order, each in chunks of `chunk` bytes, and finishes.
    static func read(
        _ sources: [(name: String, bytes: [UInt8])], chunk: Int = 1 << 20,
        configuration: AuditLogReader.Configuration = .init()
    ) -> (events: [Read], reader: AuditLogReader) {
        var reader = AuditLogReader(configuration: configuration)
        var events: [Read] = []
        for (name, bytes) in sources {
            reader.beginSource(name)
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + chunk)
                reader.consume(Array(bytes[start..<end])) { node, event in events.append(Read(node: node.name, event)) }
                start = end
            }
            reader.endSource { node, event in events.append(Read(node: node.name, event)) }
        }
        reader.finish { node, event in events.append(Read(node: node.name, event)) }
        return (events, reader)
    }

    static func read(_ bytes: [UInt8], chunk: Int = 1 << 20, configuration: AuditLogReader.Configuration = .init())
        -> (events: [Read], reader: AuditLogReader)
    {
        read([("log", bytes)], chunk: chunk, configuration: configuration)
    }

    static func text(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\n").utf8) + [0x0A] }

    /// Corpus logs whose records are not in the order auditd writes them, so that an event's
    /// records do not come together: every record still comes out, in an event of its own
    /// identity, but some identities make two events (the later part marked `late` or
    /// `duplicate`, as the reassembler marks such records live).
    static let irregularLogs: [String: String] = [
        "go-libaudit/auparse-testdata/audit-rhel7.log": "one line per record type, sorted by type name",
        "go-libaudit/auparse-testdata/audit-ubuntu16.log": "lines of unrelated logs, times years apart",
        "elastic-beats-filebeat-auditd/test.log": "lines of unrelated logs, times years apart",
        "go-libaudit/reassembler-testdata/out_of_order.log":
            "edited for go-libaudit's reassembler: a PATH of serial 60 comes after records 7 s later",
        // The kernel gives a user message sent from within an audited syscall that syscall's
        // serial, and auditd logs the SYSCALL after it: the reassembler closes the event at the
        // (standalone) user record, and the SYSCALL comes out as a duplicate of its own.
        "laurel/testdata/record-service-start.txt": "SERVICE_START then the SYSCALL of the same serial",
    ]

    @Test(.requires(.corpus))
    func everyCorpusLogReadsIntoOneEventPerNodeAndIdentity() throws {
        try TestRequirement.corpus.check()
        var files = 0
        var totalEvents = 0
        for path in Corpus.textLogs() where !path.hasSuffix(".yaml") {
            files += 1
            let bytes = try Corpus.read(path)
            let (events, reader) = Self.read([(path, bytes)], chunk: 4096)
            let keys = AuditLogText.recordKeys(bytes)
            // Every record line comes out once, in an event of its identity and node.
            var emitted: [String] = []
            for event in events {
                emitted += event.types.filter { $0 != 1320 }.map { _ in (event.node ?? "") + "|" + event.id }
            }
            #expect(emitted.sorted() == keys.sorted(), "\(path): records differ from the lines")
            if Self.irregularLogs[path] == nil {
                #expect(events.count == Set(keys).count, "\(path): one event per node and identity")
                #expect(events.allSatisfy { $0.flags == 0 }, "\(path): \(events.filter { $0.flags != 0 })")
            }
            // The only lines skipped: comments of the test files and go-libaudit's deliberate one.
            for problem in reader.problems {
                let line = String(decoding: problem.prefix, as: UTF8.self)
                #expect(line.hasPrefix("#") || line == "type=UNKNOWN[1329] msg=?", "\(problem)")
            }
            totalEvents += events.count
        }
        #expect(files >= 120 && totalEvents >= 600, "\(files) files, \(totalEvents) events")
    }

    @Test(.requires(.corpus), arguments: ["local/exec.audit.log", "laurel/testdata/record-execve-long.txt"])
    func chunkBoundariesDoNotMatter(path: String) throws {
        let bytes = try Corpus.read(path)
        let whole = Self.read(bytes).events
        #expect(!whole.isEmpty)
        for chunk in [1, 2, 7, 100, 4096, 9000] {
            #expect(Self.read(bytes, chunk: chunk).events == whole, "chunks of \(chunk) bytes")
        }
    }

    @Test(.requires(.corpus))
    func crlfLineEndsAndAMissingLastLineEndReadTheSame() throws {
        let bytes = try Corpus.read("local/exec.audit.log")
        var crlf: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A { crlf.append(0x0D) }
            crlf.append(byte)
        }
        crlf.removeLast()  // the last "\n": the last line ends in "\r" only
        let expected = Self.read(bytes).events
        let (events, reader) = Self.read(crlf, chunk: 333)
        #expect(events == expected)
        #expect(reader.problems.isEmpty)
        var unterminated = bytes
        unterminated.removeLast()
        #expect(Self.read(unterminated, chunk: 1000).events == expected)
    }

    @Test(.requires(.corpus))
    func overlongLinesAreSkippedAndNamedAndTheRestIsRead() throws {
        let bytes = try Corpus.read("local/exec.audit.log")
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        let long = lines.indices.filter { lines[$0].count > 5000 }.map { $0 + 1 }
        try #require(long.count >= 2)
        let configuration = AuditLogReader.Configuration(maximumLineLength: 5000, problemLimit: 100)
        // Chunks smaller and larger than the limit: the line is cut in the carry and in a chunk.
        for chunk in [512, 1 << 20] {
            let (_, reader) = Self.read([("exec.audit.log", bytes)], chunk: chunk, configuration: configuration)
            #expect(reader.problems.map(\.line) == long, "chunk \(chunk)")
            #expect(reader.problems.allSatisfy { $0.kind == .overlong(limit: 5000) })
            #expect(reader.statistics.records == UInt64(lines.count - long.count))
            #expect(reader.statistics.skippedLines == UInt64(long.count))
            let first = try #require(reader.problems.first)
            #expect(first.prefix.count == AuditLogProblem.prefixLimit)
            #expect(first.lineLength == lines[long[0] - 1].count, "chunk \(chunk)")
            #expect(first.description.hasSuffix("…\""))
            #expect(
                first.description.hasPrefix("exec.audit.log:\(long[0]): line longer than 5000 bytes: \"type="),
                "\(first)")
        }
    }

    @Test func linesThatAreNotRecordsAreCountedAndNamedWithTheirBytes() {
        let good = "type=USER msg=audit(1700000000.100:5): pid=1 uid=0 msg='hello'"
        let input =
            Self.text(["garbage here", "", "   ", good, "type=FUTURE_TYPE msg=audit(1700000000.200:6): x=1"])
            + [0x00, 0x01, 0x62, 0x69, 0x6E, 0x0A] + Array("type=SYSCALL msg=audit(nonsense): a=1\n".utf8)
        let (events, reader) = Self.read([("mixed.log", input)], chunk: 5)
        #expect(events.map(\.id) == ["1700000000.100:5"])
        #expect(reader.statistics.lines == 7)
        #expect(reader.statistics.blankLines == 2)
        #expect(reader.statistics.records == 1)
        #expect(reader.statistics.skippedLines == 4)
        let descriptions = reader.problems.map(\.description)
        #expect(descriptions.count == 4)
        #expect(descriptions[0] == "mixed.log:1: audit.log line lacks \"type=NAME\" at byte 0 of 12: \"garbage here\"")
        #expect(descriptions[1].hasPrefix("mixed.log:5: record type \"FUTURE_TYPE\" is unknown to this build"))
        #expect(descriptions[2].hasPrefix("mixed.log:6: ") && descriptions[2].contains("\"\\x00\\x01bin\""))
        #expect(descriptions[3].hasPrefix("mixed.log:7: audit.log line has a bad audit(…) header"))
    }

    @Test func problemsBeyondTheLimitAreCountedNotKept() {
        let input = Self.text((0..<30).map { "junk \($0)" })
        let (_, reader) = Self.read([("junk", input)], configuration: .init(problemLimit: 3))
        #expect(reader.problems.map(\.line) == [1, 2, 3])
        #expect(reader.problemCount == 30)
        #expect(reader.statistics.skippedLines == 30)
    }

    @Test(.requires(.corpus))
    func interleavedNodesReassemblePerNode() throws {
        let bytes = try Corpus.read("local/exec.audit.log")
        let single = Self.read(bytes).events
        // The same records from two hosts, line by line interleaved: same identities in both.
        var interleaved: [UInt8] = []
        for line in bytes.split(separator: 0x0A) {
            interleaved += Array("node=alpha ".utf8) + line + [0x0A]
            interleaved += Array("node=beta.example ".utf8) + line + [0x0A]
        }
        let (events, reader) = Self.read(interleaved, chunk: 4096)
        #expect(reader.nodes.map(\.name) == ["alpha", "beta.example"])
        for name in ["alpha", "beta.example"] {
            let mine = events.filter { $0.node == name }
            #expect(mine.map(\.id) == single.map(\.id), "\(name)")
            #expect(mine.map(\.bodies) == single.map(\.bodies), "\(name)")
            #expect(mine.map(\.types) == single.map(\.types), "\(name)")
        }
        #expect(events.count == 2 * single.count)
        // Output follows the log: the two nodes' events alternate rather than one node after the other.
        let firstBeta = try #require(events.firstIndex { $0.node == "beta.example" })
        #expect(firstBeta < 4)
    }

    @Test func aNodeThatFallsSilentIsReleasedByTheOtherNodesTime() {
        let a = "node=a type=SYSCALL msg=audit(1700000000.000:10): arch=c000003e syscall=59"
        var lines = [a]
        // Node b logs on for 5 s of log time; node a says nothing more.
        for second in 0..<5 {
            lines.append("node=b type=USER msg=audit(17000000\(10 + second).000:\(100 + second)): pid=1 msg='x'")
        }
        var reader = AuditLogReader()
        var seen: [String] = []
        reader.consume(Self.text(lines)) { node, event in seen.append("\(node.name ?? "-") \(event.id.serial)") }
        // Before the end of the input: node a's event has left (2 s of log time after it).
        #expect(seen.contains("a 10"))
        #expect(seen.first == "b 100" || seen.first == "a 10")
    }

    @Test(.requires(.corpus))
    func rotatedFilesContinueOneStream() throws {
        let bytes = try Corpus.read("local/exec.audit.log")
        let whole = Self.read(bytes).events
        let lines = bytes.split(separator: 0x0A).map { Array($0) + [0x0A] }
        let keys = AuditLogText.recordKeys(bytes)
        // Cut inside the event with the most records, between two of its lines.
        let counts = Dictionary(keys.map { ($0, 1) }, uniquingKeysWith: +)
        let biggest = try #require(counts.max { $0.value < $1.value }?.key)
        let cut = try #require(keys.firstIndex(of: biggest)) + counts[biggest]! / 2
        let older = Array(lines[..<cut].joined())
        let newer = Array(lines[cut...].joined())
        let (events, reader) = Self.read([("audit.log.1", older), ("audit.log", newer)], chunk: 1000)
        #expect(events == whole)
        #expect(reader.problems.isEmpty)
        // Given newest first, the reader says so and starts a new stream rather than marking late.
        let gap = AuditLogReaderTests.shifted(older, seconds: 3600)
        let (_, swapped) = Self.read([("audit.log", gap), ("audit.log.1", newer)])
        let problem = try #require(swapped.problems.first)
        #expect(problem.source == "audit.log.1" && problem.line == 1)
        #expect(!problem.kind.skipsLine)
        #expect(problem.description.contains("oldest first"))
    }

    /// The log with every record's time moved `seconds` later (serials unchanged).
    static func shifted(_ bytes: [UInt8], seconds: UInt64) -> [UInt8] {
        var text = String(decoding: bytes, as: UTF8.self)
        var result = ""
        while let open = text.range(of: "msg=audit(") {
            result += text[..<open.upperBound]
            let rest = text[open.upperBound...]
            let dot = rest.firstIndex(of: ".")!
            result += String(UInt64(rest[..<dot])! + seconds)
            text = String(rest[dot...])
        }
        return Array((result + text).utf8)
    }

    @Test func aBootWithoutDaemonStartBeginsANewStreamInsteadOfLateEvents() {
        // ausearch output across a reboot: serials start again, time goes on.
        let lines = [
            "type=SYSCALL msg=audit(1700000000.000:5000000): arch=c000003e syscall=59",
            "type=USER msg=audit(1700000100.000:12): pid=1 msg='after boot'",
            "type=SYSCALL msg=audit(1700000101.000:13): arch=c000003e syscall=59",
        ]
        let (events, _) = Self.read(Self.text(lines))
        #expect(events.map(\.id) == ["1700000000.000:5000000", "1700000100.000:12", "1700000101.000:13"])
        #expect(events.allSatisfy { $0.flags == 0 && $0.completion != .timeout })
    }

    @Test(.requires(.corpus))
    func daemonRecordsAreEventsOfTheirOwnOutsideTheKernelsSerials() throws {
        let (events, reader) = Self.read(try Corpus.read("local/exec.audit.log"))
        #expect(events.first?.types == [1200])
        #expect(events.last?.types == [1201])
        #expect(events.allSatisfy { $0.flags == 0 })
        #expect(events.allSatisfy { $0.completion == .endOfEvent || $0.completion == .standalone })
        #expect(reader.reassemblyStatistics(of: reader.nodes[0]).lateRecords == 0)
    }

    /// Pass 1 of the local corpus: auditd's audit.log and the multicast copy of the same datagrams
    /// (corpus/local/README.md). The log, read without its ENRICHED part, gives the events the
    /// capture gives, record for record, except what the README lists: the capture also has the
    /// CONFIG_CHANGE `audit_pid=` records and auditd's exit event, the log auditd's own
    /// DAEMON_START/DAEMON_END.
    @Test(.requires(.corpus), arguments: Corpus.localScenarios)
    func aLogGivesTheEventsOfTheCaptureOfTheSameRecords(scenario: String) throws {
        let bytes = try Corpus.read("local/\(scenario).audit.log")
        let (log, reader) = Self.read(bytes, configuration: .init(keepsTranslations: false))
        #expect(reader.problems.isEmpty)
        let fromLog = log.filter { !$0.types.contains { (1200...1299).contains($0) } }
        #expect(fromLog.count == log.count - 2)
        let capture = try CorpusReplayTests.replay(Corpus.path("local/\(scenario).netlink.bin"))
        let logIDs = Set(fromLog.map(\.id))
        var expected: [Read] = []
        for event in capture.events where logIDs.contains(event.id.description) {
            var read = Read(node: nil, event)
            for index in read.types.indices.reversed()
            where read.types[index] == 1305
                && String(decoding: read.bodies[index], as: UTF8.self).contains("audit_pid=")
            {
                read.types.remove(at: index)
                read.bodies.remove(at: index)
            }
            expected.append(read)
        }
        #expect(capture.events.count - expected.count == 1, "only auditd's exit event is not in the log")
        #expect(fromLog.map(\.id) == expected.map(\.id))
        #expect(fromLog.map(\.types) == expected.map(\.types))
        #expect(fromLog.map(\.bodies) == expected.map(\.bodies))
    }

    @Test(.requires(.corpus))
    func enrichedTranslationsStayInTheBodyAfterTheirSeparatorUnlessCut() throws {
        let bytes = try Corpus.read("local/exec.audit.log")
        let kept = Self.read(bytes).events
        let cut = Self.read(bytes, configuration: .init(keepsTranslations: false)).events
        #expect(kept.map(\.id) == cut.map(\.id))
        var withTranslations = 0
        for (full, raw) in zip(kept.flatMap(\.bodies), cut.flatMap(\.bodies)) {
            if let separator = full.firstIndex(of: 0x1D) {
                withTranslations += 1
                #expect(Array(full[..<separator]) == raw)
                #expect(full[(separator + 1)...].starts(with: Array("ARCH=".utf8)) || full.count > separator + 1)
            } else {
                #expect(full == raw)
            }
            #expect(!raw.contains(0x1D))
        }
        #expect(withTranslations >= 50)
    }

    @Test(.requires(.corpus))
    func readingADescriptorGivesWhatConsumingGives() throws {
        let path = Corpus.path("local/ptrace.audit.log")
        let expected = Self.read(try Corpus.read("local/ptrace.audit.log")).events
        let descriptor = open(path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var prefix = [UInt8](repeating: 0, count: 100)
        try #require(Glibc.read(descriptor, &prefix, 100) == 100)
        var reader = AuditLogReader()
        var events: [Read] = []
        try reader.read(fileDescriptor: descriptor, name: path, alreadyRead: prefix, bufferSize: 4096) {
            events.append(Read(node: $0.name, $1))
        }
        reader.finish { events.append(Read(node: $0.name, $1)) }
        #expect(events == expected)
    }
}

/// `AuditFileKind`: what an input is, from its first bytes.
@Suite struct AuditFileKindTests {
    @Test(.requires(.corpus))
    func corpusFilesAreToldByTheirContent() throws {
        func kind(_ path: String) throws -> AuditFileKind? {
            AuditFileKind.detect(Array(try Corpus.read(path).prefix(AuditFileKind.detectionLength)), atEnd: true)
        }
        #expect(try kind("local/exec.audit.log") == .auditLog)
        #expect(try kind("laurel/testdata/record-execve.txt") == .auditLog)  // node=, ENRICHED
        #expect(try kind("laurel/testdata/shell-proc-trace.txt") == .auditLog)  // comments first
        #expect(try kind("local/exec.unicast.bin") == .capture(multicast: false))
        #expect(try kind("local/exec.netlink.bin") == .capture(multicast: true))
        if case .otherText = try kind("local/exec.netlink.tsv") {} else { Issue.record("a TSV is other text") }
        if case .otherText(let line) = try kind("SOURCES.md") {
            #expect(String(decoding: line, as: UTF8.self) == "# Audit-log test corpora: sources and licenses")
        } else {
            Issue.record("markdown is other text")
        }
    }

    @Test func theKindIsToldFromFewBytesOrWaitsForMore() {
        #expect(AuditFileKind.detect([UInt8](), atEnd: true) == .empty)
        #expect(AuditFileKind.detect([UInt8](), atEnd: false) == nil)
        #expect(AuditFileKind.detect(Array("ty".utf8), atEnd: false) == nil)
        #expect(AuditFileKind.detect(Array("\n\nnode=a type=".utf8), atEnd: false) == .auditLog)
        #expect(AuditFileKind.detect(Array("hello\n".utf8), atEnd: false) == nil)
        #expect(AuditFileKind.detect(Array("hello\n".utf8), atEnd: true) == .otherText(firstLine: Array("hello".utf8)))
        #expect(
            AuditFileKind.detect([0x7F, 0x45, 0x4C, 0x46, 0, 0, 0], atEnd: true)
                == .binary(prefix: [0x7F, 0x45, 0x4C, 0x46, 0, 0, 0]))
        let interpreted =
            "----\ntime->Mon Dec  5 10:00:00 2016\ntype=SYSCALL msg=audit(12/05/2016 10:00:00.123:45) : arch=x86_64\n"
        #expect(AuditFileKind.detect(Array(interpreted.utf8)) == .ausearchReport)
        let plain = "----\ntime->Mon Dec  5 10:00:00 2016\ntype=SYSCALL msg=audit(1480932000.123:45): arch=c000003e\n"
        #expect(AuditFileKind.detect(Array(plain.utf8)) == .auditLog)
        #expect(AuditFileKind.auditLog.description.contains("audit.log"))
        #expect(AuditFileKind.capture(multicast: true).description.contains("multicast"))
    }

    @Test func ausearchSeparatorsAreNotProblems() {
        let plain = "----\ntime->Mon Dec  5 10:00:00 2016\ntype=USER msg=audit(1480932000.123:45): pid=1 msg='x'\n"
        let (events, reader) = AuditLogReaderTests.read(Array(plain.utf8))
        #expect(events.count == 1)
        #expect(reader.problems.isEmpty)
        #expect(reader.statistics.blankLines == 2)
    }
}
