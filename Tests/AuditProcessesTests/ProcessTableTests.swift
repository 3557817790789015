import AuditEvents
import AuditNetlink
import AuditProcesses
import Glibc
import Testing

/// The table driven by synthetic events shaped like the kernel's.
@Suite struct ProcessTableTests {
    /// A login shell (pid 100, child of sshd 90) as /proc would have shown it at start.
    func seededTable(_ configuration: ProcessTable.Configuration = .init()) -> ProcessTable {
        var table = ProcessTable(configuration: configuration)
        table.seed(
            ProcessInfo(pid: 90, ppid: 1, executable: b("/usr/sbin/sshd"), command: b("sshd"), unit: "ssh.service"),
            now: 1_795_345_044_000)
        table.seed(
            ProcessInfo(
                pid: 100, ppid: 90, executable: b("/usr/bin/bash"), command: b("bash"), arguments: [b("-bash")],
                unit: "session-3.scope"))
        return table
    }

    @Test func aForkThenExecChainGivesParentAndGrandparent() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.fork(pid: 100, ppid: 90, child: 200, comm: "bash", exe: "/usr/bin/bash"))
        table.update(
            with: events.exec(pid: 200, ppid: 100, exe: "/usr/bin/dash", comm: "sh", argv: ["sh", "-c", "curl x; :"]))
        table.update(with: events.fork(pid: 200, ppid: 100, child: 201))
        let exec = events.exec(pid: 201, ppid: 200, exe: "/usr/bin/curl", comm: "curl", argv: ["curl", "x"])
        #expect(table.update(with: exec) == 201)

        let context = table.context(for: exec)
        #expect(text(context?.process?.executable) == "/usr/bin/curl")
        #expect(context?.process?.arguments == [b("curl"), b("x")])
        #expect(text(context?.process?.workingDirectory) == "/home/alice")
        #expect(context?.process?.eventID == exec.id)
        #expect(context?.parent?.pid == 200)
        #expect(text(context?.parent?.executable) == "/usr/bin/dash")
        #expect(context?.parent?.arguments == [b("sh"), b("-c"), b("curl x; :")], "hex-encoded argument decoded")
        #expect(context?.ancestors.map(\.pid) == [100, 90, 1].filter { $0 != 1 })
        #expect(context?.process?.unit == "session-3.scope", "inherited through fork and exec")
        #expect(table.statistics.forks == 2)
        #expect(table.statistics.execs == 2)
    }

    @Test func aForkChildInheritsItsParentsEntryUntilItExecs() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.fork(X86.fork, pid: 100, ppid: 90, child: 300, comm: "bash", exe: "/usr/bin/bash"))
        let child = table.process(300)
        #expect(child?.ppid == 100)
        #expect(text(child?.executable) == "/usr/bin/bash")
        #expect(child?.arguments == [b("-bash")])
        #expect(child?.unit == "session-3.scope")
        #expect(table.context(pid: 300).parent?.pid == 100)
    }

    @Test func vforkAndClone3ChildrenAreProcessesButACloneWithCloneThreadIsNot() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.fork(X86.vfork, pid: 100, ppid: 90, child: 301, flags: "0"))
        table.update(with: events.fork(X86.clone3, pid: 100, ppid: 90, child: 302, flags: "7ffd2a0c1e40"))
        // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|…
        table.update(with: events.fork(X86.clone, pid: 100, ppid: 90, child: 303, flags: "3d0f00"))
        #expect(table.process(301)?.ppid == 100)
        #expect(table.process(302)?.ppid == 100)
        #expect(table.process(303) == nil, "a thread is not a process")
    }

    @Test func cloneWithCloneParentMakesASiblingOfTheCaller() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.fork(X86.clone, pid: 100, ppid: 90, child: 304, flags: "8011"))
        #expect(table.process(304)?.ppid == 90)
    }

    @Test func aFailedForkOrExecChangesNothing() {
        var table = seededTable()
        var events = EventFactory()
        table.update(
            with: events.next([
                (
                    1300,
                    syscallRecord(
                        X86.clone, pid: 100, ppid: 90, success: false, exit: -11, comm: "bash", exe: "/usr/bin/bash")
                )
            ]))
        #expect(table.count == 2)
        table.update(
            with: events.next([
                (
                    1300,
                    syscallRecord(
                        X86.execve, pid: 100, ppid: 90, success: false, exit: -2, comm: "bash", exe: "/usr/bin/bash")
                ),
                (1307, "cwd=\"/\""),
                (1302, "item=0 name=\"/bin/does-not-exist\" nametype=UNKNOWN"),
            ]))
        #expect(table.process(100)?.arguments == [b("-bash")])
        #expect(text(table.process(100)?.executable) == "/usr/bin/bash")
    }

    @Test func aProcessThatExitedBeforeItsEventWasProcessedStillGetsItsParent() {
        // The table never saw pid 400 fork: its exec is the first thing that names it, /proc no
        // longer has it, and its parent is known.
        var configuration = ProcessTable.Configuration()
        configuration.readProcForUnknown = false
        var table = seededTable(configuration)
        var events = EventFactory()
        let exec = events.exec(pid: 400, ppid: 100, exe: "/usr/bin/true", comm: "true", argv: ["true"])
        // Before the table learns it, the event's own record and the table give the context.
        let early = table.context(for: exec)
        #expect(early?.process?.pid == 400)
        #expect(text(early?.process?.executable) == "/usr/bin/true")
        #expect(early?.parent?.pid == 100)
        #expect(early?.ancestors.first?.pid == 90)
        #expect(early?.process?.unit == "session-3.scope", "container and unit come from the parent")
        table.update(with: exec)
        table.update(with: events.exit(pid: 400, ppid: 100, comm: "true", exe: "/usr/bin/true"))
        let late = table.context(pid: 400)
        #expect(late.parent?.pid == 100)
        #expect(late.process?.unit == "session-3.scope")
        #expect(table.statistics.learned == 1)
    }

    @Test func aSyscallOfAnUnknownPidIsLearnedFromItsRecord() {
        var configuration = ProcessTable.Configuration()
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        let event = events.next([(1300, syscallRecord(X86.read, pid: 555, ppid: 554, comm: "cat", exe: "/usr/bin/cat"))]
        )
        #expect(table.update(with: event) == 555)
        #expect(table.process(555)?.ppid == 554)
        #expect(text(table.process(555)?.command) == "cat")
        #expect(table.process(555)?.arguments == nil)
    }

    @Test func hexEncodedCommAndExeAreDecoded() {
        var table = ProcessTable()
        var events = EventFactory()
        let body =
            "arch=c000003e syscall=0 success=yes exit=0 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=600 auid=0 uid=0 "
            + "comm=\(hex("my prog")) exe=\(hex("/opt/my dir/prog")) key=(null)"
        table.update(with: events.next([(1300, body)]))
        #expect(text(table.process(600)?.command) == "my prog")
        #expect(text(table.process(600)?.executable) == "/opt/my dir/prog")
    }

    @Test func argumentsSplitAcrossRecordsAreJoinedAndCutToTheCap() {
        var configuration = ProcessTable.Configuration()
        configuration.maximumArgumentBytes = 100
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        let long = String(repeating: "A", count: 300)
        let hexLong = hex(long)
        let event = events.next([
            (1300, syscallRecord(X86.execve, pid: 700, ppid: 1, comm: "true", exe: "/bin/true")),
            (1309, "argc=3 a0=\"/bin/true\" a1_len=300 a1[0]=\(hexLong.prefix(200))"),
            (1309, " a1[1]=\(hexLong.dropFirst(200).prefix(200))"),
            (1309, " a1[2]=\(hexLong.dropFirst(400)) a2=\"last\""),
        ])
        table.update(with: event)
        let arguments = table.process(700)?.arguments
        #expect(arguments?.count == 2)
        #expect(arguments?.first == b("/bin/true"))
        #expect(arguments?.last == Array(repeating: UInt8(ascii: "A"), count: 100 - 9))
        #expect(table.process(700)?.argumentsTruncated == true)

        var roomy = ProcessTable()
        roomy.update(with: event)
        #expect(roomy.process(700)?.arguments == [b("/bin/true"), b(long), b("last")])
        #expect(roomy.process(700)?.argumentsTruncated == false)
    }

    @Test func anExecEventThatPrecedesTheParentsCloneEventIsKept() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.exec(pid: 800, ppid: 100, exe: "/usr/bin/id", comm: "id", argv: ["id"]))
        table.update(with: events.fork(pid: 100, ppid: 90, child: 800, comm: "bash", exe: "/usr/bin/bash"))
        #expect(text(table.process(800)?.executable) == "/usr/bin/id", "the clone must not overwrite the child's exec")
        #expect(table.context(pid: 800).parent?.pid == 100)
    }

    /// The kernel numbers a clone's event when the clone returns: a short program's exec and exit
    /// can both come first (seen in KernelProcessTests under load).
    @Test func aChildThatExecedAndExitedBeforeTheParentsCloneEventKeepsItsProgram() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.exec(pid: 800, ppid: 100, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        table.update(with: events.exit(pid: 800, ppid: 100, comm: "true", exe: "/usr/bin/true"))
        table.update(with: events.fork(pid: 100, ppid: 90, child: 800, comm: "bash", exe: "/usr/bin/bash"))
        #expect(text(table.process(800)?.executable) == "/usr/bin/true")
        #expect(table.process(800)?.arguments == [b("true")])
        #expect(!table.isRunning(800))
    }

    @Test func aCloneLongAfterAnEarlierChildUnderTheSamePidExitedIsANewProcess() {
        var table = seededTable()
        var events = EventFactory()
        table.update(with: events.exec(pid: 800, ppid: 100, exe: "/usr/bin/true", comm: "true", argv: ["true"]))
        table.update(with: events.exit(pid: 800, ppid: 100, comm: "true", exe: "/usr/bin/true"))
        table.update(with: events.fork(pid: 100, ppid: 90, child: 800, comm: "bash", exe: "/usr/bin/bash", after: 5000))
        #expect(text(table.process(800)?.executable) == "/usr/bin/bash", "the parent's copy until its own exec")
        #expect(table.isRunning(800))
    }

    @Test func aGoneEntryExpiresAfterTheGracePeriodOnceNoChildNamesIt() {
        var configuration = ProcessTable.Configuration()
        configuration.expiryMilliseconds = 10_000
        var table = seededTable(configuration)
        var events = EventFactory()
        table.update(with: events.fork(pid: 100, ppid: 90, child: 200))
        table.update(with: events.exec(pid: 200, ppid: 100, exe: "/usr/bin/make", comm: "make", argv: ["make"]))
        table.update(with: events.fork(pid: 200, ppid: 100, child: 201, comm: "make", exe: "/usr/bin/make"))
        table.update(with: events.exec(pid: 201, ppid: 200, exe: "/usr/bin/cc", comm: "cc", argv: ["cc"]))
        table.update(with: events.exit(pid: 200, ppid: 100, comm: "make", exe: "/usr/bin/make"))
        table.advance(to: events.time + 60_000)
        #expect(table.process(200) != nil, "its child 201 still runs and names it as parent")
        #expect(table.context(pid: 201).parent?.pid == 200)

        table.update(with: events.exit(pid: 201, ppid: 200, comm: "cc", exe: "/usr/bin/cc", after: 60_000))
        table.advance(to: events.time + 5_000)
        #expect(table.process(201) != nil, "within the grace period")
        table.advance(to: events.time + 10_001)
        #expect(table.process(201) == nil)
        table.advance(to: events.time + 12_000)
        table.advance(to: events.time + 30_000)
        #expect(table.process(200) == nil, "its last child went, so it expires too")
        #expect(table.process(100) != nil)
        #expect(table.statistics.expired == 2)
    }

    @Test func aForkChildNeverSeenInAnEventOfItsOwnExpiresLikeAGoneOne() {
        var configuration = ProcessTable.Configuration()
        configuration.expiryMilliseconds = 1_000
        var table = seededTable(configuration)
        var events = EventFactory()
        table.update(with: events.fork(X86.clone3, pid: 100, ppid: 90, child: 900, flags: "7ffd2a0c1e40"))
        #expect(table.isRunning(900))
        table.advance(to: events.time + 5_000)
        #expect(table.process(900) == nil)
        // One seen in an event of its own stays.
        table.update(with: events.fork(X86.clone3, pid: 100, ppid: 90, child: 901, flags: "7ffd2a0c1e40", after: 6_000))
        table.update(with: events.next([(1300, syscallRecord(X86.read, pid: 901, ppid: 100))]))
        table.advance(to: events.time + 5_000)
        #expect(table.process(901) != nil)
    }

    @Test func aThreadsExitThatMarkedTheProcessGoneIsUndoneByItsNextEvent() {
        var configuration = ProcessTable.Configuration()
        configuration.expiryMilliseconds = 1_000
        var table = seededTable(configuration)
        var events = EventFactory()
        table.update(
            with: events.next([(1300, syscallRecord(X86.exit, pid: 100, ppid: 90, comm: "bash", exe: "/usr/bin/bash"))])
        )
        #expect(!table.isRunning(100))
        table.update(
            with: events.next([(1300, syscallRecord(X86.read, pid: 100, ppid: 90, comm: "bash", exe: "/usr/bin/bash"))])
        )
        #expect(table.isRunning(100))
        table.advance(to: events.time + 10_000)
        #expect(table.process(100)?.arguments == [b("-bash")], "still the same entry")
    }

    @Test func aReusedPidWithAnotherParentAndProgramReplacesTheStaleEntry() {
        var configuration = ProcessTable.Configuration()
        configuration.readProcForUnknown = false
        var table = seededTable(configuration)
        table.seed(ProcessInfo(pid: 1000, ppid: 1, executable: b("/usr/sbin/cron"), command: b("cron")))
        var events = EventFactory()
        table.update(with: events.fork(pid: 100, ppid: 90, child: 500))
        // 500 exited unseen; its pid now belongs to a child of cron running another program.
        table.update(
            with: events.next([
                (1300, syscallRecord(X86.read, pid: 500, ppid: 1000, comm: "backup", exe: "/usr/local/bin/backup"))
            ]))
        #expect(table.process(500)?.ppid == 1000)
        #expect(text(table.process(500)?.executable) == "/usr/local/bin/backup")
        #expect(table.context(pid: 500).parent?.pid == 1000)
        #expect(table.statistics.replaced == 1)
    }

    @Test func ancestorsStopAtTheConfiguredDepthAndAtALoop() {
        var configuration = ProcessTable.Configuration()
        configuration.maximumAncestors = 3
        var table = ProcessTable(configuration: configuration)
        for pid in Int32(2)...20 { table.seed(ProcessInfo(pid: pid, ppid: pid - 1, command: b("p\(pid)"))) }
        let context = table.context(pid: 20)
        #expect(context.parent?.pid == 19)
        #expect(context.ancestors.map(\.pid) == [18, 17, 16])

        var loop = ProcessTable()
        loop.seed(ProcessInfo(pid: 30, ppid: 31))
        loop.seed(ProcessInfo(pid: 31, ppid: 30))
        #expect(loop.context(pid: 30).parent?.pid == 31)
        #expect(loop.context(pid: 30).ancestors.isEmpty)
    }

    @Test func fillContextReusesTheAncestorStorage() {
        var table = seededTable()
        table.seed(ProcessInfo(pid: 150, ppid: 100))
        var context = ProcessContext()
        table.fillContext(pid: 150, into: &context)
        #expect(context.ancestors.map(\.pid) == [90])
        table.fillContext(pid: 9999, into: &context)
        #expect(context == ProcessContext())
    }

    @Test func aFullTableEvictsGoneEntriesFirstThenTheLeastRecentlySeen() {
        var configuration = ProcessTable.Configuration()
        configuration.maximumEntries = 64
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var events = EventFactory()
        for pid in Int32(1000)..<1064 {
            table.update(with: events.next([(1300, syscallRecord(X86.read, pid: pid, ppid: 1))]))
        }
        // 1010 goes; 1000 is seen again (most recent).
        table.update(with: events.exit(pid: 1010, ppid: 1))
        table.update(with: events.next([(1300, syscallRecord(X86.read, pid: 1000, ppid: 1))]))
        #expect(table.count == 64)
        table.update(with: events.next([(1300, syscallRecord(X86.read, pid: 2000, ppid: 1))]))
        #expect(table.count <= 64)
        #expect(table.process(1010) == nil, "the gone entry went first")
        #expect(table.process(1001) == nil, "then the least recently seen")
        #expect(table.process(1000) != nil, "seen again lately")
        #expect(table.process(2000) != nil)
        #expect(table.statistics.evicted == 2, "a batch of 64/32")
    }

    @Test func reconfiguringKeepsEveryEntryAndShrinksToANewMaximum() {
        var table = seededTable()
        for pid in Int32(200)..<300 { table.seed(ProcessInfo(pid: pid, ppid: 100)) }
        var configuration = table.configuration
        configuration.maximumAncestors = 1
        table.reconfigure(configuration)
        #expect(table.count == 102)
        #expect(table.process(100)?.arguments == [b("-bash")])
        configuration.maximumEntries = 50
        table.reconfigure(configuration)
        #expect(table.count <= 50)
        #expect(table.statistics.evicted >= 52)
    }

    @Test func eventsWithoutASyscallRecordChangeNothing() {
        var table = seededTable()
        var events = EventFactory()
        let login = events.next([
            (1112, "pid=100 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" res=success'")
        ])
        #expect(table.update(with: login) == nil)
        #expect(table.count == 2)
        #expect(table.context(for: login)?.process?.pid == 100, "the context still follows the record's pid=")
    }

    @Test func otherArchitecturesUseTheirOwnSyscallNumbers() {
        var table = seededTable()
        var events = EventFactory()
        // i386: execve is 11, clone 120; on x86_64 11 is munmap and 120 getresgid.
        table.update(
            with: events.next([
                (1300, syscallRecord(120, pid: 100, ppid: 90, exit: 1200, a0: "1200011", arch: "40000003"))
            ]))
        #expect(table.process(1200)?.ppid == 100)
        table.update(
            with: events.next([
                (1300, syscallRecord(11, pid: 1200, ppid: 100, comm: "ls", exe: "/bin/ls", arch: "40000003")),
                (1309, "argc=1 a0=\"ls\""),
            ]))
        #expect(table.process(1200)?.arguments == [b("ls")])
        // aarch64: clone is 220.
        table.update(
            with: events.next([
                (1300, syscallRecord(220, pid: 100, ppid: 90, exit: 1201, a0: "1200011", arch: "c00000b7"))
            ]))
        #expect(table.process(1201)?.ppid == 100)
    }
}

