import AuditEvents
import AuditNetlink
import AuditProcesses
import AuditSystem
import AuditTestSupport
import Testing

/// The table fed the corpus's real capture, and a synthetic fork storm.
@Suite struct CorpusAndStormTests {
    /// Every event of a unicast capture, reassembled as the daemon does.
    static func events(_ name: String) throws -> [AuditEvent] {
        var reader = try CaptureReader(path: Corpus.path("local/\(name)"))
        var reassembler = Reassembler()
        var events: [AuditEvent] = []
        while let frame = try reader.next() {
            let message = try frame.datagram.withUnsafeBytes { try NetlinkMessage.decode($0) }
            frame.datagram.withUnsafeBytes { datagram in
                reassembler.push(
                    type: message.type, payload: UnsafeRawBufferPointer(rebasing: datagram[message.payload]), now: 0
                ) { events.append($0) }
            }
        }
        reassembler.flushAll { events.append($0) }
        return events
    }

    @Test(.requires(.corpus)) func theExecCaptureGivesEachProgramItsArgumentsAndTheBenchShellAsParent() throws {
        var configuration = ProcessTable.Configuration()
        configuration.readProcForUnknown = false  // these pids are another machine's
        var table = ProcessTable(configuration: configuration)
        // The shell that ran the scenario, as /proc would have shown it.
        table.seed(ProcessInfo(pid: 26072, ppid: 26071, executable: b("/usr/bin/bash"), command: b("bash")))
        let events = try Self.events("exec.unicast.bin")
        var contexts: [Int32: ProcessContext] = [:]
        for event in events {
            guard let pid = table.update(with: event) else { continue }
            contexts[pid] = table.context(for: event)
        }
        // `env -i FOO='x y' printf …` then env's exec of printf: the same pid, the second program.
        let printf = try #require(table.process(26076))
        #expect(text(printf.executable) == "/usr/bin/printf")
        #expect(printf.arguments?.first == b("/usr/bin/printf"))
        #expect(printf.arguments?.contains(b("arg with space")) == true)
        #expect(printf.arguments?.contains(b("ünïcödé")) == true)
        #expect(table.context(pid: 26076).parent?.pid == 26072)
        // The 24,000-byte argument in parts, cut to the cap.
        let long = try #require(table.process(26083))
        #expect(long.argumentsTruncated)
        #expect(long.arguments?.reduce(0) { $0 + $1.count } == configuration.maximumArgumentBytes)
        // A pipeline's members are children of its subshell, which the capture never saw fork:
        // learned from their records, with the parent's pid.
        #expect(table.process(26081)?.ppid == 26080)
        // The failed exec left the forked bash as it was.
        #expect(text(table.process(26086)?.executable) == "/usr/bin/bash")
        #expect(table.process(26086)?.arguments == nil)
        #expect(contexts[26087]?.parent?.pid == 26072)
        #expect(contexts[26087]?.ancestors.isEmpty == true)
    }

    /// 200,000 synthetic events (fork, exec, exit of short-lived processes, 66,667 processes at
    /// 5,000 a second of event time, pids wrapping at 32,768) through a table of the default
    /// maximum: it stays at or under the maximum, counts its evictions, and its estimated heap
    /// stays under the bound docs/design.md documents (1 KiB per entry with these arguments).
    @Test func aForkStormStaysWithinTheMaximumAndCountsEvictions() {
        let configuration = ProcessTable.Configuration()
        var table = ProcessTable(configuration: configuration)
        table.seed(ProcessInfo(pid: 300, ppid: 1, executable: b("/usr/bin/bash"), command: b("bash")), now: 1)
        var events = EventFactory()
        var pid: Int32 = 1000
        var processed = 0
        var maximumSeen = 0
        var context = ProcessContext()
        let started = SystemClock.monotonicNanoseconds()
        while processed < 200_000 {
            pid = pid >= 32_767 ? 1000 : pid + 1
            let step: UInt64 = processed % 3 == 0 ? 1 : 0  // 5,000 processes per second of event time
            let fork = events.fork(pid: 300, ppid: 1, child: pid, comm: "bash", exe: "/usr/bin/bash", after: step)
            let exec = events.exec(
                pid: pid, ppid: 300, exe: "/usr/bin/true", comm: "true", argv: ["/usr/bin/true", "--run", "\(pid)"],
                after: 0)
            let exit = events.exit(pid: pid, ppid: 300, comm: "true", exe: "/usr/bin/true", after: 0)
            for event in [fork, exec, exit] {
                if let acting = table.update(with: event) { table.fillContext(pid: acting, into: &context) }
                processed += 1
            }
            maximumSeen = max(maximumSeen, table.count)
        }
        let seconds = Double(SystemClock.monotonicNanoseconds() - started) / 1e9
        let memory = table.estimatedMemoryBytes
        print(
            "fork storm: \(processed) events in \(Int(seconds * 1000)) ms (debug build), entries \(table.count), "
                + "peak \(table.statistics.peakEntries), evicted \(table.statistics.evicted), "
                + "expired \(table.statistics.expired), replaced \(table.statistics.replaced), "
                + "estimated heap \(memory / 1024) KiB")
        #expect(maximumSeen <= configuration.maximumEntries)
        #expect(table.statistics.peakEntries <= configuration.maximumEntries)
        #expect(table.statistics.evicted + table.statistics.expired + table.statistics.replaced > 0)
        #expect(memory < configuration.maximumEntries * 1024, "about 1 KiB per entry at most with these arguments")
        #expect(table.process(300) != nil, "the storm's parent is seen on every fork and is never evicted")
    }

    @Test func gonePidsExpireSoATableUnderSteadyChurnStaysSmall() {
        var configuration = ProcessTable.Configuration()
        configuration.expiryMilliseconds = 1_000
        var table = ProcessTable(configuration: configuration)
        table.seed(ProcessInfo(pid: 300, ppid: 1, executable: b("/usr/bin/bash"), command: b("bash")), now: 1)
        var events = EventFactory()
        for index in 0..<20_000 {
            let pid = Int32(1000 + index % 30_000)
            table.update(with: events.fork(pid: 300, ppid: 1, child: pid, after: 1))
            table.update(
                with: events.exec(pid: pid, ppid: 300, exe: "/bin/true", comm: "true", argv: ["true"], after: 0))
            table.update(with: events.exit(pid: pid, ppid: 300, after: 0))
        }
        // At 1,000 processes a second and a 1 s expiry, about 1,000 to 1,500 are held.
        #expect(table.count < 2_000)
        #expect(table.statistics.evicted == 0)
        #expect(table.statistics.expired > 18_000)
    }
}
