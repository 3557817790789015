package import AuditEncoding
internal import AuditSystem
package import AuditTLS
import Glibc

/// Sends each event's JSON as the MSG of one syslog message: to the local syslog socket
/// (`/dev/log`), or to a remote receiver over UDP (RFC 5426), TCP (RFC 6587) or TLS (RFC 5425).
///
/// The header is RFC 5424 or RFC 3164 (see `SyslogFormatter`); the MSG is the JSON line byte for
/// byte. A message longer than `maxMessage` (header included) is split into marked parts,
/// truncated with a marker, dropped, or, for UDP, sent over TCP to the same address: each case
/// is counted in `WriterActivity` (a dropped event also as `rejected`), none is silent. A
/// datagram the socket refuses as too long (EMSGSIZE, go-audit #25) lowers this writer's limit
/// for the rest of its life, with a warning, and the event is laid out again.
///
/// # Never blocking the daemon
/// The writer runs on its `OutputWorker` thread. Sockets are non-blocking: a connection attempt
/// waits at most `connectTimeout`, a send at most `sendTimeout` without progress; then `write`
/// throws a retryable error, the worker backs off and the queue (bounded) holds or drops new
/// events, counted. Reconnection attempts follow `reconnectMinimum` doubling to
/// `reconnectMaximum`. Before each batch on a stream, a receiver that closed the connection is
/// detected (it never sends data, so a readable socket means EOF or a reset) and the batch goes
/// to a new connection. Bytes already accepted by the kernel for a TCP receiver that then dies
/// are lost with it (TCP has no application acknowledgement; at most the socket buffer).
///
/// # Local socket
/// `/dev/log` is tried as a datagram socket first (one message per datagram, as rsyslog's
/// imuxsock and journald expect), then as a stream socket with the configured framing. A
/// receiver that goes away (ECONNREFUSED) is reconnected with backoff.
package struct SyslogWriter: EventWriter {
    /// Where and how to send.
    package struct Configuration: Sendable, Hashable {
        /// The destination.
        package enum Target: Sendable, Hashable {
            /// A local unix socket (`/dev/log`; a test's own path).
            case local(path: String)
            /// UDP: one message per datagram (RFC 5426).
            case udp(host: String, port: UInt16)
            /// TCP with the given framing (RFC 6587).
            case tcp(host: String, port: UInt16, framing: Framing)
            /// TLS over TCP (RFC 5425: octet-counting framing, port 6514 by convention): the server
            /// is verified against `tls`; nothing is ever sent in clear.
            case tls(host: String, port: UInt16, tls: TLSConfiguration)
        }

        /// How messages are delimited on a stream; the raw values are RFC 6587's names, as the
        /// configuration file spells them.
        package enum Framing: String, Sendable, Hashable, CaseIterable {
            /// `LENGTH SP MESSAGE`: safe for any content (RFC 6587 §3.4.1).
            case octetCounting = "octet-counting"
            /// `MESSAGE LF`: for receivers that need it; the JSON never holds a raw LF.
            case newline
        }

        /// The header format.
        package enum Format: Sendable, Hashable {
            /// RFC 5424, optionally with the `[swift-audit@32473 seq="…" types="…"]` element.
            case rfc5424(structuredData: Bool)
            /// RFC 3164 (BSD syslog).
            case rfc3164
        }

        /// What happens to a message longer than `maxMessage`; every choice counts the message,
        /// none is silent. The raw values are the configuration file's spelling.
        package enum OversizePolicy: String, Sendable, Hashable, CaseIterable {
            /// Marked parts, each a complete syslog message.
            case split
            /// The start of the event with a marker.
            case truncate
            /// Not sent (counted as rejected and as `oversizeDropped`).
            case drop
            /// Sent whole over TCP to the same host and port (only for `.udp`).
            case tcp
        }

        /// The destination.
        package var target: Target
        /// The header format.
        package var format: Format
        /// The facility, 0…23 (22 = local6).
        package var facility: UInt8
        /// The severity, 0…7 (6 = info).
        package var severity: UInt8
        /// RFC 5424 APP-NAME / RFC 3164 TAG (sanitised; at most 48 / 32 bytes are kept).
        package var tag: String
        /// The HOSTNAME field; nil uses `gethostname()`.
        package var hostname: String?
        /// Bytes of one message, header included (480…1 MiB; at most 65507 for UDP). Applies to
        /// every target: receivers cut longer messages silently (rsyslog's default is 8096).
        package var maxMessage: Int
        /// What happens to a longer message.
        package var oversize: OversizePolicy
        /// The first wait after a failed connection; doubled after each further failure…
        package var reconnectMinimum: Duration
        /// …up to this.
        package var reconnectMaximum: Duration
        /// How long one connection attempt may take.
        package var connectTimeout: Duration
        /// How long a send may make no progress before the write fails (retryable).
        package var sendTimeout: Duration

        /// A configuration with the defaults of `config/swift-audit.conf`: `/dev/log`, RFC 5424
        /// without structured data, local6.info, tag `swift-audit`, 8096-byte messages (rsyslog's
        /// default limit: it cuts longer ones without a marker), split.
        package init(
            target: Target = .local(path: "/dev/log"),
            format: Format = .rfc5424(structuredData: false),
            facility: UInt8 = 22,
            severity: UInt8 = 6,
            tag: String = "swift-audit",
            hostname: String? = nil,
            maxMessage: Int = 8096,
            oversize: OversizePolicy = .split,
            reconnectMinimum: Duration = .milliseconds(100),
            reconnectMaximum: Duration = .seconds(5),
            connectTimeout: Duration = .seconds(2),
            sendTimeout: Duration = .seconds(1)
        ) {
            self.target = target
            self.format = format
            self.facility = facility
            self.severity = severity
            self.tag = tag
            self.hostname = hostname
            self.maxMessage = maxMessage
            self.oversize = oversize
            self.reconnectMinimum = reconnectMinimum
            self.reconnectMaximum = reconnectMaximum
            self.connectTimeout = connectTimeout
            self.sendTimeout = sendTimeout
        }
    }

    /// The configuration in force.
    package let configuration: Configuration
    /// "syslog udp 127.0.0.1:514", "syslog local /dev/log".
    package let name: String

    private var link: NetworkLink
    private var framer: SyslogFramer
    private var stream = StreamSender()
    /// The datagram path's decisions: the limit, lowered after EMSGSIZE, and the parts pending.
    private var datagrams: SyslogDatagramMachine
    /// The TCP route for `oversize = tcp`, created on first use.
    private var tcpLink: NetworkLink?
    private var tcpFramer: SyslogFramer
    private var tcpStream = StreamSender()

    /// Validates `configuration`; connects on the first write, so a receiver that is down at
    /// start delays nothing (its events wait in the queue).
    package init(configuration: Configuration) throws(WriterError) {
        let name = Self.name(of: configuration.target)
        func invalid(_ detail: String) -> WriterError {
            WriterError(code: .configuration, target: name, detail: detail, isRetryable: false)
        }
        guard configuration.facility <= 23 else { throw invalid("facility \(configuration.facility) is not 0…23") }
        guard configuration.severity <= 7 else { throw invalid("severity \(configuration.severity) is not 0…7") }
        guard (480...1_048_576).contains(configuration.maxMessage) else {
            throw invalid("max_message \(configuration.maxMessage) is not 480…1048576")
        }
        guard configuration.reconnectMinimum > .zero, configuration.connectTimeout > .zero,
            configuration.sendTimeout > .zero
        else { throw invalid("timeouts and reconnect delays must be positive") }
        let endpoint: NetworkLink.Endpoint
        let framing: Configuration.Framing
        switch configuration.target {
        case .local(let path):
            guard !path.isEmpty, path.utf8.count < 108 else { throw invalid("socket path must be 1…107 bytes") }
            endpoint = .unix(path: path)
            framing = .octetCounting
        case .udp(let host, let port):
            guard configuration.maxMessage <= 65507 else {
                throw invalid("max_message \(configuration.maxMessage) exceeds a UDP datagram (65507)")
            }
            guard !host.isEmpty, port != 0 else { throw invalid("host and port are required") }
            endpoint = .udp(host: host, port: port)
            framing = .octetCounting
        case .tcp(let host, let port, let streamFraming):
            guard !host.isEmpty, port != 0 else { throw invalid("host and port are required") }
            endpoint = .tcp(host: host, port: port)
            framing = streamFraming
        case .tls(let host, let port, _):
            guard !host.isEmpty, port != 0 else { throw invalid("host and port are required") }
            endpoint = .tcp(host: host, port: port)
            framing = .octetCounting
        }
        var context: TLSClientContext?
        if case .tls(_, _, let tls) = configuration.target {
            context = try Self.tlsContext(tls, target: name)
        }
        if configuration.oversize == .tcp {
            guard case .udp = configuration.target else { throw invalid("oversize = tcp applies only to a udp target") }
        }
        let isLocal = if case .local = configuration.target { true } else { false }
        let style: SyslogFormatter.Style =
            switch configuration.format {
            case .rfc5424(let structuredData): .rfc5424(structuredData: structuredData)
            case .rfc3164: .rfc3164(hostname: !isLocal)
            }
        let formatter = SyslogFormatter(
            style: style, facility: configuration.facility, severity: configuration.severity,
            hostname: configuration.hostname ?? Self.systemHostname(), appName: configuration.tag,
            processID: getpid())
        let overflow: SyslogFormatter.Overflow =
            switch configuration.oversize {
            case .split: .split
            case .truncate: .truncate
            case .drop, .tcp: .refuse
            }
        self.configuration = configuration
        self.name = name
        self.link = NetworkLink(
            endpoint: endpoint, target: name, connectTimeout: configuration.connectTimeout,
            sendTimeout: configuration.sendTimeout, reconnectMinimum: configuration.reconnectMinimum,
            reconnectMaximum: configuration.reconnectMaximum, sendBufferHint: configuration.maxMessage, tls: context)
        self.framer = SyslogFramer(
            formatter: formatter, target: name, framing: framing, limit: configuration.maxMessage, overflow: overflow)
        self.tcpFramer = SyslogFramer(
            formatter: formatter, target: name, framing: .octetCounting, limit: Int.max, overflow: .refuse)
        self.datagrams = SyslogDatagramMachine(
            target: name, oversize: configuration.oversize, limit: configuration.maxMessage)
    }

    /// For tests: like `init(configuration:)`, with the send buffer of datagram sockets set to
    /// `datagramSendBuffer` bytes (the kernel doubles it), so that EMSGSIZE can be provoked.
    package init(configuration: Configuration, datagramSendBuffer: Int) throws(WriterError) {
        try self.init(configuration: configuration)
        link.forcedSendBuffer = datagramSendBuffer
    }

    /// "syslog local PATH", "syslog udp HOST:PORT", "syslog tcp HOST:PORT".
    static func name(of target: Configuration.Target) -> String {
        switch target {
        case .local(let path): "syslog local \(path)"
        case .udp(let host, let port): "syslog udp \(hostPort(host, port))"
        case .tcp(let host, let port, _): "syslog tcp \(hostPort(host, port))"
        case .tls(let host, let port, _): "syslog tls \(hostPort(host, port))"
        }
    }

    /// Reads the TLS files; a failure is a configuration error of `target`.
    static func tlsContext(_ tls: TLSConfiguration, target: String) throws(WriterError) -> TLSClientContext {
        do {
            return try TLSClientContext(configuration: tls)
        } catch {
            throw WriterError(code: .configuration, target: target, detail: error.description, isRetryable: false)
        }
    }

    /// `gethostname()`, or `localhost`.
    static func systemHostname() -> String {
        SystemHost.name().map { String(decoding: $0, as: UTF8.self) } ?? "localhost"
    }

    /// Checks idle streams for a receiver that closed them, every second.
    package var maintenanceInterval: Duration? { .seconds(1) }

    /// Sends one message (or several parts) per item: a datagram each, or frames batched into
    /// few `send(2)` calls on a stream.
    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        link.dropIfPeerClosed()
        if !link.isConnected {
            do {
                try link.connect()
            } catch {
                var error = error
                error.activity += link.takeActivity()
                throw error
            }
        }
        var outcome: WriteOutcome
        if link.isStream {
            outcome = try stream.write(items, link: &link, framer: &framer)
        } else {
            outcome = try writeDatagrams(items)
        }
        if let warning = datagrams.takeWarning() {
            outcome.warning = warning
        }
        return outcome
    }

    private var isUDP: Bool {
        if case .udp = configuration.target { true } else { false }
    }

    /// Performs the steps of `datagrams` for each item: the layouts and the socket calls are
    /// here, the decisions there.
    private mutating func writeDatagrams(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        datagrams.beginWrite()
        for index in items.indices {
            let item = items[index]
            var step = datagrams.start(item)
            steps: while true {
                switch step {
                case .layOut(let limit):
                    step = datagrams.laidOut(framer.layOut(item, limit: limit))
                case .send:
                    let result = link.sendDatagrams(framer.messages, from: 0, countRefusals: isUDP)
                    step = datagrams.sent(result, of: item, messages: framer.messages)
                case .resume(let part):
                    step = datagrams.resumed(
                        link.sendDatagrams(datagrams.keptMessages, from: part, countRefusals: isUDP))
                case .reroute:
                    let bytes: Int
                    do {
                        bytes = try sendOverTCP(items[index...index])
                    } catch {
                        throw datagrams.failure(error, linkActivity: link.takeActivity())
                    }
                    step = datagrams.rerouted(bytes: bytes)
                case .fail(let code):
                    let error = sendFailure(code)
                    throw datagrams.failure(error, linkActivity: link.takeActivity())
                case .reject(let error):
                    throw datagrams.failure(error, linkActivity: link.takeActivity())
                case .done:
                    break steps
                }
            }
        }
        return datagrams.finish(linkActivity: link.takeActivity())
    }

    /// The error for a failed datagram send; closes the socket unless the failure is transient
    /// (a stall, a full buffer, a refusal by a remote UDP port).
    private mutating func sendFailure(_ code: Int32) -> WriterError {
        let transient = code == EAGAIN || code == ENOBUFS || (code == ECONNREFUSED && isUDP)
        if !transient { link.disconnect() }
        return streamError(code, link: link)
    }

    /// Sends one oversize item over the TCP route; returns the bytes sent.
    private mutating func sendOverTCP(_ item: ArraySlice<OutputItem>) throws(WriterError) -> Int {
        if tcpLink == nil, case .udp(let host, let port) = configuration.target {
            tcpLink = NetworkLink(
                endpoint: .tcp(host: host, port: port), target: "syslog tcp \(hostPort(host, port))",
                connectTimeout: configuration.connectTimeout, sendTimeout: configuration.sendTimeout,
                reconnectMinimum: configuration.reconnectMinimum, reconnectMaximum: configuration.reconnectMaximum)
        }
        guard var route = tcpLink else { return 0 }
        defer { tcpLink = route }
        let outcome = try tcpStream.write(item, link: &route, framer: &tcpFramer)
        link.activity += outcome.activity
        return outcome.bytes
    }

    /// Nothing is buffered in the writer.
    package mutating func flush() throws(WriterError) {}

    /// Drops the connections so the next write connects again (and resolves the name again).
    /// A TLS target reads its certificate files again first (a reload, a rotated certificate);
    /// when they no longer load, it keeps its connection and its old files, and throws.
    package mutating func reopen() throws(WriterError) {
        let context = try link.rereadTLSFiles()
        disconnect()
        if let context { link.tls = context }
    }

    /// Finishes a frame cut short, if it can, and closes the connections.
    private mutating func disconnect() {
        _ = stream.finishTail(link: &link)
        link.disconnect()
        if var route = tcpLink {
            _ = tcpStream.finishTail(link: &route)
            route.disconnect()
            tcpLink = route
        }
    }

    /// Closes idle streams whose receiver went away, so the next batch reconnects first.
    package mutating func performMaintenance() throws(WriterError) {
        link.dropIfPeerClosed()
        tcpLink?.dropIfPeerClosed()
    }

    /// Finishes a frame cut short if it can, then closes the sockets.
    package mutating func close() throws(WriterError) {
        disconnect()
    }
}

