import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import FoundationEssentials
import Testing

/// A passwd file in a temporary directory and a directory reading it.
struct PasswdFixture {
    let directory: TemporaryDirectory
    var users: UserDirectory

    init(_ content: String = "root:x:0:0:root:/root:/bin/bash\ncloudsdk:x:1000:1000::/home/cloudsdk:/bin/sh\n")
        throws
    {
        directory = try TemporaryDirectory()
        try directory.write(content, to: "passwd")
        users = UserDirectory(path: directory.file("passwd"), refreshInterval: .seconds(3600))
    }
}

func makeEvent(serial: UInt32, seconds: UInt64 = 1_795_345_044, millis: UInt16 = 640, _ records: [(UInt16, String)])
    -> AuditEvent
{
    var event = AuditEvent(id: AuditEventID(seconds: seconds, milliseconds: millis, serial: serial))
    for (type, body) in records {
        event.append(type: AuditMessageType(type), body: Array(body.utf8))
    }
    return event
}

@Suite struct EventEncoderTests {
    /// go-audit's own output for this event (see docs/design.md, "Processing"; produced with the
    /// built go-audit), without its optional `extras` member.
    static let goAuditLine =
        #"{"sequence":1222763,"timestamp":"1459376866.885","messages":[{"type":1300,"data":"arch=c000003e syscall=59 success=yes exit=0 a0=cc4e68 a1=d10bc8 a2=c69808 a3=7fff2a700900 items=2 ppid=1 pid=18396 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=35 comm=\"ls\" exe=\"/bin/ls\" key=(null)"},{"type":1309,"data":"argc=3 a0=\"ls\" a1=\"--color=auto\" a2=\"-alF\""},{"type":1307,"data":" cwd=\"/home/ubuntu/src/slack-github.com/rhuber/go-audit-new\""},{"type":1302,"data":"item=0 name=\"/bin/ls\" inode=262316 dev=ca:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"},{"type":1302,"data":"item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=396037 dev=ca:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"}],"uid_map":{"0":"root","1000":"cloudsdk"}}"#

