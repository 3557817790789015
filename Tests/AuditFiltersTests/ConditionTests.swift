import AuditEvents
import AuditFilters
import AuditNetlink
import AuditTestSupport
import Testing

/// go-libaudit's `reassembler/testdata/normal.log` (Apache-2.0): a connect() by a process whose
/// executable path holds a space, so the kernel wrote `exe=` in hex
/// (`/usr/bin/python2.7;58d1ccfb (deleted)`), to 169.254.169.254 port 80.
let connectEvent = event(
    """
    type=SYSCALL msg=audit(1492037289.295:58): arch=c000003e syscall=42 success=no exit=-115 a0=6 a1=7ffed2893080 a2=10 a3=fe items=0 ppid=1 pid=1172 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="google_accounts" exe=2F7573722F62696E2F707974686F6E322E373B3538643163636662202864656C6574656429 subj=system_u:system_r:unconfined_service_t:s0 key=(null)
    type=SOCKADDR msg=audit(1492037289.295:58): saddr=02000050A9FEA9FE0000000000000000
    """)

/// Written for these tests in the kernel's format: a 32-bit execve (i386 number 11) with two
/// keys (`exec` and `interest`, which the kernel joins with 0x01 and so writes in hex), and a
/// connect to [2001:db8::1]:443.
let compatEvent = event(
    """
    type=SYSCALL msg=audit(1700000000.000:7): arch=40000003 syscall=11 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=42 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="su" exe="/usr/bin/su" key=6578656301696E746572657374
    type=SOCKADDR msg=audit(1700000000.000:7): saddr=0A0001BB0000000020010DB800000000000000000000000100000000
    """)