/// The syslog formatter with the stream framing and the size policy, for `StreamSender`.
struct SyslogFramer: StreamFramer, Sendable {
    var formatter: SyslogFormatter
    let target: String
    let framing: SyslogWriter.Configuration.Framing
    let limit: Int
    let overflow: SyslogFormatter.Overflow
    /// What the last layout did (a split, a truncation), counted when it is sent.
    private(set) var lastActivity = WriterActivity()

    init(
        formatter: SyslogFormatter, target: String, framing: SyslogWriter.Configuration.Framing, limit: Int,
        overflow: SyslogFormatter.Overflow
    ) {
        self.formatter = formatter
        self.target = target
        self.framing = framing
        self.limit = limit
        self.overflow = overflow
    }

    var messages: MessageList { formatter.messages }

    /// Lays out `item` within `limit` (the datagram path passes its own, possibly lowered).
    mutating func layOut(_ item: OutputItem, limit: Int) -> SyslogFormatter.Layout {
        let layout = formatter.layOut(item, limit: limit, overflow: overflow)
        lastActivity = layout.activity
        return layout
    }

    mutating func appendFrame(_ item: OutputItem, to buffer: inout [UInt8]) -> FrameOutcome {
        switch layOut(item, limit: limit) {
        case .whole, .split, .truncated:
            let messages = formatter.messages
            for index in 0..<messages.count {
                let message = messages.message(index)
                switch framing {
                case .octetCounting:
                    appendDecimal(UInt64(message.count), to: &buffer)
                    buffer.append(UInt8(ascii: " "))
                    buffer.append(contentsOf: message)
                case .newline:
                    buffer.append(contentsOf: message)
                    buffer.append(UInt8(ascii: "\n"))
                }
            }
            return .framed(lastActivity)
        case .tooLarge(let size):
            var error = WriterError.syslogTooLarge(target, size: size, limit: limit)
            error.activity.oversizeDropped = 1
            return .rejected(error)
        case .newline(let offset):
            return .rejected(.syslogNewline(target, offset: offset))
        }
    }
}

extension WriterError {
    /// A syslog message of `size` bytes, longer than `limit`, that `oversize = drop` refuses.
    static func syslogTooLarge(_ target: String, size: Int, limit: Int) -> WriterError {
        WriterError(
            code: .rejected, target: target,
            detail: "a \(size)-byte message exceeds max_message (\(limit)); oversize = drop", isRetryable: false)
    }

    /// A line with a raw newline at `offset`, which no syslog message may hold.
    static func syslogNewline(_ target: String, offset: Int) -> WriterError {
        WriterError(
            code: .rejected, target: target,
            detail: "the line has a raw newline at byte \(offset); a syslog message must be one line",
            isRetryable: false)
    }
}

/// `host:port`, with brackets around an IPv6 address.
func hostPort(_ host: String, _ port: UInt16) -> String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
}
