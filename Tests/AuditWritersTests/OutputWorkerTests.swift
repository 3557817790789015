import AuditEncoding
import AuditEvents
import AuditTestSupport
import AuditWriters
import Glibc
import Synchronization
import Testing

/// A writer that fails on demand, for the worker's retry and rejection logic.
private struct ScriptedWriter: EventWriter {
    /// Shared with the test: what to do next, and what was written.
    final class Script: Sendable {
        let failing = Mutex<WriterError?>(nil)
        /// Items the "disk" still has room for (nil: no limit); at 0 a write fails with ENOSPC
        /// after the items that fitted.
        let room = Mutex<Int?>(nil)
        let rejectNumbers = Mutex<Set<Int>>([])
        let written = Mutex<[Int]>([])
        let calls = Atomic<Int>(0)
        let reopens = Atomic<Int>(0)
        let reopenFails = Atomic<Bool>(false)
    }

    let script: Script
    var name: String { "scripted" }

    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        script.calls.wrappingAdd(1, ordering: .relaxed)
        if let error = script.failing.withLock({ $0 }) { throw error }
        var done = 0
        for item in items {
            let full = script.room.withLock { room -> Bool in
                guard let left = room else { return false }
                if left == 0 { return true }
                room = left - 1
                return false
            }
            if full { throw WriterError(code: .write, target: name, errno: ENOSPC, completedItems: done) }
            let number = eventNumber(item.line) ?? -1
            if script.rejectNumbers.withLock({ $0.contains(number) }) {
                throw WriterError(code: .rejected, target: name, completedItems: done, isRetryable: false)
            }
            script.written.withLock { $0.append(number) }
            done += 1
        }
        return WriteOutcome(bytes: done)
    }

    mutating func flush() throws(WriterError) {}
    mutating func reopen() throws(WriterError) {
        script.reopens.wrappingAdd(1, ordering: .relaxed)
        if script.reopenFails.load(ordering: .relaxed) {
            throw WriterError(code: .reopen, target: name, errno: EROFS)
        }
    }
    mutating func close() throws(WriterError) {}
}

@Suite struct OutputWorkerTests {
    /// A queue holds thousands of items while its writer catches up: an item must stay three words
    /// (buffer, range and event reference), whatever the size of `AuditEvent`.
    @Test func aQueuedItemIsThreeWords() {
        #expect(MemoryLayout<OutputItem>.stride == 3 * MemoryLayout<Int>.stride)
        let event = AuditEvent(id: AuditEventID(seconds: 1, milliseconds: 2, serial: 3))
        let item = OutputItem(line: Array("x".utf8), event: event)
        #expect(item.event?.id == event.id)
        var copy = item
        copy.event = nil
        #expect(copy.event == nil && item.event != nil)
    }

    /// Deferred enqueues leave an idle writer asleep until the producer's batch ends (or a full
    /// write's worth waits), so a burst is written in one go rather than event by event.
    @Test func deferredEnqueuesWakeTheWriterOnlyWhenAsked() throws {
        let script = ScriptedWriter.Script()
        let worker = try OutputWorker(
            ScriptedWriter(script: script), configuration: .init(maxItemsPerWrite: 64, batchDelay: .zero))
        usleep(50_000)  // the writer goes to sleep
        for item in items(0..<10) { worker.enqueue(item, deferringWake: true) }
        usleep(100_000)
        #expect(script.written.withLock { $0 }.isEmpty, "nobody woke the writer")
        #expect(worker.counters.queued == 10)
        worker.wakeIfWaiting()
        var waited = 0
        while script.written.withLock({ $0.count }) < 10 && waited < 5_000 {
            usleep(1_000)
            waited += 1
        }
        #expect(script.written.withLock { $0 } == Array(0..<10))
        #expect(script.calls.load(ordering: .relaxed) == 1, "one write for the whole batch")
        usleep(50_000)
        // A full write's worth wakes it without being asked.
        for item in items(10..<74) { worker.enqueue(item, deferringWake: true) }
        waited = 0
        while script.written.withLock({ $0.count }) < 74 && waited < 5_000 {
            usleep(1_000)
            waited += 1
        }
        #expect(script.written.withLock { $0.count } == 74)
        _ = worker.close(drainTimeout: .seconds(5))
    }

