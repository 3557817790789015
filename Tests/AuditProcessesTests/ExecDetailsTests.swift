import AuditEvents
import AuditNetlink
import AuditProcesses
import AuditSystem
import AuditTestSupport
import Foundation
import Testing

/// The optional exec details: SHA-256 of the executable, environment variables, scripts.
@Suite struct ExecDetailsTests {
    func hexDigest(_ bytes: [UInt8]?) -> String? {
        bytes.map { $0.map { String(format: "%02x", $0) }.joined() }
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(
            hexDigest(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            hexDigest(SHA256.hash(b("abc"))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            hexDigest(SHA256.hash(b("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(
            hexDigest(million.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256GivesTheSameDigestWhateverTheChunking() {
        var generator = SplitMix64(seed: 19)
        let data = (0..<5000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let whole = SHA256.hash(data)
        for size in [1, 3, 63, 64, 65, 1000] {
            var hasher = SHA256()
            var offset = 0
            while offset < data.count {
                hasher.update(Array(data[offset..<min(data.count, offset + size)]))
                offset += size
            }
            #expect(hasher.finish() == whole, "chunks of \(size)")
        }
    }

    @Test func hashingAnExecutableAgreesWithSha256sumAndIsCached() throws {
        let sum = try runProcess("/usr/bin/sha256sum", ["/usr/bin/true"])
        let expected = String(sum.standardOutput.prefix(64))
        var configuration = ProcessTable.Configuration()
        configuration.hashExecutables = true
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        table.update(with: events.exec(pid: 4000, ppid: 1, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        table.update(with: events.exec(pid: 4001, ppid: 1, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        #expect(hexDigest(table.process(4000)?.executableSHA256) == expected)
        #expect(hexDigest(table.process(4001)?.executableSHA256) == expected)
        #expect(table.statistics.hashesComputed == 1)
        #expect(table.statistics.hashCacheHits == 1)
    }

    @Test func anExecutableOverTheSizeLimitIsNotHashed() {
        var configuration = ProcessTable.Configuration()
        configuration.hashExecutables = true
        configuration.hashSizeLimit = 100
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        table.update(with: events.exec(pid: 4002, ppid: 1, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        #expect(table.process(4002)?.executableSHA256 == nil)
        #expect(table.statistics.hashFailures == 1)
    }

    @Test func hashingIsOffByDefault() {
        var table = ProcessTable()
        var events = EventFactory()
        table.update(with: events.exec(pid: 4003, ppid: 1, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        #expect(table.process(4003)?.executableSHA256 == nil)
        #expect(table.process(4003)?.environment == nil)
        #expect(table.process(4003)?.script == nil)
    }

    /// Hashing throughput of the hand-written SHA-256 (printed; docs/design.md quotes it).
    @Test func sha256ThroughputIsMeasured() {
        let data = [UInt8](repeating: 0x5A, count: 4 << 20)
        let start = SystemClock.monotonicNanoseconds()
        let digest = SHA256.hash(data)
        let seconds = Double(SystemClock.monotonicNanoseconds() - start) / 1e9
        #expect(digest.count == 32)
        print("SHA-256: 4 MiB in \(String(format: "%.3f", seconds)) s = \(Int(4 / seconds)) MiB/s (this build)")
    }

    @Test func environmentVariablesAreReadFromProcWhileTheProgramRuns() throws {
        // A child that sleeps with LD_PRELOAD set (to nothing harmful: an empty value) in its environment.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["5"]
        child.environment = ["LD_LIBRARY_PATH": "/opt/lib", "OTHER": "x", "LD_PRELOAD": ""]
        try child.run()
        defer {
            child.terminate()
            child.waitUntilExit()
        }
        // Wait until the exec is complete: the exe link changes before the kernel sets up the new
        // stack, so wait for the new environment itself (an audit event comes after both).
        let pid = child.processIdentifier
        for _ in 0..<1000 {
            let environ = (try? SystemFile.readPrefix(path: "/proc/\(pid)/environ", limit: 4096).bytes) ?? []
            if environ.split(separator: 0).contains(where: { $0.elementsEqual(b("OTHER=x")) }) { break }
            usleep(10_000)
        }
        let exe = text(try SystemFile.readLink(path: "/proc/\(pid)/exe")) ?? "/bin/sleep"
        try #require(exe.hasSuffix("/sleep"), "the child did not exec within 10 s")
        var configuration = ProcessTable.Configuration()
        configuration.captureEnvironment = true
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        table.update(with: events.exec(pid: pid, ppid: getpid(), exe: exe, comm: "sleep", argv: ["/bin/sleep", "5"]))
        let environment = try #require(table.process(pid)?.environment)
        let byName = environment.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        #expect(byName.map { text($0.name) } == ["LD_LIBRARY_PATH", "LD_PRELOAD"], "OTHER is not selected")
        #expect(byName.first?.value == b("/opt/lib"))
        #expect(byName.last?.value == [])
        #expect(table.statistics.environmentReads == 1)

        // Another program at that pid by now (the event says /usr/bin/env): nothing is taken.
        table.update(with: events.exec(pid: pid, ppid: getpid(), exe: "/usr/bin/env", comm: "env", argv: ["env"]))
        #expect(table.process(pid)?.environment == nil)
        #expect(table.statistics.environmentMisses == 1)
    }

    @Test func anInterpretersFirstArgumentThatIsAFileIsTheScript() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let script = try directory.write("job.py", "print(1)\n")
        var configuration = ProcessTable.Configuration()
        configuration.detectScripts = true
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        table.update(
            with: events.exec(
                pid: 4100, ppid: 1, exe: "/usr/bin/python3.11", comm: "python3", argv: ["python3", "-u", "job.py"],
                cwd: directory.path))
        #expect(text(table.process(4100)?.script) == script)
        // A command string, a missing file, or no interpreter: no script.
        table.update(
            with: events.exec(
                pid: 4101, ppid: 1, exe: "/usr/bin/bash", comm: "bash", argv: ["bash", "-c", "job.py"],
                cwd: directory.path))
        table.update(
            with: events.exec(
                pid: 4102, ppid: 1, exe: "/usr/bin/perl", comm: "perl", argv: ["perl", "missing.pl"],
                cwd: directory.path))
        table.update(
            with: events.exec(
                pid: 4103, ppid: 1, exe: "/usr/bin/cat", comm: "cat", argv: ["cat", script], cwd: directory.path))
        #expect(table.process(4101)?.script == nil)
        #expect(table.process(4102)?.script == nil)
        #expect(table.process(4103)?.script == nil)
        #expect(table.statistics.scripts == 1)
    }

    @Test func aScriptRunByItsShebangIsTheNameTheKernelOpened() {
        // `./deploy.sh` with `#!/bin/sh`: argv is [/bin/sh, ./deploy.sh], PATH item 0 is the script;
        // the file is gone by now, and the PATH record still says the kernel opened it.
        var configuration = ProcessTable.Configuration()
        configuration.detectScripts = true
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        let event = events.next([
            (1300, syscallRecord(X86.execve, pid: 4200, ppid: 1, comm: "deploy.sh", exe: "/usr/bin/dash")),
            (1309, "argc=2 a0=\"/bin/sh\" a1=\"./deploy.sh\""),
            (1307, "cwd=\"/srv/gone-dir\""),
            (1302, "item=0 name=\"./deploy.sh\" inode=1 dev=fe:00 mode=0100755 nametype=NORMAL"),
            (1302, "item=1 name=\"/bin/sh\" inode=2 dev=fe:00 mode=0100755 nametype=NORMAL"),
        ])
        table.update(with: event)
        #expect(text(table.process(4200)?.script) == "/srv/gone-dir/./deploy.sh")
    }
}
