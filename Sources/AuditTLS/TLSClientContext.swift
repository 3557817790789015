internal import AuditSystem
internal import COpenSSL
internal import Glibc

/// The client side of TLS for one output: the CA file, the optional client certificate and key,
/// read and checked once, and the rules every connection follows.
///
/// Every connection verifies the server: its certificate must chain to `caFile`, be valid now and
/// carry the expected name (a DNS name, or an IP address in a subjectAltName); TLS 1.2 is the
/// lowest version offered and renegotiation is refused. Nothing here can be relaxed by
/// configuration. A client certificate, when given, must match its key.
///
/// Building a context reads the files; a reload builds a new one (the certificate files are
/// re-read), while sessions made from the old one keep it alive until they end.
///
/// Sendable: the `SSL_CTX` is configured in `init` and only read afterwards; OpenSSL makes
/// sessions from one context on several threads safely.
package final class TLSClientContext: @unchecked Sendable {
    /// The files this context was built from.
    package let configuration: TLSConfiguration
    let context: OpaquePointer

    /// Reads and checks the files of `configuration`.
    ///
    /// - Throws: `TLSError` naming the file and OpenSSL's reason: unreadable, no certificate in
    ///   the CA file, a certificate or key that does not parse (or a key protected by a
    ///   passphrase), a key that is not the certificate's.
    package init(configuration: TLSConfiguration) throws(TLSError) {
        if (configuration.certificateFile == nil) != (configuration.keyFile == nil) {
            throw TLSError(
                .incomplete,
                detail: configuration.certificateFile == nil
                    ? "tls_key \(configuration.keyFile ?? "") is set without tls_cert: a client certificate needs both"
                    : "tls_cert \(configuration.certificateFile ?? "") is set without tls_key: a client certificate needs both"
            )
        }
        try Self.checkReadable(configuration.caFile, kind: .caFile)
        if let certificate = configuration.certificateFile, let key = configuration.keyFile {
            try Self.checkReadable(certificate, kind: .certificateFile)
            try Self.checkReadable(key, kind: .keyFile)
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError(.setup, detail: openSSLErrors(fallback: "SSL_CTX_new failed"))
        }
        // From here on the context is freed by `deinit`, also when `init` throws.
        self.context = context
        self.configuration = configuration
        guard audit_tls_require_tls12(context) == 1 else {
            throw TLSError(.setup, detail: openSSLErrors(fallback: "cannot require TLS 1.2"))
        }
        SSL_CTX_set_options(context, audit_tls_option_no_renegotiation())
        audit_tls_set_write_modes(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        // Never ask for a passphrase: OpenSSL's default prompts on the terminal, and the daemon has
        // none. An encrypted key fails to load instead, with the reason.
        SSL_CTX_set_default_passwd_cb(context, refusePassphrase)
        SSL_CTX_set_cert_cb(context, noteCertificateRequest, nil)

        guard SSL_CTX_load_verify_file(context, configuration.caFile) == 1 else {
            throw TLSError(
                .caFile, path: configuration.caFile,
                detail: Self.pemReason(openSSLErrors(fallback: "no certificates found")))
        }
        if let certificate = configuration.certificateFile, let key = configuration.keyFile {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw TLSError(
                    .certificateFile, path: certificate,
                    detail: Self.pemReason(openSSLErrors(fallback: "no certificate found")))
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                let reason = openSSLErrors(fallback: "no private key found")
                if reason.contains("key values mismatch") {
                    throw TLSError(
                        .keyMismatch, path: key, detail: "is not the key of tls_cert \(certificate) (\(reason))")
                }
                throw TLSError(
                    .keyFile, path: key,
                    detail: Self.pemReason(reason)
                        + " (a key protected by a passphrase cannot be used: the daemon has no one to ask)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError(
                    .keyMismatch, path: key,
                    detail:
                        "is not the key of tls_cert \(certificate) (\(openSSLErrors(fallback: "key values mismatch")))")
            }
        }
        ERR_clear_error()
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// A session on `descriptor` (connected, non-blocking) that expects the server to be
    /// `serverName`; the handshake is ``TLSSession/handshake(timeoutMilliseconds:)``.
    package func session(descriptor: Int32, serverName: String) throws(TLSError) -> TLSSession {
        try TLSSession(context: self, descriptor: descriptor, serverName: serverName)
    }

    /// Throws when `path` cannot be opened for reading, with the system's reason.
    private static func checkReadable(_ path: String, kind: TLSError.Kind) throws(TLSError) {
        guard !path.isEmpty else { throw TLSError(kind, path: path, detail: "empty path") }
        do throws(Errno) {
            let descriptor = try SystemCall.open(path, O_RDONLY | O_CLOEXEC)
            defer { SystemCall.close(descriptor) }
            let info = try SystemCall.status(of: descriptor)
            guard info.st_mode & S_IFMT == S_IFREG else { throw Errno(rawValue: EISDIR) }
        } catch {
            throw TLSError(kind, path: path, detail: error.rawValue == EISDIR ? "not a regular file" : error.message)
        }
    }

    /// OpenSSL's PEM reasons, said plainly where they are obscure.
    private static func pemReason(_ reason: String) -> String {
        if reason.contains("no certificate or crl found") || reason.contains("no start line") {
            return "no certificates found (expected PEM: -----BEGIN CERTIFICATE-----; OpenSSL: \(reason))"
        }
        return reason
    }
}

/// The passphrase callback: there is never one.
private let refusePassphrase:
    @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?)
        -> Int32 = { _, _, _, _ in 0 }

/// Called on the client when the server asks for a certificate: remembered in the session's BIO
/// state, because under TLS 1.3 the server's verdict on it comes only after the handshake.
private let noteCertificateRequest: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ssl, _ in
    if let state = state(of: SSL_get_rbio(ssl)) { state.pointee.certificateRequested = true }
    return 1
}
