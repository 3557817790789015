import AuditDaemon
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditPipeline
import AuditProcesses
import AuditTestSupport
import AuditWriters
import Testing

/// The exposition text for a snapshot with every kind of counter, read back by Prometheus's own
/// Python parser.
@Suite struct MetricsExpositionTests {
    /// Two outputs (one network output with a spool), filters, the process table, the kernel.
    static func fullSnapshot() -> MetricsSnapshot {
        var reader = KernelReader.Counters()
        reader.datagrams = 1000
        reader.overflows = 2
        var processing = ProcessorStatistics()
        processing.events = 900
        processing.filteredEvents = 40
        processing.reassemblerInFlight = 3
        processing.reassembler.evictedEvents = 1
        processing.reassembler.lateRecords = 5
        processing.reassembler.recordsEmitted = 2700
        processing.reassembler.inFlightHighWater = 17
        processing.processEntries = 123
        processing.processes.evicted = 4
        processing.filters.rules = [NamedCount(name: "noisy", count: 40)]
        processing.filters.outputs = [NamedCount(name: "relay", count: 60)]
        var main = WriterCounters(name: "main")
        main.enqueued = 860
        main.written = 855
        main.queued = 5
        main.bytes = 123_456
        var relay = WriterCounters(name: "relay")
        relay.enqueued = 800
        relay.dropped = 7
        relay.written = 700
        relay.isFailing = true
        relay.activity.connectFailures = 9
        relay.activity.resent = 11
        relay.activity.oversizeTruncated = 2
        var spool = SpoolStatus(directory: "/var/lib/swift-audit/relay")
        spool.entries = 100
        spool.bytes = 50_000
        spool.oldestTime = 1_700_000_000_000
        relay.spool = spool
        let pipeline = PipelineSnapshot(
            reader: reader, processing: processing, ringStalls: 1,
            outputs: [.init(name: "main", writer: main), .init(name: "relay", writer: relay)])
        var loss = LossCounters()
        loss.kernelLost = 12
        loss.socketOverflows = 2
        loss.writerDrops = ["relay": 7]
        loss.writerTruncations = ["relay": 2]
        loss.spoolTorn = ["relay": 0]
        let kernel = AuditStatus(
            enabled: .enabled, pid: 42, backlogLimit: 8192, lost: 99, backlog: 6, backlogWaitTime: 60000,
            backlogWaitTimeActual: 250)
        return MetricsSnapshot(
            pipeline: pipeline, loss: loss, kernel: kernel, registered: true,
            queueCapacities: ["main": 8192, "relay": 1024], reloadsApplied: 2, reloadsFailed: 1, ringBytes: 1 << 20,
            ringPeakBytes: 4096, processContext: true, startTime: 1_700_000_000_500, time: 1_700_000_060_000)
    }

