internal import AuditSystem
internal import AuditTLS
import Glibc

/// One connection of a network writer: where it goes, whether it is up, and when the next
/// connection attempt is allowed.
///
/// Connecting is lazy (on the first write) and never blocks longer than `connectTimeout`. After
/// a failed attempt the next one waits `reconnectMinimum`, doubling up to `reconnectMaximum`;
/// until then `connect()` throws at once without a system call. A connection that breaks is
/// retried immediately once, then with the same backoff. Names are resolved at every attempt
/// (`getaddrinfo`, IPv4 and IPv6), so a DNS change is picked up on reconnect.
///
/// # TLS
/// A `.tcp` link with a `tls` context runs the TLS handshake right after the TCP connection,
/// within its own `connectTimeout`. A handshake that fails (a certificate that does not verify, an
/// alert, no answer) is a failed connection attempt like a refused one: counted in
/// `connectFailures`, retried with the backoff, its reason in the error. Nothing is ever sent on
/// the socket outside the TLS session: there is no fallback to clear text.
struct NetworkLink: Sendable {
    /// The destination.
    enum Endpoint: Sendable, Hashable {
        /// A local unix socket: datagram, or stream when the socket is a stream one.
        case unix(path: String)
        /// UDP to a host and port.
        case udp(host: String, port: UInt16)
        /// TCP to a host and port.
        case tcp(host: String, port: UInt16)
    }

    let endpoint: Endpoint
    /// Names the link in errors ("syslog udp 127.0.0.1:514").
    let target: String
    let connectTimeout: Int32
    let sendTimeout: Int32
    /// Datagram sockets get at least this send buffer (so a long local datagram fits).
    let sendBufferHint: Int
    /// Tests: the exact `SO_SNDBUF` of datagram sockets (to provoke EMSGSIZE).
    var forcedSendBuffer: Int?
    private let minimumDelay: UInt64
    private let maximumDelay: UInt64

    /// The TLS client context of a `.tcp` link that must use TLS; replaced on reload.
    var tls: TLSClientContext?
    /// The TLS session of the current connection (nil without TLS or when disconnected).
    private(set) var session: TLSSession?
    /// Why the last TLS send or receive failed, kept after the session is gone (for the error).
    private(set) var lastTLSFailure = ""

    private(set) var descriptor: Int32 = -1
    /// Whether the connected socket is a stream (TCP, or a stream unix socket).
    private(set) var isStream = false
    /// Incremented at each successful connection: a frame begun on one connection cannot be
    /// finished on another.
    private(set) var generation = 0
    /// Reconnections and failures not yet reported in a `WriteOutcome` or `WriterError`.
    var activity = WriterActivity()
    private var delay: UInt64
    private var notBefore: UInt64 = 0
    private var lastFailure: WriterError?

    init(
        endpoint: Endpoint, target: String, connectTimeout: Duration, sendTimeout: Duration,
        reconnectMinimum: Duration, reconnectMaximum: Duration, sendBufferHint: Int = 0, tls: TLSClientContext? = nil
    ) {
        self.endpoint = endpoint
        self.tls = tls
        self.target = target
        self.connectTimeout = Int32(clamping: max(1, connectTimeout.clampedNanoseconds / 1_000_000))
        self.sendTimeout = Int32(clamping: max(1, sendTimeout.clampedNanoseconds / 1_000_000))
        self.sendBufferHint = sendBufferHint
        self.minimumDelay = max(1_000_000, reconnectMinimum.clampedNanoseconds)
        self.maximumDelay = max(minimumDelay, reconnectMaximum.clampedNanoseconds)
        self.delay = minimumDelay
    }

    var isConnected: Bool { descriptor >= 0 }

    /// Takes the activity not yet reported.
    mutating func takeActivity() -> WriterActivity {
        defer { activity = WriterActivity() }
        return activity
    }

