import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The daemon with a spooling syslog output over TCP to a private rsyslogd: SIGTERMed and started
/// again while the collector is down, then the collector comes back.
@Suite(.serialized, .requires(.kernel), .requires(.rsyslogd))
struct DaemonSpoolTests {
    /// A loopback TCP port nobody listens on right now.
    static func freeTCPPort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw DaemonError("cannot bind a TCP port: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// rsyslogd with imtcp on `port`, writing each message (the event's JSON) as a line of `path`.
    final class Collector {
        let process = Process()
        let directory: String
        let port: UInt16

        init(directory: TemporaryDirectory, port: UInt16, path: String) throws {
            self.directory = directory.file("rsyslog")
            self.port = port
            mkdir(self.directory, 0o700)
            let config = """
                global(workDirectory="\(self.directory)")
                module(load="imtcp")
                input(type="imtcp" address="127.0.0.1" port="\(port)" ruleset="spool")
                template(name="json" type="string" string="%$.json%\\n")
                ruleset(name="spool") {
                    set $.json = ltrim($msg);
                    action(type="omfile" file="\(path)" template="json" fileCreateMode="0600")
                }
                """
            try directory.write("rsyslog/rsyslog.conf", config)
            process.executableURL = URL(fileURLWithPath: HostTools.rsyslogd ?? "/usr/sbin/rsyslogd")
            process.arguments = [
                "-n", "-f", self.directory + "/rsyslog.conf", "-i", self.directory + "/rsyslog.pid",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }

        func start() throws {
            try process.run()
            try waitFor { Self.listening(port) }
        }

        /// SIGKILL: the test process may block SIGTERM, and a child started by `Process` inherits
        /// that mask (the file is complete by the time a test stops the collector).
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// Whether something listens on 127.0.0.1:`port`.
        static func listening(_ port: UInt16) -> Bool {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }

        deinit { stop() }
    }

    @Test func aSigtermDuringAnOutageKeepsTheEventsForTheCollector() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let collected = directory.file("collected.json")
            let spool = directory.file("spool")
            let port = try Self.freeTCPPort()
            let outputs =
                DaemonEndToEndTests.fileOutput("main", events)
                    + """
                    output.relay.type = syslog
                    output.relay.target = tcp
                    output.relay.address = 127.0.0.1:\(port)
                    output.relay.reconnect_min = 50ms
                    output.relay.reconnect_max = 200ms
                    output.relay.spool_dir = \(spool)

                    """
            let config = try directory.write("swift-audit.conf", DaemonEndToEndTests.configuration(outputs))

            // The collector is down from the start: the first run's events go to the spool.
            var daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try DaemonEndToEndTests.addRule()
            try triggerSyscalls(count: 300, token: 0)
            try waitFor { try DaemonEndToEndTests.triggeredEvents(events).count == 300 }
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            let stop = try #require(try DaemonEndToEndTests.statusEvents(events, type: "swift-audit.stop").last)
            #expect((stop["output_relay_spool_events"] as? Int ?? 0) >= 300, "\(stop)")

            // Started again during the outage, with the same spool.
            // (The rule stays loaded: rules are kept at exit.)
            daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try triggerSyscalls(count: 300, token: 300)
            try waitFor { try DaemonEndToEndTests.triggeredEvents(events).count == 600 }

            // The collector comes back: the spooled events, then the new ones.
            let collector = try Collector(directory: directory, port: port, path: collected)
            try collector.start()
            defer { collector.stop() }
            try triggerSyscalls(count: 100, token: 600)
            try waitFor(timeout: 30) { try DaemonEndToEndTests.triggeredEvents(collected).count >= 700 }
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            // The stop event went out at stop too: give rsyslog a moment to write it.
            // The daemon's status lines are queued to each output on their own (`OutputSet.broadcast`),
            // so one may sit before an audit event in one file and after it in the other: the files
            // hold the same lines, and the audit events in the same order (checked above and below).
            func sortedLines(_ path: String) -> [Substring] {
                let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                return (text ?? "").split(separator: "\n").sorted()
            }
            try? waitFor { sortedLines(collected) == sortedLines(events) }
            collector.stop()

            let received = DaemonEndToEndTests.tokens(try DaemonEndToEndTests.triggeredEvents(collected))
            #expect(received == Array(0..<700), "every event once, in order, across the stop and the outage")
            // Line for line: the collector's file holds the file output's lines (status events included).
            #expect(sortedLines(collected) == sortedLines(events))
            #expect(DaemonEndToEndTests.tokens(try DaemonEndToEndTests.triggeredEvents(events)) == Array(0..<700))
            let stops = try DaemonEndToEndTests.statusEvents(events, type: "swift-audit.stop")
            #expect(stops.last?["output_relay_spool_events"] as? Int == 0, "\(stops)")
        }
    }
}
