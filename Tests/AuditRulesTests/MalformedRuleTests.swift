import AuditRules
import Testing

/// Malformed rules: each gives one specific error (location, token, message, expectation), and the
/// file yields no command for that line.
@Suite struct MalformedRuleTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var line: String
        var column: Int
        var token: String
        var message: String
        var expected: String?
        var testDescription: String { message }
    }

    static let key257 = String(repeating: "k", count: 257)
    static let key128 = String(repeating: "a", count: 128)

    static let cases: [Case] = [
        Case(
            line: "-a always,exit -F arch=b64 -S open -F uidd=0", column: 39, token: "uidd",
            message: "unknown field \"uidd\"", expected: "one of pid, uid, euid"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F perm!=wa", column: 43, token: "!=",
            message: "perm only takes =", expected: "="),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F inode<5", column: 44, token: "<",
            message: "inode only takes = or !=", expected: "= or !="),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F uid&1", column: 42, token: "&",
            message: "uid does not take the bit operator &", expected: "=, !=, <, >, <= or >="),
        Case(
            line: "-a always,exit -F arch>b64 -S open", column: 23, token: ">", message: "arch only takes = or !=",
            expected: "= or !="),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F msgtype=SYSCALL", column: 39, token: "msgtype",
            message: "msgtype cannot be used on the exit list", expected: "one of the lists exclude, user"),
        Case(
            line: "-a always,user -F path=/etc/passwd", column: 19, token: "path",
            message: "path cannot be used on the user list", expected: "the exit list"),
        Case(
            line: "-a always,exclude -F euid=0", column: 22, token: "euid",
            message: "euid cannot be used on the exclude list", expected: "msgtype, pid, uid, gid, auid"),
        Case(
            line: "-a always,filesystem -F uid=0", column: 25, token: "uid",
            message: "uid cannot be used on the filesystem list", expected: "fstype"),
        Case(
            line: "-a always,exit -F fstype=tracefs", column: 19, token: "fstype",
            message: "fstype cannot be used on the exit list", expected: "the filesystem list"),
        Case(
            line: "-a always,task -F arch=b64 -S open", column: 28, token: "-S",
            message: "the task list takes no syscalls", expected: nil),
        Case(
            line: "-a always,exclude -S open", column: 19, token: "-S", message: "the exclude list takes no syscalls",
            expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S opne", column: 31, token: "opne",
            message: "unknown syscall \"opne\" for x86_64", expected: "a syscall name of x86_64"),
        Case(
            line: "-a always,exit -F arch=b64 -S stime", column: 31, token: "stime",
            message: "unknown syscall \"stime\" for x86_64 (it exists on i386", expected: nil),
        Case(
            line: "-a always,exit -F arch=b32 -S open,kexec_file_load", column: 36, token: "kexec_file_load",
            message: "unknown syscall \"kexec_file_load\" for i386", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S 2048", column: 31, token: "2048",
            message: "syscall number 2048 is out of range", expected: "0 to 2047"),
        Case(
            line: "-a always,exit -S open -F arch=b64", column: 27, token: "arch", message: "arch must come before -S",
            expected: nil),
        Case(
            line: "-a always,exit -F arch=sparc64 -S open", column: 24, token: "sparc64",
            message: "unknown arch \"sparc64\"", expected: "b64, b32"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -k \(key257)", column: 39, token: key257,
            message: "keys of this rule add up to 257 bytes", expected: "at most 256 bytes"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -k \(key128) -k \(key128)", column: 171, token: key128,
            message: "keys of this rule add up to 257 bytes", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F auid=nosuchuser", column: 44, token: "nosuchuser",
            message: "unknown user \"nosuchuser\"", expected: "a user name from /etc/passwd"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F gid=nosuchgroup", column: 43, token: "nosuchgroup",
            message: "unknown group \"nosuchgroup\"", expected: nil),
        Case(
            line: "-w etc/passwd -p wa", column: 4, token: "etc/passwd",
            message: "watch path \"etc/passwd\" is not absolute", expected: "a path starting with /"),
        Case(
            line: "-a always,exit -F path=etc/passwd -F perm=wa", column: 24, token: "etc/passwd",
            message: "path \"etc/passwd\" is not absolute", expected: nil),
        Case(
            line: "-a always,exit -F path=/etc/ -F perm=wa", column: 24, token: "/etc/",
            message: "path \"/etc/\" ends with /", expected: "a file path, or dir= for a directory"),
        Case(
            line: "-w /etc/passwd -p wz", column: 20, token: "wz", message: "permission letter \"z\" is not supported",
            expected: "r, w, x or a"),
        Case(
            line: "-w /etc/passwd -p rwxaa", column: 19, token: "rwxaa", message: "permission \"rwxaa\" is too long",
            expected: nil),
        Case(
            line: "-a allways,exit -S open", column: 4, token: "allways", message: "unknown list or action \"allways\"",
            expected: "list,action"),
        Case(
            line: "-a always,exitt", column: 11, token: "exitt", message: "unknown list or action \"exitt\"",
            expected: nil),
        Case(line: "-a always", column: 4, token: "always", message: "\"always\" is not list,action", expected: nil),
        Case(
            line: "-a possible,exit", column: 4, token: "possible", message: "the action \"possible\" is deprecated",
            expected: "always or never"),
        Case(
            line: "-a always,entry -S open", column: 11, token: "entry", message: "the entry list is deprecated",
            expected: "exit"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F exit=-EFOO", column: 44, token: "-EFOO",
            message: "unknown errno \"-EFOO\"", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F a0=foo", column: 42, token: "foo",
            message: "foo is not a number", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F pid=-1", column: 43, token: "-1",
            message: "value of pid must be a number", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F filetype=pipe", column: 48, token: "pipe",
            message: "unknown file type \"pipe\"", expected: "file, dir, socket"),
        Case(
            line: "-a never,filesystem -F fstype=tmpfs", column: 31, token: "tmpfs",
            message: "unknown file system type \"tmpfs\"", expected: "debugfs, tracefs"),
        Case(
            line: "-a always,exclude -F msgtype=NOPE", column: 30, token: "NOPE",
            message: "unknown message type \"NOPE\"", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F uid", column: 39, token: "uid",
            message: "missing operator in \"uid\"", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F uid=", column: 43, token: "uid=",
            message: "missing value after uid=", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F =0", column: 39, token: "=0",
            message: "missing field name before =", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S execve -C uid=gid", column: 41, token: "uid=gid",
            message: "uid cannot be compared with gid", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S execve -C uid<euid", column: 41, token: "uid<euid",
            message: "\"uid<euid\" is no field comparison", expected: "field=field or field!=field"),
        Case(
            line: "-a always,user -C uid=euid", column: 16, token: "-C",
            message: "-C comparisons can only be used on the exit list", expected: nil),
        Case(
            line: "-a always,exit -k foo", column: 16, token: "-k", message: "-k needs a rule it can key before it",
            expected: nil),
        Case(
            line: "-a always,exit -F uid=0 -F key=foo", column: 1, token: "key",
            message: "a key needs a syscall, watch, exe or fstype in the rule", expected: nil),
        Case(
            line: "-a always,exclude -F exe=/bin/ls -k ls", column: 1, token: "key",
            message: "keys cannot be used on the exclude list", expected: nil),
        Case(
            line: "-F uid=0 -a always,exit", column: 1, token: "-F", message: "-F needs a rule before it",
            expected: "-a list,action"),
        Case(
            line: "-p wa -w /etc/passwd", column: 1, token: "-p",
            message: "-p needs a watch (-w) or a rule (-a) before it", expected: nil),
        Case(
            line: "-S open", column: 1, token: "-S", message: "syscalls (-S) given without a rule",
            expected: "-a list,action"),
        Case(
            line: "-a always,exit -S open -a always,exit", column: 24, token: "-a",
            message: "only one -a, -A, -d, -w or -W per line", expected: nil),
        Case(
            line: "-a always,exit -w /etc/passwd", column: 16, token: "-w", message: "-w cannot be combined with -a",
            expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open foo", column: 36, token: "foo",
            message: "unexpected word \"foo\"", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -k x # note", column: 41, token: "#",
            message: "a comment must start its own line", expected: nil),
        Case(line: "-x", column: 1, token: "-x", message: "unknown option -x", expected: nil),
        Case(line: "--reset", column: 1, token: "--reset", message: "ambiguous option --reset", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -k", column: 36, token: "-k",
            message: "option -k needs an argument", expected: nil),
        Case(line: "-e 3", column: 4, token: "3", message: "enable flag must be 0, 1 or 2", expected: nil),
        Case(line: "-f panic", column: 4, token: "panic", message: "failure mode must be 0, 1 or 2", expected: nil),
        Case(line: "-b -1", column: 4, token: "-1", message: "backlog limit must be a number", expected: nil),
        Case(line: "-r 12abc", column: 4, token: "12abc", message: "rate limit must be a number", expected: nil),
        Case(
            line: "--backlog_wait_time", column: 1, token: "--backlog_wait_time",
            message: "option --backlog_wait_time needs an argument", expected: nil),
        Case(
            line: "-D -a always,exit", column: 1, token: "-D", message: "-D takes no other option than -k key",
            expected: "-D or -D -k key"),
        Case(line: "-i -e 1", column: 1, token: "-i", message: "-i must be the only option on its line", expected: nil),
        Case(line: "-q /mnt", column: 4, token: "/mnt", message: "-q needs mount-point,subtree", expected: nil),
        Case(line: "-s", column: 1, token: "-s", message: "-s (status) is not a rules-file command", expected: nil),
        Case(
            line: "-R /etc/audit/audit.rules", column: 1, token: "-R",
            message: "nested rule files (-R) are not supported", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S execve -F uid=unset", column: 1, token: "uid",
            message: "uid=-1 (unset) is an invalid id for the kernel", expected: nil),
        Case(
            line: "-a always,exit -F dir=/etc -F path=/etc/passwd", column: 1, token: "path",
            message: "only one of path=, dir= and inode=", expected: nil),
        Case(
            line: "-a always,exit -F exe=/bin/a -F exe=/bin/b", column: 1, token: "exe", message: "only one exe=",
            expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F sessionid=abc", column: 49, token: "abc",
            message: "abc is not a session id", expected: "a number or unset"),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F saddr_fam=46", column: 49, token: "46",
            message: "46 is not an address family number", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -F loginuid_set=2", column: 52, token: "2",
            message: "loginuid_set must be 0 or 1", expected: nil),
        Case(
            line: "-w /etc/\(String(repeating: "n", count: 256)) -p wa", column: 4,
            token: "/etc/\(String(repeating: "n", count: 256))",
            message: "last component of the watch path has 256 bytes", expected: nil),
        Case(
            line: "-a always,exit -F arch=b64 -S open -k with\u{1}separator", column: 43, token: "with\u{1}separator",
            message: "control character 0x1", expected: nil),
    ]

    @Test(arguments: cases)
    func malformedRuleGivesItsSpecificError(_ testCase: Case) throws {
        let file = parseLine(testCase.line)
        #expect(file.commands.isEmpty, "nothing may be applied from a bad line: \(file.commands)")
        let error = try #require(file.errors.first, "no error for \(testCase.line)")
        #expect(file.errors.count == 1, "\(file.errors)")
        #expect(error.message.contains(testCase.message), "\(error)")
        #expect(error.location == RuleLocation(file: "test.rules", line: 1, column: testCase.column), "\(error)")
        if !error.message.hasPrefix("control character") {
            #expect(error.token == testCase.token, "\(error)")
        }
        if let expected = testCase.expected {
            #expect(error.expected?.contains(expected) == true, "\(error)")
        }
        #expect(error.description.hasPrefix("test.rules:1:\(testCase.column): "))
    }
}
