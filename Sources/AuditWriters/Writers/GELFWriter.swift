package import AuditEncoding
package import AuditTLS
import Glibc

/// Sends each event to Graylog as a GELF 1.1 document (see `GELFDocumentBuilder` for the
/// fields): over UDP, chunked and optionally compressed, or over TCP or TLS, NUL-terminated.
///
/// # UDP
/// A document (compressed with gzip or zlib when configured) that fits `chunkSize` bytes goes in
/// one datagram; a longer one in chunks of `chunkSize` bytes: the magic bytes `0x1e 0x0f`, an
/// 8-byte message id (a random base chosen at start plus a counter), the sequence number and the
/// count (at most 128), then the next piece. A document that would need more than 128 chunks
/// (more than 128 × (chunkSize − 12) bytes after compression) has its `_event` shortened with a
/// marker until it fits, counted in `WriterActivity.oversizeTruncated`. ECONNREFUSED (no Graylog
/// listening) is counted in `refusedDatagrams`, never fatal.
///
/// # TCP
/// Uncompressed documents, each followed by a NUL byte (the JSON escapes every NUL inside), in
/// batches; a document over `maxTCPDocument` is shortened the same way. Connection handling,
/// timeouts and backoff are those of `SyslogWriter`: nothing blocks longer than the connect or
/// send timeout, failures are retryable, and a receiver that closed the connection is detected
/// before the next batch.
package struct GELFWriter: EventWriter {
    /// Where and how to send.
    package struct Configuration: Sendable, Hashable {
        /// How documents travel.
        package enum Transport: Sendable, Hashable {
            /// Chunked UDP with datagrams of at most `chunkSize` bytes (512…65507).
            case udp(compression: Compression, chunkSize: Int)
            /// TCP, NUL-terminated, uncompressed.
            case tcp
            /// TLS over TCP, framed as `tcp`: the server is verified against `tls`; nothing is
            /// ever sent in clear (Graylog's GELF TCP input with TLS enabled).
            case tls(TLSConfiguration)
        }

        /// Compression of a UDP document; the raw values are the configuration file's spelling.
        package enum Compression: String, Sendable, Hashable, CaseIterable {
            /// Plain JSON.
            case none
            /// gzip (RFC 1952).
            case gzip
            /// zlib (RFC 1950).
            case zlib
        }

        /// The Graylog input's host name or address (IPv4, IPv6 without brackets).
        package var host: String
        /// Its port.
        package var port: UInt16
        /// UDP or TCP.
        package var transport: Transport
        /// The documents' `host` field; nil uses `gethostname()`.
        package var hostname: String?
        /// The `level` of audit events (syslog severity; 6 = info). Loss reports use 4 (warning).
        package var level: UInt8
        /// The longest TCP document; longer ones are shortened with a marker (GELF TCP has no
        /// limit of its own, Graylog's default frame limit is 2 MiB).
        package var maxTCPDocument: Int
        /// The first wait after a failed connection; doubled after each further failure…
        package var reconnectMinimum: Duration
        /// …up to this.
        package var reconnectMaximum: Duration
        /// How long one connection attempt may take.
        package var connectTimeout: Duration
        /// How long a send may make no progress before the write fails (retryable).
        package var sendTimeout: Duration

        /// A configuration with the defaults of `config/swift-audit.conf`: UDP, uncompressed,
        /// 1420-byte chunks, level 6, 1 MiB TCP documents.
        package init(
            host: String,
            port: UInt16,
            transport: Transport = .udp(compression: .none, chunkSize: 1420),
            hostname: String? = nil,
            level: UInt8 = 6,
            maxTCPDocument: Int = 1 << 20,
            reconnectMinimum: Duration = .milliseconds(100),
            reconnectMaximum: Duration = .seconds(5),
            connectTimeout: Duration = .seconds(2),
            sendTimeout: Duration = .seconds(1)
        ) {
            self.host = host
            self.port = port
            self.transport = transport
            self.hostname = hostname
            self.level = level
            self.maxTCPDocument = maxTCPDocument
            self.reconnectMinimum = reconnectMinimum
            self.reconnectMaximum = reconnectMaximum
            self.connectTimeout = connectTimeout
            self.sendTimeout = sendTimeout
        }
    }

    /// Names a syscall for `_syscall` from the audit arch (`0xc000003e`) and the number; the
    /// daemon passes the rule compiler's tables: `{ AuditMachine(elf: $0)?.syscalls.name(of: $1) }`.
    package typealias SyscallNamer = @Sendable (_ arch: UInt32, _ number: Int) -> String?

    /// The largest number of chunks GELF allows.
    package static let maximumChunks = 128
    /// The bytes of a chunk header.
    package static let chunkHeaderSize = 12

    /// The configuration in force.
    package let configuration: Configuration
    /// "gelf udp HOST:PORT", "gelf tcp HOST:PORT".
    package let name: String

    private var link: NetworkLink
    private var framer: GELFFramer
    private var stream = StreamSender()
    private var pending: PendingDatagrams?
    private var chunks = MessageList()
    private var messageIDBase: UInt64
    private var messageCount: UInt64 = 0

    /// Validates `configuration`; connects on the first write.
    package init(configuration: Configuration, syscallName: SyscallNamer? = nil) throws(WriterError) {
        let isUDP = if case .udp = configuration.transport { true } else { false }
        let transportName =
            switch configuration.transport {
            case .udp: "udp"
            case .tcp: "tcp"
            case .tls: "tls"
            }
        let name = "gelf \(transportName) \(hostPort(configuration.host, configuration.port))"
        func invalid(_ detail: String) -> WriterError {
            WriterError(code: .configuration, target: name, detail: detail, isRetryable: false)
        }
        guard !configuration.host.isEmpty, configuration.port != 0 else { throw invalid("host and port are required") }
        guard configuration.level <= 7 else { throw invalid("level \(configuration.level) is not 0…7") }
        guard configuration.reconnectMinimum > .zero, configuration.connectTimeout > .zero,
            configuration.sendTimeout > .zero
        else { throw invalid("timeouts and reconnect delays must be positive") }
        let limit: Int
        let compression: Configuration.Compression
        switch configuration.transport {
        case .udp(let chosen, let chunkSize):
            guard (512...65507).contains(chunkSize) else { throw invalid("chunk_size \(chunkSize) is not 512…65507") }
            limit = Self.maximumChunks * (chunkSize - Self.chunkHeaderSize)
            compression = chosen
        case .tcp, .tls:
            guard configuration.maxTCPDocument >= 4096 else { throw invalid("maxTCPDocument must be at least 4096") }
            limit = configuration.maxTCPDocument
            compression = .none
        }
        var context: TLSClientContext?
        if case .tls(let tls) = configuration.transport {
            context = try SyslogWriter.tlsContext(tls, target: name)
        }
        self.configuration = configuration
        self.name = name
        self.link = NetworkLink(
            endpoint: isUDP
                ? .udp(host: configuration.host, port: configuration.port)
                : .tcp(host: configuration.host, port: configuration.port),
            target: name, connectTimeout: configuration.connectTimeout, sendTimeout: configuration.sendTimeout,
            reconnectMinimum: configuration.reconnectMinimum, reconnectMaximum: configuration.reconnectMaximum,
            tls: context)
        self.framer = GELFFramer(
            builder: GELFDocumentBuilder(
                host: configuration.hostname ?? SyslogWriter.systemHostname(), level: configuration.level,
                syscallName: syscallName),
            target: name, limit: limit, compression: compression)
        self.messageIDBase = UInt64.random(in: .min ... .max)  // the system generator (getrandom)
    }

    /// Checks an idle TCP connection for a receiver that closed it, every second.
    package var maintenanceInterval: Duration? { .seconds(1) }

    /// Sends one document per item.
    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        if case .udp = configuration.transport {
            return try writeDatagrams(items)
        }
        return try stream.write(items, link: &link, framer: &framer)
    }

    private mutating func writeDatagrams(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        guard case .udp(_, let chunkSize) = configuration.transport else { return WriteOutcome() }
        var outcome = WriteOutcome()
        var done = 0
        func failure(_ error: WriterError) -> WriterError {
            outcome.activity += link.takeActivity()
            return error.after(items: done, bytes: outcome.bytes, activity: outcome.activity)
        }
        do {
            try link.connect()
        } catch {
            throw failure(error)
        }
        for item in items {
            var startChunk = 0
            var activity = WriterActivity()
            if let resumed = pending, resumed.line == item.line {
                chunks = resumed.messages
                startChunk = resumed.next
            } else {
                switch framer.fit(item) {
                case .rejected(let error):
                    throw failure(error)
                case .framed(let fitted):
                    activity = fitted
                }
                makeChunks(framer.payload, chunkSize: chunkSize)
            }
            pending = nil
            switch link.sendDatagrams(chunks, from: startChunk, countRefusals: true) {
            case .sent(let bytes):
                outcome.bytes += bytes
                outcome.activity += activity
                done += 1
            case .failed(_, EMSGSIZE, _):
                throw failure(
                    WriterError(
                        code: .rejected, target: name, errno: EMSGSIZE,
                        detail: "the socket refused a \(chunks.range(0).count)-byte datagram: lower chunk_size",
                        isRetryable: false))
            case .failed(let at, let code, let bytes):
                outcome.bytes += bytes
                if at > startChunk || startChunk > 0 {
                    if startChunk == 0 { outcome.activity += activity }
                    pending = PendingDatagrams(line: item.line, messages: chunks, next: at)
                }
                let transient = code == EAGAIN || code == ENOBUFS || code == ECONNREFUSED
                if !transient { link.disconnect() }
                throw failure(streamError(code, link: link))
            }
        }
        outcome.activity += link.takeActivity()
        return outcome
    }

    /// Splits `payload` into GELF chunks (or one plain datagram when it fits).
    private mutating func makeChunks(_ payload: ArraySlice<UInt8>, chunkSize: Int) {
        chunks.removeAll()
        if payload.count <= chunkSize {
            chunks.append(contentsOf: payload)
            chunks.finishMessage()
            return
        }
        let pieceSize = chunkSize - Self.chunkHeaderSize
        let count = (payload.count + pieceSize - 1) / pieceSize
        let id = messageIDBase &+ messageCount
        messageCount &+= 1
        var start = payload.startIndex
        for sequence in 0..<count {
            chunks.append(0x1E)
            chunks.append(0x0F)
            for shift in stride(from: 56, through: 0, by: -8) {
                chunks.append(UInt8(truncatingIfNeeded: id >> UInt64(shift)))
            }
            chunks.append(UInt8(sequence))
            chunks.append(UInt8(count))
            let end = min(payload.endIndex, start + pieceSize)
            chunks.append(contentsOf: payload[start..<end])
            chunks.finishMessage()
            start = end
        }
    }

    /// Nothing is buffered in the writer.
    package mutating func flush() throws(WriterError) {}

    /// Drops the connection so the next write connects again (and resolves the name again).
    /// Over TLS the certificate files are read again first (a reload, a rotated certificate);
    /// when they no longer load, the writer keeps its connection and its old files, and throws.
    package mutating func reopen() throws(WriterError) {
        let context = try link.rereadTLSFiles()
        disconnect()
        if let context { link.tls = context }
    }

    /// Finishes a frame cut short, if it can, and closes the connection.
    private mutating func disconnect() {
        _ = stream.finishTail(link: &link)
        link.disconnect()
    }

    /// Closes an idle stream whose receiver went away, so the next batch reconnects first.
    package mutating func performMaintenance() throws(WriterError) {
        link.dropIfPeerClosed()
    }

    /// Finishes a frame cut short if it can, then closes the socket.
    package mutating func close() throws(WriterError) {
        disconnect()
    }
}

