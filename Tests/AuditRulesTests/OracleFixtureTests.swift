import AuditRules
import Testing

/// Differential tests against the real auditctl 3.0.9: each line of `auditctlOracleFixture` was
/// run through auditctl (with a fake kernel socket), recording what it sent and how it listed it.
@Suite struct OracleFixtureTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var line: String
        var accepted: Bool
        var commands: [String]
        var testDescription: String { line.count > 90 ? String(line.prefix(87)) + "..." : line }
    }

    static let cases: [Case] = auditctlOracleFixture.split(separator: "\n").compactMap { row in
        let parts = row.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let commands = parts[2].split(separator: "⟂").map {
            String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }
        return Case(line: String(parts[0]), accepted: parts[1] == "ok", commands: commands)
    }

    /// Lines auditctl accepts but swift-audit rejects on purpose, with the reason: the kernel would
    /// refuse the rule anyway, or auditctl silently misreads the input.
    static let deliberatelyRejected: [String: String] = {
        let kernelRefuses = "the kernel refuses it (audit_field_valid/audit_to_watch/make_kuid); reported at parse time"
        let strictNumber = "auditctl's strtoul reads a prefix or wraps silently; a value must be a whole 32-bit number"
        let notRulesFile = "status, listing, version, signal and user-message options are not rules-file commands"
        let alone = "auditctl stops reading the line after this option; it must stand alone"
        var table: [String: String] = [:]
        for line in [
            "-a always,exit -F arch=b64 -S open -F pid>1 -F pid&1", "-a always,exit -F arch=b64 -S open -F uid&1",
            "-a always,exit -F arch=b64 -S open -F subj_user>x", "-a always,exit -F arch=b64 -S open -F key>x",
            "-a always,exit -F arch=b64 -S open -F subj_user<x",
            "-a always,exit -F arch=b64 -S open -F exit&1", "-a always,exit -F arch=b64 -S open -F success&1",
            "-a always,filesystem -F fstype=tracefs -F uid=0", "-a always,exit -F path=/etc/ -F perm=wa",
            "-a always,exit -F path=relative -F perm=wa", "-a always,exit -F dir=/etc -F path=/etc/passwd",
            "-a always,exit -F path=/a -F path=/b", "-a always,exit -F exe=/bin/a -F exe=/bin/b",
            "-a always,exit -F exe=relative", "-a always,exit -F arch=b64 -S execve -F uid=unset",
            "-a always,exit -F arch=b64 -S execve -F euid=-1", "-a always,exit -F arch=b64 -S connect -F saddr_fam&2",
            "-a always,exit -F arch=b64 -S open -F path!=/etc/passwd", "-a always,exit -F arch=b64 -S open -F dir=etc",
            "-a always,exit -F arch=b64 -S open -F obj_type>x", "-a always,exit -F arch=b64 -S open -F filetype<file",
            "-a always,exit -F arch=b64 -S open -F exe=/usr/bin/", "-a never,filesystem -F uid=0",
            "-a never,filesystem -F fstype=tracefs -F exe=/bin/x",
        ] {
            table[line] = kernelRefuses
        }
        for line in [
            "-a always,exit -F arch=b64 -S open -F uid=12abc", "-a always,exit -F arch=b64 -S open -F uid=99999999999",
            "-a always,exit -F arch=b64 -S open -F sessionid=abc", "-a always,exit -F arch=b64 -S 59abc",
            "-b 12abc", "-b 99999999999", "-a always,exit -F arch=b64 -S open -F a0=0x",
            "-a always,exit -F arch=b64 -S open -F a0=0 -F a1=0xffffffff -F a2=-2 -F a3=4294967296",
        ] {
            table[line] = strictNumber
        }
        for line in ["-l", "-s", "-v", "--signal HUP", "-m hello"] { table[line] = notRulesFile }
        table["-a always,exit -F arch=b64 -S open -F key!=x"] =
            "a key is a label, not a condition: auditctl sends the != but lists it as key=x"
        for line in ["-i -c", "-e 1 -i"] { table[line] = alone }
        return table
    }()

    /// Lines auditctl 3.0.9 rejects but swift-audit accepts on purpose.
    static let deliberatelyAccepted: [String: String] = [
        "-w \"/folder with space\" -p wa -k q":
            "quoted watch paths (go-libaudit's fixture); auditctl refuses any path not starting with /",
        "-w '/folder with space' -p wa -k q":
            "quoted watch paths (go-libaudit's fixture); auditctl refuses any path not starting with /",
        "-a always,io_uring -S openat -F key=k":
            "the io_uring list (kernel 5.16, auditctl 3.1) is newer than auditctl 3.0.9",
        "-a always,io_uring -F uid=0": "the io_uring list (kernel 5.16, auditctl 3.1) is newer than auditctl 3.0.9",
        "-a always,io_uring -S openat": "the io_uring list (kernel 5.16, auditctl 3.1) is newer than auditctl 3.0.9",
        "-a always,exit -F arch=b64 -S open -F loginuid_set=1":
            "the kernel has loginuid_set (field 24); auditctl 3.0.9 has no name for it",
    ]

    @Test(arguments: cases)
    func parsingMatchesAuditctl(_ testCase: Case) throws {
        let parsed = parseLine(testCase.line)
        if let reason = Self.deliberatelyRejected[testCase.line] {
            #expect(!parsed.errors.isEmpty, "expected a rejection (\(reason))")
            return
        }
        if let reason = Self.deliberatelyAccepted[testCase.line] {
            #expect(parsed.errors.isEmpty, "expected acceptance (\(reason)): \(parsed.errors)")
            return
        }
        guard testCase.accepted else {
            #expect(!parsed.errors.isEmpty, "auditctl rejects this line; we produced \(parsed.commands)")
            return
        }
        #expect(parsed.errors.isEmpty, "auditctl accepts this line: \(parsed.errors)")
        let ours = parsed.commands.filter {
            switch $0.kind {
            case .ignoreErrors, .continueOnErrors: false
            default: true
            }
        }
        try #require(ours.count == testCase.commands.count, "ours: \(ours.map(\.kind)) auditctl: \(testCase.commands)")
        for (command, expected) in zip(ours, testCase.commands) {
            try compare(command, expected)
        }
    }

    func compare(_ command: RuleCommand, _ expected: String) throws {
        switch command.kind {
        case .addRule(let rule), .deleteRule(let rule):
            let isAdd = if case .addRule = command.kind { true } else { false }
            #expect(expected.hasPrefix(isAdd ? "addRule " : "deleteRule "), "\(expected)")
            let body = expected.drop { $0 != " " }.dropFirst()
            guard let arrow = body.firstRange(of: " => ") else {
                Issue.record("bad fixture entry \(expected)")
                return
            }
            let blob = try #require(sparseBlob(body[..<arrow.lowerBound]))
            let listing = String(body[arrow.upperBound...])
            let encoded = try rule.encoded()
            #expect(encoded == blob, "\n ours:     \(hex(encoded))\n auditctl: \(hex(blob))")
            #expect(rule.auditctlListing(host: .x86_64) == listing)
            let decoded = try AuditRule(kernelBlob: blob)
            #expect(decoded.auditctlListing(host: .x86_64) == listing)
            #expect(decoded == rule)
        case .deleteAllRules: #expect(expected == "deleteAllRules")
        case .setEnabled(let value): #expect(expected == "setEnabled \(value)")
        case .setFailureMode(let value): #expect(expected == "setFailureMode \(value)")
        case .setBacklogLimit(let value): #expect(expected == "setBacklogLimit \(value)")
        case .setRateLimit(let value): #expect(expected == "setRateLimit \(value)")
        case .setBacklogWaitTime(let value): #expect(expected == "setBacklogWaitTime \(value)")
        case .resetLostCounter: #expect(expected == "resetLostCounter")
        case .resetBacklogWaitTimeActual: #expect(expected == "resetBacklogWaitTimeActual")
        case .setLoginUIDImmutable: #expect(expected == "setLoginUIDImmutable")
        case .makeEquivalent(let mount, let subtree): #expect(expected == "makeEquivalent \(mount) \(subtree)")
        case .trimSubtrees: #expect(expected == "trimSubtrees")
        case .ignoreErrors, .continueOnErrors: break
        }
    }
}
