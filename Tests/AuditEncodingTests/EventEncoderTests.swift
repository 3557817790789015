import AuditEncoding
import AuditEvents
import AuditNetlink
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
    /// go-audit's own output for this event (design notes, peers/go-audit.md §4, produced with the
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