    /// Connects unless connected. Throws a retryable `connect` or `resolve` error when the
    /// attempt fails or the backoff after the last failure has not yet passed.
    mutating func connect() throws(WriterError) {
        if descriptor >= 0 { return }
        let now = SystemClock.monotonicNanoseconds()
        if now < notBefore, var failure = lastFailure {
            failure.detail = joined(failure.detail, "next attempt in \((notBefore - now + 999_999) / 1_000_000) ms")
            throw failure
        }
        var descriptor: Int32 = -1
        var stream = false
        switch endpoint {
        case .unix(let path):
            var (opened, code) = SocketCalls.connectUnix(
                path: path, socketType: SocketCalls.datagram, timeout: connectTimeout)
            if opened < 0 && code == EPROTOTYPE {
                (opened, code) = SocketCalls.connectUnix(
                    path: path, socketType: SocketCalls.stream, timeout: connectTimeout)
                stream = true
            }
            guard opened >= 0 else {
                throw failed(WriterError(code: .connect, target: target, errno: code))
            }
            descriptor = opened
        case .udp(let host, let port), .tcp(let host, let port):
            stream = if case .tcp = endpoint { true } else { false }
            let (addresses, failure) = SocketCalls.resolve(
                host: host, port: port, socketType: stream ? SocketCalls.stream : SocketCalls.datagram)
            if let failure {
                throw failed(WriterError(code: .resolve, target: target, detail: failure))
            }
            var code: Int32 = 0
            for address in addresses {
                (descriptor, code) = SocketCalls.connect(address, timeout: connectTimeout)
                if descriptor >= 0 { break }
            }
            guard descriptor >= 0 else {
                throw failed(WriterError(code: .connect, target: target, errno: code))
            }
        }
        if stream {
            SocketCalls.setOption(descriptor, level: SOL_SOCKET, name: SO_KEEPALIVE, value: 1)
            if let tls, case .tcp(let host, _) = endpoint {
                var opened: TLSSession?
                do throws(TLSError) {
                    let made = try tls.session(
                        descriptor: descriptor, serverName: tls.configuration.expectedName(connectingTo: host))
                    opened = made
                    try made.handshake(timeoutMilliseconds: connectTimeout)
                } catch {
                    opened?.close()
                    SystemCall.close(descriptor)
                    throw failed(WriterError(code: .connect, target: target, detail: error.description))
                }
                session = opened
            }
        } else if let forcedSendBuffer {
            SocketCalls.setOption(
                descriptor, level: SOL_SOCKET, name: SO_SNDBUF, value: Int32(clamping: forcedSendBuffer))
        } else if sendBufferHint > 0, let current = SocketCalls.option(descriptor, level: SOL_SOCKET, name: SO_SNDBUF),
            Int(current) < sendBufferHint + 4096
        {
            SocketCalls.setOption(
                descriptor, level: SOL_SOCKET, name: SO_SNDBUF, value: Int32(clamping: sendBufferHint + 4096))
        }
        self.descriptor = descriptor
        self.isStream = stream
        generation += 1
        if generation > 1 { activity.reconnects += 1 }
        delay = minimumDelay
        notBefore = 0
        lastFailure = nil
    }

    /// Records a failed attempt and arms the backoff; returns the error to throw.
    private mutating func failed(_ error: WriterError) -> WriterError {
        activity.connectFailures += 1
        notBefore = SystemClock.monotonicNanoseconds() &+ delay
        delay = min(maximumDelay, delay &* 2)
        lastFailure = error
        return error
    }

