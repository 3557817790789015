import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The daemon on the real kernel with its metrics listener and textfile: scraped with curl, read
/// with Prometheus's own parser, counters moving as audit events flow, and `swift-audit stats`.
@Suite(.serialized, .requires(.kernel), .requires(.curl), .requires(.prometheusClient))
struct DaemonMetricsTests {
    static func scrape(_ port: UInt16) throws -> PrometheusExposition {
        let result = try runProcess(
            HostTools.curl ?? "/usr/bin/curl", ["-sS", "--fail", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
        guard result.status == 0 else { throw DaemonError("curl failed: \(result.standardError)") }
        return try PrometheusExposition(parsing: result.standardOutput)
    }

    @Test func countersMoveAsEventsFlowAndStatsPrintsThem() throws {
        try TestRequirement.curl.check()
        try TestRequirement.prometheusClient.check()
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let textfile = directory.file("swift-audit.prom")
            let port = try DaemonSpoolTests.freeTCPPort()
            let config = try directory.write(
                "swift-audit.conf",
                DaemonEndToEndTests.configuration(
                    DaemonEndToEndTests.fileOutput("main", events),
                    extra: """
                        metrics_listen = 127.0.0.1:\(port)
                        metrics_textfile = \(textfile)
                        metrics_interval = 1s
                        """))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try DaemonEndToEndTests.addRule()

            let before = try Self.scrape(port)
            #expect(before.value("swift_audit_kernel_registered") == 1)
            #expect((before.value("swift_audit_kernel_backlog_limit") ?? 0) > 0)
            #expect(before.value("swift_audit_output_queue_capacity_events", ["output": "main"]) == 8192)
            #expect(before.value("swift_audit_output_up", ["output": "main"]) == 1)
            #expect(before.value("swift_audit_loss_total", ["reason": "kernel_lost"]) == 0)
            #expect(before.family(ofSample: "swift_audit_output_events_emitted_total")?.type == "counter")
            let emitted = try #require(before.value("swift_audit_output_events_emitted_total", ["output": "main"]))
            let completed = try #require(before.value("swift_audit_events_total"))
            let received = try #require(before.value("swift_audit_datagrams_received_total"))

            // Hostile clients on the listener while events flow: the pipeline does not notice.
            var held: [Int32] = []
            for _ in 0..<12 {
                let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                address.sin_port = port.bigEndian
                _ = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                _ = send(descriptor, "GET /met", 8, Int32(MSG_NOSIGNAL))
                held.append(descriptor)
            }
            defer { for descriptor in held { close(descriptor) } }
            try triggerSyscalls(count: 300)
            try waitFor { try DaemonEndToEndTests.triggeredEvents(events).count == 300 }

            // The numbers are at most loss_report_interval (200 ms here) old; the held
            // connections time out after 2 s, so the listener serves again by then.
            var scraped: PrometheusExposition?
            try waitFor(timeout: 10) {
                // Refused (closed at once) while the held connections fill the listener.
                scraped = try? Self.scrape(port)
                return (scraped?.value("swift_audit_output_events_emitted_total", ["output": "main"]) ?? 0)
                    >= emitted + 300
            }
            let after = try #require(scraped)
            #expect((after.value("swift_audit_events_total") ?? 0) >= completed + 300)
            #expect((after.value("swift_audit_datagrams_received_total") ?? 0) >= received + 300 * 2)
            #expect(
                (after.value("swift_audit_output_bytes_total", ["output": "main"]) ?? 0)
                    > (before.value("swift_audit_output_bytes_total", ["output": "main"]) ?? 0))
            #expect((after.value("swift_audit_output_events_received_total", ["output": "main"]) ?? 0) >= emitted + 300)
            #expect(after.value("swift_audit_output_loss_total", ["output": "main", "reason": "writer_drop"]) == 0)
            #expect((after.value("swift_audit_metrics_refused_connections_total") ?? 0) >= 4, "12 held, 8 served")
            #expect((after.value("swift_audit_metrics_responses_total", ["code": "408"]) ?? 0) >= 8)

            // The textfile says the same, whole.
            try waitFor(timeout: 5) {
                guard let text = try? String(contentsOfFile: textfile, encoding: .utf8) else { return false }
                let file = try PrometheusExposition(parsing: text)
                return (file.value("swift_audit_output_events_emitted_total", ["output": "main"]) ?? 0) >= emitted + 300
            }

            // `stats` for a person, from the configuration's listener.
            let stats = try runProcess(TestEnvironment.executable.path, ["stats", "--config", config])
            #expect(stats.status == 0, "\(stats.standardError)")
            let lines = stats.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("swift-audit ") == true, "\(stats.standardOutput)")
            #expect(lines.first?.contains("metrics from 127.0.0.1:\(port)") == true)
            #expect(lines.contains { $0.hasPrefix("kernel        registered yes") }, "\(stats.standardOutput)")
            #expect(lines.contains("loss          none") || lines.contains { $0.contains("ring_stall") })
            let row = try #require(lines.first { $0.hasPrefix("main ") }, "\(stats.standardOutput)")
            let cells = row.split(separator: " ")
            #expect(cells[1] == "ok")
            #expect((Int(cells[3]) ?? 0) >= 300, "emitted: \(row)")
            let raw = try runProcess(TestEnvironment.executable.path, ["stats", "--from", textfile, "--raw"])
            #expect(raw.standardOutput.contains("# TYPE swift_audit_output_events_emitted_total counter"))

            #expect(try daemon.stop() == 0, "\(daemon.log)")
            #expect(!FileManager.default.fileExists(atPath: textfile), "removed at stop")
            let gone = try runProcess(TestEnvironment.executable.path, ["stats", "--config", config])
            #expect(gone.status == 1)
            #expect(gone.standardError.contains("is the daemon running?"), "\(gone.standardError)")
        }
    }

    @Test func aNonLoopbackAddressIsRefusedBeforeAnythingStarts() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "swift-audit.conf",
            "metrics_listen = 0.0.0.0:9477\n" + DaemonEndToEndTests.fileOutput("main", directory.file("e.json")))
        let result = try runProcess(TestEnvironment.executable.path, ["run", "--config", config])
        #expect(result.status == 6)
        #expect(
            result.standardError.contains(
                "\(config):1: metrics_listen = \"0.0.0.0:9477\": 0.0.0.0 is not a loopback address"),
            "\(result.standardError)")
    }
}
