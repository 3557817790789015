import AuditEvents
import AuditTestSupport
import Testing

@Suite struct AuditRecordHeaderTests {
    struct Valid: Sendable, CustomStringConvertible {
        var text: String
        var seconds: UInt64
        var milliseconds: UInt16
        var serial: UInt32
        var body: String
        var description: String { text }
    }

    static let valid: [Valid] = [
        Valid(
            text: "audit(1795345030.552:27932966): op=set res=1", seconds: 1_795_345_030, milliseconds: 552,
            serial: 27_932_966, body: "op=set res=1"),
        Valid(
            text: "audit(1795345030.552:27932966): ", seconds: 1_795_345_030, milliseconds: 552, serial: 27_932_966,
            body: ""),
        Valid(
            text: "audit(1795345030.552:27932966):", seconds: 1_795_345_030, milliseconds: 552, serial: 27_932_966,
            body: ""),
        Valid(text: "audit(1.005:0): x", seconds: 1, milliseconds: 5, serial: 0, body: "x"),
        Valid(
            text: "audit(0.000:4294967295):  cwd=\"/\"", seconds: 0, milliseconds: 0, serial: .max, body: " cwd=\"/\""),
        Valid(text: "audit(18446744073709551615.999:1):a", seconds: .max, milliseconds: 999, serial: 1, body: "a"),
        Valid(
            text: "audit(9999999999999999999.000:1): a", seconds: 9_999_999_999_999_999_999, milliseconds: 0, serial: 1,
            body: "a"),
        Valid(text: "audit(00000000000000000001.000:0000000001): b", seconds: 1, milliseconds: 0, serial: 1, body: "b"),
    ]

