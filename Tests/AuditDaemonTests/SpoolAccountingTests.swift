import AuditDaemon
import AuditEncoding
import AuditPipeline
import AuditWriters
import Logging
import Testing

/// How a spooling output's counters reach the loss events and `STATUS=`.
@Suite struct SpoolAccountingTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func snapshot(dropped: Int = 0, spoolRejected: Int = 0, torn: Int = 0, entries: Int = 0) -> PipelineSnapshot
    {
        var writer = WriterCounters(name: "relay")
        writer.dropped = dropped
        var spool = SpoolStatus(directory: "/var/spool/relay")
        spool.rejected = spoolRejected
        spool.tornTails = torn
        spool.entries = entries
        spool.bytes = entries * 100
        spool.oldestTime = 1_000_000
        writer.spool = spool
        return PipelineSnapshot(outputs: [.init(name: "relay", writer: writer)])
    }

    @Test func spoolRefusalsAreWriterDropsAndDamageIsSpoolTorn() {
        var accounting = LossAccounting()
        let events = accounting.events(
            Self.snapshot(dropped: 2, spoolRejected: 3, torn: 1, entries: 40), kernelLost: 0, logger: logger)
        #expect(lossReasons(events) == ["writer_drop 5", "spool_torn 1"])
        // Each carries how much waits in the spool.
        for event in events {
            let keys = event.fields.map(\.key)
            #expect(keys.contains("spool_events") && keys.contains("spool_bytes") && keys.contains("spool_age_s"))
            #expect(event.fields.first { $0.key == "spool_events" }?.value == .integer(40))
        }
        #expect(
            accounting.events(Self.snapshot(dropped: 2, spoolRejected: 3, torn: 1), kernelLost: 0, logger: logger)
                .isEmpty)
    }

    @Test func theStatusLineShowsTheSpoolDepthAndAge() {
        let text = StatusLine.text(
            Self.snapshot(torn: 1, entries: 40), loss: LossCounters(), kernelBacklog: 0, now: 1_000_000 + 65_000)
        #expect(
            text.contains("relay: ok written 0 dropped 0 bytes 0 spool 40 events 4000 bytes age 65s torn 1"), "\(text)")
    }
}
