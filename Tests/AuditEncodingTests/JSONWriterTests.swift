import AuditEncoding
import AuditTestSupport
import FoundationEssentials
import Testing

/// One row of the escaping table: raw bytes in, exact JSON text out.
struct EscapeCase: Sendable, CustomTestStringConvertible {
    var input: [UInt8]
    var expected: String
    var testDescription: String { "\(input.map { String($0, radix: 16) }) -> \(expected)" }

    init(_ input: [UInt8], _ expected: String) {
        self.input = input
        self.expected = expected
    }

    init(_ input: String, _ expected: String) {
        self.init(Array(input.utf8), expected)
    }
}

/// The rules written out plainly, scalar by scalar with the standard library's UTF-8 parser, to check
/// the fast word-at-a-time implementation against. Percent mode applies to the whole value when any
/// of it is not well-formed UTF-8.
func referenceEscape(_ input: [UInt8]) -> [UInt8] {
    let percentMode = String(validating: input, as: UTF8.self) == nil
    var output = Array("\"".utf8)
    func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = input.makeIterator()
    var consumed = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            let scalar = Unicode.UTF8.decode(encoded).value
            consumed += encoded.count
            switch scalar {
            case 0x22: output += Array("\\\"".utf8)
            case 0x5C: output += Array("\\\\".utf8)
            case 0x25: output += Array((percentMode ? "%25" : "%").utf8)
            case 0x0A: output += Array("\\n".utf8)
            case 0x0D: output += Array("\\r".utf8)
            case 0x09: output += Array("\\t".utf8)
            case 0x08: output += Array("\\b".utf8)
            case 0x0C: output += Array("\\f".utf8)
            case 0x00...0x1F, 0x7F...0x9F, 0x2028...0x202E, 0x2066...0x2069:
                output += Array("\\u\(hex4(scalar))".utf8)
            default:
                output += Array(encoded)
            }
        case .error(let length):
            for byte in input[consumed..<(consumed + length)] {
                let digits = String(byte, radix: 16, uppercase: true)
                output += Array(("%" + (digits.count == 1 ? "0" : "") + digits).utf8)
            }
            consumed += length
        case .emptyInput:
            output += Array("\"".utf8)
            return output
        }
    }
}

