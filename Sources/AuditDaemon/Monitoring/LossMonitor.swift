import AuditEncoding
import AuditPipeline
import AuditWriters
import Logging

/// Every counter that means "something was lost or cut short", from every stage, in one place.
struct LossCounters: Hashable, Sendable {
    /// Records the kernel dropped (AUDIT_GET `lost`), as a running total that survives resets.
    var kernelLost = 0
    /// `ENOBUFS` on our socket: datagrams the kernel could not queue for us.
    var socketOverflows = 0
    /// Datagrams that did not decode, dropped.
    var malformedDatagrams = 0
    /// Serials never seen (gaps), net of late arrivals.
    var serialGaps = 0
    /// Events emitted without their end because the in-flight bound was reached.
    var evictedEvents = 0
    /// Receive calls that failed for another reason than ENOBUFS (the reader retries).
    var receiveErrors = 0
    /// Times the reader had to wait for ring space (no loss by itself; the kernel backlog absorbs).
    var ringStalls = 0
    /// Per output: items dropped at its queue or rejected by its writer.
    var writerDrops: [String: Int] = [:]
    /// Per output: events shortened (with a marker) to fit the destination's message limit.
    var writerTruncations: [String: Int] = [:]
    /// Per output: UDP datagrams the destination refused (ECONNREFUSED: nobody listening).
    var writerRefusals: [String: Int] = [:]
}

/// Turns counter increases into structured loss events and log lines.
///
/// Loss is data: each increase becomes one `swift-audit.loss` event on every output, with the
/// reason, the increase and the running total, so an auditor reading the JSON sees exactly where
/// the trail has holes; the log line for a reason is rate-limited, the event never is.
struct LossMonitor {
    private var reported = LossCounters()
    private var lastKernelLost: UInt32?

    /// Folds a new kernel `lost` reading into a running total (it is a 32-bit counter that
    /// `--reset-lost` may set back to 0).
    mutating func kernelLostTotal(reading: UInt32, total: inout Int) {
        defer { lastKernelLost = reading }
        guard let last = lastKernelLost else { return }  // the first reading is the baseline
        total += reading >= last ? Int(reading - last) : Int(reading)
    }

    /// The loss events for everything that grew since the last call.
    mutating func events(for current: LossCounters, logger: Logger) -> [StatusEvent] {
        var events: [StatusEvent] = []
        func check(_ reason: LossReason, _ now: Int, _ before: Int, output: String? = nil, message: String) {
            guard now > before else { return }
            events.append(
                StatusEvent.loss(reason: reason, count: UInt64(now - before), total: UInt64(now), output: output))
            var metadata: Logger.Metadata = [
                "reason": "\(reason.rawValue)", "count": "\(now - before)", "total": "\(now)",
            ]
            if let output { metadata["output"] = "\(output)" }
            logger.warning("\(message)", metadata: metadata)
        }
        check(
            .kernelLost, current.kernelLost, reported.kernelLost,
            message: "the kernel dropped audit records (lost counter grew)")
        check(
            .enobufs, current.socketOverflows, reported.socketOverflows,
            message: "socket buffer overflow (ENOBUFS): records lost before reaching the daemon")
        check(
            LossReason(rawValue: "malformed_datagram"), current.malformedDatagrams, reported.malformedDatagrams,
            message: "malformed datagrams were dropped")
        check(
            .serialGap, current.serialGaps, reported.serialGaps, message: "serial gaps: events never reached the daemon"
        )
        check(
            .eviction, current.evictedEvents, reported.evictedEvents,
            message: "events emitted incomplete: too many events in flight")
        check(
            LossReason(rawValue: "receive_error"), current.receiveErrors, reported.receiveErrors,
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
                LossReason(rawValue: "writer_truncated"), count, reported.writerTruncations[output] ?? 0,
                output: output,
                message: "an output shortened events to fit its message limit (marked)")
        }
        for (output, count) in current.writerRefusals.sorted(by: { $0.key < $1.key }) {
            check(
                LossReason(rawValue: "writer_refused"), count, reported.writerRefusals[output] ?? 0, output: output,
                message: "an output's datagrams were refused (nobody listening)")
        }
        reported = current
        return events
    }
}
