package import AuditEncoding
import AuditPipeline
import AuditSystem
package import AuditWriters
package import Logging

/// Every counter that means "something was lost or cut short", from every stage, in one place.
package struct LossCounters: Hashable, Sendable {
    /// Read from the multicast group (`socket = multicast`): the kernel's `lost` counter is then the
    /// registered daemon's, reported as information, and ENOBUFS is `multicast_overrun`.
    package var multicast = false
    /// Records the kernel dropped (AUDIT_GET `lost`), as a running total that survives resets.
    package var kernelLost = 0
    /// `ENOBUFS` on our socket: datagrams the kernel could not queue for us.
    package var socketOverflows = 0
    /// Datagrams that did not decode, dropped.
    package var malformedDatagrams = 0
    /// Datagrams on the multicast socket from another sender than the kernel, dropped.
    package var foreignDatagrams = 0
    /// Serials never seen (gaps), net of late arrivals.
    package var serialGaps = 0
    /// Events emitted without their end because the in-flight bound was reached.
    package var evictedEvents = 0
    /// Events cut at the bound on one event (`max_event_records`, `max_event_bytes`).
    package var truncatedEvents = 0
    /// Receive calls that failed for another reason than ENOBUFS (the reader retries).
    package var receiveErrors = 0
    /// Times the reader had to wait for ring space (no loss by itself; the kernel backlog absorbs).
    package var ringStalls = 0
    /// Per output: items dropped at its queue or rejected by its writer.
    package var writerDrops: [String: Int] = [:]
    /// Per output: events shortened (with a marker) to fit the destination's message limit.
    package var writerTruncations: [String: Int] = [:]
    /// Per output: UDP datagrams the destination refused (ECONNREFUSED: nobody listening).
    package var writerRefusals: [String: Int] = [:]
    /// Per output with a disk spool: damaged regions found in it (each lost at least one event).
    package var spoolTorn: [String: Int] = [:]
    /// Per output with a disk spool: its state, for the spool fields of that output's loss events.
    package var spools: [String: SpoolStatus] = [:]

    package init() {}
}

/// Turns counter increases into structured loss events and log lines.
///
/// Loss is data: each increase becomes one `swift-audit.loss` event on every output, with the
/// reason, the increase and the running total, so an auditor reading the JSON sees exactly where
/// the trail has holes; the log line for a reason is rate-limited, the event never is.
package struct LossMonitor {
    private var reported = LossCounters()

    package init() {}

    /// The loss events for everything that grew since the last call.
    package mutating func events(for current: LossCounters, logger: Logger) -> [StatusEvent] {
        var events: [StatusEvent] = []
        let wallClock = SystemClock.realtimeMilliseconds()
        func check(_ reason: LossReason, _ now: Int, _ before: Int, output: String? = nil, message: String) {
            guard now > before else { return }
            // An output with a spool: how much waits on disk, and since when.
            var extra: [(key: String, value: StatusEvent.Value)] = []
            if let output, let spool = current.spools[output] {
                extra = [
                    ("spool_events", .integer(Int64(spool.entries))), ("spool_bytes", .integer(Int64(spool.bytes))),
                    ("spool_age_s", .unsigned(spool.ageSeconds(now: wallClock))),
                ]
            }
            events.append(
                StatusEvent.loss(
                    reason: reason, count: UInt64(now - before), total: UInt64(now), output: output, extra: extra))
            var metadata: Logger.Metadata = [
                "reason": "\(reason.rawValue)", "count": "\(now - before)", "total": "\(now)",
            ]
            if let output { metadata["output"] = "\(output)" }
            logger.warning("\(message)", metadata: metadata)
        }
        if current.multicast {
            // The counter grows when the kernel drops a record before any reader got it (at the
            // backlog limit: lost to us too) and when the registered daemon does not take its
            // copy (ours may have arrived): it cannot say which, so it is no loss event of ours.
            if current.kernelLost > reported.kernelLost {
                logger.notice(
                    "the kernel's lost counter grew (the registered daemon's; this multicast reader may have the records)",
                    metadata: [
                        "count": "\(current.kernelLost - reported.kernelLost)", "total": "\(current.kernelLost)",
                    ])
            }
            check(
                .multicastOverrun, current.socketOverflows, reported.socketOverflows,
                message: "multicast socket overflow (ENOBUFS): the kernel dropped its copies of records for this reader"
            )
            check(
                .foreignSender, current.foreignDatagrams, reported.foreignDatagrams,
                message: "datagrams from a sender other than the kernel on the multicast socket were dropped (forged)")
        } else {
            check(
                .kernelLost, current.kernelLost, reported.kernelLost,
                message: "the kernel dropped audit records (lost counter grew)")
            check(
                .enobufs, current.socketOverflows, reported.socketOverflows,
                message: "socket buffer overflow (ENOBUFS): records lost before reaching the daemon")
        }
        check(
            .malformedDatagram, current.malformedDatagrams, reported.malformedDatagrams,
            message: "malformed datagrams were dropped")
        check(
            .serialGap, current.serialGaps, reported.serialGaps, message: "serial gaps: events never reached the daemon"
        )
        check(
            .eviction, current.evictedEvents, reported.evictedEvents,
            message: "events emitted incomplete: too many events in flight")
        check(
            .eventTruncated, current.truncatedEvents, reported.truncatedEvents,
            message: "events cut at max_event_records/max_event_bytes (written with flags truncated)")
        check(
            .receiveError, current.receiveErrors, reported.receiveErrors,
            message: "receiving from the audit socket failed")
        check(
            .ringStall, current.ringStalls, reported.ringStalls,
            message: "the reader waited for ring space (processing fell behind)")
        for (output, drops) in current.writerDrops.sorted(by: { $0.key < $1.key }) {
            check(
                .writerDrop, drops, reported.writerDrops[output] ?? 0, output: output,
                message: "an output dropped events")
        }
        for (output, count) in current.writerTruncations.sorted(by: { $0.key < $1.key }) {
            check(
                .writerTruncated, count, reported.writerTruncations[output] ?? 0,
                output: output,
                message: "an output shortened events to fit its message limit (marked)")
        }
        for (output, count) in current.spoolTorn.sorted(by: { $0.key < $1.key }) {
            check(
                .spoolTorn, count, reported.spoolTorn[output] ?? 0, output: output,
                message: "an output's disk spool held damaged entries (cut off and skipped)")
        }
        for (output, count) in current.writerRefusals.sorted(by: { $0.key < $1.key }) {
            check(
                .writerRefused, count, reported.writerRefusals[output] ?? 0, output: output,
                message: "an output's datagrams were refused (nobody listening)")
        }
        reported = current
        return events
    }
}
