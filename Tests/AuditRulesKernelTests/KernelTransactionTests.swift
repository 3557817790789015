import AuditNetlink
import AuditRules
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The loader on the real kernel: what it refuses, and that a rejected line leaves the kernel exactly
/// as it was. Every test runs inside `withKernelAudit` (lock, snapshot, restore).
@Suite(.serialized, .requires(.kernel))
struct KernelTransactionTests {
    /// The rules a test loads with auditctl first, so that there is something to restore: several
    /// lists, a watch, a prepended rule.
    static let existing = """
        -a always,exit -F arch=b64 -S chmod -k existing-1
        -w /etc/passwd -p wa -k existing-watch
        -a always,exit -F arch=b64 -S chown -k existing-2
        -a never,exclude -F msgtype=CWD
        -a always,exit -F arch=b64 -S fchmod -k existing-3
        -a always,user -F auid>=1000
        """

    @Test(.requires(.auditctl))
    func everyLineOfKernelRejectsFailsInAuditctlOnThisKernel() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        let text = try String(contentsOfFile: RulesTestSupport.kernelRejectsFile, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(lines.count >= 20)
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-rejects")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            for line in lines {
                // swift-audit refuses it while parsing…
                let parsed = RuleFile(parsing: line, name: "kernel-rejects.rules", environment: environment)
                #expect(!parsed.errors.isEmpty, "swift-audit accepts \(line)")
                // …because the kernel refuses it: auditctl parses it, sends it, and gets EINVAL.
                let path = scratch + "/line.rules"
                try RulesTestSupport.write(line + "\n", to: path)
                let result = try RulesTestSupport.runAuditctl(["-R", path])
                #expect(result.status != 0, "the kernel accepted \(line): swift-audit's parser wrongly rejects it")
                #expect(
                    result.standardError.contains("Invalid argument"),
                    "\(line): auditctl failed for another reason than EINVAL: \(result.standardError)")
                #expect(try client.listRules().isEmpty, "\(line) left a rule behind")
                try client.deleteAllRules()
            }
        }
    }

    @Test func aFileWithAParseErrorAppliesNothing() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        let text = """
            -D
            -b 4321
            -a always,exit -F arch=b64 -S getppid -k would-be-added
            -a always,exit -F arch=b64 -S nosuchsyscall -k broken
            -a always,exit -F arch=b64 -S getpid -F uid=nosuchuser-xyz
            """
        try withKernelAudit { client in
            try Self.loadExisting(client)
            let rulesBefore = try client.listRules()
            let statusBefore = try client.status()
            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: "broken.rules", text: text)], into: client)
            #expect(report.outcome == .notApplied)
            #expect(report.errors.map { $0.location?.line } == [4, 5])
            #expect(report.errors.first?.description.hasPrefix("broken.rules:4:") == true)
            #expect(try client.listRules() == rulesBefore)
            #expect(try client.status().backlogLimit == statusBefore.backlogLimit)
        }
    }

    @Test(
        arguments: [
            // The third rule duplicates the first: EEXIST.
            (
                "-a always,exit -F arch=b64 -S getppid -k new-1", "-a always,exit -F arch=b64 -S getppid -k new-1",
                EEXIST
            ),
            // The third rule duplicates one loaded before the file (and not deleted): EEXIST.
            (
                "-a always,exit -F arch=b64 -S getppid -k new-1", "-a always,exit -F arch=b64 -S chown -k existing-2",
                EEXIST
            ),
            // The third rule watches a file in a directory that does not exist: ENOENT.
            (
                "-a always,exit -F arch=b64 -S getppid -k new-1",
                "-w /nonexistent-swift-audit-dir/file -p wa -k missing", ENOENT
            ),
        ] as [(String, String, Int32)])
    func aRuleTheKernelRejectsLeavesTheKernelExactlyAsBefore(first: String, third: String, errno expected: Int32) throws
    {
        let environment = try RulesTestSupport.systemEnvironment()
        let text = """
            -b 4322
            -d always,exit -F arch=b64 -S chmod -k existing-1
            \(first)
            -a never,exclude -F msgtype=EOE
            -W /etc/passwd -p wa -k existing-watch
            \(third)
            -a always,exit -F arch=b64 -S getpid -k never-reached
            """
        try withKernelAudit { client in
            try Self.loadExisting(client)
            let rulesBefore = try client.listRules()
            let statusBefore = try client.status()
            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: "third.rules", text: text)], into: client)
            #expect(report.outcome == .rolledBack, "\(report.errors.map(\.description))")
            #expect(report.errors.count == 1)
            let error = try #require(report.errors.first)
            #expect(error.location?.line == 6)
            #expect(error.errno == expected)
            #expect(error.description.hasPrefix("third.rules:6:1: the kernel refused "))
            #expect(report.added == 0 && report.deleted == 0 && report.settings.isEmpty)
            // Blob for blob and in order: the deleted chmod rule and watch are back in their places.
            #expect(try client.listRules() == rulesBefore)
            #expect(try client.status().backlogLimit == statusBefore.backlogLimit)
        }
    }

    @Test func aRejectionAfterDeleteAllPutsEveryRuleBackInOrder() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        let text = """
            -D
            -a always,exit -F arch=b64 -S chown -k existing-2
            -A always,exit -F arch=b64 -S getppid -k prepended
            -a always,exit -F arch=b64 -S chown -k existing-2
            """
        try withKernelAudit { client in
            try Self.loadExisting(client)
            let rulesBefore = try client.listRules()
            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: "after-D.rules", text: text)], into: client)
            #expect(report.outcome == .rolledBack)
            #expect(report.errors.first?.errno == EEXIST)
            #expect(report.errors.first?.location?.line == 4)
            #expect(try client.listRules() == rulesBefore)
        }
    }

    @Test func continueAndIgnoreGoOnAfterARejectionAsAuditctlDoes() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            let continued = RulesTestSupport.safeLoader(environment).load(
                [
                    RuleSource(
                        name: "c.rules",
                        text: """
                            -c
                            -a always,exit -F arch=b64 -S getppid -k one
                            -a always,exit -F arch=b64 -S getppid -k one
                            -a always,exit -F arch=b64 -S getpid -k two
                            """)
                ], into: client)
            #expect(continued.outcome == .appliedWithErrors)
            #expect(continued.errors.map(\.errno) == [EEXIST])
            #expect(continued.added == 2)
            #expect(try client.listRules().count == 2)
            try client.deleteAllRules()

            let ignored = RulesTestSupport.safeLoader(environment).load(
                [
                    RuleSource(
                        name: "i.rules",
                        text: """
                            -i
                            -d always,exit -F arch=b64 -S getppid -k not-loaded
                            -a always,exit -F arch=b64 -S getpid -k two
                            """)
                ], into: client)
            #expect(ignored.outcome == .applied)
            #expect(ignored.ignored.map(\.errno) == [ENOENT])
            #expect(ignored.errors.isEmpty)
            #expect(try client.listRules().count == 1)
        }
    }

    @Test func rulesListFilesAndDirectoriesLoadInOrder() throws {
        let environment = try RulesTestSupport.systemEnvironment()
        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            let report = RulesTestSupport.safeLoader(environment).load(
                [
                    RuleSource(name: "audit.rules", text: "-D\n-a always,exit -F arch=b64 -S getppid -k main\n"),
                    RuleSource(name: "rules.d/10-a.rules", text: "-a always,exit -F arch=b64 -S getpid -k a\n"),
                    RuleSource(name: "rules.d/20-b.rules", text: "-d always,exit -F arch=b64 -S getppid -k main\n"),
                ], into: client)
            #expect(report.outcome == .applied)
            #expect(report.added == 2 && report.deleted == 1)
            let keys = try client.listRules().map { try AuditRule(kernelBlob: $0).keys }
            #expect(keys == [["a"]])
        }
    }

    /// Loads ``existing`` with auditctl (so the snapshot is not the loader's own work).
    static func loadExisting(_ client: AuditClient) throws {
        try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-existing")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        let path = scratch + "/existing.rules"
        try RulesTestSupport.write(existing + "\n", to: path)
        if HostTools.auditctl != nil {
            let result = try RulesTestSupport.runAuditctl(["-R", path])
            try #require(result.status == 0, "\(result.standardError)")
        } else {
            let environment = try RulesTestSupport.systemEnvironment()
            let report = RulesTestSupport.safeLoader(environment).load(
                [RuleSource(name: path, text: existing)], into: client)
            try #require(report.outcome == .applied)
        }
        try #require(try client.listRules().count == 6)
    }
}
