package import AuditEncoding
package import AuditFilters
package import AuditWriters

/// One named output (`output.NAME.*` in the file): where events go, with its own bounded queue so a
/// slow output never delays the others.
///
/// The kind-specific settings are the writers' own configurations, filled by the parser: there is
/// no second set of types to translate (see docs/design.md, "One settings model").
package struct OutputConfiguration: Hashable, Sendable {
    /// What kind of output this is, with the settings of that kind.
    package enum Kind: Hashable, Sendable {
        /// JSON lines appended to a file.
        case file(FileWriter.Configuration)
        /// JSON lines on standard output.
        case stdout
        /// Syslog messages to `/dev/log`, UDP or TCP.
        case syslog(SyslogWriter.Configuration)
        /// GELF documents to Graylog over UDP or TCP.
        case gelf(GELFWriter.Configuration)
        /// Syslog messages over RELP to rsyslog's imrelp, each acknowledged by the collector.
        case relp(RELPWriter.Configuration)
    }

    /// The `NAME` in `output.NAME.*`: lower-case letters, digits, `_` and `-`; used in counters and
    /// loss events.
    package var name: String
    /// `enabled`: a disabled output is parsed and validated but gets no events.
    package var enabled: Bool
    /// `queue_size`: events queued for this output at most; beyond it new events are dropped and counted.
    package var queueSize: Int
    /// `format`: the JSON layout of the events (`raw`, go-audit's, by default; `enriched`, laurel's;
    /// `ecs`, the Elastic Common Schema).
    package var format: EventFormat
    /// `include_raw` (`format = ecs` only): the records' text in `event.original` too.
    package var includeRaw: Bool
    /// The output's kind and kind-specific settings.
    package var kind: Kind
    /// `take`: every event (after the global `filters`), or exactly the events another output's
    /// filters keep from it (`filtered-by:NAME`).
    package var selection: OutputSelection
    /// `filters`: the output's own filter rules, by name, tried after the global list.
    package var filters: [String]
    /// `spool_dir`, `spool_max_size`, `spool_sync` (network outputs only): the disk spool that
    /// holds events while the collector is down; nil without `spool_dir`.
    package var spool: SpoolConfiguration?

    /// An enabled output with the default queue of 8192 events, taking every event.
    package init(
        name: String, enabled: Bool = true, queueSize: Int = 8192, format: EventFormat = .raw, kind: Kind,
        selection: OutputSelection = .all, filters: [String] = [], includeRaw: Bool = false,
        spool: SpoolConfiguration? = nil
    ) {
        self.spool = spool
        self.includeRaw = includeRaw
        self.name = name
        self.enabled = enabled
        self.queueSize = queueSize
        self.format = format
        self.kind = kind
        self.selection = selection
        self.filters = filters
    }

    /// The spool directory and why it could not be created or used, checked on the file system
    /// without changing anything (for `--check-config`); nil without a spool or without a problem.
    package var spoolDirectoryProblem: (directory: String, problem: String)? {
        guard let spool, let problem = spool.directoryProblem else { return nil }
        return (spool.directory, problem)
    }

    /// The `type` value of the kind: `file`, `stdout`, `syslog`, `gelf` or `relp`.
    package var typeName: String {
        switch kind {
        case .file: "file"
        case .stdout: "stdout"
        case .syslog: "syslog"
        case .gelf: "gelf"
        case .relp: "relp"
        }
    }
}

/// The defaults of an `output.NAME.type = file` where they differ from the writer's.
extension FileWriter.Configuration {
    /// The writer's defaults (0600, the daemon's user and group, no size rotation, 5 logs) with
    /// `flush = interval` every second: a daemon should not leave its trail in the page cache
    /// indefinitely, while a library caller chooses its own policy.
    package static func configurationDefaults(path: String) -> Self {
        Self(path: path, flush: .interval(.seconds(1)))
    }
}

/// The configuration file's names of syslog facilities and severities (`<syslog.h>`), and the
/// aliases it accepts; the writer takes the numbers.
enum SyslogNames {
    /// Facility names by number; 12–15 have none.
    static let facilities: [String] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "", "", "", "",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ]
    /// Severity names by number.
    static let severities = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    /// A facility name (`security` is `auth`) or a number 0…23, any case.
    static func facility(_ name: String) -> UInt8? {
        let lower = name.lowercased()
        if let index = facilities.firstIndex(where: { $0 == lower }) { return UInt8(index) }
        if lower == "security" { return 4 }
        if let number = parseDecimal(lower), number <= 23 { return UInt8(number) }
        return nil
    }

    /// A severity name (aliases `error`, `warn`, `panic`) or a number 0…7, any case.
    static func severity(_ name: String) -> UInt8? {
        let lower = name.lowercased()
        switch lower {
        case "error": return 3
        case "warn": return 4
        case "panic": return 0
        default:
            if let index = severities.firstIndex(of: lower) { return UInt8(index) }
            if let number = parseDecimal(lower), number <= 7 { return UInt8(number) }
            return nil
        }
    }

    /// The facility's name (`local6`), or its number for facilities without one.
    static func facilityName(_ facility: UInt8) -> String {
        let name = Int(facility) < facilities.count ? facilities[Int(facility)] : ""
        return name.isEmpty ? String(facility) : name
    }

    /// The severity's name (`info`), or its number beyond 7.
    static func severityName(_ severity: UInt8) -> String {
        Int(severity) < severities.count ? severities[Int(severity)] : String(severity)
    }
}

/// The grammar of an `address` value: `host:port`, `[IPv6]:port`. Only a parse result: the
/// writers keep the host and port (and resolve the host when they connect, so a DNS change is
/// picked up on reconnect).
struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// A DNS name, an IPv4 address or an IPv6 address (without brackets).
    var host: String
    /// 1…65535.
    var port: UInt16

    /// Wraps a host and port; ``init?(parsing:)`` validates text from a file.
    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; `nil` when the host or port is not valid.
    init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard !host.isEmpty, host.contains(":"),
                host.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." })
            else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isValidHostName(host) else { return nil }
        }
        guard let port = parseDecimal(portText), port >= 1, port <= 65535 else { return nil }
        self.host = String(host)
        self.port = UInt16(port)
    }

    /// `host:port`, with brackets around an IPv6 host.
    var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A DNS name or dotted IPv4 address: labels of letters, digits, `-` and `_`, at most 253 bytes.
func isValidHostName(_ host: Substring) -> Bool {
    guard !host.isEmpty, host.utf8.count <= 253 else { return false }
    for label in host.split(separator: ".", omittingEmptySubsequences: false) {
        guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-") else {
            return false
        }
        for byte in label.utf8 {
            let ok =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
            if !ok { return false }
        }
    }
    return true
}

/// A non-negative decimal integer without sign, spaces or leading `+`; `nil` on overflow.
func parseDecimal(_ text: some StringProtocol) -> UInt64? {
    guard !text.isEmpty else { return nil }
    var value: UInt64 = 0
    for byte in text.utf8 {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (plus, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
        if o1 || o2 { return nil }
        value = plus
    }
    return value
}
