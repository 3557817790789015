import AuditConfig
import AuditDaemon
import AuditNetlink
import AuditPipeline
import AuditTLS
import AuditWriters
import Logging
import Testing

let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A reader that records the stop sequence's calls into the kernel's call list.
struct RecordingReader: DrainableReader {
    let kernel: FakeKernel
    func finishWhenDrained() { kernel.calls.append("reader finishes when drained") }
    func join() { kernel.calls.append("reader joined") }
}

@Suite struct StopSequenceTests {
    @Test func stopUnregistersWhileTheReaderStillReadsAndEndsItOnlyOnceTheKernelBacklogIsEmpty() {
        let kernel = FakeKernel()
        kernel.backlogs = [40, 12, 0]
        var naps = 0
        ReaderStage.stopReading(kernel: kernel, reader: RecordingReader(kernel: kernel), logger: quiet) { _ in
            naps += 1
        }
        #expect(
            kernel.calls == [
                "unregister", "status", "status", "status", "reader finishes when drained", "reader joined",
            ])
        #expect(naps == 2)
    }

    @Test func aBacklogThatNeverEmptiesDelaysTheStopByAtMostSixtyNaps() {
        let kernel = FakeKernel()
        kernel.backlogs = [5]
        var naps = 0
        ReaderStage.stopReading(kernel: kernel, reader: RecordingReader(kernel: kernel), logger: quiet) { _ in
            naps += 1
        }
        #expect(naps == 60)
        #expect(kernel.calls.suffix(2) == ["reader finishes when drained", "reader joined"])
    }

    @Test func aKernelThatDoesNotAnswerDoesNotHoldTheStopUp() {
        let kernel = FakeKernel()
        kernel.failStatus = true
        ReaderStage.stopReading(kernel: kernel, reader: RecordingReader(kernel: kernel), logger: quiet) { _ in
            Issue.record("no nap expected")
        }
        #expect(kernel.calls == ["unregister", "status", "reader finishes when drained", "reader joined"])
    }
}

@Suite struct KernelMonitorTests {
    @Test func theStatusIsPolledOnlyOnceItsIntervalHasPassedUnlessForced() {
        let kernel = FakeKernel()
        var monitor = KernelMonitor(intervalMilliseconds: 1000)
        #expect(monitor.poll(kernel, now: 10_000, ownPID: nil, logger: quiet) != nil)
        #expect(monitor.poll(kernel, now: 10_500, ownPID: nil, logger: quiet) == nil)
        #expect(monitor.poll(kernel, now: 10_500, force: true, ownPID: nil, logger: quiet) != nil)
        #expect(monitor.poll(kernel, now: 11_400, ownPID: nil, logger: quiet) == nil)
        #expect(monitor.poll(kernel, now: 11_500, ownPID: nil, logger: quiet) != nil)
        #expect(kernel.calls.filter { $0 == "status" }.count == 3)
    }

    @Test func everyPollDiscardsRecordsThatReachedTheControlSocket() {
        let kernel = FakeKernel()
        kernel.failStatus = true
        var monitor = KernelMonitor(intervalMilliseconds: 1000)
        #expect(monitor.poll(kernel, now: 0, ownPID: nil, logger: quiet) == nil)
        #expect(kernel.pendingDiscards == 1)
    }

    @Test func theBacklogAndLostTotalFollowTheReadings() {
        let kernel = FakeKernel(AuditStatus(lost: 7, backlog: 3))
        var monitor = KernelMonitor(intervalMilliseconds: 0)
        _ = monitor.poll(kernel, now: 0, ownPID: nil, logger: quiet)
        kernel.current.lost = 9
        kernel.current.backlog = 1
        _ = monitor.poll(kernel, now: 1, ownPID: nil, logger: quiet)
        #expect(monitor.lostTotal == 2)
        #expect(monitor.backlog == 1)
    }
}

@Suite struct KernelSetupTests {
    @Test func onlySettingsThatDifferAreSentAndEnabledComesLast() {
        let kernel = FakeKernel(
            AuditStatus(enabled: .disabled, failure: .printk, rateLimit: 0, backlogLimit: 64, backlogWaitTime: 60000))
        let settings = AuditSettings(enabled: .enabled, failure: .printk, rateLimit: 100, backlogLimit: 8192)
        KernelSetup.apply(settings, client: kernel, logger: quiet)
        #expect(
            kernel.calls == [
                "status", "set rate_limit 100", "set backlog_limit 8192", "set enabled 1",
            ])
    }

    @Test func aLockedKernelIsLeftAsItIs() {
        let kernel = FakeKernel(AuditStatus(enabled: .locked, backlogLimit: 64))
        KernelSetup.apply(AuditSettings(backlogLimit: 8192), client: kernel, logger: quiet)
        #expect(kernel.calls == ["status"])
    }
}

@Suite struct WatchdogTests {
    /// Whether each (reader beat, processing beat, now) step pings.
    static func pings(_ steps: [(Int, Int, UInt64)], interval: UInt64 = 1000) -> [Bool] {
        var watchdog = Watchdog(intervalMilliseconds: interval, now: 0)
        return steps.map { watchdog.shouldPing(readerBeat: $0.0, processorBeat: $0.1, now: $0.2) }
    }

