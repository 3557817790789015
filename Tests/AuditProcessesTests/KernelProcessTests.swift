import AuditEvents
import AuditNetlink
import AuditProcesses
import AuditRules
import AuditSystem
import AuditTestSupport
import Glibc
import Testing

/// The table fed by the real kernel: this process registers as the audit daemon (under the
/// kernel-test lock, restoring the state it found), loads an exec/fork/exit rule through the
/// project's own rule compiler and client, runs a shell that starts a shell that starts
/// /bin/true, and processes the events only after all three have exited.
@Suite(.serialized, .requires(.kernel)) struct KernelProcessTests {
    static let ruleText =
        "-a always,exit -F arch=b64 -S execve,clone,clone3,fork,vfork,exit_group -F auid>=0 -k swift-audit-procs"

    @Test func aShellStartingAShellStartingTrueGivesTrueItsParentAndGrandparent() throws {
        let environment = try #require(RuleEnvironment.system(), "this machine has no syscall table")
        let file = RuleFile(parsing: Self.ruleText, name: "procs.rules", environment: environment)
        try #require(file.errors.isEmpty, "\(file.errors)")
        guard case .addRule(let rule) = try #require(file.commands.first).kind else {
            Issue.record("the rule line is not a rule")
            return
        }
        let blob = try rule.encoded()
        let marker = "swift-audit-procs-\(UInt32.random(in: 0x1000_0000...0x7fff_ffff))"
        var table = ProcessTable()
        var events: [AuditEvent] = []

        try withKernelAudit { client in
            try client.setEnabled(.enabled)
            // The rule matches every process of the machine: with the default backlog of 64, other
            // work running at the same time (a parallel test run) can make the kernel drop the
            // records this test waits for. withKernelAudit restores the limit.
            try client.setBacklogLimit(8192)
            try client.register()
            try client.addRule(blob)
            defer { try? client.deleteRule(blob) }
            table.seedFromProc()

            let run = try runProcess("/bin/sh", ["-c", "/bin/sh -c \"/bin/true \(marker); exit 0\"; exit 0"])
            #expect(run.status == 0)

            // Read until the exec of /bin/true and its exit_group have come, then a little more.
            var reassembler = Reassembler()
            var sawTrue = false
            var quietUntil: UInt64?
            let deadline = SystemClock.monotonicMilliseconds() + 10_000
            while SystemClock.monotonicMilliseconds() < deadline {
                let now = SystemClock.monotonicMilliseconds()
                if let quietUntil, now >= quietUntil { break }
                if let record = try client.nextRecord(timeoutMilliseconds: 100) {
                    if String(decoding: record.payload, as: UTF8.self).contains(marker) {
                        sawTrue = true
                        quietUntil = now + 500
                    }
                    reassembler.push(type: record.type, payload: record.payload, now: now) { events.append($0) }
                }
                reassembler.tick(now: SystemClock.monotonicMilliseconds()) { events.append($0) }
            }
            reassembler.flushAll { events.append($0) }
            #expect(sawTrue, "the kernel sent the exec of /bin/true")
            try client.unregister()
        }

        // All three processes are gone before any event is processed.
        for event in events { table.update(with: event) }
        let execOfTrue = try #require(
            events.first { event in
                event.records.contains {
                    $0.type == .execve && String(decoding: $0.body, as: UTF8.self).contains(marker)
                }
            })
        let context = try #require(table.context(for: execOfTrue))
        let truePid = try #require(context.process?.pid)
        #expect(access("/proc/\(truePid)", F_OK) != 0, "/bin/true exited before its event was processed")
        #expect(text(context.process?.executable) == "/usr/bin/true")
        #expect(context.process?.arguments == [b("/bin/true"), b(marker)])

        let parent = try #require(context.parent, "the inner shell")
        #expect(parent.arguments == [b("/bin/sh"), b("-c"), b("/bin/true \(marker); exit 0")])
        let grandparent = try #require(context.ancestors.first, "the outer shell")
        #expect(grandparent.arguments?.last == b("/bin/sh -c \"/bin/true \(marker); exit 0\"; exit 0"))
        #expect(parent.ppid == grandparent.pid)
        #expect(grandparent.ppid == getpid(), "the outer shell is this test's child")
        #expect(context.ancestors.dropFirst().first?.pid == getpid(), "and this process, seeded from /proc, is next")
        #expect(context.process?.unit == table.process(getpid())?.unit, "the unit is inherited")
        #expect(!table.isRunning(truePid), "exit_group marked it gone")
        #expect(table.statistics.forks >= 2)
        #expect(table.statistics.execs >= 3)
    }
}
