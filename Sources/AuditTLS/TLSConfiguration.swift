/// What a TLS client trusts and who it is: the files of `tls_ca`, `tls_cert`, `tls_key` and the
/// name of `tls_server_name`.
///
/// There is deliberately no switch to turn verification off, to accept any certificate, or to
/// allow a protocol older than TLS 1.2: a connection either proves it reaches the server named
/// here, or carries nothing. The value holds paths only; ``TLSClientContext`` reads the files
/// (again at each reload, so a rotated certificate is picked up on SIGHUP).
package struct TLSConfiguration: Sendable, Hashable {
    /// PEM file of the certificate authorities the server's certificate must chain to. Required:
    /// without it nothing could be verified.
    package var caFile: String
    /// PEM file of this client's certificate (its chain may follow), for servers that require one
    /// (mutual TLS). Set together with `keyFile`.
    package var certificateFile: String?
    /// PEM file of the private key of `certificateFile` (not encrypted: the daemon runs unattended).
    package var keyFile: String?
    /// The name the server's certificate must carry (a DNS name or an IP address); nil uses the
    /// host of the output's address.
    package var serverName: String?

    package init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }

    /// The name checked against the certificate (and sent as SNI when it is a DNS name) for a
    /// connection to `host`.
    package func expectedName(connectingTo host: String) -> String {
        serverName ?? host
    }
}
