import AuditEncoding
import AuditEvents
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

/// A syslog output over plain TCP with a disk spool, against a real rsyslogd (imtcp on loopback):
/// the collector goes away cleanly (not listening: connections are refused) under a steady stream,
/// the output is stopped and started again during the outage, and the collector comes back.
///
/// Not covered, by design (see docs/configuration.md, "Disk spool"): bytes already in the kernel's
/// send buffer when a plain-TCP collector dies. The test therefore stops rsyslog between two
/// batches, as an outage that starts with refused connections; RELP covers the other case.
@Suite(.serialized, .requires(.rsyslogd)) struct SpoolRsyslogTests {
    static let queue = OutputQueueConfiguration(
        capacity: 20_000, maxItemsPerWrite: 256, retryInitialDelay: .milliseconds(20),
        retryMaximumDelay: .milliseconds(200))

    /// The spooling syslog output and a file output fed the same events, as the daemon would.
    struct Outputs {
        let network: OutputWorker
        let file: OutputWorker

        init(port: UInt16, spool: String, file path: String) throws {
            let syslog = try SyslogWriter(
                configuration: .init(
                    target: .tcp(host: "127.0.0.1", port: port, framing: .octetCounting), hostname: "spool-host",
                    reconnectMinimum: .milliseconds(50), reconnectMaximum: .milliseconds(200)))
            network = try OutputWorker(
                try SpoolingWriter(inner: syslog, configuration: .init(directory: spool, maxSize: 64 << 20)),
                configuration: SpoolRsyslogTests.queue)
            file = try OutputWorker(
                FileWriter(configuration: .init(path: path)), configuration: SpoolRsyslogTests.queue)
        }

        /// A steady stream: `items` in groups of 50, 10 ms apart (5000 events/s).
        func feed(_ items: ArraySlice<OutputItem>) {
            for (index, item) in items.enumerated() {
                #expect(network.enqueue(item))
                #expect(file.enqueue(item))
                if index % 50 == 49 { usleep(10_000) }
            }
        }

        func close() -> (network: WriterCloseReport, file: WriterCloseReport) {
            (network.close(drainTimeout: .seconds(10)), file.close(drainTimeout: .seconds(10)))
        }
    }

    @Test func anOutageWithARestartInBetweenDeliversEveryEventOnceInOrder() throws {
        let rsyslog = try Rsyslog()
        let spool = rsyslog.directory.file("spool")
        let filePath = rsyslog.directory.file("all.json")
        let all = SyslogRsyslogTests.events(
            count: 4000, longEvery: 1_000_000, longBytes: 0, directory: rsyslog.directory)

        // The collector is up: events go straight through, nothing is spooled.
        try rsyslog.start()
        var outputs = try Outputs(port: rsyslog.port, spool: spool, file: filePath)
        outputs.feed(all[0..<1000])
        #expect(rsyslog.lines(rsyslog.eventsPath, atLeast: 1000).count == 1000)
        #expect(outputs.network.counters.spool?.spooled == 0)

        // The collector goes away (between two batches: the connection is closed, then refused).
        rsyslog.stop()
        usleep(200_000)
        outputs.feed(all[1000..<2000])
        #expect(waitUntil { outputs.network.counters.spool?.entries == 1000 })

        // The daemon stops during the outage, and starts again with the same spool.
        var reports = outputs.close()
        #expect(reports.network.finished && reports.network.counters.droppedAtShutdown == 0)
        #expect(reports.network.counters.spool?.entries == 1000)
        outputs = try Outputs(port: rsyslog.port, spool: spool, file: filePath)
        #expect(outputs.network.counters.spool?.entries == 1000, "the spool is read at start")
        outputs.feed(all[2000..<3000])
        #expect(waitUntil { outputs.network.counters.spool?.entries == 2000 })

        // The collector comes back while the stream goes on.
        try rsyslog.start()
        outputs.feed(all[3000..<4000])
        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: 4000, seconds: 30)
        reports = outputs.close()

        #expect(lines.count == 4000, "rsyslog says: \(rsyslog.output)")
        let inOrder = lines == all.map(\.line)
        #expect(inOrder, "every event exactly once, in order")
        #expect(reports.network.counters.spool?.entries == 0)
        #expect(reports.network.counters.dropped == 0 && reports.network.counters.rejected == 0)
        #expect(reports.file.counters.written == 2000, "the file output's second run")
        let fileLines = splitLines(readFile(filePath) ?? []).lines
        let fileKeptAll = fileLines == all.map(\.line)
        #expect(fileKeptAll, "the file output kept every event through the outage")
        #expect(segmentNames(spool).isEmpty)
    }
}