@Suite struct JSONWriterTests {
    static let table: [EscapeCase] = [
        EscapeCase("", #""""#),
        EscapeCase("abc", #""abc""#),
        EscapeCase("\"", #""\"""#),
        EscapeCase("\\", #""\\""#),
        EscapeCase("%", #""%""#),  // valid UTF-8: % is copied
        EscapeCase("%25", #""%25""#),
        EscapeCase([0x25, 0xFF], #""%25%FF""#),  // percent mode: % escaped too
        EscapeCase("\n\r\t", #""\n\r\t""#),
        EscapeCase([0x08, 0x0C], #""\b\f""#),
        EscapeCase([0x00], #""\u0000""#),
        EscapeCase([0x01], #""\u0001""#),
        EscapeCase([0x1B], #""\u001b""#),
        EscapeCase([0x1F], #""\u001f""#),
        EscapeCase([0x7F], #""\u007f""#),
        EscapeCase("/<>&'", #""/<>&'""#),
        EscapeCase("é€😀", "\"é€😀\""),
        EscapeCase([0xC2, 0x85], #""\u0085""#),
        EscapeCase([0xC2, 0x9B], #""\u009b""#),
        EscapeCase([0xC2, 0xA0], "\"\u{A0}\""),
        EscapeCase("\u{2027}\u{2028}\u{2029}", "\"\u{2027}\\u2028\\u2029\""),
        EscapeCase("\u{202A}\u{202E}\u{202F}", "\"\\u202a\\u202e\u{202F}\""),
        EscapeCase("\u{2065}\u{2066}\u{2069}\u{206A}", "\"\u{2065}\\u2066\\u2069\u{206A}\""),
        EscapeCase([0x80], #""%80""#),
        EscapeCase([0xFF], #""%FF""#),
        EscapeCase([0xC0, 0x80], #""%C0%80""#),  // overlong NUL
        EscapeCase([0xE0, 0x80, 0x80], #""%E0%80%80""#),  // overlong
        EscapeCase([0xED, 0xA0, 0x80], #""%ED%A0%80""#),  // surrogate U+D800
        EscapeCase([0xF4, 0x90, 0x80, 0x80], #""%F4%90%80%80""#),  // above U+10FFFF
        EscapeCase([0xF5], #""%F5""#),
        EscapeCase([0xE2, 0x82], #""%E2%82""#),  // truncated at the end
        EscapeCase([0xE2, 0x82, 0x41], #""%E2%82A""#),  // truncated before ASCII
        EscapeCase([0xC3], #""%C3""#),
        EscapeCase([0x61, 0xC3, 0xA9, 0xFF, 0x25, 0x62], #""aé%FF%25b""#),
        EscapeCase("0123456\"89abcdef", #""0123456\"89abcdef""#),  // special at the end of a word
        EscapeCase("01234567\"9abcdef", #""01234567\"9abcdef""#),  // at the start of the next word
    ]

    @Test(arguments: table)
    func escapesEachCaseExactly(_ row: EscapeCase) throws {
        var writer = JSONWriter()
        writer.appendString(row.input)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == row.expected)
        #expect(Array(writer.bytes) == referenceEscape(row.input))
        let (_, decoded, percentMode) = try JSON.roundTripString(row.input)
        #expect(percentMode == (String(validating: row.input, as: UTF8.self) == nil))
        #expect(try JSON.recover(decoded, percentMode: percentMode) == row.input)
    }

    @Test func everySingleByteRoundTrips() throws {
        for byte in UInt8.min...UInt8.max {
            for input in [[byte], [0x61, byte, 0x7A], Array(repeating: 0x61, count: 7) + [byte]] {
                let (json, decoded, percentMode) = try JSON.roundTripString(input)
                #expect(json == referenceEscape(input), "byte \(byte)")
                #expect(try JSON.recover(decoded, percentMode: percentMode) == input, "byte \(byte)")
            }
        }
    }

    @Test func everyPairOfBytesRoundTrips() throws {
        // All 65 536 two-byte strings in one JSON array: every 2-byte UTF-8 sequence, valid or not.
        var writer = JSONWriter()
        var inputs: [[UInt8]] = []
        var modes: [Bool] = []
        writer.appendByte(UInt8(ascii: "["))
        for first in UInt8.min...UInt8.max {
            for second in UInt8.min...UInt8.max {
                if !inputs.isEmpty { writer.appendByte(UInt8(ascii: ",")) }
                inputs.append([first, second])
                modes.append(writer.appendString([first, second]))
            }
        }
        writer.appendByte(UInt8(ascii: "]"))
        let decoded = try JSON.decode([String].self, writer.bytes)
        try #require(decoded.count == inputs.count)
        var failures = 0
        for ((input, text), percentMode) in zip(zip(inputs, decoded), modes)
        where try JSON.recover(text, percentMode: percentMode) != input {
            failures += 1
        }
        #expect(failures == 0)
    }

    @Test func randomByteStringsRoundTripAndMatchTheReference() throws {
        var generator = SplitMix64(seed: 0x5EED_A0D1_7000_0001)
        let pieces: [[UInt8]] = [
            [0x22], [0x5C], [0x25], [0x0A], [0x00], [0x7F], [0x80], [0xFF], [0xC3, 0xA9], [0xE2, 0x82, 0xAC],
            [0xF0, 0x9F, 0x98, 0x80], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xAE], [0xC2, 0x9B], [0xED, 0xA0, 0x80],
            [0xE2, 0x82], [0xF0, 0x9F], [0xC0, 0xAF],
        ]
        // All cases in one JSON array, decoded at once: the decoder's fixed cost dominates otherwise.
        var inputs: [[UInt8]] = []
        var modes: [Bool] = []
        var writer = JSONWriter()
        writer.appendByte(UInt8(ascii: "["))
        for caseNumber in 0..<5000 {
            var input: [UInt8] = []
            let length = Int.random(in: 0...120, using: &generator)
            while input.count < length {
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<5:  // clean ASCII runs, so that the word-at-a-time path runs
                    let run = Int.random(in: 1...20, using: &generator)
                    for _ in 0..<run { input.append(UInt8.random(in: 0x20...0x7E, using: &generator)) }
                case 5..<7:
                    input += pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                default:
                    input.append(UInt8.random(in: 0...0xFF, using: &generator))
                }
            }
            var single = JSONWriter()
            single.appendString(input)
            let json = Array(single.bytes)
            // Always valid UTF-8 with no raw control or DEL byte: safe for any line-based consumer.
            if json != referenceEscape(input) || String(validating: json, as: UTF8.self) == nil
                || json.contains(where: { $0 < 0x20 || $0 == 0x7F })
            {
                Issue.record("case \(caseNumber): \(input) escaped as \(String(decoding: json, as: UTF8.self))")
            }
            if caseNumber > 0 { writer.appendByte(UInt8(ascii: ",")) }
            modes.append(writer.appendString(input))
            inputs.append(input)
        }
        writer.appendByte(UInt8(ascii: "]"))
        let decoded = try JSON.decode([String].self, writer.bytes)
        try #require(decoded.count == inputs.count)
        for (caseNumber, (input, text)) in zip(inputs, decoded).enumerated()
        where try JSON.recover(text, percentMode: modes[caseNumber]) != input {
            Issue.record("case \(caseNumber): \(input) decoded as \(text)")
        }
    }

    @Test func specialBytesAreFoundAtEveryOffsetOfAWord() throws {
        for length in 1...24 {
            for position in 0..<length {
                for special: UInt8 in [0x22, 0x5C, 0x25, 0x00, 0x1F, 0x7F, 0x80, 0xFF] {
                    var input = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    input[position] = special
                    var writer = JSONWriter()
                    writer.appendString(input)
                    #expect(Array(writer.bytes) == referenceEscape(input), "length \(length), position \(position)")
                }
            }
        }
    }

    /// The scan for bytes to escape skips clean 16-byte blocks, then finds the byte within the block
    /// word by word, then byte by byte in the tail: every escape class at every position of values
    /// up to three blocks long, on both sides of each boundary.
    @Test func everyEscapeClassIsFoundAtEveryPositionAcrossBlocks() {
        let classes: [[UInt8]] = [
            [0x22], [0x5C], [0x25], [0x0A], [0x0D], [0x09], [0x08], [0x0C], [0x00], [0x1F], [0x7F], [0x20], [0x7E],
            [0xC2, 0x85], [0xC2, 0xA0], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xAE], [0xE2, 0x81, 0xA6], [0xE2, 0x82, 0xAC],
            [0xF0, 0x9F, 0x98, 0x80], [0x80], [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80],
        ]
        var failures = 0
        // Lengths around each word and block boundary (all 48 lengths take half a minute in debug).
        for length in [1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48] {
            for position in 0..<length {
                for special in classes {
                    var input = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    input.replaceSubrange(position..<min(length, position + special.count), with: special)
                    var writer = JSONWriter()
                    writer.appendString(input)
                    if Array(writer.bytes) != referenceEscape(input) {
                        failures += 1
                        if failures <= 5 { Issue.record("length \(length), position \(position): \(input)") }
                    }
                }
            }
        }
        #expect(failures == 0)
    }

    /// A value is escaped optimistically as UTF-8 and written again in percent mode when a bad byte
    /// turns up: the `%` bytes already written before it must come out as `%25` all the same, and
    /// nothing of the first attempt may remain (also when the value is appended after other text).
    @Test func aBadByteAfterCleanBlocksRewritesTheWholeValueInPercentMode() {
        for percentAt in [0, 7, 8, 15, 16, 31] {
            for badAt in [percentAt + 1, 17, 32, 40, 47] where badAt > percentAt {
                var input = [UInt8](repeating: UInt8(ascii: "b"), count: 48)
                input[percentAt] = UInt8(ascii: "%")
                input[badAt] = 0xFF
                let quoteAt = (percentAt + badAt) / 2  // an escape between the two, when there is room
                if quoteAt != percentAt, quoteAt != badAt { input[quoteAt] = UInt8(ascii: "\"") }
                var writer = JSONWriter()
                writer.appendRaw("[1,")
                let percentMode = writer.appendString(input)
                writer.appendRaw("]")
                #expect(percentMode)
                #expect(
                    Array(writer.bytes) == Array("[1,".utf8) + referenceEscape(input) + Array("]".utf8),
                    "% at \(percentAt), 0xFF at \(badAt)")
            }
        }
    }

    @Test func decodingRejectsMalformedPercentEscapes() {
        #expect(throws: ByteEscapingError(offset: 1)) { try ByteEscaping.decode("a%") }
        #expect(throws: ByteEscapingError(offset: 0)) { try ByteEscaping.decode("%4") }
        #expect(throws: ByteEscapingError(offset: 2)) { try ByteEscaping.decode("ab%G0") }
        #expect((try? ByteEscaping.decode("%e9%C3%a9")) == [0xE9, 0xC3, 0xA9])
    }

    @Test(arguments: [
        (UInt64(0), "0"), (9, "9"), (10, "10"), (4_294_967_295, "4294967295"),
        (UInt64.max, "18446744073709551615"),
    ])
    func writesUnsignedDecimals(_ value: UInt64, _ expected: String) {
        var writer = JSONWriter()
        writer.appendDecimal(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test(arguments: [
        (Int64(0), "0"), (-1, "-1"), (Int64.min, "-9223372036854775808"), (Int64.max, "9223372036854775807"),
    ])
    func writesSignedDecimals(_ value: Int64, _ expected: String) {
        var writer = JSONWriter()
        writer.appendDecimal(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test(arguments: [
        (UInt64(1_795_345_044), UInt16(640), #""1795345044.640""#), (0, 0, #""0.000""#), (12, 5, #""12.005""#),
        (12, 99, #""12.099""#), (12, 999, #""12.999""#),
    ])
    func writesTimestampsWithThreeDigitsOfMilliseconds(_ seconds: UInt64, _ millis: UInt16, _ expected: String) {
        var writer = JSONWriter()
        writer.appendTimestamp(seconds: seconds, milliseconds: millis)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test func removeAllStartsOverAndGrowthKeepsTheText() {
        var writer = JSONWriter(capacity: 4)
        writer.appendString("hello")
        writer.removeAll()
        #expect(writer.count == 0)
        writer.appendString("x")
        #expect(Array(writer.bytes) == Array(#""x""#.utf8))
        let long = [UInt8](repeating: 0x01, count: 10_000)  // 6 output bytes each
        writer.appendString(long)
        #expect(writer.count == 3 + 2 + 60_000)
        #expect(writer.bytes.suffix(7) == Array(#"\u0001""#.utf8)[...])
    }

    @Test func appendingToAnArrayKeepsWhatWasThere() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(users: fixture.users)
        var output = Array("previous line\n".utf8)
        encoder.encode(makeEvent(serial: 9, [(1300, "uid=0")]), into: &output)
        #expect(
            String(decoding: output, as: UTF8.self)
                == "previous line\n"
                + #"{"sequence":9,"timestamp":"1795345044.640","messages":[{"type":1300,"data":"uid=0"}],"uid_map":{"0":"root"}}"#
                + "\n")
    }

    @Test func aLineIsAppendedWithoutItsFinalNewlineOnly() {
        var writer = JSONWriter()
        var output = Array("before|".utf8)
        writer.appendLine(to: &output)
        #expect(output == Array("before|".utf8), "an empty writer appends nothing")

        writer.appendRaw("{\"a\":\"x\\n\"}\n\n")
        writer.appendLine(to: &output)
        #expect(String(decoding: output, as: UTF8.self) == "before|{\"a\":\"x\\n\"}\n")

        writer.removeAll()
        writer.appendRaw("[1]")
        writer.appendLine(to: &output)
        #expect(String(decoding: output, as: UTF8.self) == "before|{\"a\":\"x\\n\"}\n[1]")
    }

    @Test func anotherWritersTextIsAppendedAsItIs() {
        var members = JSONWriter(capacity: 4)
        members.appendRaw("\"0\":\"root\",\"1000\":\"alice\"")
        var writer = JSONWriter()
        writer.appendRaw("{")
        writer.appendRaw(contentsOf: members)
        writer.appendRaw("}")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"0":"root","1000":"alice"}"#)
        members.removeAll()
        writer.appendRaw(contentsOf: members)
        #expect(writer.count == 27, "an empty writer adds nothing")
    }
}
