import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

@Suite struct RecordFieldTests {
    /// The fields of a body given as text.
    static func fields(_ body: String) -> ScanResult {
        Array(body.utf8).withUnsafeBytes { scan($0, 0..<$0.count) }
    }

    @Test func aUidInsideMsgDoesNotStandForTheSendersUid() throws {
        let body = Array(
            "pid=1235 uid=0 auid=4294967295 ses=4 msg='op=add-group uid=1000 exe=\"/usr/sbin/groupadd\" res=success'"
                .utf8)
        let scanned = body.withUnsafeBytes { scan($0, 0..<$0.count) }
        #expect(
            scanned.fields == [
                FieldText(key: "pid", value: "1235"), FieldText(key: "uid", value: "0"),
                FieldText(key: "auid", value: "4294967295"), FieldText(key: "ses", value: "4"),
                FieldText(
                    key: "msg", value: "op=add-group uid=1000 exe=\"/usr/sbin/groupadd\" res=success", style: .container
                ),
                FieldText(key: "op", value: "add-group", nested: true),
                FieldText(key: "uid", value: "1000", nested: true),
                FieldText(key: "exe", value: "/usr/sbin/groupadd", style: .quoted, nested: true),
                FieldText(key: "res", value: "success", nested: true),
            ])
        #expect(scanned.truncation == nil)
        body.withUnsafeBytes { raw in
            let outer = AuditFieldScanner.first("uid", in: raw, range: 0..<raw.count)
            #expect(outer.map { String(decoding: raw[$0.value], as: UTF8.self) } == "0")
            #expect(outer?.isNested == false)
            let op = AuditFieldScanner.first("op", in: raw, range: 0..<raw.count)
            #expect(op == nil, "a nested field is not found at the outer level")
            let nested = AuditFieldScanner.first("op", in: raw, range: 0..<raw.count, includingNested: true)
            #expect(nested.map { String(decoding: raw[$0.value], as: UTF8.self) } == "add-group")
        }
    }

    @Test func aQuotedValueKeepsItsEqualsSignsAndSpaces() {
        let scanned = Self.fields(#"apparmor="STATUS" info="same as current profile, a=b skipping" pid=3981295"#)
        #expect(
            scanned.fields == [
                FieldText(key: "apparmor", value: "STATUS", style: .quoted),
                FieldText(key: "info", value: "same as current profile, a=b skipping", style: .quoted),
                FieldText(key: "pid", value: "3981295"),
            ])
    }

    @Test func nullAndQuestionMarkAreReportedAsSuch() {
        let scanned = Self.fields("key=(null) hostname=? table=?:0;?:0 tty=(none) name=\"?\"")
        #expect(
            scanned.fields == [
                FieldText(key: "key", value: "(null)", style: .null),
                FieldText(key: "hostname", value: "?", style: .unknown),
                FieldText(key: "table", value: "?:0;?:0"),
                FieldText(key: "tty", value: "(none)"),
                FieldText(key: "name", value: "?", style: .quoted),
            ])
    }

    @Test func freeTextIsSkippedWithoutInventingKeys() {
        let avc = Self.fields(
            "avc:  denied  { setuid } for  pid=15381 comm=\"laurel\" capability=7  tclass=capability permissive=1")
        #expect(avc.fields.map(\.key) == ["pid", "comm", "capability", "tclass", "permissive"])

        let userAVC = Self.fields(
            "pid=854 uid=81 msg='avc:  received policyload notice (seqno=2)  exe=2F7573 sauid=81 hostname=?'")
        #expect(userAVC.fields.map(\.key) == ["pid", "uid", "msg", "exe", "sauid", "hostname"])

        let apparmorLabel = Self.fields("ses=4294967295 subj==/usr/sbin/ntpd (enforce) key=(null)")
        #expect(
            apparmorLabel.fields == [
                FieldText(key: "ses", value: "4294967295"), FieldText(key: "subj", value: "=/usr/sbin/ntpd"),
                FieldText(key: "key", value: "(null)", style: .null),
            ])

        let quotedPhrase = Self.fields("\"free text with uid=0 inside\" uid=1")
        #expect(quotedPhrase.fields == [FieldText(key: "uid", value: "1")])

        let prose = Self.fields("policy loaded auid=4294967295 ses=1")
        #expect(prose.fields.map(\.key) == ["auid", "ses"])
    }

    @Test func anEmptyValueIsAValue() {
        let scanned = Self.fields("op=terminate auid=0 pid=27347 subj= res=success")
        #expect(scanned.fields.map(\.value) == ["terminate", "0", "27347", "", "success"])
        #expect(scanned.truncation == nil)
    }

    @Test func aContainerEndsAtItsLastQuote() {
        let scanned = Self.fields("uid=0 msg='it's a test uid=5' ")
        #expect(
            scanned.fields == [
                FieldText(key: "uid", value: "0"),
                FieldText(key: "msg", value: "it's a test uid=5", style: .container),
                FieldText(key: "uid", value: "5", nested: true),
            ])
        let empty = Self.fields("msg='' res=1")
        #expect(
            empty.fields == [FieldText(key: "msg", value: "", style: .container), FieldText(key: "res", value: "1")])
    }

    @Test func anEnrichedLineKeepsTheTranslationsApart() throws {
        let parsed = try parseLine(
            "type=USER_ACCT msg=audit(1615113648.981:15220): pid=9460 uid=1000 msg='op=PAM:accounting acct=\"user\" res=success'\u{1D}UID=\"user\" AUID=\"user\""
        )
        #expect(parsed.typeName == "USER_ACCT")
        #expect(parsed.line.type == AuditMessageType(1101))
        #expect(parsed.line.id == AuditEventID(seconds: 1_615_113_648, milliseconds: 981, serial: 15220))
        #expect(parsed.body.fields.map(\.key) == ["pid", "uid", "msg", "op", "acct", "res"])
        #expect(parsed.body.truncation == nil)
        #expect(
            parsed.translations.fields == [
                FieldText(key: "UID", value: "user", style: .quoted),
                FieldText(key: "AUID", value: "user", style: .quoted),
            ])

        let sockaddr = try parseLine(
            "type=SOCKADDR msg=audit(1666825569.818:23260118): saddr=02000000000000000000000000000000\u{1D}SADDR={ saddr_fam=inet laddr=0.0.0.0 lport=0 }"
        )
        #expect(sockaddr.body.fields == [FieldText(key: "saddr", value: "02000000000000000000000000000000")])
        #expect(
            sockaddr.translations.fields == [
                FieldText(key: "SADDR", value: " saddr_fam=inet laddr=0.0.0.0 lport=0 ", style: .braced)
            ])
    }

    @Test func aNodePrefixIsParsed() throws {
        let parsed = try parseLine(
            "node=localhost.localdomain type=CONFIG_CHANGE msg=audit(1594053514.707:4): audit_backlog_limit=8192 old=64 res=1\n"
        )
        #expect(parsed.node == "localhost.localdomain")
        #expect(parsed.line.type == .configChange)
        #expect(parsed.line.translations == nil)
        #expect(parsed.body.fields.map(\.key) == ["audit_backlog_limit", "old", "res"])
        #expect(parsed.body.fields.last?.value == "1", "the line terminator is not part of the body")
    }

    @Test func auditdsOwnHeaderWithoutAColonIsAccepted() throws {
        let parsed = try parseLine("type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, auid=0 res=success")
        #expect(parsed.line.id == AuditEventID(seconds: 1_490_239_800, milliseconds: 477, serial: 34))
        #expect(parsed.body.fields.map(\.key) == ["auid", "res"])
        #expect(throws: AuditRecordHeaderError.self) {
            try AuditRecordHeader.parse(Array("audit(1490239800.477:34) config changed".utf8))
        }
    }

    @Test func typeNamesAndNumbersAreRecognized() throws {
        #expect(
            try parseLine("type=UNKNOWN[1334] msg=audit(1.000:1): prog-id=45 op=UNLOAD").line.type
                == AuditMessageType(1334))
        #expect(try parseLine("type=EOE msg=audit(1.000:1):").line.type == .endOfEvent)
        #expect(try parseLine("type=EOE msg=audit(1.000:1):").body.fields.isEmpty)
        let future = try parseLine("type=SOMETHING_NEW msg=audit(1.000:1): a=1")
        #expect(future.line.type == nil)
        #expect(future.typeName == "SOMETHING_NEW")
        #expect(try parseLine("type=UNKNOWN[70000] msg=audit(1.000:1): a=1").line.type == nil)
    }

    @Test func everyKnownTypeNameIsFoundByTheLineParser() throws {
        for value in UInt16(1000)...UInt16(2999) {
            guard let name = AuditMessageType(value).name, AuditMessageType(name: name) == AuditMessageType(value)
            else { continue }
            let line = try parseLine("type=\(name) msg=audit(1.000:1): a=1")
            #expect(line.line.type == AuditMessageType(value), "\(name)")
        }
    }

    struct Malformed: Sendable, CustomStringConvertible {
        var text: String
        var kind: AuditLogLineError.Kind
        var offset: Int
        var description: String { text }
    }

    static let malformed: [Malformed] = [
        Malformed(text: "type=UNKNOWN[1329] msg=?", kind: .header(.missingPrefix), offset: 23),
        Malformed(text: "", kind: .missingType, offset: 0),
        Malformed(text: "msg=audit(1.000:1): a=1", kind: .missingType, offset: 0),
        Malformed(text: "node=x", kind: .missingType, offset: 6),
        Malformed(text: "type= msg=audit(1.000:1):", kind: .missingType, offset: 5),
        Malformed(text: "type=SYSCALL", kind: .missingMessage, offset: 12),
        Malformed(text: "type=SYSCALL audit(1.000:1):", kind: .missingMessage, offset: 13),
        Malformed(text: "type=SYSCALL msg=audit(1.0:1): a=1", kind: .header(.badMilliseconds), offset: 26),
        Malformed(text: "type=SYSCALL msg=audit(1.000:1)x a=1", kind: .header(.missingColon), offset: 31),
        Malformed(
            text: "type=SYSCALL msg=audit(12/13/2016 10:00:00.123:1): a=1", kind: .header(.badSeconds), offset: 25),
    ]

    @Test(arguments: malformed)
    func malformedLinesAreRejectedWithTheirOffset(_ sample: Malformed) {
        #expect {
            try AuditLogLine.parse(Array(sample.text.utf8))
        } throws: { error in
            guard let error = error as? AuditLogLineError else { return false }
            return error.kind == sample.kind && error.offset == sample.offset && error.prefix == Array(sample.text.utf8)
        }
    }

    @Test func anErrorShowsTheLineEscaped() {
        let error = AuditLogLineError(
            kind: .missingMessage, offset: 3, line: UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(error.description == "audit.log line lacks \"msg=\" after the type at byte 3 of 0: \"\"")
    }

    @Test func aRecordCutShortSaysWhere() {
        let quote = Self.fields("pid=1 comm=\"bas")
        #expect(quote.fields.last == FieldText(key: "comm", value: "bas", style: .quoted))
        #expect(quote.truncation == .unterminatedValue(key: 6..<10))

        let container = Self.fields("pid=1 msg='op=x res=succ")
        #expect(container.fields.map(\.key) == ["pid", "msg", "op", "res"])
        #expect(container.fields.last?.value == "succ")
        #expect(container.truncation == .unterminatedValue(key: 6..<9))

        let value = Self.fields("pid=1 uid=")
        #expect(value.fields.last == FieldText(key: "uid", value: ""))
        #expect(value.truncation == .missingValue(key: 6..<9))

        let braces = Self.fields("SADDR={ saddr_fam=inet")
        #expect(braces.fields == [FieldText(key: "SADDR", value: " saddr_fam=inet", style: .braced)])
        #expect(braces.truncation == .unterminatedValue(key: 0..<5))
    }

    /// Real lines from go-libaudit's test logs (Apache-2.0), the kernel's and user space's shapes.
    static let realLines = [
        #"type=USER_ACCT msg=audit(1481077041.515:406): pid=1298 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=PAM:accounting grantors=pam_unix,pam_localuser acct="andrew_kroh" exe="/usr/sbin/sshd" hostname=pool-96-241-146-97.washdc.fios.verizon.net addr=96.241.146.97 terminal=ssh res=success'"#,
        #"type=SYSCALL msg=audit(1481077231.371:478): arch=c000003e syscall=44 success=yes exit=1084 a0=3 a1=7ffd3a2b5ba0 a2=43c a3=0 items=0 ppid=1369 pid=1407 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="auditctl" exe="/usr/sbin/auditctl" subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 key=(null)"#,
        "type=PROCTITLE msg=audit(1481077231.371:478): proctitle=617564697463746C002D77002F6574632F736861646F77002D7000776172\u{1D}PROCTITLE=\"auditctl -w /etc/shadow -p wa\"",
    ]

    static func withoutContainerText(_ field: FieldText) -> FieldText {
        var field = field
        if field.style == .container { field.value = "" }
        return field
    }

    @Test func aLineCutAtEveryByteParsesOrFailsCleanly() throws {
        var checked = 0
        for text in Self.realLines {
            let bytes = Array(text.utf8)
            let whole = try parseLine(bytes)
            for cut in 0...bytes.count {
                guard let parsed = try? parseLine(Array(bytes[..<cut])) else {
                    #expect(
                        cut <= whole.line.body.lowerBound, "only a cut inside the prefix or header may fail (\(cut))")
                    continue
                }
                checked += 1
                // The fields before the cut are whole and the same as in the whole line (a
                // container's text is cut with the line, so only its key is compared).
                let prefix = parsed.body.fields.dropLast().map(Self.withoutContainerText)
                #expect(prefix == whole.body.fields.prefix(prefix.count).map(Self.withoutContainerText))
                #expect(parsed.body.fields.count <= whole.body.fields.count)
            }
        }
        #expect(checked > 500)
    }

    @Test func randomBytesNeverTrapOrHang() {
        var generator = SplitMix64(seed: 0x5EED_F1E1_D5)
        let alphabet = Array("ab=\"' {}\u{1D}()?=x1".utf8)
        for round in 0..<3000 {
            let count = Int(generator.next() % 200)
            let bytes = (0..<count).map { _ -> UInt8 in
                round % 2 == 0
                    ? UInt8(truncatingIfNeeded: generator.next())
                    : alphabet[Int(generator.next() % UInt64(alphabet.count))]
            }
            bytes.withUnsafeBytes { raw in
                let result = scan(raw, 0..<raw.count)
                for field in result.fields { #expect(!field.key.isEmpty) }
                _ = try? AuditLogLine.parse(raw)
                _ = AuditFieldScanner.first("a", in: raw, range: 0..<raw.count, includingNested: true)
            }
            let line = Array("type=SYSCALL msg=audit(1.000:1): ".utf8) + bytes
            if let parsed = try? parseLine(line) {
                #expect(parsed.line.body.upperBound <= line.count)
            }
        }
    }

    @Test func hexEncodingRoundTripsAnyBytes() throws {
        var generator = SplitMix64(seed: 22)
        for _ in 0..<500 {
            let bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            var hex: [UInt8] = []
            AuditHex.encode(bytes, into: &hex)
            #expect(hex.count == bytes.count * 2)
            #expect(hex.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) })
            let decoded = try hex.withUnsafeBytes { try AuditHex.decode($0) }
            #expect(decoded == bytes)
        }
        let lower = try Array("2a02cf40".utf8).withUnsafeBytes { try AuditHex.decode($0) }
        #expect(lower == [0x2A, 0x02, 0xCF, 0x40])
    }

    @Test func hexRejectsOddLengthAndNonDigits() {
        func error(_ text: String) -> AuditHexError? {
            var output: [UInt8] = [7]
            let result: Result<Void, AuditHexError> = Array(text.utf8).withUnsafeBytes { raw in
                Result { () throws(AuditHexError) in try AuditHex.decode(raw, into: &output) }
            }
            guard case .failure(let error) = result else { return nil }
            #expect(output == [7], "nothing is appended when the input is rejected")
            return error
        }
        #expect(error("ABC")?.kind == .oddLength)
        #expect(error("ABC")?.offset == 3)
        #expect(error("AB\"/\"")?.kind == .oddLength)
        #expect(error("ABCG")?.offset == 3)
        #expect(error("/bin")?.kind == .notHex)
        #expect(error("/bin")?.offset == 0)
        #expect(error("/bin")?.description == "hex value has a non-hex byte at byte 0 of 4: \"/bin\"")
        #expect(error("") == nil)
    }
}
