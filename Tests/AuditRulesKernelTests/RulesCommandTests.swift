import AuditNetlink
import AuditRules
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// `swift-audit rules …` run as a program: exit codes, what goes to stdout and stderr.
@Suite(.serialized)
struct RulesCommandTests {
    static func executable(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = TestEnvironment.executable.path
        try #require(
            FileManager.default.isExecutableFile(atPath: path), "build swift-audit first: \(path)",
            sourceLocation: sourceLocation)
        return path
    }

    @Test func checkReportsEveryErrorWithFileLineAndColumnAndExits6() throws {
        let scratch = try RulesTestSupport.makeScratchDirectory("check")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let path = scratch + "/bad.rules"
        try RulesTestSupport.write(
            """
            # a comment
            -a always,exit -F arch=b64 -S open -k fine
            -a always,exit -F arch=b64 -S nosuchsyscall -k bad
            -w relative/path -p wa
            -a always,exit -F arch=b64 -S open -F nosuchfield=1

            """, to: path)
        let result = try runProcess(try Self.executable(), ["rules", "check", path])
        #expect(result.status == 6)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(path):3:31: ") && $0.contains("nosuchsyscall") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):4:4: ") && $0.contains("relative/path") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("\(path):5:39: unknown field \"nosuchfield\"") }, "\(lines)")
        #expect(lines.last == "swift-audit: 3 errors in 1 file")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func checkAcceptsValidFilesAndDirectoriesAndExits0() throws {
        let scratch = try RulesTestSupport.makeScratchDirectory("check-ok")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: scratch + "/rules.d", withIntermediateDirectories: true)
        try RulesTestSupport.write("-D\n-b 8192\n", to: scratch + "/rules.d/10-base.rules")
        try RulesTestSupport.write(
            "-a always,exit -F arch=b64 -S execve -k exec\n", to: scratch + "/rules.d/20-exec.rules")
        try RulesTestSupport.write("not rules\n", to: scratch + "/rules.d/README")
        try RulesTestSupport.write("-w /etc/passwd -p wa -k identity\n", to: scratch + "/audit.rules")
        let result = try runProcess(
            try Self.executable(), ["rules", "check", scratch + "/audit.rules", scratch + "/rules.d"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "3 files, 2 rules: no errors\n")
    }

    @Test func checkRefusesAMisplacedLockAndAWorldWritableFile() throws {
        let scratch = try RulesTestSupport.makeScratchDirectory("check-lock")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try RulesTestSupport.write("-e 2\n-a always,exit -F arch=b64 -S execve\n", to: scratch + "/lock.rules")
        let lock = try runProcess(try Self.executable(), ["rules", "check", scratch + "/lock.rules"])
        #expect(lock.status == 6)
        #expect(lock.standardError.contains("\(scratch)/lock.rules:1:1: -e 2 locks the audit configuration"))

        try RulesTestSupport.write("-a always,exit -F arch=b64 -S execve\n", to: scratch + "/open.rules")
        chmod(scratch + "/open.rules", 0o666)
        let open = try runProcess(try Self.executable(), ["rules", "check", scratch + "/open.rules"])
        #expect(open.status == 6)
        #expect(open.standardError.contains("world-writable"))
    }

    /// Without CAP_AUDIT_CONTROL the kernel answers EPERM to the first request (a read), so this
    /// changes nothing; the exit code is 4, as auditd's for a missing privilege.
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")))
    func withoutPrivilegeLoadListAndDeleteAllExit4() throws {
        let executable = try Self.executable()
        let probe = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", "/usr/bin/test", "-x", executable])
        guard probe.status == 0 else {
            print("skipping: user nobody cannot run \(executable) (a parent directory is not searchable)")
            return
        }
        let scratch = try RulesTestSupport.makeScratchDirectory("unprivileged")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        chmod(scratch, 0o755)
        let path = scratch + "/one.rules"
        try RulesTestSupport.write("-a always,exit -F arch=b64 -S getppid -k unprivileged\n", to: path)
        for arguments in [["rules", "load", path], ["rules", "list"], ["rules", "delete-all"]] {
            let result = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", executable] + arguments)
            #expect(result.status == 4, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("CAP_AUDIT_CONTROL"), "\(arguments): \(result.standardError)")
        }
        let check = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", executable, "rules", "check", path])
        #expect(check.status == 0, "checking needs no privilege: \(check.standardError)")
    }

    @Test(.enabled(if: KernelAccess.condition, KernelAccess.skipReason))
    func loadListAndDeleteAllWorkEndToEnd() throws {
        let executable = try Self.executable()
        let scratch = try RulesTestSupport.makeScratchDirectory("cli")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let good = scratch + "/good.rules"
        try RulesTestSupport.write(
            """
            -D
            -b 8194
            -a always,exit -F arch=b64 -S getppid -k cli-one
            -w /etc/passwd -p wa -k cli-identity
            -a always,exit -F arch=b64 -S getpid -F auid>=1000 -F auid!=unset -k cli-two

            """, to: good)
        let duplicate = scratch + "/duplicate.rules"
        try RulesTestSupport.write(
            """
            -a always,exit -F arch=b64 -S sched_yield -k cli-three
            -b 8195
            -a always,exit -F arch=b64 -S getppid -k cli-one

            """, to: duplicate)

        try withKernelAudit { client in
            try #require(try client.listRules().isEmpty, "the kernel must have no rules before this test")
            let load = try runProcess(executable, ["rules", "load", good])
            #expect(load.status == 0, "\(load.standardError)")
            #expect(load.standardOutput.contains("3 rules added"), "\(load.standardOutput)")
            #expect(load.standardOutput.contains("backlog_limit"))
            #expect(try client.status().backlogLimit == 8194)
            #expect(try client.listRules().count == 3)

            let list = try runProcess(executable, ["rules", "list"])
            #expect(list.status == 0)
            if RulesTestSupport.auditctl != nil {
                #expect(list.standardOutput == (try RulesTestSupport.runAuditctl(["-l"])).standardOutput)
            }
            #expect(
                list.standardOutput == """
                    -a always,exit -F arch=b64 -S getppid -F key=cli-one
                    -w /etc/passwd -p wa -k cli-identity
                    -a always,exit -F arch=b64 -S getpid -F auid>=1000 -F auid!=-1 -F key=cli-two

                    """)

            let before = try client.listRules()
            let rejected = try runProcess(executable, ["rules", "load", duplicate])
            #expect(rejected.status == 1)
            #expect(rejected.standardError.contains("\(duplicate):3:1: the kernel refused -a always,exit"))
            #expect(rejected.standardError.contains("EEXIST"))
            #expect(try client.listRules() == before)
            #expect(try client.status().backlogLimit == 8194)

            let byKey = try runProcess(executable, ["rules", "delete-all", "-k", "cli-t"])
            #expect(byKey.status == 0, "\(byKey.standardError)")
            #expect(byKey.standardOutput == "deleted 1 rule\n")
            #expect(try client.listRules().count == 2)

            let all = try runProcess(executable, ["rules", "delete-all"])
            #expect(all.standardOutput == "deleted 2 rules\n")
            #expect(try runProcess(executable, ["rules", "list"]).standardOutput == "No rules\n")
        }
    }
}
