import AuditEncoding
import AuditEvents
import AuditTLS
import AuditTestSupport
import AuditWriters
import Foundation
import Glibc
import Synchronization
import Testing

/// The RELP writer against a real rsyslogd with imrelp (each test its own instance, port, files),
/// and against a scripted server for the answers rsyslog does not give on demand.
@Suite(.serialized) struct RELPWriterTests {
    static let queue = OutputQueueConfiguration(
        capacity: 20_000, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200))

    /// `count` encoded execve events with serials 1…count.
    static func events(count: Int, directory: TemporaryDirectory) -> [OutputItem] {
        var encoder = EventEncoder(hostname: "host-é", users: testUserDirectory(directory))
        return (1...count).map { number in
            encodedItem(
                execveEvent(serial: UInt32(number), argumentBytes: number % 50, exeHex: number % 3 == 0),
                encoder: &encoder)
        }
    }

    /// A received message split into its sequence number (from `[swift-audit@32473 seq="N" …]`),
    /// its header (everything before the JSON) and the JSON.
    struct Received: Hashable {
        var sequence: Int
        var header: [UInt8]
        var json: [UInt8]

        init?(_ line: [UInt8]) {
            guard let brace = line.firstIndex(of: UInt8(ascii: "{")) else { return nil }
            header = Array(line[..<brace])
            json = Array(line[brace...])
            let text = String(decoding: header, as: UTF8.self)
            guard let range = text.range(of: "[swift-audit@32473 seq=\"") else { return nil }
            guard let sequence = Int(text[range.upperBound...].prefix { $0.isNumber }) else { return nil }
            self.sequence = sequence
        }
    }

    static func configuration(_ port: UInt16, window: Int = 128) -> RELPWriter.Configuration {
        RELPWriter.Configuration(
            host: "127.0.0.1", port: port, hostname: "relp-host", window: window, ackTimeout: .seconds(3),
            reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(200))
    }

    @Test(.requires(.rsyslogRELP))
    func thousandsOfEventsArriveExactlyOnceInOrderByteIdentical() throws {
        let collector = try RsyslogRELPCollector()
        try collector.start()
        defer { collector.stop() }
        let items = Self.events(count: 3000, directory: collector.directory)
        let writer = try RELPWriter(configuration: Self.configuration(collector.port, window: 64))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        let report = worker.close(drainTimeout: .seconds(30))
        #expect(report.finished)
        #expect(report.counters.written == items.count, "\(report.counters)")
        #expect(report.counters.activity.resent == 0)
        expectBalanced(report.counters, offered: items.count)

        let lines = collector.messages(atLeast: items.count)
        #expect(lines.count == items.count, "rsyslog says: \(collector.output)")
        let received = lines.compactMap(Received.init)
        #expect(received.count == lines.count, "every message carries its seq")
        #expect(received.map(\.sequence) == Array(1...items.count), "once each, in order")
        let identical = received.map(\.json) == items.map(\.line)
        #expect(identical, "the JSON is byte-identical")
        let header = String(decoding: received[0].header, as: UTF8.self)
        #expect(header.hasPrefix("<182>1 2023-11-14T22:13:21.123Z relp-host swift-audit "), "\(header)")
        #expect(header.contains(" SYSCALL [swift-audit@32473 seq=\"1\" types=\"SYSCALL,EXECVE,CWD,PATH,PROCTITLE\"] "))
    }

    /// imrelp over TLS asks every client for its certificate (librelp with GnuTLS refuses one
    /// without), so RELP over TLS is mutual TLS: `tls_cert` and `tls_key` are needed.
    @Test(
        "RELP over TLS with a client certificate: every event arrives once, in order, byte-identical",
        .requires(.rsyslogRELP, .openssl))
    func relpOverTLSDeliversEveryEventOnce() throws {
        let certificates = try TestCertificates()
        let collector = try RsyslogRELPCollector(
            tls: .init(
                certificate: certificates.serverCertificate, key: certificates.serverKey,
                clientCA: certificates.caFile))
        try collector.start()
        defer { collector.stop() }
        let items = Self.events(count: 500, directory: collector.directory)
        var configuration = Self.configuration(collector.port, window: 64)
        configuration.tls = TLSConfiguration(
            caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
            keyFile: certificates.clientKey)
        let writer = try RELPWriter(configuration: configuration)
        #expect(writer.name == "relp tls 127.0.0.1:\(collector.port)")
        let worker = try OutputWorker(writer, configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        let report = worker.close(drainTimeout: .seconds(30))
        #expect(report.counters.written == items.count, "\(String(describing: report.counters.lastError))")
        #expect(report.counters.activity.connectFailures == 0)
        let received = collector.messages(atLeast: items.count).compactMap(Received.init)
        #expect(received.map(\.sequence) == Array(1...items.count), "rsyslog says: \(collector.output)")
        let identical = received.map(\.json) == items.map(\.line)
        #expect(identical, "the JSON is byte-identical")
    }

    @Test(
        "RELP over TLS refuses a collector whose certificate another CA signed, and sends it nothing",
        .requires(.rsyslogRELP, .openssl))
    func relpOverTLSRefusesAStranger() throws {
        let certificates = try TestCertificates()
        let collector = try RsyslogRELPCollector(
            tls: .init(
                certificate: certificates.strangerCertificate, key: certificates.strangerKey,
                clientCA: certificates.caFile))
        try collector.start()
        defer { collector.stop() }
        var configuration = Self.configuration(collector.port)
        configuration.tls = TLSConfiguration(
            caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
            keyFile: certificates.clientKey)
        configuration.connectTimeout = .milliseconds(500)
        let worker = try OutputWorker(try RELPWriter(configuration: configuration), configuration: Self.queue)
        for item in Self.events(count: 20, directory: collector.directory) { #expect(worker.enqueue(item)) }
        let report = worker.close(drainTimeout: .seconds(2))
        #expect(report.counters.written == 0)
        #expect(report.counters.activity.connectFailures > 0)
        #expect((try? String(contentsOfFile: collector.messagesPath, encoding: .utf8)) ?? "" == "")
    }

    /// The collector is SIGKILLed twice while events flow and comes back on the same port: every
    /// event arrives, and a duplicate only comes from a window unacknowledged at the kill.
    @Test(.requires(.rsyslogRELP))
    func aCollectorKilledMidStreamLosesNothingAndDuplicatesOnlyTheUnacknowledgedWindow() throws {
        let collector = try RsyslogRELPCollector()
        try collector.start()
        defer { collector.stop() }
        let window = 32
        let count = 8000
        let kills = 2
        let items = Self.events(count: count, directory: collector.directory)
        let writer = try RELPWriter(configuration: Self.configuration(collector.port, window: window))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        // Each round hands the writer a burst and kills the collector while the burst is being
        // delivered, so that a window is in flight; the last round is delivered undisturbed.
        let rounds = kills + 1
        let burst = count / rounds
        var killed = 0
        for round in 0..<rounds {
            let end = round == rounds - 1 ? count : (round + 1) * burst
            let before = collector.messages().count
            #expect(worker.enqueue(contentsOf: items[(round * burst)..<end]) == end - round * burst)
            guard round < kills else { break }
            #expect(waitUntil(seconds: 10) { collector.messages().count > before + 200 }, "events flow")
            collector.kill9()
            killed += 1
            usleep(300_000)
            try collector.start()
        }
        #expect(killed == kills)
        #expect(waitUntil(seconds: 60) { worker.counters.written == count }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == count)
        expectBalanced(report.counters, offered: count)

        let lines = collector.messages(atLeast: count)
        let received = lines.compactMap(Received.init)
        #expect(received.count == lines.count)
        var seen: [Int: Received] = [:]
        var duplicates = 0
        for message in received {
            if let first = seen[message.sequence] {
                duplicates += 1
                #expect(first == message, "a duplicate is identical: seq, timestamp, host name and JSON")
            } else {
                seen[message.sequence] = message
            }
        }
        #expect(Set(seen.keys) == Set(1...count), "every event arrived at least once")
        for (sequence, message) in seen { #expect(message.json == items[sequence - 1].line) }
        #expect(duplicates <= window * kills, "at most one window per kill")
        #expect(report.counters.activity.resent >= duplicates, "every duplicate was counted as resent")
        #expect(report.counters.activity.resent <= window * kills)
        #expect(report.counters.activity.reconnects >= kills)
        // After each kill the writer resends from the first unacknowledged event: sequences go
        // back at most `window` steps, and never skip one.
        var highest = 0
        for message in received {
            #expect(message.sequence <= highest + 1, "no gap")
            #expect(message.sequence > highest - window, "no resend beyond the window")
            highest = max(highest, message.sequence)
        }
    }

    @Test(.requires(.rsyslogRELP))
    func longEventsAreSplitIntoMarkedPartsEachAcknowledged() throws {
        let collector = try RsyslogRELPCollector()
        try collector.start()
        defer { collector.stop() }
        var encoder = EventEncoder(hostname: "h", users: testUserDirectory(collector.directory))
        let items = (1...20).map {
            encodedItem(execveEvent(serial: UInt32($0), argumentBytes: $0 % 5 == 0 ? 20_000 : 10), encoder: &encoder)
        }
        var configuration = Self.configuration(collector.port, window: 2)
        configuration.maxMessage = 2000
        let worker = try OutputWorker(RELPWriter(configuration: configuration), configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        let report = worker.close(drainTimeout: .seconds(20))
        #expect(report.counters.written == 20)
        #expect(report.counters.activity.oversizeSplit == 4)
        let lines = collector.messages(atLeast: 16 + 4 * 11)
        let parts = lines.filter { String(decoding: $0, as: UTF8.self).contains("[swift-audit part ") }
        #expect(parts.count >= 4 * 11, "a 20 kB event in pieces of under 2000 bytes")
        #expect(lines.count - parts.count == 16)
    }

    @Test func anErrorAnswerIsCountedAndTheEventSentAgain() throws {
        let server = try ScriptedRELPServer(refuseFirst: 1)
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let items = Self.events(count: 10, directory: directory)
        let notices = NoticeLog()
        let worker = try OutputWorker(
            RELPWriter(configuration: Self.configuration(server.port, window: 4)), configuration: Self.queue,
            onNotice: notices.handler)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.written == 10 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.activity.refusedByCollector == 1)
        #expect(report.counters.activity.resent >= 1)
        #expect(notices.failures.contains { $0.code == .notAcknowledged })
        let sequences = server.acceptedSequences
        #expect(Set(sequences) == Set(1...10), "\(sequences)")
    }

    /// A collector that took a window of events and died before acknowledging them gets them
    /// again: duplicates, never losses, each identical to its first copy.
    @Test func aWindowTakenButNotAcknowledgedArrivesTwiceAndIdentifiable() throws {
        let server = try ScriptedRELPServer(refuseFirst: 0, crash: (answered: 5, recorded: 12))
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let items = Self.events(count: 40, directory: directory)
        let worker = try OutputWorker(
            RELPWriter(configuration: Self.configuration(server.port, window: 8)), configuration: Self.queue)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.written == 40 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        let messages = server.acceptedMessages.compactMap(Received.init)
        var first: [Int: Received] = [:]
        var duplicates = 0
        for message in messages {
            if let earlier = first[message.sequence] {
                duplicates += 1
                #expect(earlier == message, "same seq, timestamp, host name and JSON")
            } else {
                first[message.sequence] = message
            }
        }
        #expect(Set(first.keys) == Set(1...40))
        #expect(duplicates == 7, "the 7 taken after the last acknowledgement")
        #expect(report.counters.activity.resent >= duplicates && report.counters.activity.resent <= 8)
    }

    @Test func noAnswerWithinTheAckTimeoutReplacesTheSession() throws {
        let server = try ScriptedRELPServer(refuseFirst: 0, silentSessions: 1)
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let items = Self.events(count: 5, directory: directory)
        var configuration = Self.configuration(server.port, window: 8)
        configuration.ackTimeout = .milliseconds(300)
        let notices = NoticeLog()
        let worker = try OutputWorker(
            RELPWriter(configuration: configuration), configuration: Self.queue, onNotice: notices.handler)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.written == 5 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(notices.failures.contains { $0.code == .stalled })
        #expect(report.counters.activity.resent == 5, "the whole unanswered window went again")
        #expect(server.sessions >= 2)
        #expect(server.closeCommands == 1, "close() ends the session with a close command")
    }

    @Test func aServerTricklingAPartialAnswerCannotHoldAWriteBeyondTheAckTimeout() throws {
        let server = try ScriptedRELPServer(refuseFirst: 0, trickleSessions: 1)
        defer { server.stop() }
        let directory = try TemporaryDirectory()
        let items = Self.events(count: 5, directory: directory)
        var configuration = Self.configuration(server.port, window: 8)
        configuration.ackTimeout = .milliseconds(300)
        let notices = NoticeLog()
        let worker = try OutputWorker(
            RELPWriter(configuration: configuration), configuration: Self.queue, onNotice: notices.handler)
        for item in items { #expect(worker.enqueue(item)) }
        #expect(waitUntil(seconds: 10) { worker.counters.written == 5 }, "\(worker.counters)")
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(notices.failures.contains { $0.code == .stalled })
        #expect(server.sessions >= 2)
        #expect(server.acceptedSequences == Array(1...5))
        _ = report
    }

    @Test func aServerThatDoesNotOfferSyslogIsRefused() throws {
        let server = try ScriptedRELPServer(refuseFirst: 0, offers: "relp_version=0\ncommands=eventlog")
        defer { server.stop() }
        var writer = try RELPWriter(configuration: Self.configuration(server.port))
        let directory = try TemporaryDirectory()
        let error = #expect(throws: WriterError.self) {
            try writer.write(Self.events(count: 1, directory: directory)[...])
        }
        #expect(error?.code == .protocolViolation)
        #expect(error?.isRetryable == true)
        #expect(error?.completedItems == 0)
    }

    @Test func invalidConfigurationsAreRefused() {
        for configuration in [
            RELPWriter.Configuration(host: "", port: 1),
            RELPWriter.Configuration(host: "h", port: 1, window: 0),
            RELPWriter.Configuration(host: "h", port: 1, window: 4097),
            RELPWriter.Configuration(host: "h", port: 1, maxMessage: 100),
            RELPWriter.Configuration(host: "h", port: 1, oversize: .tcp),
        ] {
            #expect(throws: WriterError.self) { try RELPWriter(configuration: configuration) }
        }
    }
}

/// A RELP server on a loopback port that answers `open` with `offers`, refuses the first
/// `refuseFirst` syslog commands with `500`, ignores every command of the first `silentSessions`
/// sessions after `open`, and records the sequence numbers it accepted.
final class ScriptedRELPServer: Sendable {
    let port: UInt16
    private let listener: Int32
    private let state = Mutex<State>(State())
    private struct State {
        var running = true
        var done = false
        var refusalsLeft = 0
        var silentLeft = 0
        var trickleLeft = 0
        var sessions = 0
        var closes = 0
        var sequences: [Int] = []
        var messages: [[UInt8]] = []
        var crash: (answered: Int, recorded: Int)?
    }
    private let offers: String

    /// `crash`: in the first session, answer only the first `answered` syslog commands, take
    /// `recorded` of them, then drop the connection without a word (a collector dying with a
    /// window written but unacknowledged).
    init(
        refuseFirst: Int, silentSessions: Int = 0, trickleSessions: Int = 0,
        crash: (answered: Int, recorded: Int)? = nil,
        offers: String = "relp_version=0\nrelp_software=test\ncommands=syslog"
    ) throws {
        let socket = try BoundSocket(type: SOCK_STREAM, port: 0)
        guard listen(socket.descriptor, 8) == 0 else { throw TestFailure("listen: errno \(errno)") }
        listener = socket.descriptor
        port = socket.port
        self.offers = offers
        state.withLock {
            $0.refusalsLeft = refuseFirst
            $0.silentLeft = silentSessions
            $0.trickleLeft = trickleSessions
            $0.crash = crash
        }
        TestThread { [self] in serve() }.start()
    }

    var acceptedSequences: [Int] { state.withLock { $0.sequences } }
    /// Every syslog message taken, as sent.
    var acceptedMessages: [[UInt8]] { state.withLock { $0.messages } }
    var sessions: Int { state.withLock { $0.sessions } }
    var closeCommands: Int { state.withLock { $0.closes } }

    func stop() {
        state.withLock { $0.running = false }
        _ = waitUntil(seconds: 5) { state.withLock { $0.done } }
    }

    private func serve() {
        defer {
            Glibc.close(listener)
            state.withLock { $0.done = true }
        }
        while state.withLock({ $0.running }) {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let (silent, trickle) = state.withLock { state in
                state.sessions += 1
                defer {
                    state.silentLeft = max(0, state.silentLeft - 1)
                    state.trickleLeft = max(0, state.trickleLeft - 1)
                }
                return (state.silentLeft > 0, state.trickleLeft > 0)
            }
            session(client, silent: silent || trickle, trickle: trickle)
            Glibc.close(client)
        }
    }

    /// Serves one connection until the client closes it (or the server stops). A `trickle`
    /// session answers the first syslog command with the start of a long frame and then one more
    /// byte of it every 100 ms, never finishing it.
    private func session(_ client: Int32, silent: Bool, trickle: Bool = false) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var opened = false
        var trickling = false
        var lastTrickle = Date()
        while state.withLock({ $0.running }) {
            if trickling, Date().timeIntervalSince(lastTrickle) >= 0.1 {
                lastTrickle = Date()
                guard send(client, "a", 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
            }
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            pending += buffer[0..<count]
            while let (transaction, command, data, used) = Self.frame(pending) {
                pending.removeFirst(used)
                var answer: String?
                switch command {
                case "open":
                    opened = true
                    answer = "200 OK\n" + offers
                case "close":
                    state.withLock { $0.closes += 1 }
                    answer = ""
                case "syslog" where opened && trickle:
                    if !trickling {
                        trickling = true
                        answer = nil
                        let start = Array("\(transaction) rsp 1000 ".utf8)
                        _ = start.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                case "syslog" where opened && !silent:
                    let refuse = state.withLock { state in
                        defer { state.refusalsLeft = max(0, state.refusalsLeft - 1) }
                        return state.refusalsLeft > 0
                    }
                    if refuse {
                        answer = "500 cannot take it now"
                    } else {
                        let (crashNow, silentNow) = state.withLock { state in
                            if let received = RELPWriterTests.Received(data) {
                                state.sequences.append(received.sequence)
                            }
                            state.messages.append(data)
                            guard let crash = state.crash else { return (false, false) }
                            let taken = state.messages.count
                            if taken >= crash.recorded { state.crash = nil }
                            return (taken >= crash.recorded, taken > crash.answered)
                        }
                        if crashNow { return }
                        answer = silentNow ? nil : "200 OK"
                    }
                default:
                    answer = nil
                }
                if let answer {
                    let bytes = Array(answer.utf8)
                    let frame =
                        Array("\(transaction) rsp \(bytes.count)\(bytes.isEmpty ? "" : " ")".utf8) + bytes + [10]
                    _ = frame.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
        }
    }

    /// The first complete frame of `bytes`: (txnr, command, data, bytes used), or nil.
    private static func frame(_ bytes: [UInt8]) -> (Int, String, [UInt8], Int)? {
        var fields: [String] = []
        var position = 0
        while fields.count < 3, position < bytes.count {
            let start = position
            while position < bytes.count, bytes[position] != 32, bytes[position] != 10 { position += 1 }
            guard position < bytes.count else { return nil }
            fields.append(String(decoding: bytes[start..<position], as: UTF8.self))
            if bytes[position] == 10 { break }
            position += 1
        }
        guard fields.count == 3, let transaction = Int(fields[0]), let length = Int(fields[2]) else { return nil }
        if length == 0 {
            guard position < bytes.count else { return nil }
            return (transaction, fields[1], [], position + 1)
        }
        let start = position  // already past the SP
        guard bytes.count >= start + length + 1 else { return nil }
        return (transaction, fields[1], Array(bytes[start..<(start + length)]), start + length + 1)
    }
}