    @Test func itemsSharingAChunkSeeOnlyTheirOwnLine() {
        let lines = (0..<4).map { eventLine($0, size: 40 + $0) }
        let chunk = lines.flatMap { $0 }
        var start = 0
        let shared = lines.map { line -> OutputItem in
            defer { start += line.count }
            return OutputItem(sharing: chunk, range: start..<start + line.count)
        }
        #expect(shared.map(\.line) == lines)
        #expect(shared.map(\.lineCount) == lines.map(\.count))
        #expect(shared.map { item in item.withLineBytes { Array($0) } } == lines)
        // A range beyond the chunk is clamped, never read out of bounds.
        let clamped = OutputItem(sharing: chunk, range: chunk.count - 3..<chunk.count + 50)
        #expect(clamped.line == Array(chunk.suffix(3)))
        #expect(OutputItem(sharing: chunk, range: chunk.count + 1..<chunk.count + 9).lineCount == 0)
        // Replacing the line of one item leaves the chunk and the other items alone.
        var edited = shared[1]
        edited.line = Array("{}".utf8)
        #expect(edited.line == Array("{}".utf8) && edited.lineCount == 2)
        #expect(shared[1].line == lines[1])
    }

    @Test func aBatchIsQueuedInOrderAndWhatDoesNotFitIsDroppedAndCounted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let script = ScriptedWriter.Script()
        script.failing.withLock { $0 = WriterError(code: .write, target: "scripted", errno: EIO) }
        let stuck = try OutputWorker(ScriptedWriter(script: script), configuration: .init(capacity: 10))
        #expect(stuck.enqueue(contentsOf: items(0..<25)) == 10)
        #expect(stuck.counters.dropped == 15)
        _ = stuck.close(drainTimeout: .zero)