    @Test func pingsWhileBothThreadsBeatAtMostEveryQuarterInterval() {
        #expect(Self.pings([(1, 1, 100), (2, 2, 200), (3, 3, 350)]) == [true, false, true])
    }

    @Test func noPingOnceOneThreadHasNotBeatenForHalfAnIntervalAndPingsAgainWhenItRecovers() {
        // The processing thread is stuck at beat 1 from t=100 until t=2100.
        let steps: [(Int, Int, UInt64)] = [(1, 1, 100), (2, 1, 400), (3, 1, 700), (4, 1, 2000), (5, 2, 2100)]
        #expect(Self.pings(steps) == [true, true, false, false, true])
    }
}

@Suite struct OutputReconcilerTests {
    static func stdout(_ name: String, queue: Int = 8192) -> OutputConfiguration {
        OutputConfiguration(name: name, queueSize: queue, kind: .stdout)
    }

    @Test func anUnchangedOutputKeepsItsWorkerAChangedOneGetsANewOneAndARemovedOneRetires() throws {
        let keep = try nullOutput("keep")
        let change = try nullOutput("change")
        let remove = try nullOutput("remove")
        defer { _ = OutputWorker.closeAll([keep, change, remove].map(\.worker), drainTimeout: .seconds(1)) }
        var startedNames: [String] = []
        let reconciler = OutputReconciler(
            start: { configuration throws(DaemonError) in
                startedNames.append(configuration.name)
                do { return try nullOutput(configuration.name) } catch { throw DaemonError("\(error)") }
            },
            close: { _ in Issue.record("nothing should be closed") })
        let running = [keep, change, remove]
        let configurations = Dictionary(uniqueKeysWithValues: running.map { ($0.name, Self.stdout($0.name)) })
        let plan = try reconciler.reconcile(
            running: running, runningConfigurations: configurations,
            next: [Self.stdout("new"), Self.stdout("keep"), Self.stdout("change", queue: 16)])
        defer { _ = OutputWorker.closeAll(plan.started.map(\.worker), drainTimeout: .seconds(1)) }
        #expect(plan.outputs.map(\.name) == ["new", "keep", "change"])
        #expect(plan.outputs[1].worker === keep.worker)
        #expect(plan.outputs[2].worker !== change.worker)
        #expect(Set(plan.retiring.map(\.name)) == ["change", "remove"])
        #expect(startedNames == ["new", "change"])
    }

    @Test func aReloadWhoseOutputCannotStartClosesWhatItStartedAndChangesNothing() throws {
        let keep = try nullOutput("keep")
        defer { _ = keep.worker.close(drainTimeout: .seconds(1)) }
        var closed: [String] = []
        let reconciler = OutputReconciler(
            start: { configuration throws(DaemonError) in
                if configuration.name == "broken" { throw DaemonError("output \"broken\": no such directory") }
                do { return try nullOutput(configuration.name) } catch { throw DaemonError("\(error)") }
            },
            close: { outputs in
                closed += outputs.map(\.name)
                _ = OutputWorker.closeAll(outputs.map(\.worker), drainTimeout: .seconds(1))
            })
        #expect(throws: DaemonError.self) {
            try reconciler.reconcile(
                running: [keep], runningConfigurations: ["keep": Self.stdout("keep")],
                next: [Self.stdout("keep"), Self.stdout("fresh"), Self.stdout("broken"), Self.stdout("late")])
        }
        #expect(closed == ["fresh"])
        #expect(!keep.worker.counters.isFailing)
    }

    /// SIGHUP re-reads certificate files: a kept TLS output is listed for a reopen, a kept plain
    /// one is not, and a restarted one reads its files as it starts.
    @Test func keptTLSOutputsAreAskedToReadTheirFilesAgain() throws {
        let central = try nullOutput("central")
        let plain = try nullOutput("plain")
        defer { _ = OutputWorker.closeAll([central, plain].map(\.worker), drainTimeout: .seconds(1)) }
        let tls = OutputConfiguration(
            name: "central",
            kind: .syslog(
                SyslogWriter.Configuration(
                    target: .tls(host: "logs", port: 6514, tls: TLSConfiguration(caFile: "/etc/ca.pem")))))
        let reconciler = OutputReconciler(
            start: { configuration throws(DaemonError) in
                do { return try nullOutput(configuration.name) } catch { throw DaemonError("\(error)") }
            },
            close: { _ in })
        let plan = try reconciler.reconcile(
            running: [central, plain], runningConfigurations: ["central": tls, "plain": Self.stdout("plain")],
            next: [tls, Self.stdout("plain")])
        #expect(plan.started.isEmpty)
        #expect(plan.rereading.map(\.name) == ["central"])
        #expect(plan.rereading.first?.worker === central.worker)
    }

    @Test func aDisabledOutputIsNotStarted() throws {
        let reconciler = OutputReconciler(
            start: { _ throws(DaemonError) in throw DaemonError("must not start") }, close: { _ in })
        var disabled = Self.stdout("off")
        disabled.enabled = false
        let plan = try reconciler.reconcile(running: [], runningConfigurations: [:], next: [disabled])
        #expect(plan.outputs.isEmpty)
    }
}
