import AuditEncoding
import AuditEvents
import AuditTestSupport
import AuditWriters
import Foundation
import Glibc
import Synchronization
import Testing

/// A network writer's stand-in that goes down and comes back on demand: while `down`, every write
/// fails retryably after `completeBeforeFailing` items (a collector that died mid-batch); numbers
/// in `reject` are refused for good. What it delivered is recorded in order.
struct FlakyCollector: EventWriter {
    final class Control: Sendable {
        let down = Atomic<Bool>(false)
        let completeBeforeFailing = Atomic<Int>(0)
        let reject = Mutex<Set<Int>>([])
        let delivered = Mutex<[Int]>([])
        let writes = Atomic<Int>(0)
        /// While up, each write takes this long per item (a collector slower than the input).
        let microsecondsPerItem = Atomic<Int>(0)
        var numbers: [Int] { delivered.withLock { $0 } }
    }

    let control: Control
    var name: String { "flaky collector" }
    var maintenanceInterval: Duration? { .seconds(1) }

    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        control.writes.wrappingAdd(1, ordering: .relaxed)
        let slow = control.microsecondsPerItem.load(ordering: .relaxed)
        if slow > 0, !control.down.load(ordering: .relaxed) { usleep(UInt32(slow * items.count)) }
        var done = 0
        let budget =
            control.down.load(ordering: .relaxed) ? control.completeBeforeFailing.load(ordering: .relaxed) : .max
        for item in items {
            if done >= budget {
                throw WriterError(
                    code: .connect, target: name, errno: ECONNREFUSED, completedItems: done, completedBytes: done)
            }
            let number = eventNumber(item.line) ?? -1
            if control.reject.withLock({ $0.contains(number) }) {
                throw WriterError(
                    code: .rejected, target: name, completedItems: done, completedBytes: done, isRetryable: false)
            }
            control.delivered.withLock { $0.append(number) }
            done += 1
        }
        return WriteOutcome(bytes: done)
    }

    mutating func flush() throws(WriterError) {}
    mutating func close() throws(WriterError) {}
}

func segmentNames(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
}

@Suite struct SpoolingWriterTests {
    static let queue = OutputQueueConfiguration(
        capacity: 100_000, maxItemsPerWrite: 64, retryInitialDelay: .milliseconds(5),
        retryMaximumDelay: .milliseconds(50))

    @Test func theHealthyPathTouchesNoDisk() throws {
        let directory = try TemporaryDirectory()
        let control = FlakyCollector.Control()
        var writer = try SpoolingWriter(
            inner: FlakyCollector(control: control), configuration: .init(directory: directory.file("spool")))
        _ = try writer.write(items(0..<100)[...])
        #expect(control.numbers == Array(0..<100))
        #expect(segmentNames(directory.file("spool")).isEmpty)
        #expect(writer.spoolGauges?.status.spooled == 0)
        try writer.close()
    }

    @Test func anOutageGoesToTheSpoolAndComesOutInOrder() throws {
        let directory = try TemporaryDirectory()
        let control = FlakyCollector.Control()
        let spoolPath = directory.file("spool")
        let worker = try OutputWorker(
            try SpoolingWriter(inner: FlakyCollector(control: control), configuration: .init(directory: spoolPath)),
            configuration: Self.queue)
        let all = items(0..<3000)
        for item in all[0..<500] { worker.enqueue(item) }
        #expect(waitUntil { control.numbers.count == 500 })
        control.completeBeforeFailing.store(7, ordering: .relaxed)
        control.down.store(true, ordering: .relaxed)
        for (index, item) in all[500..<2500].enumerated() {
            worker.enqueue(item)
            if index % 200 == 0 { usleep(5000) }
        }
        #expect(waitUntil { (worker.counters.spool?.entries ?? 0) > 1000 && worker.counters.queued == 0 })
        let during = worker.counters
        #expect(during.dropped == 0)
        #expect(!during.isFailing, "the spool hides the outage from the queue")
        #expect((during.spool?.oldestTime ?? 0) > 0)
        control.down.store(false, ordering: .relaxed)
        for item in all[2500...] { worker.enqueue(item) }
        #expect(waitUntil { control.numbers.count >= 3000 })
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(control.numbers == Array(0..<3000), "every item once, in order")
        #expect(report.counters.spool?.entries == 0)
        #expect(report.counters.written == 3000)
        expectBalanced(report.counters, offered: 3000)
        #expect(segmentNames(spoolPath).isEmpty)
    }