    static let goAuditEvent = makeEvent(
        serial: 1_222_763, seconds: 1_459_376_866, millis: 885,
        [
            (
                1300,
                #"arch=c000003e syscall=59 success=yes exit=0 a0=cc4e68 a1=d10bc8 a2=c69808 a3=7fff2a700900 items=2 ppid=1 pid=18396 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=35 comm="ls" exe="/bin/ls" key=(null)"#
            ),
            (1309, #"argc=3 a0="ls" a1="--color=auto" a2="-alF""#),
            (1307, #" cwd="/home/ubuntu/src/slack-github.com/rhuber/go-audit-new""#),
            (
                1302,
                #"item=0 name="/bin/ls" inode=262316 dev=ca:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#
            ),
            (
                1302,
                #"item=1 name="/lib64/ld-linux-x86-64.so.2" inode=396037 dev=ca:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#
            ),
            (1320, ""),
        ])

    @Test func matchesGoAuditOutputByteForByte() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output: [UInt8] = []
        encoder.encode(Self.goAuditEvent, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == Self.goAuditLine + "\n")
    }

    @Test func appendsLinesToTheCallersBuffer() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var writer = JSONWriter()
        encoder.encode(Self.goAuditEvent, into: &writer)
        encoder.encode(
            makeEvent(serial: 7, [(1305, "op=set audit_pid=1 old=0 auid=4294967295 ses=4294967295 res=1")]),
            into: &writer)
        let lines = writer.bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines.last?.isEmpty == true)
        #expect(String(decoding: lines[0], as: UTF8.self) == Self.goAuditLine)
        let second = try JSON.decode(DecodedEvent.self, lines[1])
        #expect(second.sequence == 7)
        #expect(second.uidMap == ["4294967295": "unset"])
    }

    @Test func decodesBackToTheSameFields() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(hostname: "web-1.example", users: fixture.users)
        let raw: [UInt8] =
            Array("pid=1 uid=0 auid=1000 msg='text=".utf8) + [0xFF, 0x22, 0x0A, 0x25, 0xE2, 0x80, 0xA8]
            + Array("'".utf8)
        var event = makeEvent(serial: 42, seconds: 100, millis: 7, [(1300, "arch=c000003e uid=1000")])
        event.append(type: AuditMessageType(1107), body: raw)
        var output: [UInt8] = []
        encoder.encode(event, into: &output)
        let decoded = try JSON.decode(DecodedEvent.self, output)
        #expect(decoded.sequence == 42)
        #expect(decoded.timestamp == "100.007")
        #expect(decoded.messages.map(\.type) == [1300, 1107])
        #expect(try decoded.messages[1].bytes() == raw)
        #expect(decoded.uidMap == ["0": "root", "1000": "cloudsdk"])
        #expect(decoded.hostname == "web-1.example")
        // hostname comes last, after go-audit's keys.
        #expect(String(decoding: output, as: UTF8.self).hasSuffix(#","hostname":"web-1.example"}"# + "\n"))
    }

    @Test func irregularEventsSayHowTheyEnded() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(hostname: "h", users: fixture.users)
        var event = makeEvent(serial: 3, [(1300, "uid=0"), (1302, "item=0")])
        let whole =
            #"{"sequence":3,"timestamp":"1795345044.640","messages":[{"type":1300,"data":"uid=0"},"#
            + #"{"type":1302,"data":"item=0"}],"uid_map":{"0":"root"},"hostname":"h""#
        for (completion, flags, tail) in [
            (AuditEvent.Completion.endOfEvent, AuditEvent.Flags(), ""),
            (.standalone, [], ""),
            (.timeout, [], #","completion":"timeout""#),
            (.eviction, [.late], #","completion":"eviction","flags":["late"]"#),
            (
                .shutdown, [.late, .duplicate, .malformedHeader],
                #","completion":"shutdown","flags":["late","duplicate","malformed_header"]"#
            ),
            (.endOfEvent, [.duplicate], #","flags":["duplicate"]"#),
        ] {
            event.completion = completion
            event.flags = flags
            var output: [UInt8] = []
            encoder.encode(event, into: &output)
            #expect(String(decoding: output, as: UTF8.self) == whole + tail + "}\n")
            _ = try JSON.decode(DecodedEvent.self, output)
        }
    }

    @Test func eventWithoutRecordsIsStillValidJSON() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output: [UInt8] = []
        encoder.encode(makeEvent(serial: 1, [(1320, "")]), into: &output)
        #expect(
            String(decoding: output, as: UTF8.self)
                == #"{"sequence":1,"timestamp":"1795345044.640","messages":[],"uid_map":{}}"# + "\n")
    }

    /// uid_map rules: which fields count, names for unknown and unset uids, and key order.
    @Test(
        arguments: [
            ("uid=0 auid=1000", ["0": "root", "1000": "cloudsdk"]),
            ("comm=\"uid=0\" exe=\"/x auid=5\" key=\"euid=7\"", [:]),  // quoted values never count
            (
                "euid=0 suid=0 fsuid=0 ouid=1000 iuid=0 oauid=1000 sauid=0 old-auid=4294967295",
                ["0": "root", "1000": "cloudsdk", "4294967295": "unset"]
            ),
            ("uid=33", ["33": "UNKNOWN_USER"]),
            ("uid=root gid=0 uuid=0a-1 uid=-1 uid=4294967296 uid=007 uid= uid", [:]),  // not canonical 32-bit decimals
            (
                "pid=5 uid=0 auid=1000 ses=3 msg='op=login acct=\"x uid=9\" sauid=2000 id=1000 exe=\"/usr/sbin/sshd\" res=success'",
                ["0": "root", "1000": "cloudsdk", "2000": "UNKNOWN_USER"]
            ),  // one level into msg='…'
            ("msg='a=1 it's uid=12 done' tail", ["12": "UNKNOWN_USER"]),  // a quote inside the text does not end it
            (
                "uid=5 uid=10 uid=1 uid=100 uid=2",
                [
                    "1": "UNKNOWN_USER", "10": "UNKNOWN_USER", "100": "UNKNOWN_USER", "2": "UNKNOWN_USER",
                    "5": "UNKNOWN_USER",
                ]
            ),
            ("avc:  denied  { read } for  pid=1 comm=\"a b\" scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=file", [:]),
            ("unterminated=\"uid=1 auid=0", [:]),
        ] as [(String, [String: String])])
    func uidMapFollowsTheFieldRules(_ body: String, _ expected: [String: String]) throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output: [UInt8] = []
        encoder.encode(makeEvent(serial: 1, [(1300, body)]), into: &output)
        let decoded = try JSON.decode(DecodedEvent.self, output)
        #expect(decoded.uidMap == expected)
    }

    /// The encoder narrows where it walks the fields (only bodies with a `uid=`, from the first
    /// one's word when nothing before it is quoted, up to the last one); this pins that the ids
    /// found are exactly those of the plain walk over the whole body, on bodies built from the
    /// pieces that steer the walk: quotes at word and value starts and inside words, `msg='`,
    /// control bytes, `=` inside values, near misses of `uid=`, and long plain runs (so that the
    /// 16-byte vector steps and their tails both run).
    @Test func uidMapMatchesThePlainFieldWalkOnRandomBodies() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var generator = SplitMix64(seed: 0x51D5_CA77_0000_0001)
        let pieces: [[UInt8]] =
            [
                "uid=", "auid=", "euid=", "uid", "ui", "d=", "id=", "=", " ", "  ", "\"", "'", "msg='", "msg=",
                "msg=\"", "0", "1000", "4294967295", "4294967296", "007", "12", "-1", "x", "abc", "it's", "comm=\"",
                "\t", "\n", "\u{7F}", "a=b=", "uid=0", " uid=33 ", "pid=5 ", "key=(null) ",
                "proctitle=2F7573722F62696E2F7375646F ", "arch=c000003e syscall=59 success=yes exit=0 ",
            ].map { Array($0.utf8) } + [[0xFF], [0xC3, 0xA9], [0x00], [0x01]]
        var failures = 0
        for caseNumber in 0..<4_000 {
            var body: [UInt8] = []
            let length = Int.random(in: 0...90, using: &generator)
            while body.count < length {
                body += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
            }
            var event = AuditEvent(id: AuditEventID(seconds: 1, milliseconds: 0, serial: 1))
            event.append(type: AuditMessageType(1300), body: body)
            var output: [UInt8] = []
            encoder.encode(event, into: &output)
            let text = String(decoding: output, as: UTF8.self)
            let expected = expectedUIDMap(referenceUIDs(body))
            if !text.hasSuffix(expected + "}\n") {
                failures += 1
                if failures <= 5 {
                    Issue.record("case \(caseNumber): body \(body) gave \(text), want uid_map \(expected)")
                }
            }
        }
        #expect(failures == 0)
    }

    /// The scanner remembers the ids of plain regions (from the first `uid=` word to the end of the
    /// last `uid=` value, nothing quoted) and the encoder the `uid_map` members of the last ids:
    /// neither may change a result. Records drawn again and again from small pools, so that the
    /// same region comes back beside other text before and after it (quoted or not, a `msg='`
    /// that must be walked into, a later `uid=`), must still give the ids of the plain walk.
    @Test func uidMapIsUnchangedWhenRegionsAndIdsRepeat() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var generator = SplitMix64(seed: 0x51D5_CA77_0000_0002)
        let regions = [
            "auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0",
            "auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0",
            "ouid=0 ogid=0", "ouid=1000 ogid=0", "uid=33", "uid=0 auid=12", "a=buid=5", "uid=5 uid=10 uid=1",
            "uid=0 auid=12 ", "uid=\"4\"",
        ]
        let before = [
            "", "arch=c000003e syscall=59 ", "x=\"q\" ", "msg='op=1 ", "comm=\"a b\" ", "\t", "k=v ", "uid=2 ",
        ]
        let after = [
            "", " comm=\"uid=7\"", " tty=(none)", "'", " exe=\"/bin/x\" key=(null)", " uid=9", "\n", " x",
        ]
        var failures = 0
        for caseNumber in 0..<3_000 {
            var records: [(UInt16, String)] = []
            var expected: Set<UInt32> = []
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let body =
                    before[Int.random(in: 0..<before.count, using: &generator)]
                    + regions[Int.random(in: 0..<regions.count, using: &generator)]
                    + after[Int.random(in: 0..<after.count, using: &generator)]
                records.append((1300, body))
                expected.formUnion(referenceUIDs(Array(body.utf8)))
            }
            var output: [UInt8] = []
            encoder.encode(makeEvent(serial: UInt32(caseNumber), records), into: &output)
            let text = String(decoding: output, as: UTF8.self)
            if !text.hasSuffix(expectedUIDMap(expected) + "}\n") {
                failures += 1
                if failures <= 5 {
                    Issue.record(
                        "case \(caseNumber): records \(records) gave \(text), want \(expectedUIDMap(expected))")
                }
            }
        }
        #expect(failures == 0)
    }

    /// Up to 16 ids are sorted by a small insertion sort, more by the general sort: both orders
    /// must be Go's string order.
    @Test(arguments: [2, 3, 16, 17, 40])
    func uidMapKeysAreSortedAsStringsForAnyNumberOfIds(_ count: Int) throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var generator = SplitMix64(seed: 0x50F7_0000 + UInt64(count))
        var uids: Set<UInt32> = [UInt32.max, 0]
        while uids.count < count {
            let ceilings: [UInt32] = [9, 99, 99_999, UInt32.max]  // short and long decimals mixed
            let ceiling = ceilings[Int.random(in: 0..<ceilings.count, using: &generator)]
            uids.insert(UInt32.random(in: 0...ceiling, using: &generator))
        }
        let body = uids.shuffled(using: &generator).map { "uid=\($0)" }.joined(separator: " ")
        var output: [UInt8] = []
        encoder.encode(makeEvent(serial: 1, [(1300, body)]), into: &output)
        #expect(String(decoding: output, as: UTF8.self).hasSuffix(expectedUIDMap(uids) + "}\n"))
    }

    @Test func uidMapKeysAreSortedAsStringsLikeGo() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output: [UInt8] = []
        encoder.encode(
            makeEvent(serial: 1, [(1300, "uid=5 auid=1000 euid=33 suid=0 fsuid=4294967295 ouid=100")]), into: &output)
        let text = String(decoding: output, as: UTF8.self)
        let expected =
            #""uid_map":{"0":"root","100":"UNKNOWN_USER","1000":"cloudsdk","33":"UNKNOWN_USER","4294967295":"unset","5":"UNKNOWN_USER"}"#
        #expect(text.contains(expected))
    }

    @Test func userNamesAreEscapedLikeData() throws {
        let fixture = try PasswdFixture("we\"ird%:x:7:7::/:/bin/sh\n")
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output: [UInt8] = []
        encoder.encode(makeEvent(serial: 1, [(1300, "uid=7")]), into: &output)
        let decoded = try JSON.decode(DecodedEvent.self, output)
        // Valid UTF-8: JSON escapes only, the % stays as it is.
        #expect(decoded.uidMap["7"] == "we\"ird%")
    }

    @Test func statusEventsCarryTypeTimeHostnameThenFieldsInOrder() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        let encoder = EventEncoder(hostname: "h\"1", users: fixture.users)
        var output: [UInt8] = []
        let event = StatusEvent(
            type: "swift-audit.loss", seconds: 1_795_345_044, milliseconds: 5,
            fields: [
                ("reason", "enobufs"), ("count", 3), ("total", .unsigned(UInt64.max)), ("delta", -2),
                ("final", true), ("type", "ignored"), ("output", "file:/var/log/a\n"),
            ])
        encoder.encode(event, into: &output)
        let text = String(decoding: output, as: UTF8.self)
        #expect(
            text
                == #"{"type":"swift-audit.loss","timestamp":"1795345044.005","hostname":"h\"1","reason":"enobufs","count":3,"total":18446744073709551615,"delta":-2,"final":true,"output":"file:/var/log/a\n"}"#
                + "\n")

        struct Loss: Decodable {
            var type: String
            var timestamp: String
            var hostname: String
            var reason: String
            var count: Int
            var total: UInt64
            var delta: Int
            var final: Bool
            var output: String
        }
        let decoded = try JSON.decode(Loss.self, output)
        #expect(decoded.type == "swift-audit.loss")
        #expect(decoded.hostname == "h\"1")
        #expect(decoded.total == UInt64.max)
        #expect(decoded.output == "file:/var/log/a\n")
    }

    @Test func lossHelperBuildsTheDocumentedShape() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        let encoder = EventEncoder(users: fixture.users)
        var writer = JSONWriter()
        let loss = StatusEvent.loss(
            reason: .writerDrop, count: 10, total: 25, output: "stdout", extra: [("queue", 4096)])
        encoder.encode(loss, into: &writer)

        struct Loss: Decodable {
            var type: String
            var timestamp: String
            var hostname: String?
            var reason: String
            var count: Int
            var total: Int
            var output: String
            var queue: Int
        }
        let decoded = try JSON.decode(Loss.self, writer.bytes)
        #expect(decoded.type == "swift-audit.loss")
        #expect(decoded.reason == "writer_drop")
        #expect(decoded.count == 10 && decoded.total == 25 && decoded.queue == 4096)
        #expect(decoded.output == "stdout")
        #expect(decoded.hostname == nil)
        // The stamp is "now": a plausible epoch time with three digits of milliseconds.
        let parts = decoded.timestamp.split(separator: ".")
        #expect(parts.count == 2 && parts[1].count == 3)
        #expect((UInt64(parts[0]) ?? 0) > 1_600_000_000)
    }

    @Test func hostnameFormatsResolve() {
        #expect(HostnameFormat.none.resolve() == nil)
        #expect(HostnameFormat.user("edge-7").resolve() == "edge-7")
        let host = HostnameFormat.hostname.resolve()
        #expect(host?.isEmpty == false)
        // fqdn falls back to the host name, so it is never empty when the host name is not.
        let fqdn = HostnameFormat.fqdn.resolve()
        #expect(fqdn?.isEmpty == false)
        if let host, let fqdn {
            #expect(fqdn == host || fqdn.hasPrefix(host) || fqdn.contains("."))
        }
    }
}

