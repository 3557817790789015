import AuditEncoding
import AuditEvents
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

/// A collector that is down, or accepts and never reads: the writer's queue fills and drops
/// (counted), `enqueue` never blocks, a file output next to it keeps every event, and when the
/// collector comes back the writer reconnects and resumes.
@Suite(.serialized) struct NetworkOutageTests {
    enum Kind: String, CaseIterable, CustomStringConvertible {
        case syslogTCP, gelfTCP
        var description: String { rawValue }

        func writer(port: UInt16) throws -> any EventWriter {
            let reconnectMinimum = Duration.milliseconds(20)
            let reconnectMaximum = Duration.milliseconds(200)
            switch self {
            case .syslogTCP:
                return try SyslogWriter(
                    configuration: .init(
                        target: .tcp(host: "127.0.0.1", port: port, framing: .octetCounting),
                        reconnectMinimum: reconnectMinimum, reconnectMaximum: reconnectMaximum,
                        connectTimeout: .milliseconds(500), sendTimeout: .milliseconds(100)))
            case .gelfTCP:
                return try GELFWriter(
                    configuration: .init(
                        host: "127.0.0.1", port: port, transport: .tcp, reconnectMinimum: reconnectMinimum,
                        reconnectMaximum: reconnectMaximum, connectTimeout: .milliseconds(500),
                        sendTimeout: .milliseconds(100)))
            }
        }

        /// The event lines in a received stream; throws on a torn or malformed frame.
        func lines(in stream: [UInt8]) throws -> [[UInt8]] {
            switch self {
            case .syslogTCP:
                var lines: [[UInt8]] = []
                var index = 0
                while index < stream.count {
                    var length = 0
                    while index < stream.count, stream[index] != UInt8(ascii: " ") {
                        guard (48...57).contains(stream[index]) else {
                            throw TestFailure("bad octet count at \(index)")
                        }
                        length = length * 10 + Int(stream[index] - 48)
                        index += 1
                    }
                    index += 1
                    guard index + length <= stream.count else { throw TestFailure("torn frame at \(index)") }
                    let message = Array(stream[index..<(index + length)])
                    index += length
                    guard let start = message.firstIndex(of: UInt8(ascii: "{")) else { throw TestFailure("no JSON") }
                    lines.append(Array(message[start...]))
                }
                return lines
            case .gelfTCP:
                var frames = stream.split(separator: 0, omittingEmptySubsequences: false)
                guard frames.last?.isEmpty == true else { throw TestFailure("the stream ends mid-document") }
                frames.removeLast()
                return try frames.map { frame in
                    guard let event = try JSONValue.parse(frame)["_event"]?.string else {
                        throw TestFailure("no _event")
                    }
                    return Array(event.utf8)
                }
            }
        }
    }

    static func items(_ count: Int, bytes: Int, directory: TemporaryDirectory) -> [OutputItem] {
        var encoder = EventEncoder(users: testUserDirectory(directory))
        return (1...count).map { encodedItem(execveEvent(serial: UInt32($0), argumentBytes: bytes), encoder: &encoder) }
    }

    /// Offers `items` to both workers; returns the accepted flags of `network` and the longest
    /// `enqueue` (both queues).
    static func offer(_ items: ArraySlice<OutputItem>, file: OutputWorker, network: OutputWorker) -> (
        accepted: [Bool], slowest: Duration
    ) {
        let clock = ContinuousClock()
        var slowest = Duration.zero
        var accepted: [Bool] = []
        for item in items {
            let start = clock.now
            #expect(file.enqueue(item))
            accepted.append(network.enqueue(item))
            slowest = max(slowest, clock.now - start)
        }
        return (accepted, slowest)
    }

