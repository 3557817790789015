import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditPipeline
import AuditProcesses
import AuditWriters

/// The Prometheus text exposition format (version 0.0.4), written by hand from a
/// ``MetricsSnapshot``: docs/design.md ("Metrics") has the measurements that chose this over
/// swift-prometheus.
///
/// Every family has HELP and TYPE lines; names follow Prometheus's conventions (`swift_audit_`
/// prefix, base units in the name, `_total` on counters). Counters of an output count from its
/// worker's start: an output that a reload replaced starts again from zero, which Prometheus reads
/// as a counter reset (`rate` and `increase` handle it). Loss counters are the daemon's own running
/// totals and never go back.
package struct MetricsText {
    /// The exposition so far.
    package private(set) var bytes: [UInt8] = []

    package init() { bytes.reserveCapacity(16 << 10) }

    /// A metric type.
    package enum Kind: String {
        case counter, gauge
    }

    /// Starts a family: its HELP and TYPE lines.
    package mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        append("# HELP ")
        append(name)
        append(" ")
        for byte in help.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            default: bytes.append(byte)
            }
        }
        append("\n# TYPE ")
        append(name)
        append(" ")
        append(kind.rawValue)
        append("\n")
    }

    /// One sample: `name{label="value",…} value`.
    package mutating func sample<Value: BinaryInteger>(
        _ name: String, _ labels: KeyValuePairs<String, String> = [:], _ value: Value
    ) {
        append(name)
        if !labels.isEmpty {
            append("{")
            var first = true
            for (label, text) in labels {
                if !first { append(",") }
                first = false
                append(label)
                append("=\"")
                for byte in text.utf8 {
                    switch byte {
                    case UInt8(ascii: "\\"): append("\\\\")
                    case UInt8(ascii: "\""): append("\\\"")
                    case UInt8(ascii: "\n"): append("\\n")
                    default: bytes.append(byte)
                    }
                }
                append("\"")
            }
            append("}")
        }
        append(" ")
        append(String(value))
        append("\n")
    }

    /// A family with a single unlabelled sample.
    package mutating func single<Value: BinaryInteger>(_ name: String, _ kind: Kind, _ help: String, _ value: Value) {
        family(name, kind, help)
        sample(name, [:], value)
    }

    private mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
}

/// The metrics of the metrics listener itself (kept by its thread).
package struct MetricsServerCounters: Sendable, Hashable {
    /// Responses sent, by HTTP status code.
    package var responses: [Int: Int] = [:]
    /// Connections closed at once because the connection cap was reached.
    package var refusedConnections = 0
    /// Textfile writes that failed.
    package var textfileErrors = 0

    package init() {}
}

extension MetricsText {
    /// The whole exposition for `snapshot` (nil before the daemon published one: build info only).
    package static func render(_ snapshot: MetricsSnapshot?, server: MetricsServerCounters? = nil) -> [UInt8] {
        var text = MetricsText()
        text.family("swift_audit_build_info", .gauge, "The running swift-audit: version and git commit (always 1).")
        text.sample("swift_audit_build_info", ["version": BuildInfo.version, "commit": BuildInfo.commit], 1)
        if let snapshot { text.daemon(snapshot) }
        if let server { text.server(server) }
        return text.bytes
    }

    private mutating func daemon(_ snapshot: MetricsSnapshot) {
        single(
            "swift_audit_start_time_seconds", .gauge, "When the daemon started, in seconds since the epoch.",
            snapshot.startTime / 1000)
        family("swift_audit_reloads_total", .counter, "Configuration reloads (SIGHUP), by result.")
        sample("swift_audit_reloads_total", ["result": "applied"], snapshot.reloadsApplied)
        sample("swift_audit_reloads_total", ["result": "failed"], snapshot.reloadsFailed)
        kernel(snapshot)
        pipeline(snapshot)
        loss(snapshot)
        outputs(snapshot)
    }

