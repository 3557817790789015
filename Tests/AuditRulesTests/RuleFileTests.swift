import AuditRules
import Foundation
import Testing

/// Whole files: lines, comments, every error in one pass, control commands, quoting, hosts.
@Suite struct RuleFileTests {
    @Test func everyErrorOfAFileIsReportedWithItsLine() {
        let text = """
            ## base config
            -D
            -b 8192
            -a always,exit -F arch=b64 -S opne -k x

            -w etc/shadow -p wa
            # fine:
            -a always,exit -F arch=b64 -S execve -k exec
            -a always,exit -F arch=b64 -S open -F uidd=0
            """
        let file = RuleFile(parsing: text, name: "rules.d/10.rules", environment: testEnvironment())
        #expect(
            file.errors.map(\.description) == [
                "rules.d/10.rules:4:31: unknown syscall \"opne\" for x86_64; expected a syscall name of x86_64 (see `ausyscall x86_64 --dump`), a number 0-2047, or all",
                "rules.d/10.rules:6:4: watch path \"etc/shadow\" is not absolute; expected a path starting with /",
                "rules.d/10.rules:9:39: unknown field \"uidd\"; expected one of "
                    + "pid, uid, euid, suid, fsuid, gid, egid, sgid, fsgid, auid, loginuid, pers, arch, msgtype, subj_user, subj_role, subj_type, subj_sen, subj_clr, ppid, obj_user, obj_role, obj_type, obj_lev_low, obj_lev_high, devmajor, devminor, inode, exit, success, path, perm, dir, filetype, obj_uid, obj_gid, a0, a1, a2, a3, key, exe, sessionid, fstype, saddr_fam, loginuid_set",
            ])
        #expect(!file.isValid)
        // The good lines still parse, so a checker can show them; a loader applies nothing.
        #expect(file.commands.map(\.location.line) == [2, 3, 8])
    }

    @Test func controlLinesBecomeTypedCommands() throws {
        let text = """
            -D
            -D -k old
            -e 0
            -e 1
            -e 2
            -f 2
            -b 0x2000 -r 100
            --backlog_wait_time 60000
            --backlog_wait_time=0
            --reset-lost
            --reset_backlog_wait_time_actual
            --loginuid-immutable
            --loginuid
            -i
            -c
            -q /mnt,/home
            -t
            """
        let file = RuleFile(parsing: text, name: "control.rules", environment: testEnvironment())
        #expect(file.errors.isEmpty, "\(file.errors)")
        #expect(
            file.commands.map(\.kind) == [
                .deleteAllRules(key: nil), .deleteAllRules(key: "old"), .setEnabled(0), .setEnabled(1), .setEnabled(2),
                .setFailureMode(2), .setBacklogLimit(8192), .setRateLimit(100), .setBacklogWaitTime(60000),
                .setBacklogWaitTime(0), .resetLostCounter, .resetBacklogWaitTimeActual, .setLoginUIDImmutable,
                .setLoginUIDImmutable, .ignoreErrors, .continueOnErrors,
                .makeEquivalent(mountPoint: "/mnt", subtree: "/home"),
                .trimSubtrees,
            ])
        #expect(file.commands[6].location == RuleLocation(file: "control.rules", line: 7, column: 1))
        #expect(file.commands[7].location == RuleLocation(file: "control.rules", line: 7, column: 11))
    }

    @Test func ruleOperationsMapToAddDeleteAndPrepend() throws {
        let text = """
            -a always,exit -F arch=b64 -S execve -k exec
            -A exit,never -F arch=b64 -S execve
            -d always,exit -F arch=b64 -S execve -k exec
            -w /etc/passwd -p wa -k identity
            -W /etc/passwd -p wa -k identity
            """
        let file = RuleFile(parsing: text, name: "ops.rules", environment: testEnvironment())
        #expect(file.errors.isEmpty, "\(file.errors)")
        try #require(file.commands.count == 5)
        guard case .addRule(let added) = file.commands[0].kind, case .addRule(let prepended) = file.commands[1].kind,
            case .deleteRule(let deleted) = file.commands[2].kind, case .addRule(let watch) = file.commands[3].kind,
            case .deleteRule(let unwatch) = file.commands[4].kind
        else {
            Issue.record("unexpected kinds \(file.commands.map(\.kind))")
            return
        }
        #expect(!added.prepend && prepended.prepend && prepended.action == .never && prepended.list == .exit)
        #expect(deleted == added)
        #expect(try prepended.encoded()[0] == 0x14)
        #expect(unwatch == watch)
        #expect(watch.auditctlListing(host: .x86_64) == "-w /etc/passwd -p wa -k identity")
    }

    @Test func blankAndCommentLinesAreSkippedAndTheLastLineNeedsNoNewline() {
        let text = "\n   \n# comment\n   # indented comment with\ttab\n-a always,exit -F arch=b64 -S open -k last"
        let file = RuleFile(parsing: text, name: "f", environment: testEnvironment())
        #expect(file.errors.isEmpty, "\(file.errors)")
        #expect(file.commands.count == 1)
        #expect(file.commands.first?.location.line == 5)
        #expect(RuleFile(parsing: "", name: "empty", environment: testEnvironment()).commands.isEmpty)
    }

    @Test func escapedSpacesAndQuotedPathsKeepSpacesInOneWord() throws {
        let escaped = try #require(parsedRule(#"-w /srv/my\ dir\ file -p wa -k with\ space"#))
        #expect(escaped.auditctlListing(host: .x86_64) == "-w /srv/my dir file -p wa -k with space")
        let backslash = try #require(parsedRule(#"-a always,exit -F arch=b64 -S open -k back\\slash\x"#))
        #expect(backslash.keys == [#"back\slash\x"#])
        let quoted = try #require(parsedRule(#"-w "/srv/my dir" -p wa -k q"#))
        #expect(quoted.auditctlListing(host: .x86_64) == "-w /srv/my dir -p wa -k q")
        let single = try #require(parsedRule(#"-a always,exit -F path='/srv/a b' -F perm=x"#))
        #expect(single.auditctlListing(host: .x86_64) == "-w /srv/a b -p x")
        // Quotes elsewhere are literal characters, as in auditctl.
        let literal = try #require(parsedRule(#"-a always,exit -F arch=b64 -S open -k "k""#))
        #expect(literal.keys == [#""k""#])
        let unterminated = parseLine(#"-w "/srv/a b -p wa"#)
        #expect(unterminated.errors.first?.message == "unterminated quote")
    }

    /// The configuration's rule, for files edited on Windows: a line may end in CR LF, and a UTF-8
    /// byte-order mark at the start is skipped with one warning that names it (not four errors
    /// about an unknown option "\u{FEFF}-D"); a carriage return inside a line is still an error.
    @Test func windowsLineEndingsAndAByteOrderMarkAreAcceptedAsInTheConfiguration() {
        let text = "-D\n-a always,exit -F arch=b64 -S open -k k\n-w /etc/passwd -p wa\n"
        let unix = RuleFile(parsing: text, name: "unix.rules", environment: testEnvironment())
        let windows = RuleFile(
            parsing: [0xEF, 0xBB, 0xBF] + Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8),
            name: "dos.rules", environment: testEnvironment())
        #expect(windows.errors.isEmpty, "\(windows.errors)")
        #expect(windows.commands.map(\.kind) == unix.commands.map(\.kind))
        #expect(
            windows.warnings.map(\.description) == [
                "dos.rules:1:1: warning: the file starts with a UTF-8 byte-order mark (bytes EF BB BF); it is "
                    + "skipped (save the file as UTF-8 without a BOM to silence this)"
            ])
        let inside = RuleFile(
            parsing: "-a always,exit -F arch=b64 -S open\r-k k\r\n", name: "cr.rules", environment: testEnvironment())
        #expect(inside.errors.first?.message.hasPrefix("carriage return inside a line") == true, "\(inside.errors)")
        #expect(inside.errors.first?.location.column == 35)
        let tab = parseLine("-a always,exit\t-S open")
        #expect(tab.errors.first?.message.hasPrefix("tab character") == true)
    }

    @Test func overlongLinesAreRejected() {
        let line = "-a always,exit -F arch=b64 -S open -F subj_user=" + String(repeating: "u", count: 6200)
        let file = parseLine(line)
        #expect(file.errors.first?.message.contains("longer than auditctl reads") == true)
    }

    @Test func argumentsFormNeedsNoEscaping() throws {
        let file = RuleFile(
            arguments: ["-w", "/srv/a b", "-p", "wa", "-k", "has space"], environment: testEnvironment())
        #expect(file.errors.isEmpty, "\(file.errors)")
        guard case .addRule(let rule) = file.commands.first?.kind else {
            Issue.record("no rule")
            return
        }
        #expect(rule.auditctlListing(host: .x86_64) == "-w /srv/a b -p wa -k has space")
        let bad = RuleFile(arguments: ["-a", "always,exit", "-F", "uidd=0"], environment: testEnvironment())
        #expect(bad.errors.first?.location.column == 19)
    }

    @Test func warningsFlagSuspiciousButValidRules() {
        let file = RuleFile(
            parsing: "-a always,exit -S open -k noarch\n-w /tmp/*.log -p w\n-w /tmp/../etc -p w\n",
            name: "w.rules", environment: testEnvironment())
        #expect(file.errors.isEmpty, "\(file.errors)")
        #expect(file.warnings.map(\.location.line) == [1, 2, 3])
        #expect(file.warnings[0].message.contains("no arch given"))
        #expect(file.warnings[1].message.contains("wildcards"))
        #expect(file.warnings[2].message.contains("relative path"))
    }

    @Test func multipleKeysAreJoinedWithTheSeparatorInOrder() throws {
        let rule = try #require(parsedRule("-a always,exit -F arch=b64 -S open -k one -F key=two -k three"))
        #expect(
            rule.fields.last
                == RuleCondition(field: .filterKey, op: .equal, value: .string(Array("one\u{1}two\u{1}three".utf8))))
        #expect(
            rule.auditctlListing(host: .x86_64)
                == "-a always,exit -F arch=b64 -S open -F key=one -F key=two -F key=three")
    }

    @Test func ruleWithoutSyscallsCoversAllButTaskRulesDoNot() throws {
        let exit = try #require(parsedRule("-a always,exit -F dir=/etc -F perm=wa"))
        #expect(exit.syscalls == .all)
        let user = try #require(parsedRule("-a never,user -F uid=0"))
        #expect(user.syscalls == .all)
        let task = try #require(parsedRule("-a never,task"))
        #expect(task.syscalls.isEmpty)
    }
}