    @Test(arguments: Kind.allCases)
    func aDeadCollectorCostsTheFileOutputNothingAndTheWriterResumes(kind: Kind) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let items = Self.items(2100, bytes: 300, directory: directory)
        let collector = try TCPCollector()
        try collector.start()
        defer { collector.stop() }
        let notices = NoticeLog()
        let file = try OutputWorker(
            FileWriter(configuration: .init(path: directory.file("events.json"))),
            configuration: .init(capacity: 100_000))
        let network = try OutputWorker(
            kind.writer(port: collector.port),
            configuration: .init(
                capacity: 200, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200)),
            onNotice: notices.handler)

        // Up: everything arrives.
        var (accepted, _) = Self.offer(items[0..<100], file: file, network: network)
        #expect(waitUntil(seconds: 10) { (try? kind.lines(in: collector.bytes).count) == 100 })

        // Down: connection refused. The queue fills, drops are counted, nothing blocks.
        collector.stop()
        let (downAccepted, slowest) = Self.offer(items[100..<2100], file: file, network: network)
        accepted += downAccepted
        #expect(slowest < .milliseconds(50), "enqueue never waits for the writer (slowest \(slowest))")
        #expect(waitUntil(seconds: 5) { network.counters.isFailing })
        let during = network.counters
        #expect(during.dropped >= 1500, "\(during)")
        #expect(
            during.lastError?.code == .connect || during.lastError?.code == .write,
            "\(String(describing: during.lastError))")

        // Back: the writer reconnects and delivers what its queue kept.
        try collector.start()
        #expect(
            waitUntil(seconds: 10) { network.counters.queued == 0 && !network.counters.isFailing },
            "\(network.counters)")
        let fileReport = file.close(drainTimeout: .seconds(10))
        let report = network.close(drainTimeout: .seconds(5))
        #expect(fileReport.counters.written == 2100)
        let fileLines = splitLines(readFile(directory.file("events.json")) ?? []).lines
        let fileComplete = fileLines == items.map(\.line)
        #expect(fileComplete, "the file output has every event (\(fileLines.count))")

        expectBalanced(report.counters, offered: 2100)
        #expect(report.counters.written == report.counters.enqueued)
        #expect(report.counters.dropped == accepted.filter { !$0 }.count)
        #expect(report.counters.activity.reconnects >= 1, "\(report.counters.activity)")
        #expect(report.counters.recoveries >= 1)
        #expect(notices.recoveries.contains { $0.dropped > 0 }, "the recovery notice reports the drops")
        let received = try kind.lines(in: collector.bytes)
        let expected = zip(items, accepted).filter { $0.1 }.map(\.0.line)
        let identical = received == expected
        #expect(
            identical,
            "the collector got exactly the accepted events, in order (\(received.count) of \(expected.count))")
    }

    /// Offers `items` in small groups until `network` reports a stall; returns how many were
    /// offered and the longest `enqueue`.
    static func offerUntilStalled(_ items: [OutputItem], file: OutputWorker?, network: OutputWorker) -> (
        offered: Int, slowest: Duration
    ) {
        let clock = ContinuousClock()
        var slowest = Duration.zero
        var offered = 0
        while offered < items.count, network.counters.lastError?.code != .stalled {
            for item in items[offered..<min(items.count, offered + 50)] {
                let start = clock.now
                if let file { #expect(file.enqueue(item)) }
                network.enqueue(item)
                slowest = max(slowest, clock.now - start)
                offered += 1
            }
            usleep(2000)
        }
        return (offered, slowest)
    }

    @Test(arguments: Kind.allCases)
    func aCollectorThatNeverReadsStallsOnlyItsOwnWriter(kind: Kind) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let items = (0..<8500).map { OutputItem(line: eventLine($0, size: 2000)) }
        let collector = try TCPCollector()
        try collector.start(reading: false)
        defer { collector.stop() }
        let file = try OutputWorker(
            FileWriter(configuration: .init(path: directory.file("events.json"))),
            configuration: .init(capacity: 100_000))
        let network = try OutputWorker(
            kind.writer(port: collector.port),
            configuration: .init(
                capacity: 300, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200)))

        let (offered, slowest) = Self.offerUntilStalled(Array(items[0..<8000]), file: file, network: network)
        #expect(slowest < .milliseconds(50), "enqueue never waits for the writer (slowest \(slowest))")
        #expect(waitUntil(seconds: 5) { network.counters.lastError?.code == .stalled }, "\(network.counters)")
        _ = Self.offer(items[offered..<8000], file: file, network: network)
        #expect(network.counters.dropped > 0)
        #expect(collector.connections == 1)

        // The collector is replaced by one that reads: the writer notices the closed connection,
        // reconnects, and complete documents flow again (the half-sent one is sent whole).
        collector.stop()
        try collector.start(reading: true)
        #expect(
            waitUntil(seconds: 10) { network.counters.queued == 0 && !network.counters.isFailing },
            "\(network.counters)")
        let (lastAccepted, _) = Self.offer(items[8000...], file: file, network: network)
        #expect(waitUntil(seconds: 10) { network.counters.queued == 0 })
        let fileReport = file.close(drainTimeout: .seconds(10))
        let report = network.close(drainTimeout: .seconds(5))
        #expect(fileReport.counters.written == 8500)
        let fileLines = splitLines(readFile(directory.file("events.json")) ?? []).lines
        let fileComplete = fileLines == items.map(\.line)
        #expect(fileComplete, "the file output has every event")
        expectBalanced(report.counters, offered: 8500)
        #expect(report.counters.activity.reconnects >= 1)
        let received = try kind.lines(in: collector.bytes)
        #expect(!received.isEmpty)
        let expectedTail = zip(items[8000...], lastAccepted).filter { $0.1 }.map(\.0.line)
        #expect(expectedTail.count >= 100)
        let tail = Array(received.suffix(expectedTail.count))
        let tailIdentical = tail == expectedTail
        #expect(tailIdentical, "after the restart, every new event arrives whole and in order")
    }

    /// Shutting down while the collector stalls ends within the drain timeout plus one send
    /// timeout (F9: SIGTERM during a stall).
    @Test(arguments: Kind.allCases)
    func closingDuringAStallIsBounded(kind: Kind) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let collector = try TCPCollector()
        try collector.start(reading: false)
        defer { collector.stop() }
        let network = try OutputWorker(kind.writer(port: collector.port), configuration: .init(capacity: 5000))
        let items = (0..<10_000).map { OutputItem(line: eventLine($0, size: 2000)) }
        let (offered, _) = Self.offerUntilStalled(Array(items[0..<8000]), file: nil, network: network)
        #expect(waitUntil(seconds: 5) { network.counters.lastError?.code == .stalled })
        for item in items[8000...] { network.enqueue(item) }
        let clock = ContinuousClock()
        let start = clock.now
        let report = network.close(drainTimeout: .milliseconds(500))
        let elapsed = clock.now - start
        #expect(report.finished)
        #expect(elapsed < .seconds(2), "closed in \(elapsed)")
        #expect(report.counters.droppedAtShutdown > 0)
        expectBalanced(report.counters, offered: offered + 2000)
    }

    /// UDP to a port where nobody listens: ECONNREFUSED is counted, never fatal.
    @Test func refusedDatagramsAreCountedNotFatal() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try freePort()
        let items = Self.items(50, bytes: 10, directory: directory)
        var gelf = try GELFWriter(configuration: .init(host: "127.0.0.1", port: port))
        var syslog = try SyslogWriter(configuration: .init(target: .udp(host: "127.0.0.1", port: port)))
        var gelfActivity = WriterActivity()
        var syslogActivity = WriterActivity()
        for item in items {
            gelfActivity += try gelf.write([item][...]).activity
            syslogActivity += try syslog.write([item][...]).activity
            usleep(1000)  // let the port-unreachable answer arrive
        }
        try gelf.close()
        try syslog.close()
        #expect(gelfActivity.refusedDatagrams > 0)
        #expect(syslogActivity.refusedDatagrams > 0)
    }

    /// A local socket that does not exist yet: connection attempts back off, then succeed.
    @Test func aMissingLocalSocketIsRetriedWithBackoff() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("log.sock")
        var writer = try SyslogWriter(
            configuration: .init(
                target: .local(path: path), reconnectMinimum: .milliseconds(50), reconnectMaximum: .milliseconds(50)))
        let item = Self.items(1, bytes: 10, directory: directory)[0]
        let first = #expect(throws: WriterError.self) { _ = try writer.write([item][...]) }
        #expect(first?.code == .connect)
        #expect(first?.errno == ENOENT)
        #expect(first?.isRetryable == true)
        #expect(first?.activity.connectFailures == 1)
        let gated = #expect(throws: WriterError.self) { _ = try writer.write([item][...]) }
        #expect(gated?.detail.contains("next attempt in") == true, "no system call until the backoff passes")
        #expect(gated?.activity.connectFailures == 0)

        let receiver = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(receiver); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        usleep(60_000)
        let outcome = try writer.write([item][...])
        #expect(outcome.activity.reconnects == 0, "the first connection is not a reconnection")
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        #expect(count > 0)
        #expect(Array(buffer[0..<max(0, count)]).suffix(item.line.count) == item.line[...])
        try writer.close()
    }
}