    @Test(.requires(.prometheusClient))
    func theReferenceParserReadsEveryFamilyWithItsTypeAndHelp() throws {
        try TestRequirement.prometheusClient.check()
        let text = String(
            decoding: MetricsText.render(Self.fullSnapshot(), server: MetricsServerCounters()), as: UTF8.self)
        let exposition = try PrometheusExposition(parsing: text)
        #expect(exposition.families.count > 40)
        for family in exposition.families {
            #expect(family.name.hasPrefix("swift_audit_"), "\(family.name)")
            #expect(!family.help.isEmpty, "\(family.name) has HELP")
            #expect(["counter", "gauge"].contains(family.type), "\(family.name): \(family.type)")
            #expect(!family.samples.isEmpty, "\(family.name)")
            if family.type == "counter" {
                #expect(family.samples.allSatisfy { $0.name == family.name + "_total" }, "\(family.name)")
            }
        }
        // Per-output counters, spool, loss reasons at zero too, the kernel, the reassembler.
        let checks: [(String, [String: String], Double)] = [
            ("swift_audit_output_events_received_total", ["output": "relay"], 807),
            ("swift_audit_output_events_emitted_total", ["output": "main"], 855),
            ("swift_audit_output_events_filtered_total", ["output": "relay"], 60),
            ("swift_audit_output_events_filtered_total", ["output": "main"], 0),
            ("swift_audit_output_bytes_total", ["output": "main"], 123_456),
            ("swift_audit_output_queue_events", ["output": "main"], 5),
            ("swift_audit_output_queue_capacity_events", ["output": "relay"], 1024),
            ("swift_audit_output_up", ["output": "relay"], 0),
            ("swift_audit_output_up", ["output": "main"], 1),
            ("swift_audit_output_connect_failures_total", ["output": "relay"], 9),
            ("swift_audit_output_resent_events_total", ["output": "relay"], 11),
            ("swift_audit_output_oversize_events_total", ["output": "relay", "action": "truncated"], 2),
            ("swift_audit_output_spool_events", ["output": "relay"], 100),
            ("swift_audit_output_spool_bytes", ["output": "relay"], 50_000),
            ("swift_audit_output_spool_oldest_age_seconds", ["output": "relay"], 60),
            ("swift_audit_output_loss_total", ["output": "relay", "reason": "writer_drop"], 7),
            ("swift_audit_output_loss_total", ["output": "relay", "reason": "spool_torn"], 0),
            ("swift_audit_output_loss_total", ["output": "main", "reason": "writer_drop"], 0),
            ("swift_audit_loss_total", ["reason": "kernel_lost"], 12),
            ("swift_audit_loss_total", ["reason": "enobufs"], 2),
            ("swift_audit_loss_total", ["reason": "malformed_datagram"], 0),
            ("swift_audit_loss_total", ["reason": "ring_stall"], 0),
            ("swift_audit_kernel_lost_total", [:], 99),
            ("swift_audit_kernel_backlog", [:], 6),
            ("swift_audit_kernel_backlog_limit", [:], 8192),
            ("swift_audit_kernel_backlog_wait_time_actual_jiffies_total", [:], 250),
            ("swift_audit_kernel_registered", [:], 1),
            ("swift_audit_events_total", [:], 900),
            ("swift_audit_events_filtered_total", [:], 40),
            ("swift_audit_filter_decisions_total", ["filter": "noisy"], 40),
            ("swift_audit_datagrams_received_total", [:], 1000),
            ("swift_audit_reassembler_in_flight_events", [:], 3),
            ("swift_audit_reassembler_in_flight_peak_events", [:], 17),
            ("swift_audit_reassembler_evicted_events_total", [:], 1),
            ("swift_audit_reassembler_late_records_total", [:], 5),
            ("swift_audit_process_table_entries", [:], 123),
            ("swift_audit_process_table_evictions_total", [:], 4),
            ("swift_audit_reloads_total", ["result": "applied"], 2),
            ("swift_audit_reloads_total", ["result": "failed"], 1),
            ("swift_audit_start_time_seconds", [:], 1_700_000_000),
            ("swift_audit_build_info", ["version": BuildInfo.version, "commit": BuildInfo.commit], 1),
            ("swift_audit_metrics_responses_total", ["code": "431"], 0),
        ]
        for (name, labels, value) in checks {
            #expect(exposition.value(name, labels) == value, "\(name) \(labels)")
        }
        // Outputs without a spool have no spool series.
        #expect(exposition.value("swift_audit_output_spool_events", ["output": "main"]) == nil)
    }

    @Test func beforeTheFirstSnapshotOnlyTheBuildIsShown() {
        let text = String(decoding: MetricsText.render(nil), as: UTF8.self)
        #expect(text.hasPrefix("# HELP swift_audit_build_info "))
        #expect(text.split(separator: "\n").count == 3)
    }

    @Test func helpTextsAndLabelValuesAreEscaped() {
        var text = MetricsText()
        text.family("m", .gauge, "a \\ b\nc")
        text.sample("m", ["l": "x\"y\\z\nw"], 1)
        #expect(
            String(decoding: text.bytes, as: UTF8.self)
                == "# HELP m a \\\\ b\\nc\n# TYPE m gauge\nm{l=\"x\\\"y\\\\z\\nw\"} 1\n")
    }

    @Test func withoutProcessContextOrKernelReadingTheirFamiliesAreLeftOut() {
        var snapshot = Self.fullSnapshot()
        snapshot.processContext = false
        snapshot.kernel = nil
        let text = String(decoding: MetricsText.render(snapshot), as: UTF8.self)
        #expect(!text.contains("swift_audit_process_table"))
        #expect(!text.contains("swift_audit_kernel_backlog"))
        #expect(text.contains("swift_audit_loss_total{reason=\"kernel_lost\"} 12"))
    }
}
