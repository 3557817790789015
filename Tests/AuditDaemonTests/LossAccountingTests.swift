import AuditDaemon
import AuditEncoding
import AuditNetlink
import AuditPipeline
import AuditWriters
import Logging
import Testing

/// A snapshot with one output whose worker dropped `dropped` items, `refused` of them status lines.
func snapshot(output: String = "main", dropped: Int = 0, refused: Int = 0, overflows: Int = 0) -> PipelineSnapshot {
    var writer = WriterCounters(name: output)
    writer.dropped = dropped
    var reader = KernelReader.Counters()
    reader.overflows = overflows
    return PipelineSnapshot(
        reader: reader, outputs: [.init(name: output, writer: writer, refusedStatusLines: refused)])
}

/// "REASON COUNT" for each loss event.
func lossReasons(_ events: [StatusEvent]) -> [String] {
    func text(_ key: String, _ event: StatusEvent) -> String {
        switch event.fields.first(where: { $0.key == key })?.value {
        case .string(let value): value
        case .unsigned(let value): "\(value)"
        case .integer(let value): "\(value)"
        default: "?"
        }
    }
    return events.map { "\(text("reason", $0)) \(text("count", $0))" }
}

@Suite struct LossAccountingTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func aLossIsReportedOnceAndAgainOnlyWhenItGrows() {
        var accounting = LossAccounting()
        let first = accounting.events(snapshot(overflows: 3), kernelLost: 0, logger: logger)
        #expect(first.count == 1)
        #expect(accounting.events(snapshot(overflows: 3), kernelLost: 0, logger: logger).isEmpty)
        let grown = accounting.events(snapshot(overflows: 5), kernelLost: 0, logger: logger)
        #expect(grown.count == 1)
        #expect(
            lossReasons(grown).first?.hasSuffix(" 2") == true, "the event carries the increase: \(lossReasons(grown))")
    }

    @Test func statusLinesADeadOutputRefusedAreNotCountedAsDrops() {
        var accounting = LossAccounting()
        // 10 audit events dropped, then only status lines (the loss reports themselves) refused.
        #expect(accounting.events(snapshot(dropped: 10), kernelLost: 0, logger: logger).count == 1)
        #expect(accounting.events(snapshot(dropped: 11, refused: 1), kernelLost: 0, logger: logger).isEmpty)
        #expect(accounting.events(snapshot(dropped: 14, refused: 4), kernelLost: 0, logger: logger).isEmpty)
        #expect(accounting.counters(snapshot(dropped: 14, refused: 4), kernelLost: 0).writerDrops["main"] == 10)
    }

    @Test func dropsOfAWorkerARetiredByAReloadCarryOverToItsReplacement() {
        var accounting = LossAccounting()
        #expect(accounting.events(snapshot(dropped: 7), kernelLost: 0, logger: logger).count == 1)
        var final = WriterCounters(name: "main")
        final.dropped = 7
        final.droppedAtShutdown = 2
        accounting.retire("main", report: WriterCloseReport(counters: final, finished: true))
        // The new worker starts from zero: the total goes on from 9, and only the 2 lost when the
        // old worker closed are new.
        let events = accounting.events(snapshot(dropped: 0), kernelLost: 0, logger: logger)
        #expect(lossReasons(events) == ["writer_drop 2"])
        #expect(accounting.counters(snapshot(dropped: 1), kernelLost: 0).writerDrops["main"] == 10)
    }

    /// A batch the processing thread still had in hand when the reload's wait for it ran out
    /// reaches the retired worker after its close report was taken: those drops count too.
    @Test func dropsAfterARetiredWorkersCloseReportAreCounted() throws {
        struct NullWriter: EventWriter {
            var name: String { "null" }
            mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome { WriteOutcome() }
            mutating func flush() throws(WriterError) {}
            mutating func close() throws(WriterError) {}
        }
        var accounting = LossAccounting()
        let worker = try OutputWorker(NullWriter())
        let report = worker.close(drainTimeout: .seconds(1))
        accounting.retire("main", report: report, worker: worker)
        #expect(accounting.counters(snapshot(output: "other"), kernelLost: 0).writerDrops["main"] ?? 0 == 0)
        for _ in 0..<3 { #expect(!worker.enqueue(OutputItem(line: Array("{}".utf8)))) }
        let counters = accounting.counters(snapshot(output: "other"), kernelLost: 0)
        #expect(counters.writerDrops["main"] == 3, "\(counters.writerDrops)")
        let events = accounting.events(snapshot(output: "main"), kernelLost: 0, logger: logger)
        #expect(lossReasons(events) == ["writer_drop 3"])
    }

    @Test func theKernelsLostCounterCountsFromTheFirstReadingAndSurvivesAReset() {
        var monitor = KernelMonitor(intervalMilliseconds: 1000)
        monitor.record(AuditStatus(lost: 100))
        #expect(monitor.lostTotal == 0)
        monitor.record(AuditStatus(lost: 130))
        #expect(monitor.lostTotal == 30)
        monitor.record(AuditStatus(lost: 5))  // `--reset-lost`, then 5 more
        #expect(monitor.lostTotal == 35)
    }

    @Test func everyLossReasonHasItsOwnEvent() {
        var accounting = LossAccounting()
        var current = snapshot(dropped: 1, overflows: 1)
        current.reader.malformed = 1
        current.reader.receiveErrors = 1
        current.ringStalls = 1
        current.outputs[0].writer.activity.oversizeTruncated = 1
        current.outputs[0].writer.activity.refusedDatagrams = 1
        let reasons = Set(lossReasons(accounting.events(current, kernelLost: 1, logger: logger)))
        #expect(
            reasons == [
                "kernel_lost 1", "enobufs 1", "malformed_datagram 1", "receive_error 1", "ring_stall 1",
                "writer_drop 1", "writer_truncated 1", "writer_refused 1",
            ])
    }
}
