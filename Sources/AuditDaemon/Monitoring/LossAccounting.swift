package import AuditEncoding
import AuditEvents
import AuditPipeline
package import AuditWriters
package import Logging

/// Turns the stages' counters into the daemon's loss counters, and those into loss events.
///
/// Each loss is counted once, wherever it happened:
/// - an output replaced by a reload keeps counting from where its old worker stopped (the old
///   worker's final drops are carried over by ``retire(_:report:)``), so a reload neither hides
///   nor repeats a drop;
/// - a daemon status line (a loss event itself, a reload event) that a dead output's full queue
///   refuses is not an audit event: it is left out, or every loss report that a dead output drops
///   would be a new drop to report, one loss event per `loss_report_interval` for as long as the
///   output stays dead.
package struct LossAccounting {
    /// Final drop counts of workers that reloads retired, by output name.
    private var retiredDrops: [String: Int] = [:]
    /// Final spool damage counts of workers that reloads retired, by output name.
    private var retiredSpoolTorn: [String: Int] = [:]
    /// Workers that reloads retired, with the drops their close report counted: the processing
    /// thread may still hand such a worker events after the report was taken (a batch in hand
    /// when the reload's wait for it ran out), and the closed worker drops them. Those late drops
    /// are counted from the live counters, not lost with the report.
    private var retiredWorkers: [(name: String, worker: OutputWorker, reported: Int)] = []
    private var monitor = LossMonitor()
    /// Reading the multicast group (see ``LossCounters/multicast``).
    private let multicast: Bool

    package init(multicast: Bool = false) { self.multicast = multicast }

    /// The loss counters for `snapshot`, with the kernel's running `lost` total.
    package func counters(_ snapshot: PipelineSnapshot, kernelLost: Int) -> LossCounters {
        var counters = LossCounters()
        counters.multicast = multicast
        counters.kernelLost = kernelLost
        counters.foreignDatagrams = snapshot.reader.rejected
        counters.socketOverflows = snapshot.reader.overflows
        let reassembler = snapshot.processing.reassembler
        // An EOE whose header does not parse is dropped by the reassembler: a malformed datagram too.
        counters.malformedDatagrams =
            snapshot.reader.malformed + snapshot.processing.malformedDatagrams + Int(reassembler.malformedEndOfEvents)
        // Missing serials ever declared, so late arrivals never make the count go down (and
        // consumers summing the reported increases get the right total).
        counters.serialGaps = Int(reassembler.lostSerials + reassembler.recoveredSerials)
        counters.receiveErrors = snapshot.reader.receiveErrors
        counters.evictedEvents = Int(reassembler.evictedEvents)
        counters.truncatedEvents = Int(reassembler.truncatedEvents)
        counters.ringStalls = snapshot.ringStalls
        for retired in retiredWorkers {
            let late = retired.worker.counters.dropped - retired.reported
            if late > 0 { counters.writerDrops[retired.name, default: 0] += late }
        }
        for output in snapshot.outputs {
            let writer = output.writer
            // Items the writer refused when read back from its spool are drops like any rejection.
            counters.writerDrops[output.name, default: 0] +=
                (retiredDrops[output.name] ?? 0) + writer.dropped + writer.rejected - output.refusedStatusLines
                + (writer.spool?.rejected ?? 0)
            if let spool = writer.spool {
                counters.spools[output.name] = spool
                counters.spoolTorn[output.name] = (retiredSpoolTorn[output.name] ?? 0) + spool.damagedRegions
            }
            counters.writerTruncations[output.name] = writer.activity.oversizeTruncated
            counters.writerRefusals[output.name] = writer.activity.refusedDatagrams
        }
        return counters
    }

    /// Remembers the final counters of an output's worker that a reload closed, so the output's
    /// drops go on from there if a new worker of the same name replaces it.
    /// (Its refused status lines stay in the carried count: the snapshot's `refusedStatusLines`
    /// counts those of every worker the output had.)
    package mutating func retire(_ name: String, report: WriterCloseReport, worker: OutputWorker? = nil) {
        let counters = report.counters
        if let worker {
            // A worker retired twice over (reload after reload) is not kept forever: those of
            // earlier reloads have had all the time a batch takes.
            for earlier in retiredWorkers where earlier.name == name {
                retiredDrops[name, default: 0] += max(0, earlier.worker.counters.dropped - earlier.reported)
            }
            retiredWorkers.removeAll { $0.name == name }
            retiredWorkers.append((name, worker, counters.dropped))
        }
        retiredDrops[name, default: 0] +=
            counters.dropped + counters.rejected + counters.droppedAtShutdown + (counters.spool?.rejected ?? 0)
        retiredSpoolTorn[name, default: 0] += counters.spool?.damagedRegions ?? 0
    }

    /// The loss events for everything that grew since the last call (each logged, rate-limited
    /// per reason by the log's own handler).
    package mutating func events(_ snapshot: PipelineSnapshot, kernelLost: Int, logger: Logger) -> [StatusEvent] {
        monitor.events(for: counters(snapshot, kernelLost: kernelLost), logger: logger)
    }
}