/// The host machine and the account database are parameters of parsing.
@Suite struct RuleEnvironmentTests {
    @Test func b64AndB32FollowTheHost() throws {
        let aarch64 = testEnvironment(machine: .aarch64)
        let file = RuleFile(
            parsing: "-a always,exit -F arch=b64 -S openat -k o\n-a always,exit -F arch=b32 -S open -k o\n",
            name: "arm.rules", environment: aarch64)
        #expect(file.errors.isEmpty, "\(file.errors)")
        let rules = file.commands.compactMap { command -> AuditRule? in
            if case .addRule(let rule) = command.kind { return rule }
            return nil
        }
        try #require(rules.count == 2)
        #expect(rules[0].fields[0] == RuleCondition(field: .arch, op: .equal, value: .number(0xC000_00B7)))
        #expect(rules[0].syscalls.numbers == [56])
        #expect(rules[1].fields[0] == RuleCondition(field: .arch, op: .equal, value: .number(0x4000_0028)))
        #expect(rules[1].syscalls.numbers == [5])
        #expect(rules[0].auditctlListing(host: .aarch64) == "-a always,exit -F arch=b64 -S openat -F key=o")

        let open64 = RuleFile(parsing: "-a always,exit -F arch=b64 -S open", name: "a", environment: aarch64)
        #expect(open64.errors.first?.message.hasPrefix("unknown syscall \"open\" for aarch64") == true)

        let i386 = RuleFile(
            parsing: "-a always,exit -F arch=b64 -S open", name: "a", environment: testEnvironment(machine: .i386))
        #expect(i386.errors.first?.message == "the host (i386) has no 64-bit ABI")
    }

