import AuditRules
import Testing

/// `auditctl -l` formatting of unusual blobs, compared with what auditctl 3.0.9 printed for them.
@Suite struct RuleListingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var blob: String
        var listing: String
        var testDescription: String { name }
    }

    static let cases = syntheticListingFixture.map { Case(name: $0.name, blob: $0.blob, listing: $0.listing) }

    @Test(arguments: cases)
    func decodedBlobListsAsAuditctlDoes(_ testCase: Case) throws {
        let blob = try #require(sparseBlob(Substring(testCase.blob)))
        let rule = try AuditRule(kernelBlob: blob)
        #expect(rule.auditctlListing(host: .x86_64) == testCase.listing)
        #expect(try rule.encoded() == blob, "re-encoding must give the blob back")
    }

    @Test func stringValuesAreListedAsTheirRawBytes() throws {
        let rule = AuditRule(
            list: .exit, action: .always, syscalls: SyscallMask(words: [1]),
            fields: [RuleCondition(field: .filterKey, op: .equal, value: .string([0xFF, 0xFE, 0x80, 0x61]))])
        // auditctl 3.0.9 printed these bytes for the same blob.
        #expect(
            rule.auditctlListingBytes(host: .x86_64) == Array("-a always,exit -S read -F key=".utf8) + [
                0xFF, 0xFE, 0x80, 0x61,
            ])
    }

    @Test func syscallNamesWithoutArchFollowTheHost() throws {
        let rule = AuditRule(list: .exit, action: .always, syscalls: SyscallMask(words: [1 << 5]), fields: [])
        #expect(rule.auditctlListing(host: .x86_64) == "-a always,exit -S fstat")
        #expect(rule.auditctlListing(host: .i386) == "-a always,exit -S open")
        #expect(rule.auditctlListing(host: .aarch64) == "-a always,exit -S setxattr")
    }

    @Test func ioUringRulesNameTheirOperations() throws {
        let file = parseLine("-a always,io_uring -S openat,connect -F uid=0 -k uring")
        #expect(file.errors.isEmpty, "\(file.errors)")
        guard case .addRule(let rule) = file.commands.first?.kind else {
            Issue.record("no rule")
            return
        }
        #expect(rule.list == .ioUring)
        #expect(rule.syscalls.numbers == [16, 18])
        #expect(rule.auditctlListing(host: .x86_64) == "-a always,io_uring -S connect,openat -F uid=0 -F key=uring")
    }

    @Test func keysAndKeyFilterFollowAuditctl() throws {
        let rule = try #require(parsedRule("-a always,exit -F arch=b64 -S open -k first -k second"))
        #expect(rule.keys == ["first", "second"])
        #expect(rule.matchesKeyFilter("sec"))
        #expect(rule.matchesKeyFilter("first\u{1}second"))
        #expect(!rule.matchesKeyFilter("third"))
        #expect(rule.matchesKeyFilter(""))
    }
}