@Suite struct UnknownParentTests {
    /// A process whose parent started after the table was seeded and showed in no event (a shell
    /// started after the daemon) still gets its parent: the table reads the parent from /proc once.
    @Test func anUnknownParentIsReadFromProcOnce() throws {
        var table = ProcessTable()
        var factory = EventFactory()
        let parent = getpid()
        let child: Int32 = 4_000_000  // above pid_max: no such process
        _ = table.update(with: factory.next([(1300, syscallRecord(X86.read, pid: child, ppid: parent))]))
        let context = table.context(pid: child)
        #expect(context.parent?.pid == parent)
        #expect(context.parent?.executable?.isEmpty == false, "the parent's exe link from /proc")
        #expect(table.statistics.procReads == 1)
        // A sibling needs no second read.
        _ = table.update(with: factory.next([(1300, syscallRecord(X86.read, pid: child + 1, ppid: parent))]))
        #expect(table.context(pid: child + 1).parent?.pid == parent)
        #expect(table.statistics.procReads == 1)
    }

    /// With /proc reads off (a replay of another machine's events) the parent stays unknown.
    @Test func withoutProcReadsAnUnknownParentStaysUnknown() throws {
        var configuration = ProcessTable.Configuration()
        configuration.readProcForUnknown = false
        var table = ProcessTable(configuration: configuration)
        var factory = EventFactory()
        _ = table.update(with: factory.next([(1300, syscallRecord(X86.read, pid: 4_000_000, ppid: getpid()))]))
        #expect(table.context(pid: 4_000_000).parent == nil)
    }
}