    @Test(arguments: valid)
    func parsesKernelHeaders(_ sample: Valid) throws {
        let header = try AuditRecordHeader.parse(Array(sample.text.utf8))
        #expect(
            header.id == AuditEventID(seconds: sample.seconds, milliseconds: sample.milliseconds, serial: sample.serial)
        )
        let bytes = Array(sample.text.utf8)
        #expect(String(decoding: bytes[header.body], as: UTF8.self) == sample.body)
    }

    @Test func stripsTrailingNULs() throws {
        let bytes = Array("audit(1.000:7): a=b".utf8) + [0, 0]
        let header = try AuditRecordHeader.parse(bytes)
        #expect(String(decoding: bytes[header.body], as: UTF8.self) == "a=b")
        #expect(header.body.upperBound == bytes.count - 2)
    }

    @Test func identityPrintsAsInTheHeader() {
        #expect(AuditEventID(seconds: 1_795_345_030, milliseconds: 5, serial: 9).description == "1795345030.005:9")
        #expect(AuditEventID(seconds: 1, milliseconds: 5, serial: 9).epochMilliseconds == 1005)
    }

    struct Invalid: Sendable, CustomStringConvertible {
        var text: String
        var kind: AuditRecordHeaderError.Kind
        var offset: Int
        var description: String { text }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "", kind: .missingPrefix, offset: 0),
        Invalid(text: "type=SYSCALL msg=audit(1.000:1): x", kind: .missingPrefix, offset: 0),
        Invalid(text: "Audit(1.000:1): x", kind: .missingPrefix, offset: 0),
        Invalid(text: "audit(", kind: .badSeconds, offset: 6),
        Invalid(text: "audit(.000:1): x", kind: .badSeconds, offset: 6),
        Invalid(text: "audit(18446744073709551616.000:1): x", kind: .badSeconds, offset: 25),
        // Only the 20th digit is read with overflow checks: overflow in its multiplication too.
        Invalid(text: "audit(99999999999999999999.000:1): x", kind: .badSeconds, offset: 25),
        Invalid(text: "audit(123456789012345678901.000:1): x", kind: .badSeconds, offset: 26),
        Invalid(text: "audit(1:000:1): x", kind: .badSeconds, offset: 7),
        Invalid(text: "audit(1.5:1): x", kind: .badMilliseconds, offset: 9),
        Invalid(text: "audit(1.05:1): x", kind: .badMilliseconds, offset: 10),
        Invalid(text: "audit(1.0500:1): x", kind: .badMilliseconds, offset: 11),
        Invalid(text: "audit(1.050", kind: .badMilliseconds, offset: 11),
        Invalid(text: "audit(1.050:): x", kind: .badSerial, offset: 12),
        Invalid(text: "audit(1.050:4294967296): x", kind: .badSerial, offset: 12),
        Invalid(text: "audit(1.050:12345678901): x", kind: .badSerial, offset: 22),
        Invalid(text: "audit(1.050:-1): x", kind: .badSerial, offset: 12),
        Invalid(text: "audit(1.050:1 ): x", kind: .badSerial, offset: 13),
        Invalid(text: "audit(1.050:1)", kind: .missingColon, offset: 14),
        Invalid(text: "audit(1.050:1) x", kind: .missingColon, offset: 14),
    ]

    @Test(arguments: invalid)
    func rejectsMalformedHeadersWithKindAndOffset(_ sample: Invalid) {
        #expect {
            try AuditRecordHeader.parse(Array(sample.text.utf8))
        } throws: { error in
            guard let error = error as? AuditRecordHeaderError else { return false }
            return error.kind == sample.kind && error.offset == sample.offset
                && error.prefix == Array(sample.text.utf8.prefix(AuditRecordHeaderError.prefixLimit))
        }
    }

    @Test func errorKeepsOnlyAPrefixAndEscapesIt() {
        let bytes = Array("audit(x".utf8) + [0x01, 0x22, 0xFF] + [UInt8](repeating: 0x41, count: 200)
        do {
            _ = try AuditRecordHeader.parse(bytes)
            Issue.record("garbage parsed")
        } catch {
            #expect(error.prefix.count == AuditRecordHeaderError.prefixLimit)
            #expect(error.payloadLength == bytes.count)
            #expect(error.description.contains(#"audit(x\x01\"\xff"#))
            #expect(error.description.hasSuffix("…\""))
        }
    }

    @Test func everyTruncationOfAHeaderIsRejectedOrParsedWithoutCrashing() {
        let full = Array("audit(1795345030.552:27932966): arch=c000003e".utf8)
        let headerEnd = Array("audit(1795345030.552:27932966):".utf8).count
        for length in 0...full.count {
            let bytes = Array(full[0..<length])
            let result = Result { () throws(AuditRecordHeaderError) in try AuditRecordHeader.parse(bytes) }
            if length < headerEnd {
                #expect(throws: AuditRecordHeaderError.self, "prefix of \(length) bytes") { try result.get() }
            } else {
                let header = try? result.get()
                #expect(header?.id.serial == 27_932_966)
                #expect(header.map { $0.body.upperBound == length } == true)
            }
        }
    }

    /// Random bytes, and valid headers with random bytes overwritten, checked against a reference
    /// parser written with plain string operations.
    @Test func randomInputNeverCrashesAndAgreesWithAReferenceParser() {
        var random = SplitMix64(seed: 0x5EED)
        let alphabet = Array("audit(0123456789.:) x".utf8) + [0, 0xFF, 0x0A]
        let base = Array("audit(1795345030.552:27932966): a=b".utf8)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...48, using: &random)).map { _ in alphabet.randomElement(using: &random)!
                }
            } else {
                bytes = base
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
                if Bool.random(using: &random) { bytes.removeLast(Int.random(in: 0...bytes.count, using: &random)) }
            }
            let expected = Self.reference(bytes)
            do {
                let header = try AuditRecordHeader.parse(bytes)
                accepted += 1
                #expect(expected != nil, "accepted \(bytes)")
                #expect(header.id == expected?.id)
                #expect(header.body == expected?.body)
            } catch {
                #expect(expected == nil, "rejected \(bytes): \(error)")
            }
        }
        #expect(accepted > 1000, "the mutations should leave many headers intact")
    }

    /// The grammar, restated with Substring operations.
    static func reference(_ bytes: [UInt8]) -> (id: AuditEventID, body: Range<Int>)? {
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 { end -= 1 }
        let text = Array(bytes[0..<end])
        guard text.starts(with: Array("audit(".utf8)), let close = text.firstIndex(of: 0x29) else { return nil }
        let inner = String(decoding: text[6..<close], as: UTF8.self)
        let timeAndSerial = inner.split(separator: ":", omittingEmptySubsequences: false)
        guard timeAndSerial.count == 2 else { return nil }
        let secondsAndMillis = timeAndSerial[0].split(separator: ".", omittingEmptySubsequences: false)
        guard secondsAndMillis.count == 2, secondsAndMillis[1].count == 3,
            secondsAndMillis[0].count <= 20, timeAndSerial[1].count <= 10,
            secondsAndMillis.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            !timeAndSerial[1].isEmpty, timeAndSerial[1].allSatisfy({ $0.isASCII && $0.isNumber }),
            let seconds = UInt64(secondsAndMillis[0]), let millis = UInt16(secondsAndMillis[1]),
            let serial = UInt32(timeAndSerial[1])
        else { return nil }
        guard close + 1 < text.count, text[close + 1] == 0x3A else { return nil }
        var bodyStart = close + 2
        if bodyStart < text.count, text[bodyStart] == 0x20 { bodyStart += 1 }
        return (AuditEventID(seconds: seconds, milliseconds: millis, serial: serial), bodyStart..<end)
    }
}