    private mutating func kernel(_ snapshot: MetricsSnapshot) {
        guard let status = snapshot.kernel else { return }
        single(
            "swift_audit_kernel_registered", .gauge,
            "1 when the kernel names this daemon as the audit daemon at the last AUDIT_GET, 0 otherwise.",
            snapshot.registered ? 1 : 0)
        single(
            "swift_audit_kernel_enabled", .gauge, "The kernel's enabled flag: 0 off, 1 on, 2 on and locked.",
            status.enabled.rawValue)
        single(
            "swift_audit_kernel_lost_total", .counter,
            "The kernel's own lost counter: records dropped since boot or the last reset (AUDIT_GET lost).",
            status.lost)
        single(
            "swift_audit_kernel_backlog", .gauge, "Records queued in the kernel for the daemon (AUDIT_GET backlog).",
            status.backlog)
        single(
            "swift_audit_kernel_backlog_limit", .gauge, "Records the kernel queues before it drops or waits.",
            status.backlogLimit)
        single(
            "swift_audit_kernel_backlog_wait_time_jiffies", .gauge,
            "How long an audited task waits for room in a full backlog (kernel jiffies; 0 drops at once).",
            status.backlogWaitTime)
        single(
            "swift_audit_kernel_backlog_wait_time_actual_jiffies_total", .counter,
            "Time audited tasks spent waiting on a full backlog (AUDIT_GET backlog_wait_time_actual, jiffies).",
            status.backlogWaitTimeActual)
    }

    private mutating func pipeline(_ snapshot: MetricsSnapshot) {
        let reader = snapshot.pipeline.reader
        let processing = snapshot.pipeline.processing
        let reassembler = processing.reassembler
        single(
            "swift_audit_datagrams_received_total", .counter, "Datagrams the reader received from the audit socket.",
            reader.datagrams)
        single(
            "swift_audit_kernel_pauses_total", .counter,
            "Reader naps at whose end kauditd had stopped to wait for socket room (backlog_wait_time > 0).",
            reader.kernelPauses)
        single(
            "swift_audit_events_total", .counter, "Audit events the reassembler completed, before the filters.",
            processing.events)
        single(
            "swift_audit_events_filtered_total", .counter,
            "Events that no output takes (the filters kept them from every output; not loss).",
            processing.filteredEvents)
        if !processing.filters.rules.isEmpty {
            family("swift_audit_filter_decisions_total", .counter, "Events each filter rule decided.")
            for rule in processing.filters.rules {
                sample("swift_audit_filter_decisions_total", ["filter": rule.name], rule.count)
            }
        }
        single(
            "swift_audit_records_total", .counter, "Records in the events the reassembler completed.",
            reassembler.recordsEmitted)
        single(
            "swift_audit_reassembler_in_flight_events", .gauge, "Events waiting for their end in the reassembler.",
            processing.reassemblerInFlight)
        single(
            "swift_audit_reassembler_in_flight_peak_events", .gauge, "The most events ever in flight at once.",
            reassembler.inFlightHighWater)
        single(
            "swift_audit_reassembler_evicted_events_total", .counter,
            "Events emitted without their end because max_in_flight was reached.", reassembler.evictedEvents)
        single(
            "swift_audit_reassembler_timed_out_events_total", .counter,
            "Events emitted without their end after end_of_event_timeout.", reassembler.timedOutEvents)
        single(
            "swift_audit_reassembler_late_records_total", .counter,
            "Records whose serial had already been passed (emitted as late events).", reassembler.lateRecords)
        single(
            "swift_audit_reassembler_duplicate_records_total", .counter,
            "Records that arrived after their event had been closed.", reassembler.duplicateRecords)
        single(
            "swift_audit_reassembler_malformed_records_total", .counter, "Records whose header did not parse.",
            reassembler.malformedRecords)
        single(
            "swift_audit_ring_size_bytes", .gauge, "Bytes of the ring between reader and processing.",
            snapshot.ringBytes)
        single(
            "swift_audit_ring_peak_bytes", .gauge, "The most bytes the ring ever held at once.", snapshot.ringPeakBytes)
        if snapshot.processContext {
            let processes = processing.processes
            single(
                "swift_audit_process_table_entries", .gauge, "Processes in the process table.",
                processing.processEntries)
            single(
                "swift_audit_process_table_peak_entries", .gauge, "The most processes the table ever held.",
                processes.peakEntries)
            single(
                "swift_audit_process_table_evictions_total", .counter,
                "Processes evicted to keep the table within process_table_size (their context is lost, not events).",
                processes.evicted)
            single(
                "swift_audit_process_table_expired_total", .counter, "Processes that exited and were expired.",
                processes.expired)
        }
    }

