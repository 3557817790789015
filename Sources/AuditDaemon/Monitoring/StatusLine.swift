import AuditFilters
import AuditPipeline
import AuditProcesses
import AuditSystem
import AuditWriters

/// The one line `systemctl status` shows (`STATUS=`): what flowed, what was lost, how each output
/// does.
package enum StatusLine {
    package static func text(
        _ snapshot: PipelineSnapshot, loss: LossCounters, kernelBacklog: UInt32,
        now: UInt64 = SystemClock.realtimeMilliseconds()
    ) -> String {
        var parts = [
            "events \(snapshot.processing.events)",
            "kernel lost \(loss.kernelLost)",
            "enobufs \(loss.socketOverflows)",
            "gaps \(loss.serialGaps)",
            "backlog \(kernelBacklog)",
        ]
        if loss.multicast {
            // The kernel's counters are the registered daemon's; ENOBUFS is this reader's overrun.
            parts = [
                "mode=multicast", "events \(snapshot.processing.events)",
                "multicast overruns \(loss.socketOverflows)", "gaps \(loss.serialGaps)",
                "daemon's kernel lost \(loss.kernelLost)", "backlog \(kernelBacklog)",
            ]
            if loss.foreignDatagrams > 0 { parts.append("forged \(loss.foreignDatagrams)") }
        }
        let filters = snapshot.processing.filters
        if !filters.rules.isEmpty { parts.append("filtered \(snapshot.processing.filteredEvents)") }
        if snapshot.processing.processEntries > 0 {
            var part = "processes \(snapshot.processing.processEntries)"
            if snapshot.processing.processes.evicted > 0 { part += " evicted \(snapshot.processing.processes.evicted)" }
            parts.append(part)
        }
        for output in snapshot.outputs {
            let counters = output.writer
            var part =
                "\(output.name): \(counters.isFailing ? "FAILING" : "ok") written \(counters.written) "
                + "dropped \(counters.dropped + counters.rejected) bytes \(counters.bytes)"
            if let filtered = filters.outputs.first(where: { $0.name == output.name }), filtered.count > 0 {
                part += " filtered \(filtered.count)"
            }
            if counters.activity.reconnects > 0 { part += " reconnects \(counters.activity.reconnects)" }
            if counters.activity.oversizeTruncated > 0 { part += " truncated \(counters.activity.oversizeTruncated)" }
            if counters.activity.oversizeSplit > 0 { part += " split \(counters.activity.oversizeSplit)" }
            if counters.activity.resent > 0 { part += " resent \(counters.activity.resent)" }
            if let spool = counters.spool {
                part += " spool \(spool.entries) events \(spool.bytes) bytes age \(spool.ageSeconds(now: now))s"
                if spool.damagedRegions > 0 { part += " torn \(spool.damagedRegions)" }
            }
            parts.append(part)
        }
        return parts.joined(separator: "; ")
    }
}
