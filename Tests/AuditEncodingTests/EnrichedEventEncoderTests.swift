import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

/// The passwd and group files of the machine the corpus was captured on, as far as its events name
/// them, so that names compare on any machine.
struct AccountsFixture {
    let directory: TemporaryDirectory
    var users: UserDirectory
    var groups: UserDirectory

    init() throws {
        directory = try TemporaryDirectory()
        try directory.write(
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
                + "cloudsdk:x:1000:1000::/home/cloudsdk:/bin/bash\n", to: "passwd")
        try directory.write("root:x:0:\nshadow:x:42:\nnogroup:x:65534:\ncloudsdk:x:1000:\n", to: "group")
        users = UserDirectory(path: directory.file("passwd"), refreshInterval: .seconds(3600))
        groups = UserDirectory(path: directory.file("group"), refreshInterval: .seconds(3600))
    }

    func encoder(hostname: String? = nil) -> EnrichedEventEncoder {
        EnrichedEventEncoder(hostname: hostname, users: users, groups: groups)
    }
}

/// One event encoded in the enriched format, parsed back with Foundation's JSON reader.
func enrichedObject(_ event: AuditEvent, encoder: inout EnrichedEventEncoder) throws -> OrderedJSON {
    var writer = JSONWriter()
    encoder.encode(event, into: &writer)
    let line = Array(writer.bytes)
    #expect(line.last == UInt8(ascii: "\n"))
    return try OrderedJSON.parse(line)
}

/// The bytes a laurel-style string stands for: `%xx` decoded.
func percentDecoded(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    let utf8 = Array(text.utf8)
    var index = 0
    while index < utf8.count {
        if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
            let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
        {
            bytes.append(value)
            index += 3
        } else {
            bytes.append(utf8[index])
            index += 1
        }
    }
    return bytes
}

@Suite struct EnrichedEventEncoderTests {
    /// Keys of laurel's output that come from its process table, not from the records (the
    /// context issue adds them).
    static let processStateKeys: Set<String> = ["PPID", "PID", "SCRIPT", "ENV", "OPID"]

