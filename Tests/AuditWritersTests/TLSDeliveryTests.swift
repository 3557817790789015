import AuditEncoding
import AuditEvents
import AuditTLS
import AuditTestSupport
import AuditWriters
import FoundationEssentials
import Glibc
import Testing

/// A private rsyslogd running `contrib/rsyslog-swift-audit-tls.conf` (imtcp with a TLS stream
/// driver) on a free loopback port, with the test's certificates.
final class TLSRsyslog {
    let directory: TemporaryDirectory
    let port: UInt16
    var eventsPath: String { directory.file("tls-events.json") }
    var partsPath: String { directory.file("tls-parts.log") }
    private var process: ChildProcess?

    /// `driver`: ossl or gtls; `mutual`: the snippet's x509/certvalid (a client certificate from
    /// the CA is required) or anon.
    init(certificates: TestCertificates, driver: String, mutual: Bool) throws {
        directory = try TemporaryDirectory()
        port = try freePort()
        let path = TestEnvironment.repositoryRoot.path + "/contrib/rsyslog-swift-audit-tls.conf"
        guard let snippet = readFile(path) else { throw TestFailure("cannot read \(path)") }
        var text = String(decoding: snippet, as: UTF8.self)
        var replacements = [
            ("port=\"6514\"", "address=\"127.0.0.1\" port=\"\(port)\""),
            ("/etc/rsyslog-tls/ca.pem", certificates.caFile),
            ("/etc/rsyslog-tls/server.pem", certificates.serverCertificate),
            ("/etc/rsyslog-tls/server.key", certificates.serverKey),
            ("/var/log/swift-audit/tls-events.json", eventsPath),
            ("/var/log/swift-audit/tls-parts.log", partsPath),
            ("StreamDriver.Name=\"ossl\"", "StreamDriver.Name=\"\(driver)\""),
        ]
        if !mutual {
            replacements.append(("StreamDriver.AuthMode=\"x509/certvalid\"", "StreamDriver.AuthMode=\"anon\""))
        }
        for (old, new) in replacements {
            guard text.contains(old) else { throw TestFailure("the TLS snippet no longer contains \(old)") }
            text = text.replacing(old, with: new)
        }
        let configuration = "global(workDirectory=\"\(directory.path)\")\n" + text
        try #require(writeText(configuration, to: directory.file("rsyslog.conf")))
    }

    func start() throws {
        try TestRequirement.rsyslogd.check()
        process = try ChildProcess(
            HostTools.rsyslogd ?? "rsyslogd",
            ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("rsyslog.pid")],
            outputPath: directory.file("rsyslog.out"))
        if !waitUntil(seconds: 10, { portIsBound(port, tcp: true) }) {
            let output = self.output
            stop()
            throw TestFailure("rsyslogd did not come up: \(output)")
        }
    }

    func stop() {
        process?.terminate()
        process = nil
    }

    var output: String {
        readFile(directory.file("rsyslog.out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The lines of `path` once there are at least `count` (or after `seconds`).
    func lines(_ path: String, atLeast count: Int, seconds: Double = 10) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        _ = waitUntil(seconds: seconds) {
            lines = splitLines(readFile(path) ?? []).lines
            return lines.count >= count
        }
        return lines
    }

    deinit {
        stop()
        directory.remove()
    }
}

/// Syslog over TLS (RFC 5425) into a real rsyslogd with Debian's OpenSSL and GnuTLS drivers.
@Suite(.serialized, .requires(.rsyslogd, .openssl)) struct SyslogTLSRsyslogTests {
    static let queue = OutputQueueConfiguration(
        capacity: 10_000, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200))

    static func writer(
        _ rsyslog: TLSRsyslog, _ tls: TLSConfiguration, connectTimeout: Duration = .seconds(2)
    ) throws -> SyslogWriter {
        try SyslogWriter(
            configuration: .init(
                target: .tls(host: "127.0.0.1", port: rsyslog.port, tls: tls),
                format: .rfc5424(structuredData: true), hostname: "test-host", reconnectMinimum: .milliseconds(20),
                reconnectMaximum: .milliseconds(200), connectTimeout: connectTimeout))
    }

    @Test(arguments: ["ossl", "gtls"])
    func everyEventArrivesByteIdenticalOverTLS(driver: String) throws {
        let certificates = try TestCertificates()
        let rsyslog = try TLSRsyslog(certificates: certificates, driver: driver, mutual: false)
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = SyslogRsyslogTests.events(
            count: 150, longEvery: 25, longBytes: 20_000, directory: rsyslog.directory)
        let long = items.filter { $0.line.count > 8000 }
        let short = items.filter { $0.line.count <= 8000 }
        let writer = try Self.writer(rsyslog, TLSConfiguration(caFile: certificates.caFile))
        #expect(writer.name == "syslog tls 127.0.0.1:\(rsyslog.port)")
        let worker = try OutputWorker(writer, configuration: Self.queue)
        SyslogRsyslogTests.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == items.count, "\(report.counters)")
        #expect(report.counters.activity.connectFailures == 0)

        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: short.count)
        #expect(lines.count == short.count, "rsyslog says: \(rsyslog.output)")
        let identical = lines == short.map(\.line)
        #expect(identical, "the JSON after the header is byte-identical, in order")
        let joined = SyslogRsyslogTests.reassemble(rsyslog.lines(rsyslog.partsPath, atLeast: long.count * 3))
        for item in long {
            let sequence = UInt64(item.event!.id.serial)
            let identical = joined[sequence] == item.line
            #expect(identical, "event \(sequence) reassembled from its parts")
        }
    }

    /// rsyslog with `x509/certvalid` takes a client with our certificate and refuses one
    /// without: counted as failed connections, the reason in the error, nothing delivered.
    @Test(arguments: ["ossl", "gtls"])
    func mutualTLSNeedsTheClientCertificate(driver: String) throws {
        let certificates = try TestCertificates()
        let rsyslog = try TLSRsyslog(certificates: certificates, driver: driver, mutual: true)
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = SyslogRsyslogTests.events(count: 40, longEvery: 1000, longBytes: 0, directory: rsyslog.directory)

        let anonymous = try OutputWorker(
            try Self.writer(rsyslog, TLSConfiguration(caFile: certificates.caFile)), configuration: Self.queue)
        for item in items[..<20] { #expect(anonymous.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { anonymous.counters.activity.connectFailures >= 2 }, "\(anonymous.counters)")
        let refused = anonymous.close(drainTimeout: .milliseconds(300))
        #expect(refused.counters.written == 0, "\(refused.counters)")
        let reason = refused.counters.lastError?.description ?? ""
        #expect(reason.contains("TLS"), "\(reason)")

        let mutual = try OutputWorker(
            try Self.writer(
                rsyslog,
                TLSConfiguration(
                    caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                    keyFile: certificates.clientKey)),
            configuration: Self.queue)
        for item in items[20...] { #expect(mutual.enqueue(item)) }
        let report = mutual.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 20, "\(report.counters)")
        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: 20)
        let identical = lines == items[20...].map(\.line)
        #expect(identical, "only the events of the client with a certificate arrive (\(lines.count) lines)")
    }
}

