import AuditEncoding
import AuditEvents
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

/// The syslog writer against a real rsyslogd running `contrib/rsyslog-swift-audit.conf` on
/// loopback ports and a unix socket in a temporary directory.
@Suite(.serialized, .requires(.rsyslogd)) struct SyslogRsyslogTests {
    enum Route: String, CaseIterable, CustomStringConvertible {
        case udp, tcp, tcpNewline, local
        var description: String { rawValue }
    }

    static func target(_ route: Route, _ rsyslog: Rsyslog) -> SyslogWriter.Configuration.Target {
        switch route {
        case .udp: .udp(host: "127.0.0.1", port: rsyslog.port)
        case .tcp: .tcp(host: "127.0.0.1", port: rsyslog.port, framing: .octetCounting)
        case .tcpNewline: .tcp(host: "127.0.0.1", port: rsyslog.port, framing: .newline)
        case .local: .local(path: rsyslog.socketPath)
        }
    }

    static let queue = OutputQueueConfiguration(
        capacity: 10_000, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200))

    /// `count` encoded execve events; every `longEvery`-th one carries `longBytes` of arguments.
    static func events(count: Int, longEvery: Int, longBytes: Int, directory: TemporaryDirectory) -> [OutputItem] {
        var encoder = EventEncoder(hostname: "host-é", users: testUserDirectory(directory))
        return (1...count).map { number in
            let long = number % longEvery == 0
            return encodedItem(
                execveEvent(
                    serial: UInt32(number), argumentBytes: long ? longBytes : number % 50, exeHex: number % 3 == 0),
                encoder: &encoder)
        }
    }

    /// Offers `items` to `worker` in small groups, so a UDP receive buffer never overflows.
    static func feed(_ items: [OutputItem], to worker: OutputWorker) {
        for (index, item) in items.enumerated() {
            #expect(worker.enqueue(item))
            if index % 40 == 39 { usleep(20_000) }
        }
    }

    /// Reassembles `[swift-audit part I/N seq=S] ` parts by sequence.
    static func reassemble(_ lines: [[UInt8]]) -> [UInt64: [UInt8]] {
        var parts: [UInt64: [Int: [UInt8]]] = [:]
        var totals: [UInt64: Int] = [:]
        for line in lines {
            let text = String(decoding: line, as: UTF8.self)
            guard text.hasPrefix("[swift-audit part "), let close = text.firstIndex(of: "]") else { continue }
            let fields = text[text.index(text.startIndex, offsetBy: 18)..<close].split(separator: " ")
            guard fields.count == 2, fields[1].hasPrefix("seq="), let sequence = UInt64(fields[1].dropFirst(4)) else {
                continue
            }
            let numbers = fields[0].split(separator: "/").compactMap { Int($0) }
            guard numbers.count == 2 else { continue }
            let bodyStart = text.utf8.index(after: text.utf8.index(after: close))  // "] "
            parts[sequence, default: [:]][numbers[0]] = Array(text.utf8[bodyStart...])
            totals[sequence] = numbers[1]
        }
        var events: [UInt64: [UInt8]] = [:]
        for (sequence, pieces) in parts where pieces.count == totals[sequence] {
            events[sequence] = (1...pieces.count).flatMap { pieces[$0] ?? [] }
        }
        return events
    }

    static let formats: [SyslogWriter.Configuration.Format] = [.rfc5424(structuredData: true), .rfc3164]

    @Test(arguments: Route.allCases, formats)
    func everyEventArrivesByteIdenticalAfterTheHeader(route: Route, format: SyslogWriter.Configuration.Format)
        throws
    {
        let rsyslog = try Rsyslog()
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = Self.events(count: 150, longEvery: 25, longBytes: 20_000, directory: rsyslog.directory)
        let long = items.filter { $0.line.count > 8000 }
        let short = items.filter { $0.line.count <= 8000 }
        #expect(long.count == 6)

        let writer = try SyslogWriter(
            configuration: .init(target: Self.target(route, rsyslog), format: format, hostname: "test-host"))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        Self.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.finished)
        #expect(report.counters.written == items.count, "\(report.counters)")
        #expect(report.counters.activity.oversizeSplit == long.count)

        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: short.count)
        #expect(lines.count == short.count, "rsyslog says: \(rsyslog.output)")
        let identical = lines == short.map(\.line)
        #expect(identical, "the JSON after the header is byte-identical, in order")
        let parts = rsyslog.lines(rsyslog.partsPath, atLeast: long.count * 3)
        let joined = Self.reassemble(parts)
        for item in long {
            let sequence = UInt64(item.event!.id.serial)
            let identical = joined[sequence] == item.line
            #expect(identical, "event \(sequence) reassembled from its parts")
        }
    }

    @Test func longEventsAreTruncatedWithAMarkerWhenConfigured() throws {
        let rsyslog = try Rsyslog()
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = Self.events(count: 40, longEvery: 10, longBytes: 5000, directory: rsyslog.directory)
        let writer = try SyslogWriter(
            configuration: .init(target: Self.target(.tcp, rsyslog), maxMessage: 2000, oversize: .truncate))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        Self.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 40)
        #expect(report.counters.activity.oversizeTruncated == 4)
        let truncated = rsyslog.lines(rsyslog.partsPath, atLeast: 4)
        #expect(truncated.count == 4)
        for (line, item) in zip(truncated, items.filter { $0.line.count > 2000 }) {
            let text = String(decoding: line, as: UTF8.self)
            let prefix = "[swift-audit truncated "
            #expect(text.hasPrefix(prefix))
            let marker = text.prefix { $0 != "]" }
            let numbers = marker.dropFirst(prefix.count).split(separator: " ")[0].split(separator: "/")
            let kept = Int(numbers[0]) ?? -1
            #expect(Int(numbers[1]) == item.line.count)
            #expect(Array(line.suffix(kept)) == Array(item.line.prefix(kept)))
            #expect(line.count <= 2000)
        }
        #expect(rsyslog.lines(rsyslog.eventsPath, atLeast: 36).count == 36)
    }

    @Test func droppedOversizeEventsAreCountedAsRejected() throws {
        let rsyslog = try Rsyslog()
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = Self.events(count: 30, longEvery: 10, longBytes: 9000, directory: rsyslog.directory)
        let notices = NoticeLog()
        let writer = try SyslogWriter(configuration: .init(target: Self.target(.udp, rsyslog), oversize: .drop))
        let worker = try OutputWorker(writer, configuration: Self.queue, onNotice: notices.handler)
        Self.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 27)
        #expect(report.counters.rejected == 3)
        #expect(report.counters.activity.oversizeDropped == 3)
        expectBalanced(report.counters, offered: 30)
        let warnings = notices.all.filter { if case .warning = $0 { true } else { false } }
        #expect(warnings.count == 3, "each dropped event is reported")
        #expect(rsyslog.lines(rsyslog.eventsPath, atLeast: 27).count == 27)
    }

    /// UDP with `oversize = tcp`: long events go whole over TCP to the same port.
    @Test func longUDPEventsCanTakeTheTCPRoute() throws {
        let rsyslog = try Rsyslog(maxMessageSize: 65536)
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = Self.events(count: 30, longEvery: 10, longBytes: 20_000, directory: rsyslog.directory)
        let writer = try SyslogWriter(configuration: .init(target: Self.target(.udp, rsyslog), oversize: .tcp))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        Self.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 30)
        #expect(report.counters.activity.oversizeRerouted == 3)
        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: 30)
        let identical = Set(lines) == Set(items.map(\.line))
        #expect(identical, "TCP and UDP may interleave differently; every event is there")
    }

    /// rsyslog stops and comes back: the writer reconnects and every queued event arrives.
    @Test(arguments: [Route.tcp, .local])
    func deliveryResumesWhenRsyslogReturns(route: Route) throws {
        let rsyslog = try Rsyslog()
        try rsyslog.start()
        defer { rsyslog.stop() }
        let items = Self.events(count: 200, longEvery: 1000, longBytes: 0, directory: rsyslog.directory)
        let writer = try SyslogWriter(
            configuration: .init(
                target: Self.target(route, rsyslog), reconnectMinimum: .milliseconds(20),
                reconnectMaximum: .milliseconds(200)))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        Self.feed(Array(items[0..<100]), to: worker)
        #expect(rsyslog.lines(rsyslog.eventsPath, atLeast: 100).count == 100)

        rsyslog.stop()
        Self.feed(Array(items[100...]), to: worker)
        #expect(waitUntil(seconds: 5) { worker.counters.writeErrors > 0 }, "the writer notices the outage")
        #expect(worker.counters.queued > 0)
        try rsyslog.start()
        #expect(waitUntil(seconds: 10) { worker.counters.written == 200 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.activity.reconnects >= 1)
        #expect(report.counters.recoveries >= 1)
        let lines = rsyslog.lines(rsyslog.eventsPath, atLeast: 200)
        let identical = lines == items.map(\.line)
        #expect(identical, "nothing lost, nothing doubled, in order (\(lines.count) lines)")
    }

    /// A datagram longer than the unix socket accepts (EMSGSIZE, go-audit #25) lowers the limit
    /// with a warning; the event still arrives, split, and nothing crashes.
    @Test func aDatagramTheSocketRefusesLowersTheLimitInsteadOfFailing() throws {
        let rsyslog = try Rsyslog(maxMessageSize: 1_048_576)
        try rsyslog.start()
        defer { rsyslog.stop() }
        // A 32 KiB send buffer (64 KiB once the kernel doubles it) and a 100 KB event under a
        // 1 MiB max_message: the socket refuses the whole event and then half of it.
        let items = Self.events(count: 3, longEvery: 2, longBytes: 100_000, directory: rsyslog.directory)
        let notices = NoticeLog()
        let writer = try SyslogWriter(
            configuration: .init(target: Self.target(.local, rsyslog), maxMessage: 1_048_576),
            datagramSendBuffer: 32768)
        let worker = try OutputWorker(writer, configuration: Self.queue, onNotice: notices.handler)
        Self.feed(items, to: worker)
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 3)
        #expect(report.counters.activity.oversizeSplit == 1)
        let lowered = notices.all.contains {
            if case .warning(_, let error) = $0 { error.errno == EMSGSIZE } else { false }
        }
        #expect(lowered, "the EMSGSIZE is reported: \(notices.all)")
        // The parts may reach the file one by one: wait until the event is complete (or 10 s).
        var joined: [UInt64: [UInt8]] = [:]
        _ = waitUntil(seconds: 10) {
            joined = Self.reassemble(splitLines(readFile(rsyslog.partsPath) ?? []).lines)
            return joined[2] != nil
        }
        let identical = joined[2] == items[1].line
        #expect(identical, "the refused event arrived whole, in parts")
        #expect(rsyslog.lines(rsyslog.eventsPath, atLeast: 2).count == 2)
    }
}