    /// Sends small writes at once on a TCP connection (`TCP_NODELAY`), for request-response
    /// protocols whose sender batches itself (RELP): Nagle would only hold back the tail of a batch.
    func disableNagle() {
        if descriptor >= 0, case .tcp = endpoint {
            SocketCalls.setOption(descriptor, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
        }
    }

    /// The TLS context with its files read again (a reload, a rotated certificate), for the
    /// next connection; nil without TLS. Throws a retryable `reopen` error, changing nothing,
    /// when they no longer load. The writers' `reopen()` installs it after disconnecting.
    func rereadTLSFiles() throws(WriterError) -> TLSClientContext? {
        guard let tls else { return nil }
        do {
            return try TLSClientContext(configuration: tls.configuration)
        } catch {
            throw WriterError(code: .reopen, target: target, detail: error.description, isRetryable: true)
        }
    }

    /// Closes the connection (after an error, or at close); the next `connect` may try at once.
    mutating func disconnect() {
        if let session {
            if !session.lastFailure.isEmpty { lastTLSFailure = session.lastFailure }
            // A sealed record the socket has not taken yet counts as sent: push it first (not
            // after a failure, which would only wait for nothing).
            session.close(flushMilliseconds: session.lastFailure.isEmpty ? sendTimeout : 0)
        }
        session = nil
        SystemCall.close(descriptor)
        descriptor = -1
    }

    /// Closes a stream whose receiver has closed or reset it, so that the next batch goes to a
    /// new connection instead of vanishing into a dead one.
    ///
    /// With TLS the records waiting are read through the session: a close_notify or an alert
    /// means closed, a TLS 1.3 session ticket (which makes the socket readable right after the
    /// handshake) does not.
    mutating func dropIfPeerClosed() {
        guard descriptor >= 0, isStream else { return }
        if let session {
            if session.peerClosed() { disconnect() }
        } else if !SocketCalls.streamIsOpen(descriptor) {
            disconnect()
        }
    }

    /// Sends one datagram. Returns 0, or the errno (EAGAIN when the socket accepted nothing for
    /// the send timeout).
    func sendDatagram(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let deadline = SystemClock.monotonicNanoseconds() &+ UInt64(sendTimeout) &* 1_000_000
        while true {
            let code: Int32
            do throws(Errno) {
                _ = try SystemCall.send(descriptor, bytes, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                return 0
            } catch {
                code = error.rawValue
            }
            guard code == EAGAIN || code == EWOULDBLOCK else { return code }
            let now = SystemClock.monotonicNanoseconds()
            if now >= deadline { return EAGAIN }
            let left = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            if !SystemCall.waitUntilWritable(descriptor, milliseconds: left) { return EAGAIN }
        }
    }

    /// Sends `bytes` on a stream. Returns how many went out and 0, or the errno that stopped it
    /// (EAGAIN when nothing was accepted for the send timeout).
    /// Through the TLS session when there is one (EPROTO: a TLS failure, see `lastTLSFailure`).
    mutating func sendStream(_ bytes: UnsafeRawBufferPointer) -> (sent: Int, errno: Int32) {
        if let session {
            let result = session.send(bytes, stallMilliseconds: sendTimeout)
            if result.errno != 0 { lastTLSFailure = session.lastFailure }
            return result
        }
        let descriptor = descriptor
        let (sent, error) = SystemCall.writeAll(
            bytes, waitingOn: descriptor, stallMilliseconds: sendTimeout, noProgress: Errno(rawValue: EPIPE)
        ) { (rest) throws(Errno) in
            try SystemCall.send(descriptor, rest, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        return (sent, error?.rawValue ?? 0)
    }
}

extension NetworkLink {
    /// What `receiveStream` got.
    enum Received: Sendable, Hashable {
        /// `count` bytes (at least one) are in the buffer.
        case bytes(count: Int)
        /// Nothing arrived within the wait.
        case timedOut
        /// The peer closed the stream (EOF).
        case closed
        /// The connection failed with this errno (ECONNRESET…).
        case failed(errno: Int32)
    }

    /// Reads what the peer sent on a stream into `buffer`, waiting at most `milliseconds` for the
    /// first byte. For protocols whose receiver answers (RELP's acknowledgements). The one place a
    /// TLS session slots in beside `sendStream`: callers see plaintext either way.
    mutating func receiveStream(into buffer: UnsafeMutableRawBufferPointer, milliseconds: Int32) -> Received {
        guard descriptor >= 0 else { return .failed(errno: ENOTCONN) }
        if let session {
            let (count, code) = session.receive(into: buffer, timeoutMilliseconds: milliseconds)
            if count > 0 {
                // The same immediate ACK as below, for the TCP segments under the TLS records.
                SocketCalls.setOption(descriptor, level: Int32(IPPROTO_TCP), name: TCP_QUICKACK, value: 1)
                return .bytes(count: count)
            }
            switch code {
            case 0: return .closed
            case EAGAIN: return .timedOut
            default:
                lastTLSFailure = session.lastFailure
                return code == EPIPE ? .closed : .failed(errno: code)
            }
        }
        let deadline = SystemClock.monotonicNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
        while true {
            do throws(Errno) {
                let count = try SystemCall.recv(descriptor, into: buffer, flags: Int32(MSG_DONTWAIT))
                if count > 0, case .tcp = endpoint {
                    // Acknowledge at once (the kernel re-enables delayed ACKs by itself): a server
                    // that answers in small segments, as librelp does, holds its next answer behind
                    // Nagle until our ACK comes, up to 40 ms per round trip. Measured against
                    // rsyslog's imrelp on loopback: 3000 events in 2.1 s without, 0.1 s with.
                    SocketCalls.setOption(descriptor, level: Int32(IPPROTO_TCP), name: TCP_QUICKACK, value: 1)
                }
                return count == 0 ? .closed : .bytes(count: count)
            } catch {
                guard error.rawValue == EAGAIN || error.rawValue == EWOULDBLOCK else {
                    return .failed(errno: error.rawValue)
                }
            }
            let now = SystemClock.monotonicNanoseconds()
            if now >= deadline { return .timedOut }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            do throws(Errno) {
                if try SystemCall.poll(&entry, count: 1, milliseconds: left) == 0 { return .timedOut }
            } catch {
                return .failed(errno: error.rawValue)
            }
        }
    }
}

/// `first; second`, or whichever is not empty.
func joined(_ first: String, _ second: String) -> String {
    first.isEmpty ? second : (second.isEmpty ? first : "\(first); \(second)")
}
