import AuditDaemon
import Testing

/// A component that writes what happens to it into a shared log.
final class RecordingComponent: Component {
    let name: String
    let log: EventLog
    let failsToStart: Bool

    init(_ name: String, log: EventLog, failsToStart: Bool = false) {
        self.name = name
        self.log = log
        self.failsToStart = failsToStart
    }

    func start() throws(DaemonError) {
        if failsToStart {
            log.entries.append("\(name) failed")
            throw DaemonError("\(name) cannot start", status: .privilege)
        }
        log.entries.append("\(name) started")
    }

    func drain() { log.entries.append("\(name) drained") }
    func stop() { log.entries.append("\(name) stopped") }
}

final class EventLog {
    var entries: [String] = []
}

@Suite struct ComponentStackTests {
    @Test func componentsStopInReverseOrderAndEachDrainsBeforeItStops() throws {
        let log = EventLog()
        var stack = ComponentStack()
        for name in ["outputs", "processing", "reader"] { try stack.start(RecordingComponent(name, log: log)) }
        #expect(stack.names == ["outputs", "processing", "reader"])
        stack.stopAll()
        #expect(
            log.entries == [
                "outputs started", "processing started", "reader started",
                "reader drained", "reader stopped", "processing drained", "processing stopped",
                "outputs drained", "outputs stopped",
            ])
        #expect(stack.names.isEmpty)
    }

    @Test func aFailedStartStopsWhatStartedBeforeItInReverseWithoutDrainingAndRethrows() throws {
        let log = EventLog()
        var stack = ComponentStack()
        try stack.start(RecordingComponent("outputs", log: log))
        try stack.start(RecordingComponent("processing", log: log))
        #expect(throws: DaemonError.self) {
            try stack.start(RecordingComponent("reader", log: log, failsToStart: true))
        }
        #expect(
            log.entries == [
                "outputs started", "processing started", "reader failed", "processing stopped", "outputs stopped",
            ])
        #expect(stack.names.isEmpty)
    }

    @Test func theErrorOfAFailedStartKeepsItsExitStatus() {
        let log = EventLog()
        var stack = ComponentStack()
        do {
            try stack.start(RecordingComponent("reader", log: log, failsToStart: true))
            Issue.record("the start should have failed")
        } catch {
            #expect(error.status == .privilege)
            #expect(error.message == "reader cannot start")
        }
    }

    @Test func stoppingTwiceStopsEachComponentOnce() throws {
        let log = EventLog()
        var stack = ComponentStack()
        try stack.start(RecordingComponent("outputs", log: log))
        stack.stopAll()
        stack.stopAll()
        #expect(log.entries.filter { $0 == "outputs stopped" }.count == 1)
    }

    @Test func exitStatusesAreAuditdsWhereTheyOverlap() {
        #expect(ExitStatus.success.rawValue == 0)
        #expect(ExitStatus.failure.rawValue == 1)
        #expect(ExitStatus.privilege.rawValue == 4)
        #expect(ExitStatus.configuration.rawValue == 6)
        #expect(ExitStatus.usage.rawValue == 64)
    }
}
