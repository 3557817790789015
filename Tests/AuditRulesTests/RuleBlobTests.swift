import AuditRules
import AuditTestSupport
import Testing

/// Encoding and decoding of `struct audit_rule_data`: layout, round trips, and robustness against
/// malformed blobs.
@Suite struct RuleBlobTests {
    @Test func layoutMatchesTheKernelStructure() throws {
        let rule = AuditRule(
            list: .exit, action: .always, prepend: true, syscalls: SyscallMask(words: [0x0800_0000, 0, 1]),
            fields: [
                RuleCondition(field: .arch, op: .equal, value: .number(0xC000_003E)),
                RuleCondition(field: .filterKey, op: .notEqual, value: .string(Array("exec".utf8))),
            ])
        let blob = try rule.encoded()
        #expect(blob.count == 1040 + 4)
        func word(_ index: Int) -> UInt32 {
            UInt32(blob[index * 4]) | UInt32(blob[index * 4 + 1]) << 8 | UInt32(blob[index * 4 + 2]) << 16
                | UInt32(blob[index * 4 + 3]) << 24
        }
        #expect(word(0) == 0x14)  // AUDIT_FILTER_EXIT | AUDIT_FILTER_PREPEND
        #expect(word(1) == 2)  // AUDIT_ALWAYS
        #expect(word(2) == 2)  // field_count
        #expect(word(3) == 0x0800_0000 && word(5) == 1)  // mask[0], mask[2]
        #expect(word(3 + 64) == 11 && word(3 + 65) == 210)  // fields[]
        #expect(word(3 + 128) == 0xC000_003E && word(3 + 129) == 4)  // values[]: the string length
        #expect(word(3 + 192) == 0x4000_0000 && word(3 + 193) == 0x3000_0000)  // fieldflags[]
        #expect(word(259) == 4)  // buflen
        #expect(Array(blob[1040...]) == Array("exec".utf8))
        #expect(try AuditRule(kernelBlob: blob) == rule)
    }

    @Test func decodingIgnoresNetlinkPadding() throws {
        let rule = try #require(parsedRule("-a always,exit -F arch=b64 -S open -k abc"))
        let padded = try rule.encoded() + [0]
        #expect(try AuditRule(kernelBlob: padded) == rule)
    }

    @Test func everyTruncationOfAValidBlobIsRejectedOrDecodesAPrefix() throws {
        let rule = try #require(
            parsedRule("-a always,exit -F dir=/var/log/audit -F perm=wa -F auid>=1000 -k audit-log"))
        let blob = try rule.encoded()
        for length in 0..<blob.count {
            let cut = Array(blob.prefix(length))
            #expect(throws: RuleDecodingError.self, "length \(length)") { try AuditRule(kernelBlob: cut) }
        }
    }

    @Test(arguments: [
        ("field_count above 64", 2, UInt32(65)),
        ("field_count at UInt32.max", 2, UInt32.max),
        ("buflen beyond the blob", 259, UInt32(10)),
        ("buflen at UInt32.max", 259, UInt32.max),
    ])
    func inconsistentHeadersAreRejected(name: String, wordIndex: Int, value: UInt32) throws {
        var blob = try #require(parsedRule("-a always,exit -F arch=b64 -S open -F uid=0")).encoded()
        blob.replaceSubrange(
            (wordIndex * 4)..<(wordIndex * 4 + 4), with: withUnsafeBytes(of: value.littleEndian, Array.init))
        #expect(throws: RuleDecodingError.self, "\(name)") { try AuditRule(kernelBlob: blob) }
    }

    @Test func aStringLengthBeyondBufIsRejected() throws {
        var blob = try #require(parsedRule("-a always,exit -F arch=b64 -S open -k abc")).encoded()
        // values[1] (the key's length) claims more than buflen.
        let offset = (3 + 128 + 1) * 4
        blob.replaceSubrange(offset..<(offset + 4), with: [200, 0, 0, 0])
        #expect(throws: RuleDecodingError.self) { try AuditRule(kernelBlob: blob) }
        blob.replaceSubrange(offset..<(offset + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: RuleDecodingError.self) { try AuditRule(kernelBlob: blob) }
    }

    @Test func randomGarbageNeverCrashesTheDecoderOrTheListing() {
        var generator = SplitMix64(seed: 0x5EED)
        var decoded = 0
        for round in 0..<3000 {
            let length = round % 3 == 0 ? 1040 + Int(generator.next() % 64) : Int(generator.next() % 1200)
            var blob = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if round % 2 == 0, blob.count >= 1040 {
                // Make the header plausible so the field loop runs.
                blob[8] = UInt8(generator.next() % 65)
                blob[9] = 0
                blob[10] = 0
                blob[11] = 0
                let room = UInt32(blob.count - 1040)
                withUnsafeBytes(of: room.littleEndian) { blob.replaceSubrange(1036..<1040, with: $0) }
            }
            if let rule = try? AuditRule(kernelBlob: blob) {
                decoded += 1
                _ = rule.auditctlListingBytes(host: .x86_64)
                _ = rule.auditctlListingBytes(host: .aarch64)
                _ = try? rule.encoded()
            }
        }
        #expect(decoded > 0, "some plausible blobs must decode")
    }

    @Test func encodingRefusesRulesTheKernelCannotHold() {
        var tooMany = AuditRule(list: .exit, action: .always)
        tooMany.fields = Array(repeating: RuleCondition(field: .uid, op: .equal, value: .number(0)), count: 65)
        #expect(throws: RuleEncodingError.self) { try tooMany.encoded() }
        let wrongKind = AuditRule(
            list: .exit, action: .always, fields: [RuleCondition(field: .watch, op: .equal, value: .number(1))])
        #expect(throws: RuleEncodingError.self) { try wrongKind.encoded() }
        let numberAsString = AuditRule(
            list: .exit, action: .always, fields: [RuleCondition(field: .uid, op: .equal, value: .string([0x30]))])
        #expect(throws: RuleEncodingError.self) { try numberAsString.encoded() }
        let longString = AuditRule(
            list: .exit, action: .always,
            fields: [RuleCondition(field: .executable, op: .equal, value: .string(Array(repeating: 0x61, count: 4097)))]
        )
        #expect(throws: RuleEncodingError.self) { try longString.encoded() }
    }

    /// decode(encode(x)) == x for every rule of the oracle corpus.
    @Test func everyOracleRuleRoundTrips() throws {
        var count = 0
        for row in auditctlOracleFixture.split(separator: "\n") {
            let line = String(row.prefix { $0 != "\t" })
            for command in parseLine(line).commands {
                guard case .addRule(let rule) = command.kind else { continue }
                #expect(try AuditRule(kernelBlob: rule.encoded()) == rule, "\(line)")
                count += 1
            }
        }
        #expect(count > 150)
    }

    @Test func kernelNormalizationClearsOnlyTheClassBits() {
        #expect(SyscallMask.all.kernelNormalized.words[63] == 0x0000_FFFF)
        #expect(SyscallMask.all.kernelNormalized.words.prefix(63).allSatisfy { $0 == .max })
        #expect(SyscallMask.all.kernelNormalized.isAll)
        var mask = SyscallMask()
        let inserted = mask.insert(2047)
        let tooHigh = mask.insert(2048)
        let negative = mask.insert(-1)
        #expect(inserted && !tooHigh && !negative)
        #expect(mask.numbers == [2047])
    }
}