/// The uid_map rules of `EventEncoder` written out plainly, byte by byte over the whole body, as the
/// reference for the encoder's narrowed walk: fields are separated by spaces and control bytes; a
/// quote opens a quoted string only at the start of a word or a value (and runs to the same quote);
/// a key ending in `uid` with an unquoted canonical 32-bit decimal value counts; a non-uid value ends
/// at a space only; `msg='…'` (outside `msg='…'`) is walked one level down, up to the body's last `'`.
func referenceUIDs(_ body: [UInt8]) -> Set<UInt32> {
    var found: Set<UInt32> = []
    func skipQuoted(_ start: Int, _ end: Int, _ quote: UInt8) -> Int {
        var index = start
        while index < end, body[index] != quote { index += 1 }
        return min(index + 1, end)
    }
    func walk(_ start: Int, _ end: Int, nested: Bool) {
        var index = start
        while index < end {
            while index < end, body[index] <= 0x20 { index += 1 }
            guard index < end else { return }
            let first = body[index]
            if first == 0x22 || first == 0x27 {
                index = skipQuoted(index + 1, end, first)
                continue
            }
            let keyStart = index
            while index < end, body[index] > 0x20, body[index] != UInt8(ascii: "=") { index += 1 }
            guard index < end else { return }
            guard body[index] == UInt8(ascii: "=") else { continue }
            let key = Array(body[keyStart..<index])
            index += 1
            guard index < end else { return }
            let valueFirst = body[index]
            if valueFirst == 0x22 {
                index = skipQuoted(index + 1, end, valueFirst)
            } else if valueFirst == 0x27 {
                if !nested, key == Array("msg".utf8) {
                    var close = end - 1
                    while close > index, body[close] != 0x27 { close -= 1 }
                    let nestedEnd = close > index ? close : end
                    walk(index + 1, nestedEnd, nested: true)
                    index = nestedEnd + 1
                } else {
                    index = skipQuoted(index + 1, end, valueFirst)
                }
            } else if key.count >= 3, key.suffix(3) == Array("uid".utf8)[...] {
                let valueStart = index
                while index < end, body[index] > 0x20 { index += 1 }
                let digits = body[valueStart..<index]
                if (1...10).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
                    digits.count == 1 || digits.first != 0x30,
                    let value = UInt32(String(decoding: digits, as: UTF8.self))
                {
                    found.insert(value)
                }
            } else {
                while index < end, body[index] != 0x20 { index += 1 }
            }
        }
    }
    walk(0, body.count, nested: false)
    return found
}

/// `"uid_map":{…}` for `uids` with the names of `PasswdFixture`'s default file, keys sorted as
/// strings.
func expectedUIDMap(_ uids: Set<UInt32>) -> String {
    let names: [UInt32: String] = [0: "root", 1000: "cloudsdk", UInt32.max: "unset"]
    let members = uids.map { String($0) }.sorted().map { key in
        "\"\(key)\":\"\(names[UInt32(key) ?? 0] ?? "UNKNOWN_USER")\""
    }
    return "\"uid_map\":{" + members.joined(separator: ",") + "}"
}
