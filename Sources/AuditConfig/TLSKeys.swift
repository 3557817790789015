package import AuditTLS
import AuditWriters
internal import Glibc

/// The TLS keys of the network outputs: `tls_ca`, `tls_cert`, `tls_key`, `tls_server_name`.
enum TLSKeys {
    static let all = ["tls_ca", "tls_cert", "tls_key", "tls_server_name"]
    /// RFC 5425's port for syslog over TLS, used when a `target = tls` address has none.
    static let syslogPort: UInt16 = 6514
}

extension OutputReader {
    /// The TLS settings of an output whose transport is `selected` (`target = tls`, `transport =
    /// tls`): `tls_ca` required, `tls_cert` and `tls_key` together. For another transport every
    /// `tls_*` key is a conflict naming `selector`.
    mutating func tlsSettings(selected: Bool, selector: String, selectorOrigin: String) -> TLSConfiguration? {
        let ca = value("tls_ca", Values.absolutePath)
        let certificate = value("tls_cert", Values.absolutePath)
        let key = value("tls_key", Values.absolutePath)
        let serverName = value("tls_server_name", Values.serverName)
        guard selected else {
            for subkey in TLSKeys.all {
                conflict(subkey, "applies only to \(selector) = tls (\(selectorOrigin))", dependsOn: selector)
            }
            return nil
        }
        let selectorLine = line(selector) ?? 0
        if entries["tls_ca"] == nil {
            required(
                "tls_ca", at: selectorLine,
                "is required for \(selector) = tls: the PEM file of the certificate authority that signed the "
                    + "server's certificate (there is no mode that trusts any certificate or skips verification)",
                related: [selectorLine])
        }
        if entries["tls_cert"] != nil, entries["tls_key"] == nil {
            required(
                "tls_key", at: line("tls_cert") ?? selectorLine,
                "is required with tls_cert: the PEM file of the client certificate's private key",
                related: [line("tls_cert") ?? selectorLine])
        }
        if entries["tls_key"] != nil, entries["tls_cert"] == nil {
            required(
                "tls_cert", at: line("tls_key") ?? selectorLine,
                "is required with tls_key: the PEM file of the client certificate",
                related: [line("tls_key") ?? selectorLine])
        }
        guard let ca else { return nil }
        return TLSConfiguration(caFile: ca, certificateFile: certificate, keyFile: key, serverName: serverName)
    }
}

extension Values {
    /// The name a server's certificate must carry: a DNS name or an IPv4 or IPv6 address.
    static func serverName(_ text: String) -> Parsed<String> {
        var scratch = in6_addr()
        if isValidHostName(Substring(text)) || inet_pton(AF_INET6, text, &scratch) == 1 { return .success(text) }
        return .failure(ValueProblem("expected the DNS name or IP address the server's certificate carries"))
    }

    /// `host:port`, `[IPv6]:port`, or a host alone, which gets `defaultPort`.
    static func networkAddress(_ text: String, defaultPort: UInt16) -> Parsed<NetworkAddress> {
        if let address = NetworkAddress(parsing: text) { return .success(address) }
        if isValidHostName(Substring(text)) { return .success(NetworkAddress(host: text, port: defaultPort)) }
        if text.hasPrefix("["), text.hasSuffix("]"), let address = NetworkAddress(parsing: text + ":\(defaultPort)") {
            return .success(address)
        }
        return .failure(
            ValueProblem("expected host:port, [IPv6]:port, or a host alone for port \(defaultPort)"))
    }
}

extension DaemonConfiguration {
    /// Reads the TLS files of every enabled output (the CA file parses, the client certificate and
    /// key load and match), as a connection would; one diagnostic per output that fails, on the
    /// line of the key whose file is at fault.
    ///
    /// `lines` gives the line of a key (`output.NAME.tls_ca`) in `file`.
    func tlsFileProblems(file: String, lines: [String: Int]) -> [ConfigDiagnostic] {
        var problems: [ConfigDiagnostic] = []
        for output in outputs where output.enabled {
            guard let tls = output.tlsConfiguration else { continue }
            do {
                _ = try TLSClientContext(configuration: tls)
            } catch {
                let subkey: String
                let value: String?
                switch error.kind {
                case .certificateFile: (subkey, value) = ("tls_cert", tls.certificateFile)
                case .keyFile, .keyMismatch, .incomplete: (subkey, value) = ("tls_key", tls.keyFile)
                default: (subkey, value) = ("tls_ca", tls.caFile)
                }
                let key = "output.\(output.name).\(subkey)"
                let fileKinds: [TLSError.Kind] = [.caFile, .certificateFile, .keyFile, .keyMismatch]
                problems.append(
                    ConfigDiagnostic(
                        kind: .invalidValue, file: file, line: lines[key], key: key, value: value,
                        message: fileKinds.contains(error.kind) ? error.detail : error.description))
            }
        }
        return problems
    }
}

extension OutputConfiguration {
    /// The TLS settings of a syslog or RELP `target = tls` or GELF `transport = tls` output.
    package var tlsConfiguration: TLSConfiguration? {
        switch kind {
        case .syslog(let syslog):
            switch syslog.target {
            case .tls(_, _, let tls): tls
            default: nil
            }
        case .gelf(let gelf):
            switch gelf.transport {
            case .tls(let tls): tls
            default: nil
            }
        case .relp(let relp):
            relp.tls
        default:
            nil
        }
    }
}