/// Servers the TLS outputs must refuse, GELF over TLS, and certificate files re-read on reopen,
/// against a Python TLS server and a plain TCP listener.
@Suite(.requires(.openssl, .python3)) struct TLSOutputTests {
    static let queue = SyslogTLSRsyslogTests.queue

    static func syslogWriter(port: UInt16, _ tls: TLSConfiguration) throws -> SyslogWriter {
        try SyslogWriter(
            configuration: .init(
                target: .tls(host: "127.0.0.1", port: port, tls: tls), reconnectMinimum: .milliseconds(20),
                reconnectMaximum: .milliseconds(200), connectTimeout: .milliseconds(500)))
    }

    enum BadServer: String, CaseIterable, CustomTestStringConvertible {
        case expired, anotherCA, wrongName
        var testDescription: String { rawValue }
    }

    /// The connection is refused at the handshake and counted, the worker's error says why, and
    /// the server never decrypts a byte.
    @Test(arguments: BadServer.allCases)
    func aServerThatCannotProveItsIdentityGetsNothing(_ bad: BadServer) throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (certificate, key, reason) =
            switch bad {
            case .expired: (certificates.expiredCertificate, certificates.expiredKey, "certificate has expired")
            case .anotherCA:
                (certificates.strangerCertificate, certificates.strangerKey, "unable to get local issuer certificate")
            case .wrongName: (certificates.wrongNameCertificate, certificates.wrongNameKey, "IP address mismatch")
            }
        let server = try TLSTestServer(certificate: certificate, key: key)
        defer { server.stop() }
        let worker = try OutputWorker(
            try Self.syslogWriter(port: server.port, TLSConfiguration(caFile: certificates.caFile)),
            configuration: Self.queue)
        for item in SyslogRsyslogTests.events(count: 20, longEvery: 1000, longBytes: 0, directory: directory) {
            #expect(worker.enqueue(item))
        }
        #expect(waitUntil(seconds: 10) { worker.counters.activity.connectFailures >= 3 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .milliseconds(300))
        #expect(report.counters.written == 0)
        #expect(report.counters.droppedAtShutdown == 20, "\(report.counters)")
        let error = report.counters.lastError?.description ?? ""
        #expect(error.contains(reason), "\(error)")
        #expect(error.contains("syslog tls 127.0.0.1:\(server.port)"), "\(error)")
        #expect(server.log.count >= 3 && server.log.allSatisfy { $0.hasPrefix("refused") }, "\(server.log)")
        #expect(server.received.isEmpty, "nothing was decrypted by the server")
    }

    /// A plain TCP listener where the TLS server should be (a misconfigured or hostile one): it
    /// gets a TLS ClientHello and nothing else; no event crosses in clear.
    @Test func aPlainListenerSeesOnlyATLSClientHello() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let collector = try TCPCollector()
        try collector.start()
        defer { collector.stop() }
        let items = SyslogRsyslogTests.events(count: 20, longEvery: 1000, longBytes: 0, directory: directory)
        let worker = try OutputWorker(
            try Self.syslogWriter(port: collector.port, TLSConfiguration(caFile: certificates.caFile)),
            configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.activity.connectFailures >= 2 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .milliseconds(300))
        #expect(report.counters.written == 0)
        #expect(report.counters.lastError?.description.contains("no answer from the server") == true)
        let bytes = collector.bytes
        #expect(bytes.count > 5 && bytes[0] == 0x16 && bytes[1] == 0x03, "a TLS handshake record")
        #expect(collector.connections >= 2)
        for item in items {
            let probe = Array(item.line.prefix(24))
            #expect(!contains(bytes, probe), "no event text on the wire")
        }
        #expect(!contains(bytes, Array("swift-audit".utf8)))
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains {
            haystack[$0..<($0 + needle.count)].elementsEqual(needle)
        }
    }

    /// GELF over TLS: the server decrypts exactly the bytes the same writer sends over plain TCP
    /// (NUL-terminated documents, long ones shortened the same way), proving TLS changes nothing
    /// of the content.
    @Test func gelfOverTLSCarriesTheSameBytesAsTCP() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try TLSTestServer(certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { server.stop() }
        let collector = try TCPCollector()
        try collector.start()
        defer { collector.stop() }
        let items = GELFWriterTests.items(count: 200, longEvery: 50, longBytes: 100_000, directory: directory)

        func deliver(_ transport: GELFWriter.Configuration.Transport, port: UInt16) throws -> WriterCounters {
            let writer = try GELFWriter(
                configuration: .init(
                    host: "127.0.0.1", port: port, transport: transport, hostname: "test-host",
                    maxTCPDocument: 65536),
                syscallName: GELFWriterTests.names)
            let worker = try OutputWorker(writer, configuration: Self.queue)
            for item in items { worker.enqueue(item) }
            return worker.close(drainTimeout: .seconds(10)).counters
        }
        let overTLS = try deliver(.tls(TLSConfiguration(caFile: certificates.caFile)), port: server.port)
        let overTCP = try deliver(.tcp, port: collector.port)
        #expect(overTLS.written == 200 && overTCP.written == 200)
        #expect(overTLS.activity.oversizeTruncated == 4)
        #expect(waitUntil { server.received.filter { $0 == 0 }.count == 200 })
        #expect(waitUntil { collector.bytes.filter { $0 == 0 }.count == 200 })
        let identical = server.received == collector.bytes
        #expect(identical, "\(server.received.count) bytes over TLS, \(collector.bytes.count) over TCP")
        let frames = server.received.split(separator: 0, omittingEmptySubsequences: false)
        for (frame, item) in zip(frames, items) where item.line.count < 60_000 {
            let document = try JSONValue.parse(frame)
            #expect(document["_event"]?.string.map { Array($0.utf8) } == item.line)
        }
        #expect(server.log == ["accepted TLSv1.3"])
    }

    /// A reopen (what SIGHUP does to a TLS output that stays) reads the certificate files again:
    /// a CA file replaced with the right CA lets the waiting events through.
    @Test func reopenReadsTheCertificateFilesAgain() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try TLSTestServer(certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { server.stop() }
        let caPath = directory.file("trusted.pem")
        try #require(writeText(String(decoding: readFile(certificates.otherCAFile) ?? [], as: UTF8.self), to: caPath))
        let items = SyslogRsyslogTests.events(count: 10, longEvery: 1000, longBytes: 0, directory: directory)
        let worker = try OutputWorker(
            try Self.syslogWriter(port: server.port, TLSConfiguration(caFile: caPath)), configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.activity.connectFailures >= 2 })
        #expect(worker.counters.written == 0)

        try #require(writeText(String(decoding: readFile(certificates.caFile) ?? [], as: UTF8.self), to: caPath))
        #expect(worker.counters.written == 0, "the old files stay in force until the reopen")
        worker.requestReopen()
        #expect(waitUntil(seconds: 10) { worker.counters.written == 10 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.reopens >= 1)
        // RFC 5425: octet-counting frames, "LEN SP <PRI>1 …".
        #expect(waitUntil { server.received.count > 0 })
        let text = String(decoding: server.received, as: UTF8.self)
        #expect(text.first?.isNumber == true && text.contains(" <182>1 "), "\(text.prefix(40))")
    }

    /// A reopen whose files no longer load keeps the writer as it was and says why.
    @Test func aReopenWithBrokenFilesKeepsTheOldContext() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let caPath = directory.file("ca.pem")
        try #require(writeText(String(decoding: readFile(certificates.caFile) ?? [], as: UTF8.self), to: caPath))
        var writer = try Self.syslogWriter(port: 1, TLSConfiguration(caFile: caPath))
        try #require(writeText("not a certificate\n", to: caPath))
        do {
            try writer.reopen()
            Issue.record("the reopen should fail")
        } catch {
            #expect(error.code == .reopen)
            #expect(error.description.contains("tls_ca \(caPath): no certificates found"), "\(error)")
        }
        unlink(caPath)
        #expect(throws: WriterError.self) {
            _ = try SyslogWriter(
                configuration: .init(target: .tls(host: "127.0.0.1", port: 1, tls: TLSConfiguration(caFile: caPath))))
        }
    }
}
