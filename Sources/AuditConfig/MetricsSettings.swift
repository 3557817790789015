internal import Glibc

/// `metrics_listen`, `metrics_textfile`, `metrics_interval`: where the daemon's Prometheus metrics
/// are served or written. Both off by default.
package struct MetricsSettings: Hashable, Sendable {
    /// `metrics_listen`: a loopback TCP address or a unix socket serving `GET /metrics`.
    package var listen: MetricsListenAddress?
    /// `metrics_textfile`: a `.prom` file for node_exporter's textfile collector, replaced
    /// atomically every ``interval``.
    package var textfile: String?
    /// `metrics_interval`: how often the textfile is written (15 s by default, Prometheus's own
    /// default scrape interval).
    package var interval: Duration

    /// Both off; a 15 s textfile interval.
    package init(listen: MetricsListenAddress? = nil, textfile: String? = nil, interval: Duration = .seconds(15)) {
        self.listen = listen
        self.textfile = textfile
        self.interval = interval
    }

    /// Whether either exposition is configured.
    package var isEnabled: Bool { listen != nil || textfile != nil }
}

/// Where the metrics listener binds: a loopback address and port, or a unix socket path.
///
/// Why loopback only: the counters tell how much is audited, which outputs are failing and how
/// much was lost, which is worth knowing to someone planning to go unnoticed, and the listener has
/// neither TLS nor authentication. An audit host that must be scraped over the network puts a
/// proxy that has both (or node_exporter with the textfile) in front of it.
package enum MetricsListenAddress: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 address in 127.0.0.0/8, or the IPv6 loopback `::1` (without brackets).
    case tcp(host: String, port: UInt16)
    /// An absolute path for a unix stream socket (created by the daemon, mode 0600).
    case unix(path: String)

    /// As written in the configuration: `127.0.0.1:9477`, `[::1]:9477`, `unix:/run/….sock`.
    package var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    /// Why a text is not a metrics address (for `swift-audit stats --from`).
    package struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Parses a `metrics_listen` value, for callers outside the configuration parser.
    package static func parsing(_ text: String) -> Result<Self, Problem> {
        parse(text).mapError { Problem(description: $0.message) }
    }

    /// Parses a `metrics_listen` value; the problem says what is accepted and, for an address
    /// that is not loopback, why it is refused.
    static func parse(_ text: String) -> Result<Self, ValueProblem> {
        let expected =
            "expected a loopback address and port (127.0.0.1:9477, [::1]:9477) or unix:/absolute/path.sock"
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), path.utf8.count <= 107, !path.hasSuffix("/") else {
                return .failure(ValueProblem(expected + " (a unix socket path is absolute, at most 107 bytes)"))
            }
            return .success(.unix(path: path))
        }
        guard let address = NetworkAddress(parsing: text) else { return .failure(ValueProblem(expected)) }
        let refused =
            " is not a loopback address: the metrics listener has no TLS and no authentication, so it is "
            + "served on 127.0.0.0/8, ::1 or a unix socket only; put a proxy with both in front to scrape "
            + "from another host"
        if address.host.contains(":") {
            var bytes = in6_addr()
            guard inet_pton(AF_INET6, address.host, &bytes) == 1 else { return .failure(ValueProblem(expected)) }
            let isLoopback = withUnsafeBytes(of: bytes) { raw in raw.prefix(15).allSatisfy { $0 == 0 } && raw[15] == 1 }
            guard isLoopback else { return .failure(ValueProblem("[\(address.host)]" + refused)) }
            return .success(.tcp(host: "::1", port: address.port))
        }
        var bytes = in_addr()
        // A name would be resolved (and could resolve elsewhere): numbers only.
        guard address.host.allSatisfy({ $0.isNumber || $0 == "." }), inet_pton(AF_INET, address.host, &bytes) == 1
        else {
            if address.host.lowercased() == "localhost" {
                return .failure(ValueProblem("write 127.0.0.1 or [::1] rather than localhost (a name is not resolved)"))
            }
            return .failure(ValueProblem(address.host + refused))
        }
        guard withUnsafeBytes(of: bytes, { $0[0] }) == 127 else {
            return .failure(ValueProblem(address.host + refused))
        }
        return .success(.tcp(host: address.host, port: address.port))
    }
}

extension Values {
    /// `metrics_textfile`: an absolute path ending in `.prom`, the only files node_exporter's
    /// textfile collector reads.
    static func metricsTextfile(_ text: String) -> Parsed<String> {
        guard text.hasPrefix("/"), text.hasSuffix(".prom"), text.utf8.count < 4096, !text.hasSuffix("/.prom") else {
            return .failure(
                ValueProblem(
                    "expected an absolute path ending in .prom (node_exporter's textfile collector reads only "
                        + "*.prom files), e.g. /var/lib/prometheus/node-exporter/swift-audit.prom"))
        }
        return .success(text)
    }
}
