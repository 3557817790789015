import AuditEvents
import AuditNetlink
import AuditProcesses
import AuditSystem
import AuditTestSupport
import Glibc
import Testing

/// Seeding from /proc, and the state file that carries the table across a restart.
@Suite struct SeedingAndStateTests {
    @Test func seedingFromProcFindsThisProcessItsParentAndItsCgroup() {
        var table = ProcessTable()
        let started = SystemClock.monotonicNanoseconds()
        let count = table.seedFromProc()
        let elapsed = SystemClock.monotonicNanoseconds() - started
        print(
            "seeded \(count) processes from /proc in \(elapsed / 1000) µs (\(elapsed / UInt64(max(1, count)) / 1000) µs each)"
        )
        #expect(count > 1)
        let me = getpid()
        let entry = table.process(me)
        #expect(entry?.ppid == getppid())
        #expect(entry?.executable?.isEmpty == false)
        #expect(entry?.arguments?.isEmpty == false)
        #expect(entry?.workingDirectory?.isEmpty == false)
        #expect(table.process(1) != nil)
        let mine = CgroupParser.identity(ofFile: (try? readAll("/proc/self/cgroup")) ?? [])
        #expect(entry?.unit == mine.unit)
        #expect(entry?.containerID == mine.containerID)
        #expect(table.context(pid: me).parent?.pid == getppid())
        #expect(table.statistics.seeded == count)
    }

    @Test func procStatWithParenthesesInTheCommandParses() throws {
        var table = ProcessTable()
        table.seedFromProc()
        // Kernel threads: no exe, parent kthreadd (2).
        if let kthread = table.process(2) {
            #expect(kthread.executable == nil)
            #expect(kthread.arguments == nil)
        }
    }

    func sampleTable() -> ProcessTable {
        var table = ProcessTable()
        table.seed(
            ProcessInfo(
                pid: 10, ppid: 1, executable: b("/usr/sbin/sshd"), command: b("sshd"), arguments: [b("sshd"), b("")],
                workingDirectory: b("/"), containerID: String(repeating: "ab", count: 32), containerRuntime: .docker,
                podUID: "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90", unit: "ssh.service",
                eventID: AuditEventID(seconds: 1_795_345_044, milliseconds: 7, serial: 42),
                executableSHA256: [UInt8](repeating: 7, count: 32),
                environment: [EnvironmentVariable(name: b("LD_PRELOAD"), value: b("/x y.so"))], script: b("/a\nb")),
            now: 1_795_345_044_000)
        table.seed(ProcessInfo(pid: 11, ppid: 10, executable: [0xFF, 0x20, 0x0A], command: b("odd name")))
        var events = EventFactory()
        table.update(with: events.exit(pid: 11, ppid: 10))
        return table
    }

    @Test func theStateFileRoundTripsEveryField() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("processes.state")
        let table = sampleTable()
        try table.saveState(to: path)
        #expect(access(path + ".tmp", F_OK) != 0, "the temporary file was renamed")
        var restored = ProcessTable()
        #expect(try restored.restoreState(from: path) == 2)
        #expect(restored.process(10) == table.process(10))
        #expect(restored.process(11) == table.process(11))
        #expect(!restored.isRunning(11), "an exited entry stays exited")
        #expect(restored.context(pid: 11).parent?.pid == 10)
        #expect(restored.statistics.restored == 2)
    }

    @Test func restoringAfterSeedingKeepsWhatProcShowsAndMarksTheRestGone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("processes.state")
        var before = ProcessTable()
        let me = getpid()
        before.seed(ProcessInfo(pid: me, ppid: 1, executable: b("/stale/path"), command: b("stale")))
        // A pid that cannot be running: above pid_max.
        before.seed(ProcessInfo(pid: 99_999_999, ppid: me, executable: b("/usr/bin/gone"), command: b("gone")))
        try before.saveState(to: path)

        var after = ProcessTable()
        after.seedFromProc()
        try after.restoreState(from: path)
        #expect(text(after.process(me)?.command) != "stale", "/proc is fresher than the file")
        #expect(text(after.process(99_999_999)?.command) == "gone")
        #expect(!after.isRunning(99_999_999), "not in /proc after the restart: gone")
        #expect(after.context(pid: 99_999_999).parent?.pid == me)
    }

    @Test func aCorruptStateFileIsIgnoredWithAClearError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("processes.state")
        try sampleTable().saveState(to: path)
        let good = try readAll(path)

        func expectRejected(_ bytes: [UInt8], _ check: (ProcessStateError) -> Bool, _ comment: Comment) throws {
            try directory.write(String(decoding: bytes, as: UTF8.self), to: "bad.state")
            var table = ProcessTable()
            table.seed(ProcessInfo(pid: 5, ppid: 1))
            do {
                try table.restoreState(from: directory.file("bad.state"))
                Issue.record("accepted: \(comment)")
            } catch {
                #expect(check(error), "\(comment): \(error)")
                #expect(error.description.contains("bad.state"), "the message names the file")
            }
            #expect(table.count == 1, "nothing of a rejected file is applied")
        }
        // Cut short: no trailer.
        try expectRejected(Array(good.dropLast(30)), { $0.kind == .checksum }, "cut")
        // One byte changed inside an entry: the checksum catches it.
        var flipped = good
        let firstEntry = try #require(flipped.firstIndex(of: UInt8(ascii: "P")))
        flipped[firstEntry + 2] = flipped[firstEntry + 2] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        try expectRejected(flipped, { $0.kind == .checksum }, "altered")
        // Not a state file at all.
        try expectRejected(b("hello\n"), { $0.kind == .header }, "foreign")
        // Another boot.
        var text = String(decoding: good, as: UTF8.self)
        let bootLine = try #require(text.split(separator: "\n").dropFirst().first)
        text = text.replacing(String(bootLine), with: "boot 00000000-0000-0000-0000-000000000000")
        try expectRejected(
            b(text),
            {
                if case .otherBoot = $0.kind { return true }
                return false
            }, "other boot")
        // A malformed entry with a valid checksum: the line parser rejects it and says where.
        let malformed = ProcessStateFileFixture.resign(
            String(decoding: good, as: UTF8.self).replacing("P 10 1 ", with: "P 10 one "))
        try expectRejected(
            b(malformed),
            {
                if case .line = $0.kind, ($0.line ?? 0) >= 4 { return true }
                return false
            }, "malformed line")
        // A missing file.
        var table = ProcessTable()
        #expect(throws: ProcessStateError.self) { try table.restoreState(from: directory.file("absent")) }
    }
}

/// Re-signs a state file's text after an edit (the trailer's checksum is FNV-1a 64 of the body),
/// so a test can reach the line parser.
enum ProcessStateFileFixture {
    static func resign(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // after the final newline
        let trailer = lines.removeLast().split(separator: " ")
        let body = lines.joined(separator: "\n") + "\n"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return body + "end \(trailer[1]) \(String(hash, radix: 16))\n"
    }
}