    @Test func aStopDuringTheOutageKeepsEverythingForTheNextStart() throws {
        let directory = try TemporaryDirectory()
        let spoolPath = directory.file("spool")
        let control = FlakyCollector.Control()
        control.down.store(true, ordering: .relaxed)
        let all = items(0..<1000)
        // First run: the collector is down the whole time; stop with items still queued.
        let first = try OutputWorker(
            try SpoolingWriter(inner: FlakyCollector(control: control), configuration: .init(directory: spoolPath)),
            configuration: Self.queue)
        for item in all[0..<600] { first.enqueue(item) }
        let report = first.close(drainTimeout: .seconds(5))
        #expect(report.counters.written == 600, "the queue drained into the spool at stop")
        #expect(report.counters.droppedAtShutdown == 0)
        #expect(report.counters.spool?.entries == 600)
        #expect(control.numbers.isEmpty)
        // Second run, still down, more items; then the collector comes back.
        let second = try OutputWorker(
            try SpoolingWriter(inner: FlakyCollector(control: control), configuration: .init(directory: spoolPath)),
            configuration: Self.queue)
        #expect(second.counters.spool?.entries == 600, "the spool is read at start")
        for item in all[600..<800] { second.enqueue(item) }
        #expect(waitUntil { second.counters.spool?.entries == 800 })
        control.down.store(false, ordering: .relaxed)
        for item in all[800...] { second.enqueue(item) }
        #expect(waitUntil { control.numbers.count >= 1000 })
        _ = second.close(drainTimeout: .seconds(5))
        #expect(control.numbers == Array(0..<1000), "the old spool first, then the new items, each once")
    }

    @Test func aFullSpoolLeavesTheRestToTheQueueWhichCountsItsDrops() throws {
        let directory = try TemporaryDirectory()
        let control = FlakyCollector.Control()
        control.down.store(true, ordering: .relaxed)
        let worker = try OutputWorker(
            try SpoolingWriter(
                inner: FlakyCollector(control: control),
                configuration: .init(directory: directory.file("spool"), maxSize: 64 << 10)),
            configuration: OutputQueueConfiguration(
                capacity: 200, maxItemsPerWrite: 64, retryInitialDelay: .milliseconds(5),
                retryMaximumDelay: .milliseconds(20)))
        let all = items(0..<2000)
        var accepted: [Int] = []
        for (number, item) in all.enumerated() {
            if worker.enqueue(item) { accepted.append(number) }
            if number % 100 == 0 { usleep(2000) }
        }
        #expect(waitUntil { worker.counters.isFailing })
        let full = worker.counters
        #expect(full.dropped > 0, "drops are counted at the queue, as writer_drop")
        #expect(full.dropped + full.enqueued == 2000)
        #expect((full.spool?.diskBytes ?? 0) <= 64 << 10)
        control.down.store(false, ordering: .relaxed)
        #expect(waitUntil { control.numbers.count == accepted.count })
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(control.numbers == accepted, "everything not counted as dropped arrives, in order")
        expectBalanced(report.counters, offered: 2000)
        #expect(report.counters.dropped == 2000 - accepted.count)
    }

