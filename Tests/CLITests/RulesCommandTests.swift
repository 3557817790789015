import AuditNetlink
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
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-check")
        defer { scratchDirectory.remove() }
        let path = try scratchDirectory.write(
            "bad.rules",
            """
            # a comment
            -a always,exit -F arch=b64 -S open -k fine
            -a always,exit -F arch=b64 -S nosuchsyscall -k bad
            -w relative/path -p wa
            -a always,exit -F arch=b64 -S open -F nosuchfield=1

            """, mode: 0o644)
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
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-check-ok")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        try FileManager.default.createDirectory(atPath: scratch + "/rules.d", withIntermediateDirectories: true)
        try scratchDirectory.write("rules.d/10-base.rules", "-D\n-b 8192\n", mode: 0o644)
        try scratchDirectory.write(
            "rules.d/20-exec.rules", "-a always,exit -F arch=b64 -S execve -k exec\n", mode: 0o644)
        try scratchDirectory.write("rules.d/README", "not rules\n", mode: 0o644)
        try scratchDirectory.write("audit.rules", "-w /etc/passwd -p wa -k identity\n", mode: 0o644)
        let result = try runProcess(
            try Self.executable(), ["rules", "check", scratch + "/audit.rules", scratch + "/rules.d"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "3 files, 2 rules: no errors\n")
    }

    @Test func checkRefusesAMisplacedLockAndAWorldWritableFile() throws {
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-check-lock")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        try scratchDirectory.write("lock.rules", "-e 2\n-a always,exit -F arch=b64 -S execve\n", mode: 0o644)
        let lock = try runProcess(try Self.executable(), ["rules", "check", scratch + "/lock.rules"])
        #expect(lock.status == 6)
        #expect(lock.standardError.contains("\(scratch)/lock.rules:1:1: -e 2 locks the audit configuration"))

        try scratchDirectory.write("open.rules", "-a always,exit -F arch=b64 -S execve\n", mode: 0o644)
        chmod(scratch + "/open.rules", 0o666)
        let open = try runProcess(try Self.executable(), ["rules", "check", scratch + "/open.rules"])
        #expect(open.status == 6)
        #expect(open.standardError.contains("world-writable"))
    }

    /// `rules check` reports what `rules load` is sure to roll back, as errors with file:line and
    /// exit 6: the same rule twice (EEXIST) and a watch whose directory does not exist (ENOENT).
    @Test func checkReportsWhatTheKernelIsSureToRefuse() throws {
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-check-refusals")
        defer { scratchDirectory.remove() }
        let path = try scratchDirectory.write(
            "twice.rules",
            """
            -a always,exit -F arch=b64 -S execve -k exec
            -a always,exit -F arch=b64 -S execve -k exec
            -w /nonexistent-swift-audit-dir/file -p wa -k missing

            """, mode: 0o644)
        let check = try runProcess(try Self.executable(), ["rules", "check", path])
        #expect(check.status == 6, "\(check.standardError)")
        let lines = check.standardError.split(separator: "\n").map(String.init)
        #expect(
            lines.contains {
                $0.hasPrefix("\(path):2:1: the kernel will refuse -a always,exit") && $0.contains("EEXIST")
            },
            "\(lines)")
        #expect(
            lines.contains { $0.hasPrefix("\(path):3:1: the kernel will refuse -w /nonexistent-swift-audit-dir/file") },
            "\(lines)")
        #expect(lines.last == "swift-audit: 2 errors in 1 file")
        #expect(check.standardOutput.isEmpty)
    }

    /// `rules check` warns about `-f 2` and `-e 2` and passes; `rules load` refuses them without
    /// `--confirm-panic`/`--confirm-lock` (exit 6, before the kernel is asked anything), as
    /// `swift-audit set` does.
    @Test func panicAndLockAreWarnedAboutByCheckAndNeedConfirmationToLoad() throws {
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-check-panic")
        defer { scratchDirectory.remove() }
        let path = try scratchDirectory.write(
            "final.rules", "-f 2\n-a always,exit -F arch=b64 -S execve -k exec\n-e 2\n", mode: 0o644)
        let check = try runProcess(try Self.executable(), ["rules", "check", path])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(check.standardError.contains("\(path):1:1: warning: -f 2: "), "\(check.standardError)")
        #expect(check.standardError.contains("\(path):3:1: warning: -e 2: "), "\(check.standardError)")
        let load = try runProcess(try Self.executable(), ["rules", "load", path])
        #expect(load.status == 6, "\(load.standardError)")
        #expect(load.standardError.contains("\(path):1:1: -f 2: "), "\(load.standardError)")
        #expect(load.standardError.contains("--confirm-panic"))
        #expect(load.standardError.contains("--confirm-lock"))
        #expect(load.standardError.contains("nothing was applied"))
    }

    /// Without CAP_AUDIT_CONTROL the kernel answers EPERM to the first request (a read), so this
    /// changes nothing; the exit code is 4, as auditd's for a missing privilege.
    @Test(.requires(.root, .runuser))
    func withoutPrivilegeLoadListAndDeleteAllExit4() throws {
        let executable = try Self.executable()
        let runuser = HostTools.runuser ?? "runuser"
        let probe = try runProcess(runuser, ["-u", "nobody", "--", "/usr/bin/test", "-x", executable])
        try TestRequirement(
            "user nobody able to run \(executable) (every parent directory searchable)",
            isAvailable: probe.status == 0
        ).skipUnlessMet()
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-unprivileged")
        defer { scratchDirectory.remove() }
        let scratch = scratchDirectory.path
        chmod(scratch, 0o755)
        let path = try scratchDirectory.write(
            "one.rules", "-a always,exit -F arch=b64 -S getppid -k unprivileged\n", mode: 0o644)
        for arguments in [["rules", "load", path], ["rules", "list"], ["rules", "delete-all"]] {
            let result = try runProcess(runuser, ["-u", "nobody", "--", executable] + arguments)
            #expect(result.status == 4, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("CAP_AUDIT_CONTROL"), "\(arguments): \(result.standardError)")
        }
        let check = try runProcess(runuser, ["-u", "nobody", "--", executable, "rules", "check", path])
        #expect(check.status == 0, "checking needs no privilege: \(check.standardError)")
    }

    @Test(.requires(.kernel))
    func loadListAndDeleteAllWorkEndToEnd() throws {
        let executable = try Self.executable()
        let scratchDirectory = try TemporaryDirectory(prefix: "swift-audit-cli")
        defer { scratchDirectory.remove() }
        let good = try scratchDirectory.write(
            "good.rules",
            """
            -D
            -b 8194
            -a always,exit -F arch=b64 -S getppid -k cli-one
            -w /etc/passwd -p wa -k cli-identity
            -a always,exit -F arch=b64 -S getpid -F auid>=1000 -F auid!=unset -k cli-two

            """, mode: 0o644)
        let duplicate = try scratchDirectory.write(
            "duplicate.rules",
            """
            -a always,exit -F arch=b64 -S sched_yield -k cli-three
            -b 8195
            -a always,exit -F arch=b64 -S getppid -k cli-one

            """, mode: 0o644)

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
            // Compared with auditctl where it is installed, and always under CI=true.
            if HostTools.auditctl != nil || TestEnvironment.isCI {
                try TestRequirement.auditctl.check()
                let auditctl = try runProcess(HostTools.auditctl ?? "auditctl", ["-l"])
                #expect(list.standardOutput == auditctl.standardOutput)
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
