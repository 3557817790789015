import AuditDaemon
import Testing

/// `swift-audit stats`: the exposition read back and printed for a person.
@Suite struct MetricsReportTests {
    static let text = String(
        decoding: MetricsText.render(MetricsExpositionTests.fullSnapshot(), server: MetricsServerCounters()),
        as: UTF8.self)

    @Test func readsBackEverySampleOfTheExposition() {
        let report = MetricsReport(parsing: Self.text)
        let sampleLines = Self.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(report.samples.count == sampleLines.count)
        #expect(report.value("swift_audit_output_events_emitted_total", ["output": "main"]) == 855)
        #expect(report.value("swift_audit_output_loss_total", ["output": "relay", "reason": "writer_drop"]) == 7)
        let escaped = MetricsReport(parsing: "m{a=\"x\\\"y,z\",b=\"\\\\\"} 3 1700000000\n")
        #expect(escaped.value("m", ["a": "x\"y,z", "b": "\\"]) == 3)
    }

    @Test func theSummarySaysWhatIsWrongAtAGlance() {
        let summary = MetricsReport(parsing: Self.text).text(source: "127.0.0.1:9477", now: 1_700_003_600_000)
        let lines = summary.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasSuffix(", up 1h 0m, metrics from 127.0.0.1:9477"), "\(summary)")
        #expect(
            lines.contains(
                "kernel        registered yes, enabled 1, backlog 6 of 8192, lost 99 (the kernel's counter), tasks waited 250 jiffies"
            ), "\(summary)")
        #expect(
            lines.contains(
                "loss          kernel_lost 12, enobufs 2, writer_drop 7 (relay), writer_truncated 2 (relay)"),
            "\(summary)")
        #expect(lines.contains("output  state    received  emitted  filtered  dropped  bytes      queue"), "\(summary)")
        #expect(
            lines.contains("relay   FAILING  807       700      60        7        0 B        0/1024 (peak 0)"),
            "\(summary)")
        #expect(lines.contains("  relay: spool 100 events, 48.8 KiB, oldest 1m 0s"), "\(summary)")
        #expect(lines.contains("  relay: failed connects 9, resent 11"), "\(summary)")
    }
}