    @Test func syscallsWithoutArchUseTheHostTable() throws {
        let x86 = RuleFile(
            parsing: "-a always,exit -S execve", name: "a", environment: testEnvironment(machine: .x86_64))
        let arm = RuleFile(
            parsing: "-a always,exit -S execve", name: "a", environment: testEnvironment(machine: .aarch64))
        guard case .addRule(let x86Rule) = x86.commands.first?.kind,
            case .addRule(let armRule) = arm.commands.first?.kind
        else {
            Issue.record("no rules: \(x86.errors) \(arm.errors)")
            return
        }
        #expect(x86Rule.syscalls.numbers == [59])
        #expect(armRule.syscalls.numbers == [221])
        #expect(armRule.fields.isEmpty)
    }

    @Test func userAndGroupNamesComeFromTheInjectedDatabase() throws {
        let environment = RuleEnvironment(
            machine: .x86_64, accounts: AccountDatabase(users: ["alice": 1000], groups: ["audit": 990]),
            isDirectory: { _ in false })
        let file = RuleFile(
            parsing: "-a always,exit -F arch=b64 -S open -F auid=alice -F egid=audit -F uid!=root", name: "a",
            environment: environment)
        #expect(file.errors.map(\.message) == ["unknown user \"root\""])
        let good = RuleFile(
            parsing: "-a always,exit -F arch=b64 -S open -F auid=alice -F egid=audit", name: "a",
            environment: environment)
        guard case .addRule(let rule) = good.commands.first?.kind else {
            Issue.record("\(good.errors)")
            return
        }
        #expect(rule.fields[1] == RuleCondition(field: .loginuid, op: .equal, value: .number(1000)))
        #expect(rule.fields[2] == RuleCondition(field: .egid, op: .equal, value: .number(990)))
    }