    /// Every loss reason, at zero too (so that `increase()` works from the first scrape), counted
    /// as the `swift-audit.loss` events count them.
    private mutating func loss(_ snapshot: MetricsSnapshot) {
        let loss = snapshot.loss
        family(
            "swift_audit_loss_total", .counter,
            "Losses by reason, as the swift-audit.loss events report them (each in its reason's unit: records, "
                + "datagrams, serials, events, stalls).")
        let reasons: [(LossReason, Int)] = [
            (.kernelLost, loss.kernelLost), (.enobufs, loss.socketOverflows),
            (.malformedDatagram, loss.malformedDatagrams), (.serialGap, loss.serialGaps),
            (.eviction, loss.evictedEvents), (.receiveError, loss.receiveErrors), (.ringStall, loss.ringStalls),
        ]
        for (reason, count) in reasons { sample("swift_audit_loss_total", ["reason": reason.rawValue], count) }
        family(
            "swift_audit_output_loss_total", .counter,
            "An output's losses by reason, as the swift-audit.loss events report them (events; spool_torn: "
                + "damaged spool regions).")
        for output in snapshot.pipeline.outputs {
            let name = output.name
            let perOutput: [(LossReason, Int)] = [
                (.writerDrop, loss.writerDrops[name] ?? 0), (.writerTruncated, loss.writerTruncations[name] ?? 0),
                (.writerRefused, loss.writerRefusals[name] ?? 0),
            ]
            for (reason, count) in perOutput {
                sample("swift_audit_output_loss_total", ["output": name, "reason": reason.rawValue], count)
            }
            if output.writer.spool != nil {
                sample(
                    "swift_audit_output_loss_total", ["output": name, "reason": LossReason.spoolTorn.rawValue],
                    loss.spoolTorn[name] ?? 0)
            }
        }
    }