    /// laurel 0.5.1's output for the corpus scenarios (`local/*.laurel.jsonl`) and ours for the
    /// very same kernel records (the multicast copy, `*.netlink.tsv`): every record object equal,
    /// keys in the same order, apart from laurel's process context. Documented differences: auditd
    /// writes its own DAEMON_START/DAEMON_END (not kernel records), and it does not log the
    /// CONFIG_CHANGE of its own registration, which the kernel sends and we keep.
    @Test(.requires(.corpus))
    func enrichedEventsOfTheCorpusMatchLaurelRecordForRecord() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        var compared = 0
        for scenario in ["exec", "file_watch", "user_mgmt", "misc_kernel", "module", "mount", "ptrace"] {
            let messages = try Corpus.parseTSV(
                try Corpus.read("local/\(scenario).netlink.tsv"), file: "\(scenario).netlink.tsv")
            let records = messages.compactMap(CorpusTests.splitHeader).filter { $0.type != 1320 }
            var ours: [String: OrderedJSON] = [:]
            for (event, _) in CorpusTests.events(records) {
                let object = try enrichedObject(event, encoder: &encoder)
                ours[object["ID"]?.stringValue ?? ""] = object
            }
            let laurelText = try Corpus.read("local/\(scenario).laurel.jsonl")
            for line in laurelText.split(separator: UInt8(ascii: "\n")) {
                let laurel = try OrderedJSON.parse(line)
                let id = laurel["ID"]?.stringValue ?? ""
                if laurel["DAEMON_START"] != nil || laurel["DAEMON_END"] != nil { continue }
                let mine = try #require(ours[id], "\(scenario): no event \(id)")
                #expect(
                    mine.keys.filter { $0 != "CONFIG_CHANGE" } == laurel.keys.filter { $0 != "CONFIG_CHANGE" },
                    "\(scenario) \(id): record types \(mine.keys) vs laurel's \(laurel.keys)")
                for type in laurel.keys where type != "ID" {
                    let expected = Self.withoutProcessState(laurel[type]!)
                    let actual = mine[type].map(Self.withoutProcessState)
                    #expect(
                        actual == expected,
                        "\(scenario) \(id) \(type):\n laurel \(expected)\n ours   \(String(describing: actual))")
                    compared += 1
                }
            }
        }
        #expect(compared > 700, "compared \(compared) record objects")
    }

    /// The same comparison for the audit.log auditd wrote with `log_format = ENRICHED` (read by
    /// `AuditLogReader`, keeping the log's translations): every laurel event, DAEMON_START and
    /// DAEMON_END included, record for record.
    @Test(.requires(.corpus))
    func enrichedEventsOfTheCorpusLogsMatchLaurelRecordForRecord() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        var compared = 0
        for scenario in ["exec", "file_watch", "user_mgmt", "misc_kernel", "module", "mount", "ptrace"] {
            var reader = AuditLogReader()
            var events: [AuditEvent] = []
            reader.beginSource("\(scenario).audit.log")
            reader.consume(try Corpus.read("local/\(scenario).audit.log")) { events.append($1) }
            reader.endSource { events.append($1) }
            reader.finish { events.append($1) }
            var ours: [String: OrderedJSON] = [:]
            for event in events {
                let object = try enrichedObject(event, encoder: &encoder)
                ours[object["ID"]?.stringValue ?? ""] = object
            }
            for line in try Corpus.read("local/\(scenario).laurel.jsonl").split(separator: UInt8(ascii: "\n")) {
                let laurel = try OrderedJSON.parse(line)
                let id = laurel["ID"]?.stringValue ?? ""
                let mine = try #require(ours[id], "\(scenario): no event \(id)")
                #expect(mine.keys == laurel.keys, "\(scenario) \(id): \(mine.keys) vs laurel's \(laurel.keys)")
                for type in laurel.keys where type != "ID" {
                    let expected = Self.withoutProcessState(laurel[type]!)
                    #expect(
                        mine[type].map(Self.withoutProcessState) == expected,
                        "\(scenario) \(id) \(type):\n laurel \(expected)\n ours   \(String(describing: mine[type]))")
                    compared += 1
                }
            }
        }
        #expect(compared > 750, "compared \(compared) record objects")
    }

    static func withoutProcessState(_ value: OrderedJSON) -> OrderedJSON {
        switch value {
        case .object(let members): .object(members.filter { !processStateKeys.contains($0.key) })
        case .array(let items): .array(items.map(withoutProcessState))
        default: value
        }
    }

    @Test func syscallArgumentsBecomeARGVAndNumbersAreTyped() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        let event = makeEvent(
            serial: 7,
            [
                (
                    1300,
                    "arch=c000003e syscall=2 success=no exit=-2 a0=7ffd a1=0 a2=1b6 a3=0 items=1 ppid=1 pid=42 "
                        + "auid=4294967295 uid=1000 gid=1000 comm=\"cat\" exe=2F746D702F6120620A key=(null)"
                ),
                (1302, "item=0 name=\"/etc/shadow\" inode=12 dev=fe:00 mode=0100640 ouid=0 ogid=42 nametype=NORMAL"),
                (1327, "proctitle=636174002F6574632F736861646F7700"),
            ])
        let object = try enrichedObject(event, encoder: &encoder)
        #expect(object["ID"]?.stringValue == "1795345044.640:7")
        let syscall = try #require(object["SYSCALL"])
        #expect(syscall["exit"] == .number("-2"))
        #expect(syscall["ARGV"] == .array(["0x7ffd", "0x0", "0x1b6", "0x0"].map(OrderedJSON.string)))
        #expect(syscall["a0"] == nil)
        #expect(syscall["SYSCALL"]?.stringValue == "open")
        #expect(syscall["ARCH"]?.stringValue == "x86_64")
        #expect(syscall["AUID"]?.stringValue == "unset")
        #expect(syscall["UID"]?.stringValue == "cloudsdk")
        #expect(syscall["exe"]?.stringValue == "/tmp/a b%0a")
        #expect(syscall["key"] == .null)
        let path = try #require(object["PATH"]?.arrayValue?.first)
        #expect(path["mode"]?.stringValue == "0o100640")
        #expect(path["OGID"]?.stringValue == "shadow")
        #expect(object["PROCTITLE"]?["ARGV"] == .array([.string("cat"), .string("/etc/shadow")]))
    }

    @Test func aUidNoPasswdFileNamesIsUnknownWithItsNumber() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        let event = makeEvent(serial: 1, [(1114, "pid=1 uid=0 auid=1000 ses=2 msg='op=adding user id=1001 uid=0'")])
        let record = try #require(try enrichedObject(event, encoder: &encoder)["ADD_USER"])
        #expect(record["ID"]?.stringValue == "unknown(1001)")
        #expect(record["msg"]?.stringValue == "op=adding user id=1001 uid=0")
        // The uid inside msg='…' is what the program says; the sender's uid stays the outer one.
        #expect(record["uid"] == .number("0"))
        #expect(record["UID"]?.stringValue == "root")
    }

    @Test func socketAddressesAreDecodedAsAuditdDoes() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        let cases: [(String, String)] = [
            ("02000035C0A800010000000000000000", "{saddr_fam=inet laddr=192.168.0.1 lport=53}"),
            (
                "0A0001BB000000002A02CF40000000000000000000000001000000000000",
                "{saddr_fam=inet6 laddr=2a02:cf40::1 lport=443}"
            ),
            ("01002F72756E2F736F636B00", "{saddr_fam=local path=/run/sock}"),
            ("100000000000000000000000", "{saddr_fam=netlink nlnk-fam=16 nlnk-pid=0}"),
        ]
        for (hex, expected) in cases {
            let event = makeEvent(
                serial: 3, [(1300, "arch=c000003e syscall=42 success=yes exit=0"), (1306, "saddr=\(hex)")])
            let object = try enrichedObject(event, encoder: &encoder)
            let record = try #require(object["SOCKADDR"]?.arrayValue?.first)
            #expect(record["SADDR"]?.stringValue == expected, "\(hex)")
            let bytes = percentDecoded(try #require(record["saddr"]?.stringValue))
            #expect(bytes == (try Array(hex.utf8).withUnsafeBytes { try AuditHex.decode($0) }))
        }
    }

    @Test func anENRICHEDLogLineKeepsTheLogsOwnTranslations() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        let event = makeEvent(
            serial: 9,
            [
                (
                    1300,
                    "arch=c000003e syscall=59 success=yes exit=0 auid=1000 uid=0\u{1d}ARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\""
                ),
                (1306, "saddr=01002F72756E2F736F636B00\u{1d}SADDR={ saddr_fam=local path=/run/sock }"),
            ])
        let object = try enrichedObject(event, encoder: &encoder)
        let syscall = try #require(object["SYSCALL"])
        #expect(syscall["AUID"]?.stringValue == "alice", "the log's name, not this machine's")
        #expect(syscall["SYSCALL"]?.stringValue == "execve")
        let sockaddr = try #require(object["SOCKADDR"]?.arrayValue?.first)
        #expect(sockaddr["SADDR"]?.stringValue == "{saddr_fam=local path=/run/sock}")
    }

    /// Any bytes in a hex-encoded string field (a path, a command name, a working directory) come
    /// back by percent-decoding the JSON string, and the line stays one valid JSON object.
    @Test func anyBytesInAnEncodedFieldRoundTrip() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        var random = SplitMix64(seed: 1818)
        for round in 0..<300 {
            let length = Int(1 + random.next() % 80)
            // Biased toward the interesting bytes: controls, %, +, quotes, backslash, UTF-8 leads.
            let interesting: [UInt8] = [0, 0x0A, 0x1B, 0x22, 0x25, 0x2B, 0x5C, 0x7F, 0xC2, 0x80, 0xE2, 0xF0, 0xFF]
            let bytes = (0..<length).map { _ in
                random.next() % 2 == 0
                    ? interesting[Int(random.next() % UInt64(interesting.count))]
                    : UInt8(truncatingIfNeeded: random.next())
            }
            var hex: [UInt8] = []
            AuditHex.encode(bytes, into: &hex)
            let text = String(decoding: hex, as: UTF8.self)
            let event = makeEvent(
                serial: UInt32(round + 1),
                [(1300, "arch=c000003e syscall=2 comm=\(text)"), (1307, "cwd=\(text)"), (1302, "item=0 name=\(text)")])
            let object = try enrichedObject(event, encoder: &encoder)
            let values = [
                object["SYSCALL"]?["comm"], object["CWD"]?["cwd"], object["PATH"]?.arrayValue?.first?["name"],
            ]
            for value in values {
                let decoded = percentDecoded(try #require(value?.stringValue, "round \(round)"))
                #expect(decoded == bytes, "round \(round)")
            }
        }
    }

    /// Any bytes in an argument come back by percent-decoding the JSON string, whether the kernel
    /// wrote the argument whole or in parts across records, split anywhere.
    @Test func argumentBytesRoundTripWholeOrSplitAcrossRecords() throws {
        let fixture = try AccountsFixture()
        defer { fixture.directory.remove() }
        var encoder = fixture.encoder()
        var random = SplitMix64(seed: 18)
        for round in 0..<200 {
            let length = Int(random.next() % 300)
            let argument = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var hex: [UInt8] = []
            AuditHex.encode(argument, into: &hex)
            let hexText = String(decoding: hex, as: UTF8.self)
            // Whole.
            let records: [(UInt16, String)] = [
                (1309, "argc=3 a0=\"x\" a1=\(hexText.isEmpty ? "\"\"" : hexText) a2=\"y\"")
            ]
            // In parts: a1_len then a1[0], a1[1]… split at random even offsets, over several records.
            var parts: [String] = []
            var offset = 0
            while offset < hex.count {
                let step = 2 * Int(1 + random.next() % 40)
                let end = min(hex.count, offset + step)
                parts.append(String(decoding: hex[offset..<end], as: UTF8.self))
                offset = end
            }
            var split = "argc=3 a0=\"x\" a1_len=\(argument.count)"
            var splitRecords: [(UInt16, String)] = []
            for (index, part) in parts.enumerated() {
                split += " a1[\(index)]=\(part)"
                if random.next() % 3 == 0 {
                    splitRecords.append((1309, split))
                    split = ""
                }
            }
            split += " a2=\"y\""
            splitRecords.append((1309, split))
            for variant in [records, parts.isEmpty ? records : splitRecords] {
                let event = makeEvent(serial: UInt32(round + 1), variant)
                let object = try enrichedObject(event, encoder: &encoder)
                let execve = try #require(object["EXECVE"])
                let items = try #require(execve["ARGV"]?.arrayValue)
                let argv = items.compactMap(\.stringValue)
                #expect(argv.count == 3, "\(variant)")
                #expect(argv.count == 3 && percentDecoded(argv[1]) == argument, "round \(round)")
                #expect(execve["argc"] == .number("3"))
            }
        }
    }
}