    @Test func passwdAndGroupFilesParseLikeTheFilesNssModule() {
        let passwd = Array(
            "root:x:0:0:root:/root:/bin/bash\n#comment:x:5:5\nbad line\nalice:x:1000:1000::/home/alice:/bin/sh\nalice:x:2000:1\nneg:x:-1:0\n"
                .utf8)
        #expect(AccountDatabase.parseColonFile(passwd) == ["root": 0, "alice": 1000])
        let group = Array("root:x:0:\nadm:x:4:syslog,alice\n".utf8)
        #expect(AccountDatabase.parseColonFile(group) == ["root": 0, "adm": 4])
    }

    @Test func watchesOfDirectoriesBecomeDirRules() throws {
        let file = RuleFile(
            parsing: "-w /srv/data/ -p wa\n-w /srv/file -p wa\n", name: "a",
            environment: testEnvironment(directories: ["/srv/data"]))
        let fields = file.commands.compactMap { command -> RuleField? in
            if case .addRule(let rule) = command.kind { return rule.fields.first?.field }
            return nil
        }
        #expect(fields == [.directory, .watch])
    }

    @Test func theSystemEnvironmentKnowsThisHost() throws {
        let environment = try #require(RuleEnvironment.system(), "this host's machine has no syscall table")
        #expect(environment.accounts.users["root"] == 0)
        #expect(environment.isDirectory("/"))
        #expect(!environment.isDirectory("/etc/passwd"))
        #expect(RuleEnvironment.hostMachine() == environment.machine)
    }

    @Test func syscallTablesHoldTheKnownNumbers() {
        #expect(AuditMachine.x86_64.syscalls.number(of: "execve") == 59)
        #expect(AuditMachine.i386.syscalls.number(of: "execve") == 11)
        #expect(AuditMachine.aarch64.syscalls.number(of: "execve") == 221)
        #expect(AuditMachine.arm.syscalls.number(of: "execve") == 11)
        #expect(AuditMachine.ppc64le.syscalls.number(of: "execve") == 11)
        #expect(AuditMachine.s390x.syscalls.number(of: "execve") == 11)
        #expect(AuditMachine.x86_64.syscalls.name(of: 257) == "openat")
        #expect(AuditMachine.x86_64.syscalls.number(of: "OPENAT") == 257)
        #expect(AuditMachine.x86_64.syscalls.entries.count > 350)
        #expect(AuditMachine.aarch64.syscalls.number(of: "open") == nil)
        #expect(AuditMachine(name: "i686") == .i386)
        #expect(AuditMachine(name: "armv7l") == .arm)
        #expect(AuditMachine(elf: 0xC000_003E) == .x86_64)
        #expect(AuditMachine(name: "arm64") == nil)
    }
}
