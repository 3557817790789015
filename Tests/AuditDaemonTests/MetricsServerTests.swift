import AuditConfig
import AuditDaemon
import AuditTestSupport
import AuditWriters
import Foundation
import Glibc
import Logging
import Testing

/// A failure of these tests' own plumbing.
struct MetricsTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A raw loopback TCP (or unix) client, for requests no well-behaved client would send.
final class RawClient {
    let descriptor: Int32

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw MetricsTestFailure("connect to 127.0.0.1:\(port): errno \(errno)") }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the server closes, or what came within `timeout` seconds; and whether the
    /// server closed.
    func receiveAll(timeout: Double) -> (text: String, closed: Bool) {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&entry, 1, left) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (String(decoding: bytes, as: UTF8.self), true) }
            bytes += buffer[..<count]
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    deinit { close(descriptor) }
}

/// Polls `condition` every 50 ms until it holds; fails after `timeout` seconds.
func waitFor(timeout: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    throw MetricsTestFailure("condition not met within \(timeout) s")
}

/// The metrics listener on loopback against well-behaved and hostile clients.
@Suite(.serialized) struct MetricsServerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A running server on an ephemeral loopback port with a published snapshot.
    static func started(
        listen: MetricsListenAddress? = .tcp(host: "127.0.0.1", port: 0), textfile: String? = nil,
        interval: Duration = .seconds(15)
    ) throws -> (server: MetricsServer, board: MetricsBoard) {
        let board = MetricsBoard()
        board.publish(MetricsExpositionTests.fullSnapshot())
        let server = try MetricsServer(
            MetricsSettings(listen: listen, textfile: textfile, interval: interval), board: board, logger: logger)
        try server.start()
        return (server, board)
    }

    static func get(_ port: UInt16, _ path: String = "/metrics") throws -> String {
        let client = try RawClient(port: port)
        client.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        return client.receiveAll(timeout: 5).text
    }

    @Test(.requires(.curl)) func curlGetsTheMetricsAndTheRightErrors() throws {
        try TestRequirement.curl.check()
        let (server, _) = try Self.started()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(try #require(server.boundPort))"
        let ok = try runProcess(
            HostTools.curl!, ["-sS", "--max-time", "5", "-w", "%{http_code} %{content_type}", url + "/metrics"])
        #expect(ok.status == 0, "\(ok.standardError)")
        #expect(ok.standardOutput.hasSuffix("200 text/plain; version=0.0.4; charset=utf-8"))
        #expect(ok.standardOutput.contains("swift_audit_output_events_emitted_total{output=\"main\"} 855\n"))
        for (arguments, code) in [
            (["-X", "POST", url + "/metrics"], "405"), ([url + "/"], "404"), ([url + "/metrics/x"], "404"),
            (["-I", url + "/metrics"], "200"),
        ] {
            let result = try runProcess(
                HostTools.curl!, ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"] + arguments)
            #expect(result.standardOutput == code, "\(arguments): \(result.standardOutput) \(result.standardError)")
        }
    }

    @Test func garbageIsAnswered400AndClosedAtOnce() throws {
        let (server, _) = try Self.started()
        defer { server.stop() }
        let client = try RawClient(port: try #require(server.boundPort))
        let start = Date()
        // The start of a TLS ClientHello: a scraper configured for https.
        client.send([0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1])
        let (text, closed) = client.receiveAll(timeout: 5)
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(text)")
        #expect(closed)
        #expect(Date().timeIntervalSince(start) < 1.5, "not left to the head deadline")
    }

    @Test func aHugeRequestHeadIsAnswered431AndClosed() throws {
        let (server, _) = try Self.started()
        defer { server.stop() }
        let client = try RawClient(port: try #require(server.boundPort))
        client.send("GET /metrics HTTP/1.1\r\nX-Padding: " + String(repeating: "a", count: 20000))
        let (text, closed) = client.receiveAll(timeout: 5)
        #expect(text.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(text.prefix(200))")
        #expect(closed)
    }

    /// One byte a second never completes a head: the deadline counts from the connection, not
    /// from the last byte; meanwhile other clients are served at once.
    @Test func aSlowClientGets408AtTheHeadDeadlineAndNobodyWaitsForIt() throws {
        let (server, _) = try Self.started()
        defer { server.stop() }
        let port = try #require(server.boundPort)
        let slow = try RawClient(port: port)
        let start = Date()
        var served: [Double] = []
        for byte in "GET /metrics HTTP/1.1\r\n".utf8.prefix(3) {
            slow.send([byte])
            let before = Date()
            let response = try Self.get(port)
            served.append(Date().timeIntervalSince(before))
            #expect(response.hasPrefix("HTTP/1.1 200 OK"))
            Thread.sleep(forTimeInterval: max(0, 1 - Date().timeIntervalSince(before)))
        }
        #expect(served.allSatisfy { $0 < 0.5 }, "\(served)")
        let (text, closed) = slow.receiveAll(timeout: 5)
        let elapsed = Date().timeIntervalSince(start)
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(text)")
        #expect(closed)
        #expect(elapsed >= 1.9 && elapsed < 4, "\(elapsed) s")
    }

    /// Beyond the cap, connections are closed as soon as they are accepted, without waiting for
    /// the held ones; once those go, clients are served again, and the refusals are counted.
    @Test func connectionsBeyondTheCapAreClosedAtOnce() throws {
        let (server, _) = try Self.started()
        defer { server.stop() }
        let port = try #require(server.boundPort)
        var held: [RawClient] = []
        for _ in 0..<MetricsServer.maximumConnections {
            let client = try RawClient(port: port)
            client.send("GET /met")
            held.append(client)
        }
        Thread.sleep(forTimeInterval: 0.3)
        let start = Date()
        let excess = try (0..<20).map { _ in try RawClient(port: port) }
        for client in excess {
            let (text, closed) = client.receiveAll(timeout: 3)
            #expect(closed && text.isEmpty, "closed without an answer: \(text)")
        }
        #expect(Date().timeIntervalSince(start) < 1.5, "before the held connections' deadline")
        held.removeAll()
        Thread.sleep(forTimeInterval: 0.3)
        let response = try Self.get(port)
        #expect(response.hasPrefix("HTTP/1.1 200 OK"), "\(response.prefix(100))")
        #expect(response.contains("swift_audit_metrics_refused_connections_total 20\n"))
    }

    @Test(.requires(.curl)) func aUnixSocketServesTheSameMetricsAndIsRemovedAtStop() throws {
        try TestRequirement.curl.check()
        let directory = try TemporaryDirectory()
        let path = directory.file("run/metrics.sock")
        mkdir(directory.file("run"), 0o700)
        let (server, _) = try Self.started(listen: .unix(path: path))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK && info.st_mode & 0o777 == 0o600)
        let result = try runProcess(
            HostTools.curl!, ["-sS", "--max-time", "5", "--unix-socket", path, "http://localhost/metrics"])
        #expect(result.standardOutput.contains("swift_audit_build_info{"), "\(result.standardError)")
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
        // A stale socket left by a killed daemon is replaced; a regular file is not.
        let stale = try Self.started(listen: .unix(path: path))
        stale.server.stop()
        let file = try directory.write("not-a-socket", "x")
        #expect(throws: MetricsListenError.self) {
            try MetricsServer(MetricsSettings(listen: .unix(path: file)), board: MetricsBoard(), logger: Self.logger)
        }
    }

    @Test func aPortInUseIsAnErrorNamingTheAddress() throws {
        let (server, _) = try Self.started()
        defer { server.stop() }
        let port = try #require(server.boundPort)
        do {
            _ = try MetricsServer(
                MetricsSettings(listen: .tcp(host: "127.0.0.1", port: port)), board: MetricsBoard(),
                logger: Self.logger)
            Issue.record("a second listener on the same port started")
        } catch {
            #expect(
                error.description == "metrics_listen = 127.0.0.1:\(port): bind: EADDRINUSE (Address already in use)",
                "\(error)")
        }
    }

    @Test(.requires(.prometheusClient)) func theTextfileIsReplacedWholeEveryIntervalAndRemovedAtStop() throws {
        try TestRequirement.prometheusClient.check()
        let directory = try TemporaryDirectory()
        let path = directory.file("swift-audit.prom")
        let (server, board) = try Self.started(listen: nil, textfile: path, interval: .seconds(1))
        try waitFor { FileManager.default.fileExists(atPath: path) }
        let first = try PrometheusExposition(parsing: String(contentsOfFile: path, encoding: .utf8))
        #expect(first.value("swift_audit_output_events_emitted_total", ["output": "main"]) == 855)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o644, "readable by node_exporter")
        var next = MetricsExpositionTests.fullSnapshot()
        next.pipeline.outputs[0].writer.written = 900
        board.publish(next)
        try waitFor(timeout: 5) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.contains("swift_audit_output_events_emitted_total{output=\"main\"} 900\n")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names == ["swift-audit.prom"], "no temporary file left: \(names)")
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: path), "a stopped daemon leaves no stale metrics")
    }
}