        let lines = (0..<300).map { eventLine($0) }
        let chunk = lines.flatMap { $0 }
        let batch = lines.indices.map { OutputItem(sharing: chunk, range: $0 * 100..<($0 + 1) * 100) }
        let worker = try OutputWorker(FileWriter(configuration: .init(path: path)), configuration: .init())
        #expect(worker.enqueue(contentsOf: batch[..<120], deferringWake: true) == 120)
        #expect(worker.enqueue(contentsOf: batch[120...]) == 180)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 300 && report.counters.dropped == 0)
        #expect(isExactly(eventNumbers(inFile: path)?.numbers, 0..<300))
    }

    @Test func closeDrainsEverythingQueued() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let worker = try OutputWorker(
            FileWriter(configuration: .init(path: path)), configuration: .init(capacity: 50_000))
        let total = 20_000
        var accepted = 0
        for item in items(0..<total) where worker.enqueue(item) { accepted += 1 }
        let report = worker.close(drainTimeout: .seconds(30))
        #expect(report.finished)
        #expect(accepted == total)
        #expect(report.counters.written == total)
        #expect(report.counters.queued == 0)
        #expect(report.counters.bytes == total * 101)
        expectBalanced(report.counters, offered: total)
        #expect(isExactly(eventNumbers(inFile: path)?.numbers, 0..<total))
        #expect(!worker.enqueue(OutputItem(line: eventLine(total))), "closed workers refuse")
        #expect(worker.counters.dropped == 1)
        #expect(worker.close(drainTimeout: .zero).counters.written == total)
    }

    @Test func aFullQueueDropsAndCountsWithoutBlocking() throws {
        let script = ScriptedWriter.Script()
        script.failing.withLock { $0 = WriterError(code: .write, target: "scripted", errno: EIO) }
        let notices = NoticeLog()
        let worker = try OutputWorker(
            ScriptedWriter(script: script),
            configuration: .init(
                capacity: 100, retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(20)),
            onNotice: notices.handler)
        let start = monotonicMilliseconds()
        var accepted = 0
        for item in items(0..<10_000) where worker.enqueue(item) { accepted += 1 }
        #expect(monotonicMilliseconds() - start < 2000, "enqueue must never wait for the writer")
        #expect(accepted == 100)
        #expect(waitUntil { worker.counters.isFailing })
        var counters = worker.counters
        #expect(counters.dropped == 9_900)
        #expect(counters.written == 0)
        #expect(counters.lastError?.errno == EIO)
        expectBalanced(counters, offered: 10_000)

        // Back to health: the held items go out in order, recovery is reported with the drops.
        script.failing.withLock { $0 = nil }
        #expect(waitUntil { worker.counters.written == 100 })
        #expect(script.written.withLock { $0 } == Array(0..<100))
        counters = worker.counters
        #expect(!counters.isFailing)
        #expect(counters.recoveries == 1)
        #expect(notices.failures.count == 1)
        #expect(notices.recoveries.count == 1)
        #expect(notices.recoveries.first?.dropped == 9_900)
        #expect((notices.recoveries.first?.failedWrites ?? 0) >= 1)
        #expect(worker.enqueue(OutputItem(line: eventLine(10_000))))
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.written == 101)
        expectBalanced(report.counters, offered: 10_001)
    }

    @Test func aFailingWriterBacksOffInsteadOfSpinning() throws {
        let script = ScriptedWriter.Script()
        script.failing.withLock { $0 = WriterError(code: .write, target: "scripted", errno: ENOSPC) }
        let worker = try OutputWorker(
            ScriptedWriter(script: script),
            configuration: .init(retryInitialDelay: .milliseconds(10), retryMaximumDelay: .milliseconds(80)))
        worker.enqueue(OutputItem(line: eventLine(0)))
        usleep(600_000)
        // 10 + 20 + 40 + 80 + 80… ms: about 10 attempts in 600 ms; a busy loop would make thousands.
        let calls = script.calls.load(ordering: .relaxed)
        #expect(calls >= 3)
        #expect(calls <= 15)
        let report = worker.close(drainTimeout: .milliseconds(100))
        #expect(report.finished)
        #expect(report.counters.droppedAtShutdown == 1)
        #expect(report.counters.written == 0)
        expectBalanced(report.counters, offered: 1)
    }

    @Test func roomThatComesBackAndRunsOutAgainIsARecoveryThenANewFailure() throws {
        let script = ScriptedWriter.Script()
        script.room.withLock { $0 = 0 }
        let notices = NoticeLog()
        let worker = try OutputWorker(
            ScriptedWriter(script: script),
            configuration: .init(retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(20)),
            onNotice: notices.handler)
        for item in items(0..<10) { worker.enqueue(item) }
        #expect(waitUntil { notices.failures.count == 1 })

        // Room for three: they are written, and the output has recovered, if only until the fourth.
        script.room.withLock { $0 = 3 }
        #expect(waitUntil { notices.failures.count == 2 })
        #expect(script.written.withLock { $0 } == [0, 1, 2])
        #expect(notices.recoveries.count == 1)
        #expect(worker.counters.isFailing)

        script.room.withLock { $0 = nil }
        #expect(waitUntil { notices.recoveries.count == 2 })
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(script.written.withLock { $0 } == Array(0..<10))
        #expect(report.counters.recoveries == 2)
        #expect(!report.counters.isFailing)
        #expect(notices.all.map(Self.kind) == ["failing", "recovered", "failing", "recovered"])
        expectBalanced(report.counters, offered: 10)
    }

    static func kind(_ notice: WriterNotice) -> String {
        switch notice {
        case .failing: "failing"
        case .recovered: "recovered"
        case .warning: "warning"
        case .reopened: "reopened"
        }
    }

    @Test func aRejectedItemIsCountedAndTheRestGoOn() throws {
        let script = ScriptedWriter.Script()
        script.rejectNumbers.withLock { $0 = [3, 7] }
        let worker = try OutputWorker(ScriptedWriter(script: script))
        for item in items(0..<10) { worker.enqueue(item) }
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.rejected == 2)
        #expect(report.counters.written == 8)
        #expect(script.written.withLock { $0 } == [0, 1, 2, 4, 5, 6, 8, 9])
        expectBalanced(report.counters, offered: 10)
    }

    @Test func reopenRequestsReachTheWriterThread() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let notices = NoticeLog()
        let worker = try OutputWorker(FileWriter(configuration: .init(path: path)), onNotice: notices.handler)
        for item in items(0..<10) { worker.enqueue(item) }
        #expect(waitUntil { worker.counters.written == 10 })
        #expect(rename(path, directory.file("events.json.1")) == 0)
        worker.requestReopen()
        #expect(waitUntil { worker.counters.reopens == 1 })
        for item in items(10..<20) { worker.enqueue(item) }
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.written == 20)
        #expect(eventNumbers(inFile: directory.file("events.json.1"))?.numbers == Array(0..<10))
        #expect(eventNumbers(inFile: path)?.numbers == Array(10..<20))
        #expect(notices.all.contains(.reopened(writer: "file \(path)")))
    }

    @Test func aFailedReopenIsRetriedWhileWritingContinues() throws {
        let script = ScriptedWriter.Script()
        script.reopenFails.store(true, ordering: .relaxed)
        let notices = NoticeLog()
        let worker = try OutputWorker(
            ScriptedWriter(script: script),
            configuration: .init(retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(30)),
            onNotice: notices.handler)
        worker.requestReopen()
        #expect(waitUntil { worker.counters.reopenErrors >= 2 }, "retried without a new request")
        for item in items(0..<10) { worker.enqueue(item) }
        #expect(waitUntil { worker.counters.written == 10 }, "writing goes on meanwhile")
        script.reopenFails.store(false, ordering: .relaxed)
        #expect(waitUntil { worker.counters.reopens == 1 })
        let attempts = script.reopens.load(ordering: .relaxed)
        usleep(100_000)
        #expect(script.reopens.load(ordering: .relaxed) == attempts, "no more attempts after success")
        #expect(worker.counters.lastError?.errno == EROFS)
        #expect(notices.all.contains(.reopened(writer: "scripted")))
        _ = worker.close(drainTimeout: .seconds(1))
    }

    @Test func devFullCountsWriteErrorsAndNeverCrashes() throws {
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let notices = NoticeLog()
        let worker = try OutputWorker(
            StdoutWriter(fileDescriptor: descriptor, name: "/dev/full"),
            configuration: .init(
                capacity: 50, retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(20)),
            onNotice: notices.handler)
        for item in items(0..<80) { worker.enqueue(item) }
        #expect(waitUntil { worker.counters.writeErrors >= 3 })
        let counters = worker.counters
        #expect(counters.isFailing)
        #expect(counters.lastError?.errno == ENOSPC)
        #expect(counters.lastError?.code == .write)
        #expect(counters.lastError?.description.contains("ENOSPC") == true)
        #expect(counters.dropped == 30)
        #expect(notices.failures.first?.errno == ENOSPC)
        let report = worker.close(drainTimeout: .milliseconds(50))
        #expect(report.finished)
        #expect(report.counters.written == 0)
        #expect(report.counters.droppedAtShutdown == 50)
        expectBalanced(report.counters, offered: 80)
    }

    @Test func aStalledFifoDropsWhileAnotherOutputKeepsEverything() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // A reader that exists but never reads, until the end.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        try #require(reader >= 0)
        defer { close(reader) }
        let writeEnd = open(fifo, O_WRONLY | O_CLOEXEC)
        try #require(writeEnd >= 0)
        defer { close(writeEnd) }

        let stalled = try OutputWorker(
            StdoutWriter(fileDescriptor: writeEnd, name: "fifo", stallTimeout: .milliseconds(100)),
            configuration: .init(
                capacity: 500, retryInitialDelay: .milliseconds(10), retryMaximumDelay: .milliseconds(50)))
        let path = directory.file("events.json")
        let healthy = try OutputWorker(
            FileWriter(configuration: .init(path: path)), configuration: .init(capacity: 100_000))

        // Lines of 1000 bytes: the 500 items the stalled queue accepts overfill the 64 KiB
        // pipe by themselves, whatever the timing.
        let total = 5_000
        let start = monotonicMilliseconds()
        for item in items(0..<total, size: 1000) {
            stalled.enqueue(item)
            healthy.enqueue(item)
        }
        #expect(monotonicMilliseconds() - start < 3000, "enqueue must not wait for a stalled output")
        #expect(waitUntil { healthy.counters.written == total })
        #expect(waitUntil { stalled.counters.isFailing })
        var counters = stalled.counters
        #expect(counters.dropped > 0)
        #expect(counters.lastError?.code == .stalled)
        expectBalanced(counters, offered: total)
        #expect(isExactly(eventNumbers(inFile: path)?.numbers, 0..<total))

        // Now read the FIFO: the stalled output recovers and what it accepted arrives whole and
        // in order.
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        _ = waitUntil {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                received += buffer[0..<count]
            }
            let now = stalled.counters
            return now.queued == 0 && !now.isFailing
        }
        let report = stalled.close(drainTimeout: .seconds(2))
        while true {
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        counters = report.counters
        #expect(report.finished)
        #expect(counters.recoveries >= 1)
        let (lines, torn) = splitLines(received)
        #expect(torn.isEmpty)
        let numbers = lines.compactMap(eventNumber)
        #expect(numbers.count == lines.count, "every line arrives whole")
        #expect(numbers.count == counters.written)
        #expect(numbers.elementsEqual(numbers.sorted()), "in order")
        #expect(numbers.count + counters.dropped + counters.droppedAtShutdown == total)
        expectBalanced(counters, offered: total)
        _ = healthy.close(drainTimeout: .seconds(5))
    }

    @Test func closeGivesUpAtTheDeadlineOnAStalledOutput() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let worker = try OutputWorker(
            StdoutWriter(fileDescriptor: ends[1], name: "pipe", stallTimeout: .milliseconds(50)),
            configuration: .init(retryInitialDelay: .milliseconds(10), retryMaximumDelay: .milliseconds(40)))
        let total = 2_000  // 200 KB: more than a 64 KiB pipe holds
        for item in items(0..<total) { worker.enqueue(item) }
        let start = monotonicMilliseconds()
        let report = worker.close(drainTimeout: .milliseconds(300))
        let elapsed = monotonicMilliseconds() - start
        #expect(report.finished)
        #expect(elapsed < 2000, "close took \(elapsed) ms")
        #expect(report.counters.droppedAtShutdown > 0)
        #expect(report.counters.written > 0)
        expectBalanced(report.counters, offered: total)
    }

    @Test func anIdleWorkerWaitsTheBatchDelayThenWrites() throws {
        let script = ScriptedWriter.Script()
        let worker = try OutputWorker(
            ScriptedWriter(script: script), configuration: .init(batchDelay: .milliseconds(300)))
        usleep(50_000)  // idle and parked
        let start = monotonicMilliseconds()
        worker.enqueue(OutputItem(line: eventLine(0)))
        usleep(100_000)
        worker.enqueue(OutputItem(line: eventLine(1)))
        #expect(waitUntil { worker.counters.written == 2 })
        let elapsed = monotonicMilliseconds() - start
        #expect(elapsed >= 250, "wrote after \(elapsed) ms")
        #expect(script.calls.load(ordering: .relaxed) == 1, "both items in one write")
        _ = worker.close(drainTimeout: .seconds(1))
    }

    @Test func aFullWriteCutsTheBatchDelayShort() throws {
        let script = ScriptedWriter.Script()
        let worker = try OutputWorker(
            ScriptedWriter(script: script), configuration: .init(maxItemsPerWrite: 64, batchDelay: .seconds(30)))
        usleep(50_000)
        let start = monotonicMilliseconds()
        for item in items(0..<64) { worker.enqueue(item) }
        #expect(waitUntil(seconds: 5) { worker.counters.written == 64 })
        #expect(monotonicMilliseconds() - start < 5000)
        worker.enqueue(OutputItem(line: eventLine(64)))
        let closeStart = monotonicMilliseconds()
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(monotonicMilliseconds() - closeStart < 2000, "close ends the delay")
        #expect(report.counters.written == 65)
    }

    @Test func invalidQueueSettingsAreRefused() throws {
        let script = ScriptedWriter.Script()
        let error = #expect(throws: WriterError.self) {
            _ = try OutputWorker(ScriptedWriter(script: script), configuration: .init(capacity: 0))
        }
        #expect(error?.code == .configuration)
    }
}