/// Builds, compresses and fits documents, for both transports.
struct GELFFramer: StreamFramer, Sendable {
    var builder: GELFDocumentBuilder
    let target: String
    /// The most bytes of a (compressed) document.
    let limit: Int
    let compression: GELFWriter.Configuration.Compression
    private var compressed: [UInt8] = []
    private var usesCompressed = false

    init(builder: GELFDocumentBuilder, target: String, limit: Int, compression: GELFWriter.Configuration.Compression) {
        self.builder = builder
        self.target = target
        self.limit = limit
        self.compression = compression
    }

    /// The bytes to send for the last fitted document.
    var payload: ArraySlice<UInt8> { usesCompressed ? compressed[...] : builder.document }

    /// Builds the document of `item` and shrinks its `_event` until the payload fits `limit`.
    mutating func fit(_ item: OutputItem) -> FrameOutcome {
        builder.prepare(item)
        builder.build(item, keep: nil)
        guard let size = compress() else { return .rejected(compressionFailure()) }
        if size <= limit { return .framed(WriterActivity()) }
        // Shrink `_event` in proportion, with a margin; escaping and compression make the size
        // only roughly linear in the bytes kept, so measure again each time.
        var keep = item.line.count
        var current = size
        for attempt in 0..<8 {
            let ratio = Double(limit) / Double(current)
            keep = attempt == 7 ? 0 : max(0, Int(Double(keep) * ratio * 0.9) - 256)
            builder.build(item, keep: keep)
            guard let size = compress() else { return .rejected(compressionFailure()) }
            if size <= limit { return .framed(WriterActivity(oversizeTruncated: 1)) }
            current = size
            if keep == 0 { break }
        }
        return .rejected(
            WriterError(
                code: .rejected, target: target,
                detail: "the document does not fit \(limit) bytes even without its event", isRetryable: false))
    }

    /// Compresses the built document when configured; the payload's size, or nil on failure.
    private mutating func compress() -> Int? {
        switch compression {
        case .none:
            usesCompressed = false
            return builder.document.count
        case .gzip:
            usesCompressed = true
            return Deflate.gzip(builder.document, into: &compressed) ? compressed.count : nil
        case .zlib:
            usesCompressed = true
            return Deflate.zlib(builder.document, into: &compressed) ? compressed.count : nil
        }
    }

    private func compressionFailure() -> WriterError {
        WriterError(code: .rejected, target: target, detail: "zlib failed to compress the document", isRetryable: false)
    }

    mutating func appendFrame(_ item: OutputItem, to buffer: inout [UInt8]) -> FrameOutcome {
        let outcome = fit(item)
        if case .framed = outcome {
            buffer.append(contentsOf: payload)
            buffer.append(0)
        }
        return outcome
    }
}
