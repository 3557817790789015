internal import AuditSystem
internal import COpenSSL
internal import Glibc

/// One TLS connection over a connected non-blocking socket: the handshake with a deadline, then
/// sends and receives that wait at most their timeout.
///
/// The session never owns the descriptor (the caller closes it after ``close()``) and never falls
/// back to the plain socket: when anything fails, the caller drops the connection.
///
/// # Sending
/// `send` returns how many bytes went out and an errno, like `send(2)` wrapped in a stall timeout.
/// A TLS record that OpenSSL has sealed but the socket has not yet taken (a full send buffer) is
/// counted as sent, as bytes in the kernel's send buffer are: its plaintext is kept here and
/// pushed before anything else by the next call (OpenSSL requires that very retry), so a caller
/// that resends "the rest" after a stall never sends a byte twice. Each `SSL_write` takes at most
/// one record (16 KiB), which bounds that copy.
///
/// Not thread-safe: a session is used by the thread of the writer that made it. It is a class so
/// that the link holding it can be copied (the copies share the one connection).
package final class TLSSession: @unchecked Sendable {
    /// The plaintext of one TLS record, the most one `SSL_write` is given.
    static let recordBytes = 16384

    private let ssl: OpaquePointer
    private let state: UnsafeMutablePointer<SocketBIOState>
    /// Keeps the `SSL_CTX` alive as long as the session.
    private let context: TLSClientContext
    /// The socket (not owned).
    package let descriptor: Int32
    /// The name the server's certificate was checked against.
    package let serverName: String
    /// A sealed record's plaintext that the socket has not taken yet (see "Sending").
    private var pendingRecord: [UInt8] = []
    private var isClosed = false
    /// Why the last `send` or `receive` failed, in OpenSSL's words (empty when it did not).
    package private(set) var lastFailure = ""

    init(context: TLSClientContext, descriptor: Int32, serverName: String) throws(TLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError(.setup, detail: openSSLErrors(fallback: "SSL_new failed"))
        }
        let state = UnsafeMutablePointer<SocketBIOState>.allocate(capacity: 1)
        state.initialize(to: SocketBIOState(descriptor: descriptor))
        guard let bio = SocketBIO.make(state) else {
            SSL_free(ssl)
            state.deallocate()
            throw TLSError(.setup, detail: openSSLErrors(fallback: "cannot make the socket BIO"))
        }
        SSL_set_bio(ssl, bio, bio)  // the SSL owns the BIO from here
        self.ssl = ssl
        self.state = state
        self.context = context
        self.descriptor = descriptor
        self.serverName = serverName
        // Who the server must be: an IP address is checked against the certificate's IP
        // subjectAltNames (and sent as no SNI, which must be a DNS name); a DNS name against its
        // DNS names, with no partial wildcards ("w*.example.com").
        let isAddress = Self.isIPAddress(serverName)
        let named: Bool
        if isAddress {
            named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            named =
                SSL_set1_host(ssl, serverName) == 1 && audit_tls_set_server_name_indication(ssl, serverName) == 1
        }
        guard named else {
            throw TLSError(.setup, detail: openSSLErrors(fallback: "cannot expect the server name \(serverName)"))
        }
    }

    deinit {
        close()
        SSL_free(ssl)
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The negotiated protocol ("TLSv1.3"), after the handshake.
    package var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Runs the handshake, waiting at most `timeoutMilliseconds` in all.
    ///
    /// Under TLS 1.3 a server that asked for a client certificate judges it after the client has
    /// finished: a refusal arrives as an alert after `SSL_connect` succeeded. When the server asked
    /// for one, the session waits (within the same deadline, at most half a second) for the
    /// server's first records (its session tickets, or that alert), so that a refused connection
    /// fails here instead of swallowing the first batch.
    ///
    /// - Throws: `.verification` with the reason the server's certificate was refused
    ///   ("certificate has expired", "unable to get local issuer certificate", "hostname
    ///   mismatch"), or `.handshake` (an alert, the connection closed, no answer in time).
    package func handshake(timeoutMilliseconds: Int32) throws(TLSError) {
        let deadline = Self.deadline(after: timeoutMilliseconds)
        while true {
            ERR_clear_error()
            state.pointee.lastErrno = 0
            let result = SSL_connect(ssl)
            if result == 1 { break }
            let error = SSL_get_error(ssl, result)
            if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
                if wait(forWriting: error == SSL_ERROR_WANT_WRITE, until: deadline) { continue }
                throw TLSError(.handshake, detail: "no answer from the server within \(timeoutMilliseconds) ms")
            }
            let verdict = SSL_get_verify_result(ssl)
            if verdict != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verdict))
                _ = openSSLErrors(fallback: "")
                throw TLSError(.verification, detail: reason + " (expected \(serverName))")
            }
            throw TLSError(.handshake, detail: describe(error, during: "the handshake"))
        }
        if state.pointee.certificateRequested, SSL_version(ssl) == TLS1_3_VERSION {
            let settle = min(deadline, Self.deadline(after: 500))
            let (_, code) = readRecords(until: settle)
            if code != 0 && code != EAGAIN {
                throw TLSError(
                    .handshake,
                    detail: "the server refused the connection after the handshake: \(lastFailure)"
                        + (context.configuration.certificateFile == nil
                            ? " (it asked for a client certificate; set tls_cert and tls_key)" : ""))
            }
        }
    }

    /// Sends `bytes`; returns how many went out and 0, or the errno that stopped it: EAGAIN when
    /// nothing moved for `stallMilliseconds`, EPIPE when the server closed the connection,
    /// EPROTO for a TLS failure (the reason in ``lastFailure``).
    package func send(_ bytes: UnsafeRawBufferPointer, stallMilliseconds: Int32) -> (sent: Int, errno: Int32) {
        lastFailure = ""
        guard !isClosed else { return (0, EBADF) }
        var deadline = Self.deadline(after: stallMilliseconds)
        if !pendingRecord.isEmpty {
            let code = pushPendingRecord(until: deadline)
            if code != 0 { return (0, code) }
            deadline = Self.deadline(after: stallMilliseconds)
        }
        guard let base = bytes.baseAddress else { return (0, 0) }
        var sent = 0
        while sent < bytes.count {
            let chunk = min(bytes.count - sent, Self.recordBytes)
            ERR_clear_error()
            state.pointee.lastErrno = 0
            let result = SSL_write(ssl, base + sent, Int32(chunk))
            if result > 0 {
                sent += Int(result)
                deadline = Self.deadline(after: stallMilliseconds)
                continue
            }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_WRITE:
                // The record is sealed; OpenSSL must be given these bytes again (see "Sending").
                pendingRecord.removeAll(keepingCapacity: true)
                pendingRecord.append(contentsOf: UnsafeRawBufferPointer(start: base + sent, count: chunk))
                sent += chunk
                let code = pushPendingRecord(until: deadline)
                if code != 0 { return (sent, code) }
                deadline = Self.deadline(after: stallMilliseconds)
            case SSL_ERROR_WANT_READ:
                // Not with renegotiation refused; if it happens, wait for the server, and give
                // up the connection (not just the attempt) when it does not answer in time.
                if !wait(forWriting: false, until: deadline) {
                    lastFailure = "the server did not answer a TLS exchange in time"
                    return (sent, ETIMEDOUT)
                }
            default:
                return (sent, failure(error, during: "sending"))
            }
        }
        return (sent, 0)
    }

    /// Receives what the server sent, waiting at most `timeoutMilliseconds`. Returns the bytes
    /// stored and 0; 0 and 0 when the server closed the connection (close_notify); 0 and EAGAIN
    /// after the timeout; 0 and the errno of a failure (EPROTO: a TLS failure, see ``lastFailure``;
    /// ECONNRESET: the connection ended without close_notify).
    package func receive(into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32) -> (
        count: Int, errno: Int32
    ) {
        lastFailure = ""
        guard !isClosed else { return (0, EBADF) }
        let deadline = Self.deadline(after: timeoutMilliseconds)
        if !pendingRecord.isEmpty {
            let code = pushPendingRecord(until: deadline)
            if code != 0 { return (0, code) }
        }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return (0, 0) }
        while true {
            ERR_clear_error()
            state.pointee.lastErrno = 0
            let result = SSL_read(ssl, base, Int32(clamping: buffer.count))
            if result > 0 { return (Int(result), 0) }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                if !wait(forWriting: error == SSL_ERROR_WANT_WRITE, until: deadline) { return (0, EAGAIN) }
            case SSL_ERROR_ZERO_RETURN:
                return (0, 0)
            default:
                return (0, failure(error, during: "receiving"))
            }
        }
    }

    /// Whether the server closed the connection (close_notify, an alert, EOF, a reset), without
    /// waiting. Records that carry no data (TLS 1.3 session tickets) are consumed; data is read
    /// and discarded: syslog and GELF receivers never send any.
    package func peerClosed() -> Bool {
        if isClosed { return true }
        let (_, code) = readRecords(until: 0)
        return code != EAGAIN
    }

    /// Reads and discards records until none is waiting (EAGAIN) or `deadline` (0: do not wait)
    /// passes, or the connection ends (0: close_notify, or the errno).
    private func readRecords(until deadline: UInt64) -> (discarded: Int, errno: Int32) {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var discarded = 0
        for _ in 0..<64 {
            ERR_clear_error()
            state.pointee.lastErrno = 0
            let result = withUnsafeMutableBytes(of: &scratch) { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if result > 0 {
                discarded += Int(result)
                continue
            }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ:
                if deadline == 0 || !wait(forWriting: false, until: deadline) { return (discarded, EAGAIN) }
            case SSL_ERROR_WANT_WRITE:
                if deadline == 0 || !wait(forWriting: true, until: deadline) { return (discarded, EAGAIN) }
            case SSL_ERROR_ZERO_RETURN:
                lastFailure = "the server closed the connection"
                return (discarded, EPIPE)
            default:
                return (discarded, failure(error, during: "reading"))
            }
        }
        return (discarded, EAGAIN)
    }

    /// Ends the session: pushes a sealed record still waiting (for at most `flushMilliseconds`),
    /// reads what the server sent and nobody read (session tickets), sends close_notify if the
    /// socket takes it at once, and releases the session; the descriptor stays open (the
    /// caller's). Idempotent.
    ///
    /// The reading matters: closing a socket with unread received bytes makes the kernel send a
    /// reset instead of a FIN, and a reset makes the server drop what it had received but not yet
    /// read, the last events.
    package func close(flushMilliseconds: Int32 = 0) {
        guard !isClosed else { return }
        if !pendingRecord.isEmpty, flushMilliseconds > 0 {
            _ = pushPendingRecord(until: Self.deadline(after: flushMilliseconds))
        }
        isClosed = true
        pendingRecord = []
        if SSL_is_init_finished(ssl) == 1 {
            _ = readRecords(until: 0)
            ERR_clear_error()
            let shutdown = SSL_shutdown(ssl)
            // A healthy session ends gracefully: close_notify, then our FIN, then whatever the
            // server still sends (a session ticket written late, its own close_notify) is read
            // until it closes, for at most `flushMilliseconds`. Closing with a record unread made
            // the kernel send a reset, and rsyslog dropped the last events it had not yet read
            // (seen under load: 77 of 144 lines arrived).
            if shutdown >= 0, flushMilliseconds > 0 {
                _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
                let deadline = Self.deadline(after: flushMilliseconds)
                // EAGAIN: the deadline passed, or 64 records were read and there may be more.
                while readRecords(until: deadline).errno == EAGAIN, SystemClock.monotonicNanoseconds() < deadline {}
            }
        }
        ERR_clear_error()
    }

    /// Pushes the sealed record until the socket took it, or `deadline` passed (EAGAIN).
    private func pushPendingRecord(until deadline: UInt64) -> Int32 {
        while !pendingRecord.isEmpty {
            ERR_clear_error()
            state.pointee.lastErrno = 0
            let result = pendingRecord.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if result > 0 {
                pendingRecord.removeFirst(min(Int(result), pendingRecord.count))
                continue
            }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_WRITE, SSL_ERROR_WANT_READ:
                if !wait(forWriting: error == SSL_ERROR_WANT_WRITE, until: deadline) { return EAGAIN }
            default:
                pendingRecord.removeAll(keepingCapacity: true)
                return failure(error, during: "sending")
            }
        }
        return 0
    }

    /// The errno for a failed `SSL_*` call, with the reason kept in `lastFailure`.
    private func failure(_ error: Int32, during activity: String) -> Int32 {
        lastFailure = describe(error, during: activity)
        if error == SSL_ERROR_ZERO_RETURN { return EPIPE }
        if error == SSL_ERROR_SYSCALL {
            let code = state.pointee.lastErrno
            return code != 0 ? code : ECONNRESET
        }
        return EPROTO
    }

    /// OpenSSL's reason for `error`, or the socket's.
    private func describe(_ error: Int32, during activity: String) -> String {
        switch error {
        case SSL_ERROR_ZERO_RETURN:
            return "the server closed the connection during \(activity)"
        case SSL_ERROR_SYSCALL:
            let code = state.pointee.lastErrno
            let reasons = openSSLErrors(fallback: "")
            if code != 0 { return "\(activity): \(Errno(rawValue: code))" }
            return reasons.isEmpty ? "the server closed the connection during \(activity)" : reasons
        default:
            return openSSLErrors(fallback: "TLS error \(error) during \(activity)")
        }
    }

    /// Waits until the socket is readable (or writable) or `deadline` passes; false on timeout.
    private func wait(forWriting: Bool, until deadline: UInt64) -> Bool {
        let now = SystemClock.monotonicNanoseconds()
        guard now < deadline else { return false }
        let left = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
        var entry = pollfd(fd: descriptor, events: Int16(forWriting ? POLLOUT : POLLIN), revents: 0)
        while true {
            let result = Glibc.poll(&entry, 1, left)
            if result > 0 { return true }  // ready, or in error: the next call reports it
            if result == 0 { return false }
            if errno != EINTR { return true }
        }
    }

    private static func deadline(after milliseconds: Int32) -> UInt64 {
        SystemClock.monotonicNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
    }

    /// True for an IPv4 or IPv6 address (without brackets).
    static func isIPAddress(_ text: String) -> Bool {
        var scratch = in6_addr()
        return inet_pton(AF_INET, text, &scratch) == 1 || inet_pton(AF_INET6, text, &scratch) == 1
    }
}
