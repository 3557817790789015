/// Why TLS could not be set up or a connection was refused, with the file or the server concerned
/// and OpenSSL's own words ("tls_ca /etc/x.pem: no certificate or crl found", "the server's
/// certificate was refused: certificate has expired").
package struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    package enum Kind: Sendable, Hashable {
        /// `tls_ca` cannot be read or holds no usable certificate.
        case caFile
        /// `tls_cert` cannot be read or is not a certificate.
        case certificateFile
        /// `tls_key` cannot be read or is not a private key (an encrypted key is refused too).
        case keyFile
        /// `tls_key` is not the key of `tls_cert`.
        case keyMismatch
        /// A certificate was given without its key, or a key without its certificate.
        case incomplete
        /// OpenSSL could not make a context or a session (out of memory, a broken library).
        case setup
        /// The server's certificate did not verify: not from the CA, expired, another name.
        case verification
        /// The handshake failed for another reason: an alert from the server (it refused our
        /// certificate, or no common protocol), the connection closed, no answer in time.
        case handshake
    }

    package var kind: Kind
    /// The file concerned (for the file kinds).
    package var path: String?
    /// OpenSSL's reason, or ours.
    package var detail: String

    package init(_ kind: Kind, path: String? = nil, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    package var description: String {
        switch kind {
        case .caFile: "tls_ca \(path ?? ""): \(detail)"
        case .certificateFile: "tls_cert \(path ?? ""): \(detail)"
        case .keyFile: "tls_key \(path ?? ""): \(detail)"
        case .keyMismatch: "tls_key \(path ?? ""): \(detail)"
        case .incomplete: detail
        case .setup: "TLS setup failed: \(detail)"
        case .verification: "TLS: the server's certificate was refused: \(detail)"
        case .handshake: "TLS handshake failed: \(detail)"
        }
    }
}
