internal import COpenSSL
internal import Glibc

/// What the socket BIO of one session knows: the descriptor, the errno of its last failed call
/// (OpenSSL reports SSL_ERROR_SYSCALL and leaves the reason to errno, which other calls may have
/// changed by the time it is read), and whether the server asked for a client certificate.
struct SocketBIOState {
    var descriptor: Int32
    var lastErrno: Int32 = 0
    var certificateRequested = false
}

/// A BIO on a connected non-blocking socket that sends with `MSG_NOSIGNAL`.
///
/// OpenSSL's own socket BIO writes with `write(2)`, which raises SIGPIPE when the server has gone
/// away; the daemon ignores SIGPIPE and its worker threads block it, but a library call must not
/// depend on that (a test, `swift-audit replay`). Reads and writes never block: an empty socket
/// or a full send buffer sets the retry flags, and the session waits with `poll` and its deadline.
enum SocketBIO {
    /// The method table, made once (OpenSSL keeps a pointer to it in every BIO).
    static let method: MethodTable? = MethodTable()

    /// The `BIO_METHOD`, never freed.
    struct MethodTable: @unchecked Sendable {
        // Immutable after `init`; OpenSSL only reads it.
        let pointer: OpaquePointer

        init?() {
            guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "swift-audit socket") else {
                return nil
            }
            BIO_meth_set_write(method, socketWrite)
            BIO_meth_set_read(method, socketRead)
            BIO_meth_set_ctrl(method, socketControl)
            BIO_meth_set_create(method, socketCreate)
            BIO_meth_set_destroy(method, socketDestroy)
            pointer = method
        }
    }

    /// A BIO for `state` (which must outlive it), or nil.
    static func make(_ state: UnsafeMutablePointer<SocketBIOState>) -> OpaquePointer? {
        guard let method = method?.pointer, let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, UnsafeMutableRawPointer(state))
        return bio
    }
}

func state(of bio: OpaquePointer?) -> UnsafeMutablePointer<SocketBIOState>? {
    BIO_get_data(bio)?.assumingMemoryBound(to: SocketBIOState.self)
}

private let socketWrite: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = {
    bio, data, length in
    guard let state = state(of: bio), let data, length > 0 else { return 0 }
    audit_tls_bio_clear_retry(bio)
    while true {
        let sent = send(state.pointee.descriptor, data, Int(length), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        if sent >= 0 { return Int32(sent) }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
            audit_tls_bio_retry_write(bio)
        } else {
            state.pointee.lastErrno = code
        }
        return -1
    }
}

private let socketRead: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = {
    bio, data, length in
    guard let state = state(of: bio), let data, length > 0 else { return 0 }
    audit_tls_bio_clear_retry(bio)
    while true {
        let received = recv(state.pointee.descriptor, data, Int(length), Int32(MSG_DONTWAIT))
        if received >= 0 { return Int32(received) }  // 0: the server closed the connection
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK {
            audit_tls_bio_retry_read(bio)
        } else {
            state.pointee.lastErrno = code
        }
        return -1
    }
}

private let socketControl: @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int = {
    _, command, _, _ in
    // Writes go straight to the socket: there is nothing to flush. Everything else (push, pop,
    // kTLS queries) is not supported.
    command == BIO_CTRL_FLUSH ? 1 : 0
}

private let socketCreate: @convention(c) (OpaquePointer?) -> Int32 = { bio in
    BIO_set_init(bio, 1)
    return 1
}

private let socketDestroy: @convention(c) (OpaquePointer?) -> Int32 = { bio in
    // The state belongs to the session, the descriptor to the link.
    BIO_set_data(bio, nil)
    return 1
}

/// OpenSSL's error queue of this thread as text ("certificate verify failed"), emptied; `fallback`
/// when it holds nothing.
func openSSLErrors(fallback: String) -> String {
    var reasons: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        let text: String
        if let reason = ERR_reason_error_string(code) {
            text = String(cString: reason)
        } else {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        if !reasons.contains(text) { reasons.append(text) }
    }
    return reasons.isEmpty ? fallback : reasons.joined(separator: ": ")
}
