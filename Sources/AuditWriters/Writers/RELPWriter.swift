package import AuditEncoding
internal import AuditRELP
internal import AuditSystem
package import AuditTLS
import Glibc

/// Sends each event as a syslog message over RELP (rsyslog's Reliable Event Logging Protocol, its
/// `imrelp` input): an event counts as written only once the collector acknowledged it.
///
/// # Delivery
/// `write` lays each item out as a syslog message (`SyslogFormatter`: RFC 5424 with the
/// `[swift-audit@32473 seq="…"]` element by default, so that a duplicate is recognisable by its
/// sequence, timestamp and host name), sends it as a `syslog` command and keeps its transaction
/// number in a `RELPWindow` of at most `window` unanswered commands. It returns once every item
/// is answered with `rsp 200`, and reports as completed only the prefix of items whose every
/// message was answered. When the connection breaks, the server closes the session, no answer
/// comes for `ackTimeout`, or the server answers with an error (rsyslog's 500 when it cannot take
/// a message), the writer disconnects and throws a retryable error with that prefix as
/// `completedItems`: the worker backs off and hands the rest back, which is sent again on a new
/// session. So an event is never lost once handed to this writer, and it arrives twice only if it
/// was sent and not yet acknowledged when the connection was lost (at most `window` events per
/// loss; counted as `WriterActivity.resent`).
///
/// # Why not librelp
/// See docs/design.md, "RELP": librelp resends its unacknowledged frames itself on reconnect and
/// tells its caller nothing per message, while the worker (and the disk spool behind it) must know
/// exactly which events the collector has; and it brings its own engine and poll loop, where
/// every output here is one plain thread with bounded waits.
///
/// # Never blocking the daemon
/// Connecting waits at most `connectTimeout`, a send at most `sendTimeout` without progress, an
/// answer at most `ackTimeout`; then the write fails (retryable) and the bounded queue holds or
/// drops new events, counted. The transport is `NetworkLink`'s TCP stream; TLS comes from the same
/// link, so RELP over TLS uses the same verified TLS code as syslog and GELF.
package struct RELPWriter: EventWriter {
    /// Where and how to send.
    package struct Configuration: Sendable, Hashable {
        /// The collector's host name or address (IPv4, IPv6 without brackets).
        package var host: String
        /// Its imrelp port (RELP has no IANA port; 20514 is the customary one, but there is no
        /// default: `address` must name the port).
        package var port: UInt16
        /// The syslog header: RFC 5424 with structured data by default (the sequence number makes
        /// a resent event identifiable), or RFC 3164.
        package var format: SyslogWriter.Configuration.Format
        /// The facility, 0…23 (22 = local6).
        package var facility: UInt8
        /// The severity, 0…7 (6 = info).
        package var severity: UInt8
        /// RFC 5424 APP-NAME / RFC 3164 TAG.
        package var tag: String
        /// The HOSTNAME field; nil uses `gethostname()`.
        package var hostname: String?
        /// Bytes of one syslog message (RELP DATA), 480…1 MiB. imrelp cuts longer messages to its
        /// `maxDataSize` (rsyslog's `maxMessageSize`, 8096 by default) and still acknowledges
        /// them, so this must not exceed it.
        package var maxMessage: Int
        /// What happens to a longer event: split into marked parts, truncated with a marker, or
        /// dropped (counted). `tcp` is not valid here.
        package var oversize: SyslogWriter.Configuration.OversizePolicy
        /// The most `syslog` commands waiting for an answer (1…4096; librelp's default is 128).
        package var window: Int
        /// How long to wait for an answer before the session counts as dead and is replaced.
        package var ackTimeout: Duration
        /// The first wait after a failed connection; doubled after each further failure…
        package var reconnectMinimum: Duration
        /// …up to this.
        package var reconnectMaximum: Duration
        /// How long one connection attempt may take.
        package var connectTimeout: Duration
        /// How long a send may make no progress before the write fails (retryable).
        package var sendTimeout: Duration
        /// How long `close()` waits for the answer to its `close` command.
        package var closeTimeout: Duration
        /// TLS (RELP over TLS, as imrelp's `tls="on"`): the server is verified against it and
        /// nothing is ever sent in clear; nil for plain TCP (a relay on this host only).
        package var tls: TLSConfiguration?

        /// The defaults of `config/swift-audit.conf`: RFC 5424 with structured data, local6.info,
        /// tag `swift-audit`, 8096-byte messages split when longer, a window of 128, answers
        /// awaited 10 s (librelp's own session timeout).
        package init(
            host: String,
            port: UInt16,
            format: SyslogWriter.Configuration.Format = .rfc5424(structuredData: true),
            facility: UInt8 = 22,
            severity: UInt8 = 6,
            tag: String = "swift-audit",
            hostname: String? = nil,
            maxMessage: Int = 8096,
            oversize: SyslogWriter.Configuration.OversizePolicy = .split,
            window: Int = 128,
            ackTimeout: Duration = .seconds(10),
            reconnectMinimum: Duration = .milliseconds(100),
            reconnectMaximum: Duration = .seconds(5),
            connectTimeout: Duration = .seconds(2),
            sendTimeout: Duration = .seconds(1),
            closeTimeout: Duration = .seconds(1),
            tls: TLSConfiguration? = nil
        ) {
            self.host = host
            self.port = port
            self.format = format
            self.facility = facility
            self.severity = severity
            self.tag = tag
            self.hostname = hostname
            self.maxMessage = maxMessage
            self.oversize = oversize
            self.window = window
            self.ackTimeout = ackTimeout
            self.reconnectMinimum = reconnectMinimum
            self.reconnectMaximum = reconnectMaximum
            self.connectTimeout = connectTimeout
            self.sendTimeout = sendTimeout
            self.closeTimeout = closeTimeout
            self.tls = tls
        }
    }

    /// The window sizes accepted. The bound keeps the answers to a full window (about 20 bytes
    /// each) well inside a socket's receive buffer, so the server never blocks on them while
    /// this writer is still sending.
    package static let windowRange = 1...4096

    /// The configuration in force.
    package let configuration: Configuration
    /// "relp HOST:PORT".
    package let name: String

    private var link: NetworkLink
    private var formatter: SyslogFormatter
    private let overflow: SyslogFormatter.Overflow
    private var window: RELPWindow
    private var parser = RELPResponseParser()
    /// True once the server accepted `open` on the current connection.
    private var sessionOpen = false
    /// Frames gathered before a `send(2)`.
    private var buffer: [UInt8] = []
    private var receiveBuffer = [UInt8](repeating: 0, count: 16 << 10)
    /// For the items of the current `write`: the framed bytes up to and including each one…
    private var itemEnds: [Int] = []
    /// …and what laying each out did (a split, a truncation), counted once it is acknowledged.
    private var itemActivity: [WriterActivity] = []
    /// Items sent but not acknowledged when the last session was lost: the next `write` sends
    /// them again (counted then as `resent`).
    private var resendOwed = 0
    private let ackMilliseconds: Int32
    /// When the window last shrank (or was last empty): the acknowledgement timeout counts from it.
    private var lastAcknowledgement: UInt64 = 0
    private let closeMilliseconds: Int32
    private let offers: [UInt8]

    /// Validates `configuration`; connects on the first write.
    package init(configuration: Configuration) throws(WriterError) {
        let name = "relp\(configuration.tls == nil ? "" : " tls") \(hostPort(configuration.host, configuration.port))"
        func invalid(_ detail: String) -> WriterError {
            WriterError(code: .configuration, target: name, detail: detail, isRetryable: false)
        }
        guard !configuration.host.isEmpty, configuration.port != 0 else { throw invalid("host and port are required") }
        guard configuration.facility <= 23 else { throw invalid("facility \(configuration.facility) is not 0…23") }
        guard configuration.severity <= 7 else { throw invalid("severity \(configuration.severity) is not 0…7") }
        guard (480...1_048_576).contains(configuration.maxMessage) else {
            throw invalid("max_message \(configuration.maxMessage) is not 480…1048576")
        }
        guard Self.windowRange.contains(configuration.window) else {
            throw invalid("relp_window \(configuration.window) is not 1…4096")
        }
        guard configuration.oversize != .tcp else { throw invalid("oversize = tcp applies only to syslog over udp") }
        guard configuration.reconnectMinimum > .zero, configuration.connectTimeout > .zero,
            configuration.sendTimeout > .zero, configuration.ackTimeout > .zero, configuration.closeTimeout >= .zero
        else { throw invalid("timeouts and reconnect delays must be positive") }
        let style: SyslogFormatter.Style =
            switch configuration.format {
            case .rfc5424(let structuredData): .rfc5424(structuredData: structuredData)
            case .rfc3164: .rfc3164(hostname: true)
            }
        self.configuration = configuration
        self.name = name
        let context = try configuration.tls.map { (tls) throws(WriterError) in
            try SyslogWriter.tlsContext(tls, target: name)
        }
        self.link = NetworkLink(
            endpoint: .tcp(host: configuration.host, port: configuration.port), target: name,
            connectTimeout: configuration.connectTimeout, sendTimeout: configuration.sendTimeout,
            reconnectMinimum: configuration.reconnectMinimum, reconnectMaximum: configuration.reconnectMaximum,
            tls: context)
        self.formatter = SyslogFormatter(
            style: style, facility: configuration.facility, severity: configuration.severity,
            hostname: configuration.hostname ?? SyslogWriter.systemHostname(), appName: configuration.tag,
            processID: getpid())
        self.overflow =
            switch configuration.oversize {
            case .split: .split
            case .truncate: .truncate
            case .drop, .tcp: .refuse
            }
        self.window = RELPWindow(limit: configuration.window)
        self.ackMilliseconds = Int32(clamping: max(1, configuration.ackTimeout.clampedNanoseconds / 1_000_000))
        self.closeMilliseconds = Int32(clamping: configuration.closeTimeout.clampedNanoseconds / 1_000_000)
        self.offers = RELPOffers.clientOpen(software: ["swift-audit"])
    }

    /// Notices, every second while idle, a server that closed the session (`serverclose`, EOF),
    /// so that the next batch opens a new one instead of failing on the dead one first.
    package var maintenanceInterval: Duration? { .seconds(1) }

    // MARK: Writing

    /// Sends the items in windows of `configuration.window` commands and returns once all are
    /// acknowledged; see the type's documentation for what a failure reports.
    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        var activity = WriterActivity()
        // The first `owed` items went out on a session lost before they were acknowledged: each
        // counts as resent once it is sent again.
        let owed = resendOwed
        resendOwed = 0
        itemEnds.removeAll(keepingCapacity: true)
        itemActivity.removeAll(keepingCapacity: true)
        // Items are numbered from 0 within this call; `sent` of them are framed and sent, the
        // first `completed` fully acknowledged.
        var sent = 0
        var completed = 0
        var laidOut = -1
        var rejection: WriterError?
        do throws(WriterError) {
            dropIfServerClosed()
            try openSession()
            while true {
                // Send what the window has room for: an item's messages go together, and an item
                // with more messages than the window goes alone into an empty one.
                if canSend(sent: sent, of: items.count, laidOut: laidOut, rejection: rejection) {
                    buffer.removeAll(keepingCapacity: true)
                    let batchBase = itemEnds.last ?? 0
                    while sent < items.count, buffer.count < StreamSender.batchBytes {
                        let item = items[items.startIndex + sent]
                        if laidOut != sent {
                            let layout = formatter.layOut(item, limit: configuration.maxMessage, overflow: overflow)
                            laidOut = sent
                            if let refused = refusal(layout) {
                                rejection = refused
                                break
                            }
                            itemActivity.append(layout.activity)
                        }
                        let messages = formatter.messages
                        guard window.room >= messages.count || window.isEmpty else { break }
                        for index in 0..<messages.count {
                            let transaction = window.record(item: sent)
                            RELPFrame.append(
                                transaction: transaction, command: RELPFrame.syslog, data: messages.message(index),
                                to: &buffer)
                        }
                        itemEnds.append(batchBase + buffer.count)
                        sent += 1
                    }
                    if !buffer.isEmpty {
                        let (_, code) = buffer.withUnsafeBytes { link.sendStream($0) }
                        if code != 0 { throw streamError(code, link: link) }
                    }
                }
                if window.isEmpty {
                    lastAcknowledgement = 0
                    completed = sent
                    if let rejection {
                        throw rejection
                    }
                    if sent == items.count { break }
                    continue
                }
                // Take the answers that arrived; wait for one only when nothing more can be sent.
                // The wait counts from the last acknowledgement, not from the last byte: a server
                // that trickles a partial frame a byte at a time must not hold the write forever.
                let canSendMore = canSend(sent: sent, of: items.count, laidOut: laidOut, rejection: rejection)
                let pendingBefore = window.count
                let now = SystemClock.monotonicNanoseconds()
                if lastAcknowledgement == 0 || window.count == 0 { lastAcknowledgement = now }
                let waited = Int64(bitPattern: now &- lastAcknowledgement) / 1_000_000
                let left = Int32(clamping: max(0, Int64(ackMilliseconds) - waited))
                _ = try receiveAnswers(milliseconds: canSendMore ? 0 : left)
                if window.count < pendingBefore {
                    lastAcknowledgement = SystemClock.monotonicNanoseconds()
                } else if !canSendMore,
                    SystemClock.monotonicNanoseconds() &- lastAcknowledgement >= UInt64(ackMilliseconds) &* 1_000_000
                {
                    throw WriterError(
                        code: .stalled, target: name,
                        detail: "no RELP acknowledgement for \(ackMilliseconds) ms; "
                            + "\(window.count) command(s) unanswered")
                }
                completed = window.oldestPendingItem ?? sent
            }
        } catch {
            completed = window.oldestPendingItem ?? sent
            activity.resent += min(owed, sent)
            if !error.isRetryable, error.code == .rejected {
                // A refused item: everything before it is acknowledged, the session goes on.
                throw error.after(
                    items: completed, bytes: bytes(through: completed),
                    activity: activity + acknowledgedActivity(completed) + link.takeActivity())
            }
            resendOwed = max(owed, sent) - completed
            endSession()
            throw error.after(
                items: completed, bytes: bytes(through: completed),
                activity: activity + acknowledgedActivity(completed) + link.takeActivity())
        }
        activity.resent += min(owed, sent)
        return WriteOutcome(
            bytes: bytes(through: items.count),
            activity: activity + acknowledgedActivity(items.count) + link.takeActivity())
    }

    /// Whether the next item can go out now: there is one, nothing was refused, and the window
    /// has room for all its messages (or is empty, for an item with more messages than it holds).
    private func canSend(sent: Int, of count: Int, laidOut: Int, rejection: WriterError?) -> Bool {
        guard rejection == nil, sent < count else { return false }
        let needed = laidOut == sent ? formatter.messages.count : 1
        return window.isEmpty || window.room >= needed
    }

    /// Bytes of the first `count` items.
    private func bytes(through count: Int) -> Int {
        count == 0 ? 0 : itemEnds[min(count, itemEnds.count) - 1]
    }

    /// The layout activity of the first `count` items.
    private func acknowledgedActivity(_ count: Int) -> WriterActivity {
        var total = WriterActivity()
        for index in 0..<min(count, itemActivity.count) { total += itemActivity[index] }
        return total
    }

    /// The error for an item the formatter refused (too long under `oversize = drop`, a raw
    /// newline); nil when it was laid out.
    private func refusal(_ layout: SyslogFormatter.Layout) -> WriterError? {
        switch layout {
        case .whole, .split, .truncated:
            return nil
        case .tooLarge(let size):
            var error = WriterError.syslogTooLarge(name, size: size, limit: configuration.maxMessage)
            error.activity.oversizeDropped = 1
            return error
        case .newline(let offset):
            return .syslogNewline(name, offset: offset)
        }
    }

    // MARK: Session

    /// Connects and opens a session unless one is open: sends `open` with the client's offers
    /// and waits (at most `ackTimeout`) for the server's `rsp 200` with its offers, which must
    /// include `relp_version` and the `syslog` command.
    private mutating func openSession() throws(WriterError) {
        if sessionOpen, link.isConnected { return }
        sessionOpen = false
        try link.connect()
        link.disableNagle()
        parser.reset()
        window.reset(next: .first)
        let transaction = window.takeUntracked()
        buffer.removeAll(keepingCapacity: true)
        RELPFrame.append(transaction: transaction, command: RELPFrame.open, data: offers, to: &buffer)
        let (_, code) = buffer.withUnsafeBytes { link.sendStream($0) }
        if code != 0 { throw streamError(code, link: link) }
        let deadline = SystemClock.monotonicNanoseconds() &+ UInt64(ackMilliseconds) &* 1_000_000
        while true {
            while let frame = try nextFrame() {
                switch frame.command {
                case .response(let status) where frame.transaction == transaction.value:
                    guard status == 200 else {
                        throw WriterError(
                            code: .connect, target: name,
                            detail: "the server refused the RELP session: \(text(parser.data))")
                    }
                    do throws(RELPProtocolError) {
                        let accepted = try RELPOffers(parsing: parser.responseData)
                        try accepted.validateServerAnswer(excerpt: parser.data)
                    } catch {
                        throw WriterError(code: .protocolViolation, target: name, detail: error.description)
                    }
                    sessionOpen = true
                    return
                case .serverClose:
                    throw WriterError(code: .connect, target: name, detail: "the server closed the RELP session")
                case .other where frame.transaction == 0:
                    continue  // an unknown hint: hints need no answer and may be ignored
                default:
                    throw violation(.unexpectedTransaction(frame.transaction))
                }
            }
            let now = SystemClock.monotonicNanoseconds()
            guard now < deadline else {
                throw WriterError(
                    code: .connect, target: name, detail: "no answer to RELP open for \(ackMilliseconds) ms")
            }
            try receive(milliseconds: Int32(clamping: (deadline - now + 999_999) / 1_000_000))
        }
    }

    /// The next complete frame from the server, nil when more bytes are needed.
    private mutating func nextFrame() throws(WriterError) -> RELPIncomingFrame? {
        do throws(RELPProtocolError) {
            return try parser.next()
        } catch {
            throw WriterError(code: .protocolViolation, target: name, detail: error.description)
        }
    }

    /// The error for a well-formed frame this client cannot accept (the last one parsed).
    private func violation(_ kind: RELPProtocolError.Kind) -> WriterError {
        let error = RELPProtocolError(kind, excerpt: Array(parser.command) + Array(parser.data))
        return WriterError(code: .protocolViolation, target: name, detail: error.description)
    }

    /// Reads what the server sent (waiting at most `milliseconds`) into the parser. Returns false
    /// when nothing arrived; throws when the connection ended or failed.
    @discardableResult
    private mutating func receive(milliseconds: Int32) throws(WriterError) -> Bool {
        let result = receiveBuffer.withUnsafeMutableBytes { link.receiveStream(into: $0, milliseconds: milliseconds) }
        switch result {
        case .bytes(let count):
            receiveBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            return true
        case .timedOut:
            return false
        case .closed:
            throw WriterError(
                code: .write, target: name, errno: ECONNRESET, detail: "the server closed the connection")
        case .failed(let code):
            throw WriterError(code: .write, target: name, errno: code)
        }
    }

    /// Applies the answers that arrive within `milliseconds`: each `rsp 200` acknowledges its
    /// command. Returns whether any frame was taken. Throws on an error answer, `serverclose`,
    /// a protocol violation or a lost connection.
    private mutating func receiveAnswers(milliseconds: Int32) throws(WriterError) -> Bool {
        guard try receive(milliseconds: milliseconds) else { return false }
        while let frame = try nextFrame() {
            switch frame.command {
            case .response(let status):
                guard status == 200 else {
                    // Not acknowledged: the item stays pending (so it is not reported completed)
                    // and the session ends; the worker sends it again after its backoff.
                    var error = WriterError(
                        code: .notAcknowledged, target: name,
                        detail: "rsp \(frame.transaction): \(text(parser.data))")
                    error.activity.refusedByCollector = 1
                    throw error
                }
                do throws(RELPProtocolError) {
                    try window.acknowledge(frame.transaction)
                } catch {
                    throw WriterError(code: .protocolViolation, target: name, detail: error.description)
                }
            case .serverClose:
                throw WriterError(
                    code: .write, target: name, errno: ECONNRESET,
                    detail: "the server closed the RELP session (serverclose)")
            case .other where frame.transaction == 0:
                continue
            case .other:
                throw violation(.unexpectedCommand)
            }
        }
        return true
    }

    /// Closes the connection and forgets the session (after a failure).
    private mutating func endSession() {
        link.disconnect()
        sessionOpen = false
        parser.reset()
        window.reset(next: .first)
        lastAcknowledgement = 0
    }

    /// Disconnects an idle session the server has closed (`serverclose`, EOF, a reset) or broken.
    private mutating func dropIfServerClosed() {
        guard link.isConnected else { return }
        do {
            try receive(milliseconds: 0)
            while let frame = try parser.next() {
                if case .serverClose = frame.command {
                    endSession()
                    return
                }
                if frame.transaction != 0 {
                    endSession()  // an answer nothing waits for: the session is confused
                    return
                }
            }
        } catch {
            endSession()
        }
    }

    /// Printable text of a response for an error message.
    private func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix(200).map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: " ") }, as: UTF8.self)
    }

    // MARK: Lifecycle

    /// Nothing is buffered in the writer: `write` returns only acknowledged items.
    package mutating func flush() throws(WriterError) {}

    /// Ends the session politely so the next write connects again (and resolves the name again).
    /// Over TLS the certificate files are read again first (a reload, a rotated certificate); when
    /// they no longer load, the session and the old files stay, and this throws.
    package mutating func reopen() throws(WriterError) {
        let context = try link.rereadTLSFiles()
        closeSession()
        if let context { link.tls = context }
    }

    /// Notices a session the server closed while idle.
    package mutating func performMaintenance() throws(WriterError) {
        dropIfServerClosed()
    }

    /// Sends `close` and waits at most `closeTimeout` for its answer, then disconnects. Nothing is
    /// in flight here: every `write` returned with its window empty.
    package mutating func close() throws(WriterError) {
        closeSession()
    }

    private mutating func closeSession() {
        defer { endSession() }
        guard sessionOpen, link.isConnected, window.isEmpty else { return }
        let transaction = window.takeUntracked()
        buffer.removeAll(keepingCapacity: true)
        RELPFrame.append(transaction: transaction, command: RELPFrame.close, data: [UInt8](), to: &buffer)
        let (_, code) = buffer.withUnsafeBytes { link.sendStream($0) }
        guard code == 0 else { return }
        let deadline = SystemClock.monotonicNanoseconds() &+ UInt64(closeMilliseconds) &* 1_000_000
        while true {
            do {
                while let frame = try parser.next() {
                    if frame.transaction == transaction.value || frame.command == .serverClose { return }
                }
            } catch {
                return
            }
            let now = SystemClock.monotonicNanoseconds()
            guard now < deadline else { return }
            do {
                guard try receive(milliseconds: Int32(clamping: (deadline - now + 999_999) / 1_000_000))
                else { return }
            } catch {
                return
            }
        }
    }
}

extension WriterActivity {
    /// The sum of two activities.
    static func + (lhs: WriterActivity, rhs: WriterActivity) -> WriterActivity {
        var total = lhs
        total += rhs
        return total
    }
}