    /// After an outage the collector is back but slower than the input: catching up must not
    /// starve the intake. Before, `write` spent 50 ms catching up before taking each
    /// `maxItemsPerWrite` items, so the queue overflowed (the 20k events/s outage benchmark
    /// dropped 10k a second) although the spool had room.
    @Test func catchingUpBehindASlowCollectorLetsTheSpoolGrowInsteadOfTheQueueDropping() throws {
        let directory = try TemporaryDirectory()
        let control = FlakyCollector.Control()
        control.down.store(true, ordering: .relaxed)
        let worker = try OutputWorker(
            try SpoolingWriter(
                inner: FlakyCollector(control: control), configuration: .init(directory: directory.file("spool"))),
            configuration: OutputQueueConfiguration(
                capacity: 2000, maxItemsPerWrite: 64, retryInitialDelay: .milliseconds(5),
                retryMaximumDelay: .milliseconds(20)))
        let all = items(0..<12000)
        for item in all[0..<4000] {
            #expect(worker.enqueue(item))
            if worker.counters.queued > 1000 { usleep(1000) }
        }
        #expect(waitUntil { (worker.counters.spool?.entries ?? 0) == 4000 })
        // Back, at 5000 items/s, while about 4000 items/s arrive for 2 s.
        control.microsecondsPerItem.store(200, ordering: .relaxed)
        control.down.store(false, ordering: .relaxed)
        for (index, item) in all[4000...].enumerated() {
            worker.enqueue(item)
            if index % 40 == 39 { usleep(10_000) }
        }
        let fed = worker.counters
        #expect(
            fed.dropped == 0,
            "the spool takes what the collector cannot yet: \(fed.spool?.entries ?? -1) spooled, \(control.numbers.count) delivered, \(fed.queued) queued, peak \(fed.peakQueued)"
        )
        control.microsecondsPerItem.store(0, ordering: .relaxed)
        #expect(waitUntil { control.numbers.count >= all.count })
        let report = worker.close(drainTimeout: .seconds(5))
        let inOrder = control.numbers == Array(0..<all.count)
        #expect(inOrder, "every item once, in order (\(control.numbers.count) delivered)")
        expectBalanced(report.counters, offered: all.count)
    }

    @Test func anItemRefusedWhenReadBackIsCountedAndTheRestGoOn() throws {
        let directory = try TemporaryDirectory()
        let control = FlakyCollector.Control()
        control.down.store(true, ordering: .relaxed)
        control.reject.withLock { $0 = [42] }
        var writer = try SpoolingWriter(
            inner: FlakyCollector(control: control), configuration: .init(directory: directory.file("spool")))
        _ = try writer.write(items(0..<100)[...])
        #expect(writer.spoolGauges?.status.entries == 100)
        control.down.store(false, ordering: .relaxed)
        usleep(1_100_000)  // past the probe delay
        for _ in 0..<20 { try? writer.performMaintenance() }
        #expect(control.numbers == Array(0..<42) + Array(43..<100))
        #expect(writer.spoolGauges?.status.rejected == 1)
        try writer.close()
    }

    @Test func spooledItemsKeepTheirEvent() throws {
        let directory = try TemporaryDirectory()
        var encoder = EventEncoder(hostname: "h", users: testUserDirectory(directory))
        let item = encodedItem(execveEvent(serial: 77, argumentBytes: 10), encoder: &encoder)
        var payload: [UInt8] = []
        SpoolItemCodec.encode(item, into: &payload)
        let back = try #require(SpoolItemCodec.decode(payload))
        #expect(back.line == item.line)
        let event = try #require(back.event)
        #expect(event.id == item.event?.id)
        #expect(event.records.map(\.type) == item.event?.records.map(\.type))
        #expect(event.records.map { Array($0.body) } == item.event?.records.map { Array($0.body) })
        #expect(event.completion == item.event?.completion)
        let plain = OutputItem(line: Array("{\"type\":\"swift-audit.loss\"}".utf8))
        SpoolItemCodec.encode(plain, into: &payload)
        #expect(SpoolItemCodec.decode(payload)?.line == plain.line)
        #expect(SpoolItemCodec.decode(payload)?.event == nil)
        #expect(SpoolItemCodec.decode(Array(payload.dropLast())) == nil)
    }
}

@Suite struct SpoolingWriterRecoveryTests {
    /// A daemon SIGKILLed in the middle of appending leaves a segment cut at any byte: the next
    /// start cuts the torn entry off, counts it, and sends the rest in order.
    @Test(arguments: [1, 17, 23, 24, 60])
    func aTornSegmentIsRecoveredAndCounted(keptOfLastEntry: Int) throws {
        let directory = try TemporaryDirectory()
        let spoolPath = directory.file("spool")
        let control = FlakyCollector.Control()
        control.down.store(true, ordering: .relaxed)
        var writer = try SpoolingWriter(
            inner: FlakyCollector(control: control), configuration: .init(directory: spoolPath, sync: .never))
        _ = try writer.write(items(0..<50)[...])
        try writer.close()
        let segment = try #require(segmentNames(spoolPath).last)
        let path = spoolPath + "/" + segment
        var payload: [UInt8] = []
        SpoolItemCodec.encode(items(49..<50)[0], into: &payload)
        let lastEntry = 24 + payload.count
        var status = stat()
        stat(path, &status)
        #expect(truncate(path, off_t(Int(status.st_size) - lastEntry + keptOfLastEntry)) == 0)

        control.down.store(false, ordering: .relaxed)
        var restarted = try SpoolingWriter(
            inner: FlakyCollector(control: control), configuration: .init(directory: spoolPath, sync: .never))
        let recovered = try #require(restarted.spoolGauges?.status)
        #expect(recovered.tornTails == 1)
        #expect(recovered.tornBytes == keptOfLastEntry)
        #expect(recovered.entries == 49)
        _ = try restarted.write(items(50..<60)[...])
        #expect(control.numbers == Array(0..<49) + Array(50..<60))
        try restarted.close()
    }
}
