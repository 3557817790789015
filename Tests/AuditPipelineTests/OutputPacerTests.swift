import AuditEncoding
import AuditPipeline
import AuditSystem
import AuditThreads
import AuditWriters
import Glibc
import Synchronization
import Testing

/// A writer whose speed the test controls: it waits `delay` per write, or blocks while `blocked`.
private struct PacedWriter: EventWriter {
    final class Control: Sendable {
        let delayMicroseconds = Atomic<Int>(0)
        let blocked = Atomic<Bool>(false)
        let written = Atomic<Int>(0)
    }

    let control: Control
    var name: String { "paced" }

    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        while control.blocked.load(ordering: .acquiring) { usleep(1000) }
        let delay = control.delayMicroseconds.load(ordering: .relaxed)
        if delay > 0 { usleep(UInt32(delay)) }
        control.written.wrappingAdd(items.count, ordering: .relaxed)
        return WriteOutcome(bytes: items.count)
    }

    mutating func flush() throws(WriterError) {}
    mutating func reopen() throws(WriterError) {}
    mutating func close() throws(WriterError) {}
}

private func makeOutput(_ control: PacedWriter.Control, itemsPerWrite: Int) throws -> Output<OutputWorker> {
    let worker = try OutputWorker(
        PacedWriter(control: control),
        configuration: OutputQueueConfiguration(
            capacity: 100_000, maxItemsPerWrite: itemsPerWrite, batchDelay: .zero, threadName: "pacer-test"))
    return Output(name: "paced", worker: worker, wantsEvent: false)
}

private func fill(_ output: Output<OutputWorker>, _ count: Int) {
    let item = OutputItem(line: Array(repeating: UInt8(ascii: "x"), count: 64))
    for _ in 0..<count { _ = output.worker.enqueue(item) }
}

@Suite struct OutputPacerTests {
    /// A healthy writer that is behind gets the processing stage's time until its queue is down
    /// to half the threshold.
    @Test func waitsForAHealthyWriterToCatchUp() throws {
        let control = PacedWriter.Control()
        control.delayMicroseconds.store(500, ordering: .relaxed)
        let output = try makeOutput(control, itemsPerWrite: 50)
        control.blocked.store(true, ordering: .releasing)
        fill(output, 400)
        control.blocked.store(false, ordering: .releasing)
        var pacer = OutputPacer(threshold: 100, maxWaitMicroseconds: 5_000_000)
        let waited = pacer.pace([OutputTarget(output)])
        #expect(waited > 0)
        #expect(output.worker.counters.queued <= 50, "the wait ends at half the threshold")
        _ = output.worker.close(drainTimeout: .seconds(5))
    }

    @Test func neverWaitsLongerThanItsBudgetPerBatch() throws {
        let control = PacedWriter.Control()
        control.delayMicroseconds.store(20_000, ordering: .relaxed)
        let output = try makeOutput(control, itemsPerWrite: 1)
        fill(output, 300)
        var pacer = OutputPacer(threshold: 100, maxWaitMicroseconds: 2_000)
        let waited = pacer.pace([OutputTarget(output)])
        #expect(waited >= 2_000 && waited < 2_000 + OutputPacer.stepMicroseconds)
        #expect(output.worker.counters.queued > 100, "a slow writer is not waited out")
        control.delayMicroseconds.store(0, ordering: .relaxed)
        _ = output.worker.close(drainTimeout: .seconds(10))
    }

    /// A writer that writes nothing (blocked in a write, a pipe nobody reads) is waited for only
    /// until it counts as stalled; after that the stage goes on at once, every batch.
    @Test func aStalledWriterIsNotWaitedFor() throws {
        let control = PacedWriter.Control()
        control.blocked.store(true, ordering: .releasing)
        let output = try makeOutput(control, itemsPerWrite: 10)
        fill(output, 500)
        var pacer = OutputPacer(threshold: 100, maxWaitMicroseconds: 1_000, stallNanoseconds: 20_000_000)
        var total = 0
        var calls = 0
        let start = SystemClock.monotonicNanoseconds()
        while SystemClock.monotonicNanoseconds() - start < 60_000_000 {  // well past the stall time
            total += pacer.pace([OutputTarget(output)])
            calls += 1
        }
        let afterStall = (0..<100).reduce(0) { sum, _ in sum + pacer.pace([OutputTarget(output)]) }
        #expect(total >= 5_000, "it waited for the first batches (\(calls) calls)")
        #expect(total < calls * 1_000, "and stopped waiting once the writer counted as stalled")
        #expect(afterStall == 0, "a stalled writer costs the stage nothing")
        control.blocked.store(false, ordering: .releasing)
        // Progress again: the writer is waited for again. (Blocked again before the queue is
        // refilled: a writer still free to run could drain the 500 items before the pacer looks.)
        usleep(50_000)
        control.blocked.store(true, ordering: .releasing)
        fill(output, 500)
        #expect(pacer.pace([OutputTarget(output)]) > 0)
        control.blocked.store(false, ordering: .releasing)
        _ = output.worker.close(drainTimeout: .seconds(5))
    }

    @Test func aShortQueueOrDisabledPacingCostsNothing() throws {
        let control = PacedWriter.Control()
        control.blocked.store(true, ordering: .releasing)
        let output = try makeOutput(control, itemsPerWrite: 10)
        fill(output, 50)
        var pacer = OutputPacer(threshold: 100, maxWaitMicroseconds: 1_000)
        #expect(pacer.pace([OutputTarget(output)]) == 0)
        fill(output, 200)
        var disabled = OutputPacer(threshold: 0, maxWaitMicroseconds: 1_000)
        #expect(disabled.pace([OutputTarget(output)]) == 0)
        control.blocked.store(false, ordering: .releasing)
        _ = output.worker.close(drainTimeout: .seconds(5))
    }
}