@Suite(.requires(.corpus)) struct ConditionTests {
    // MARK: key

    @Test func aDropRuleOnAKeyRemovesOnlyEventsWithThatKey() throws {
        let events = try corpusEvents("exec")
        let dropped = try matching([(.key, "exec")], in: events)
        #expect(!dropped.isEmpty)
        #expect(dropped.allSatisfy { firstValue("key", in: $0) == "\"exec\"" })
        let kept = events.count - dropped.count
        #expect(kept == events.filter { firstValue("key", in: $0) != "\"exec\"" }.count)
        #expect(kept > 0)
    }

    @Test func theNullKeyMatchesEventsWithoutAKeyAndNoOthers() throws {
        let events = try corpusEvents("exec")
        let dropped = try matching([(.key, "(null)")], in: events)
        #expect(!dropped.isEmpty)
        for event in dropped {
            let key = firstValue("key", in: event)
            #expect(key == nil || key == "(null)", "\(texts(event))")
        }
        #expect(try matching([(.key, "(null)")], in: events.filter { firstValue("key", in: $0) == "\"exec\"" }).isEmpty)
    }

    @Test func aKeyPrefixAndEachOfSeveralKeysInOneValueMatch() throws {
        #expect(try matches([(.key, "interest")], compatEvent))
        #expect(try matches([(.key, "exec")], compatEvent))
        #expect(try matches([(.key, "inter*")], compatEvent))
        #expect(try !matches([(.key, "exe")], compatEvent))
        #expect(try !matches([(.key, "(null)")], compatEvent))
    }

    // MARK: type

    @Test func aTypeConditionMatchesAnyRecordOfTheEventByNameNumberOrRange() throws {
        let events = try corpusEvents("user_mgmt")
        let byName = try matching([(.type, "ADD_GROUP")], in: events)
        #expect(!byName.isEmpty)
        #expect(byName.allSatisfy { $0.records.contains { $0.type == AuditMessageType(1116) } })
        #expect(try matching([(.type, "1116")], in: events).count == byName.count)
        let userSpace = try matching([(.type, "1100-1199")], in: events)
        #expect(userSpace.count >= byName.count)
        #expect(userSpace.allSatisfy { $0.records.contains { (1100...1199).contains($0.type.rawValue) } })
        #expect(try matching([(.type, "PROCTITLE")], in: [connectEvent]).isEmpty)
    }

    // MARK: syscall and arch

    @Test func syscallNamesAreResolvedPerArchitecture() throws {
        let events = try corpusEvents("exec")
        let execs = try matching([(.syscall, "execve")], in: events)
        #expect(!execs.isEmpty)
        #expect(execs.allSatisfy { texts($0).first?.contains("syscall=59 ") == true })
        // execve is 11 on i386 and 59 on x86_64; connect is 42 on x86_64 only.
        #expect(try matches([(.syscall, "execve")], compatEvent))
        #expect(try !matches([(.syscall, "59")], compatEvent))
        #expect(try matches([(.syscall, "11")], compatEvent))
        #expect(try matches([(.syscall, "open,connect")], connectEvent))
        #expect(try !matches([(.syscall, "connect")], compatEvent))
    }

    @Test func archAcceptsMachineNamesBitnessAndHex() throws {
        #expect(try matches([(.arch, "x86_64")], connectEvent))
        #expect(try matches([(.arch, "b64")], connectEvent))
        #expect(try matches([(.arch, "c000003e")], connectEvent))
        #expect(try !matches([(.arch, "b32")], connectEvent))
        #expect(try matches([(.arch, "i386")], compatEvent))
        #expect(try matches([(.arch, "b32"), (.syscall, "execve")], compatEvent))
    }

    // MARK: success

    @Test func successReadsTheSyscallResultOrElseAUserSpaceRes() throws {
        let events = try corpusEvents("exec")
        let failed = try matching([(.success, "no")], in: events)
        #expect(failed.count == events.filter { texts($0).first?.contains(" success=no ") == true }.count)
        #expect(failed.count > 0)
        #expect(try matches([(.success, "no")], connectEvent))
        let user = try corpusEvents("user_mgmt").filter { $0.records.first?.type == AuditMessageType(1116) }
        #expect(!user.isEmpty)
        #expect(try matching([(.success, "yes")], in: user).count == user.count)
    }

    // MARK: ids

    @Test func uidAuidAndEuidCompareNumbersNamesAndUnset() throws {
        #expect(try matches([(.auid, "unset")], connectEvent))
        #expect(try matches([(.auid, "4294967295")], connectEvent))
        #expect(try matches([(.uid, "alice")], compatEvent, users: ["alice": 1000]))
        #expect(try matches([(.euid, "0")], compatEvent))
        #expect(try !matches([(.uid, "0")], compatEvent))
        #expect(try matches([(.uid, "0,1000"), (.auid, "1000")], compatEvent))
    }

    @Test func aUidInsideAUserSpaceMessageIsNotTheSendersUid() throws {
        let forged = event(
            """
            type=USER_AUTH msg=audit(1700000000.000:9): pid=7 uid=1000 auid=1000 ses=1 msg='op=PAM:authentication uid=0 exe="/usr/bin/login" res=failed'
            """)
        #expect(try !matches([(.uid, "0")], forged))
        #expect(try matches([(.uid, "1000")], forged))
        // exe and res exist only inside the message of a user-space record: they are used.
        #expect(try matches([(.exe, "/usr/bin/login")], forged))
        #expect(try matches([(.success, "no")], forged))
    }

    // MARK: exe and comm

    @Test func exeAndCommMatchExactlyOrByPrefixAfterHexDecoding() throws {
        #expect(try matches([(.exe, "/usr/bin/python2.7;58d1ccfb (deleted)")], connectEvent))
        #expect(try matches([(.exe, "/usr/bin/python*")], connectEvent))
        #expect(try !matches([(.exe, "/usr/bin/python2.7")], connectEvent))
        #expect(try matches([(.comm, "google_accounts")], connectEvent))
        #expect(try !matches([(.comm, "google")], connectEvent))
        #expect(try matches([(.comm, "google*")], connectEvent))
        let events = try corpusEvents("exec")
        let dash = try matching([(.exe, "/usr/bin/dash")], in: events)
        #expect(!dash.isEmpty)
        #expect(dash.allSatisfy { firstValue("exe", in: $0) == "\"/usr/bin/dash\"" })
        let tools = try matching([(.exe, "/usr/sbin/*")], in: events)
        #expect(tools.allSatisfy { firstValue("exe", in: $0)?.hasPrefix("\"/usr/sbin/") == true })
        #expect(!tools.isEmpty)
    }

    // MARK: saddr

    @Test func saddrMatchesNetworksAndPortsOfInetAndInet6Addresses() throws {
        #expect(try matches([(.saddr, "169.254.0.0/16")], connectEvent))
        #expect(try matches([(.saddr, "169.254.169.254")], connectEvent))
        #expect(try matches([(.saddr, ":80")], connectEvent))
        #expect(try matches([(.saddr, "169.254.0.0/16:80")], connectEvent))
        #expect(try !matches([(.saddr, "169.254.0.0/16:443")], connectEvent))
        #expect(try !matches([(.saddr, "10.0.0.0/8")], connectEvent))
        #expect(try matches([(.saddr, "2001:db8::/32")], compatEvent))
        #expect(try matches([(.saddr, "[2001:db8::1]:443")], compatEvent))
        #expect(try !matches([(.saddr, "[2001:db8::1]:80")], compatEvent))
        #expect(try !matches([(.saddr, "169.254.0.0/16")], compatEvent))
        #expect(try matches([(.saddr, "10.0.0.0/8,:443")], compatEvent))
        // A netlink socket address (family 16) of the local captures is neither inet nor inet6.
        let netlink = try corpusEvents("exec").filter { $0.records.contains { $0.type == .sockaddr } }
        #expect(!netlink.isEmpty)
        #expect(try matching([(.saddr, ":0")], in: netlink).isEmpty)
    }

    // MARK: regex

    @Test func aRegularExpressionMatchesRecordTextOnlyInTheRulesRecordTypes() throws {
        let events = try corpusEvents("exec")
        let python = try matching([(.regex, "comm=\"python[0-9]\"")], in: events)
        #expect(!python.isEmpty)
        #expect(python.allSatisfy { texts($0).contains { $0.contains("comm=\"python3\"") } })
        // With a type condition the expression is tried on those records only: CWD records hold
        // cwd=, SYSCALL records do not.
        #expect(try !matching([(.regex, "^cwd=")], in: events).isEmpty)
        #expect(try matching([(.type, "SYSCALL"), (.regex, "^cwd=")], in: events).isEmpty)
        #expect(try matches([(.regex, "^saddr=0200")], connectEvent))
    }

    // MARK: values refused

    /// The repetition budget leaves every ordinary expression alone.
    @Test(arguments: [
        "^saddr=0200", "comm=\"(ssh|sshd)\"", "exe=\"/tmp/[^\"]*\"", "[[:digit:]]{1,5}", "(ab|cd)+x{2,8}",
        "a\\{1,99999\\}", "[]{}]{3}", String(repeating: "a{1,255}", count: 39),
    ])
    func everydayExpressionsAreWithinTheRepetitionBudget(pattern: String) throws {
        #expect(try FilterCondition.parse(.regex, pattern).text == pattern)
    }

    @Test(arguments: [
        (FilterField.syscall, "exceve", "unknown syscall \"exceve\""),
        (.saddr, "10.0.0.0/33", "is not an address pattern"),
        (.saddr, "10.1.0.0/8", "has host bits set"),
        (.saddr, "[10.0.0.1]:22", "is not an address pattern"),
        (.regex, "comm=(", "not a POSIX extended regular expression"),
        // Expressions glibc's regcomp would expand to gigabytes (found by fuzzing).
        (.regex, "a{1,16000}", "a repetition count of 16000 is above 255"),
        (.regex, "a++++++++++++++++++++", "a part would be copied more than 1000 times"),
        (.regex, "(((a{1,200}){1,200}){1,200})", "a part would be copied more than 1000 times"),
        (.regex, String(repeating: "[a-z]{1,255}", count: 40), "too large once its repetitions are expanded"),
        (.type, "SYSCAL", "is not a record type"),
        (.type, "1399-1300", "is empty"),
        (.arch, "sparc", "unknown architecture"),
        (.uid, "nobody-here", "unknown user"),
        (.success, "maybe", "expected yes or no"),
        (.comm, "a,,b", "without empty items"),
        (.all, "no", "expected yes"),
    ])
    func aBadValueIsRefusedWithAReason(field: FilterField, text: String, reason: String) {
        do {
            _ = try FilterCondition.parse(field, text)
            Issue.record("\(field.rawValue) = \(text) was accepted")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}