    private mutating func outputs(_ snapshot: MetricsSnapshot) {
        let outputs = snapshot.pipeline.outputs
        guard !outputs.isEmpty else { return }
        let filtered = Dictionary(
            snapshot.pipeline.processing.filters.outputs.map { ($0.name, $0.count) }, uniquingKeysWith: { a, _ in a })
        func perOutput<Value: BinaryInteger>(
            _ name: String, _ kind: Kind, _ help: String, _ value: (PipelineSnapshot.OutputCounters) -> Value
        ) {
            family(name, kind, help)
            for output in outputs { sample(name, ["output": output.name], value(output)) }
        }
        perOutput("swift_audit_output_up", .gauge, "0 while the output's writer fails and retries, 1 otherwise.") {
            $0.writer.isFailing ? 0 : 1
        }
        perOutput(
            "swift_audit_output_events_received_total", .counter,
            "Events offered to the output's queue (audit events and the daemon's status events), dropped ones included."
        ) { $0.writer.enqueued + $0.writer.dropped }
        perOutput(
            "swift_audit_output_events_emitted_total", .counter, "Events the output's writer wrote or sent."
        ) { $0.writer.written }
        perOutput(
            "swift_audit_output_events_filtered_total", .counter,
            "Events the filters kept from this output (not loss)."
        ) { filtered[$0.name] ?? 0 }
        perOutput("swift_audit_output_bytes_total", .counter, "Bytes the output wrote or sent, framing included.") {
            $0.writer.bytes
        }
        perOutput("swift_audit_output_queue_events", .gauge, "Events waiting in the output's queue.") {
            $0.writer.queued
        }
        perOutput("swift_audit_output_queue_capacity_events", .gauge, "The output's queue_size.") {
            snapshot.queueCapacities[$0.name] ?? 0
        }
        perOutput("swift_audit_output_queue_peak_events", .gauge, "The most events ever waiting in the queue.") {
            $0.writer.peakQueued
        }
        perOutput("swift_audit_output_write_errors_total", .counter, "Failed writes or sends (each retry counts).") {
            $0.writer.writeErrors
        }
        perOutput("swift_audit_output_reconnects_total", .counter, "Connections made again after the first one.") {
            $0.writer.activity.reconnects
        }
        perOutput(
            "swift_audit_output_connect_failures_total", .counter,
            "Connection attempts that failed: refused, timed out, name not resolved, TLS handshake failed."
        ) { $0.writer.activity.connectFailures }
        perOutput(
            "swift_audit_output_resent_events_total", .counter,
            "Events sent again after a lost connection before the collector acknowledged them (RELP: duplicates possible)."
        ) { $0.writer.activity.resent }
        perOutput(
            "swift_audit_output_collector_refusals_total", .counter,
            "Negative acknowledgements from the collector (RELP), each retried."
        ) { $0.writer.activity.refusedByCollector }
        family(
            "swift_audit_output_oversize_events_total", .counter,
            "Events too long for the destination, by what was done (split, truncated, dropped, rerouted to TCP).")
        for output in outputs {
            let activity = output.writer.activity
            for (action, count) in [
                ("split", activity.oversizeSplit), ("truncated", activity.oversizeTruncated),
                ("dropped", activity.oversizeDropped), ("rerouted", activity.oversizeRerouted),
            ] {
                sample("swift_audit_output_oversize_events_total", ["output": output.name, "action": action], count)
            }
        }
        perOutput("swift_audit_output_rotations_total", .counter, "Size rotations of a file output.") {
            $0.writer.rotations
        }
        spools(snapshot)
    }

    private mutating func spools(_ snapshot: MetricsSnapshot) {
        let spooled = snapshot.pipeline.outputs.compactMap { output in output.writer.spool.map { (output.name, $0) } }
        guard !spooled.isEmpty else { return }
        func perSpool<Value: BinaryInteger>(
            _ name: String, _ kind: Kind, _ help: String, _ value: (SpoolStatus) -> Value
        ) {
            family(name, kind, help)
            for (output, spool) in spooled { sample(name, ["output": output], value(spool)) }
        }
        perSpool("swift_audit_output_spool_events", .gauge, "Events waiting in the output's disk spool.") {
            $0.entries
        }
        perSpool("swift_audit_output_spool_bytes", .gauge, "Bytes of the events waiting in the spool.") {
            $0.bytes
        }
        perSpool("swift_audit_output_spool_disk_bytes", .gauge, "Bytes of the spool's segment files on disk.") {
            $0.diskBytes
        }
        perSpool("swift_audit_output_spool_max_bytes", .gauge, "spool_max_size.") { $0.maxSize }
        perSpool(
            "swift_audit_output_spool_oldest_age_seconds", .gauge,
            "Age of the oldest event waiting in the spool (0 when it is empty)."
        ) { $0.ageSeconds(now: snapshot.time) }
        perSpool("swift_audit_output_spooled_events_total", .counter, "Events written to the spool.") {
            $0.spooled
        }
        perSpool("swift_audit_output_spool_drained_events_total", .counter, "Events sent from the spool.") {
            $0.drained
        }
    }

    private mutating func server(_ counters: MetricsServerCounters) {
        family("swift_audit_metrics_responses_total", .counter, "Responses of the metrics listener, by HTTP status.")
        for code in [200, 400, 404, 405, 408, 431] {
            sample("swift_audit_metrics_responses_total", ["code": String(code)], counters.responses[code] ?? 0)
        }
        single(
            "swift_audit_metrics_refused_connections_total", .counter,
            "Connections the metrics listener closed at once because too many were open.", counters.refusedConnections)
        single(
            "swift_audit_metrics_textfile_errors_total", .counter, "Failed writes of metrics_textfile.",
            counters.textfileErrors)
    }
}
