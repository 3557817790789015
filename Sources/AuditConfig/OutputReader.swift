import AuditWriters

/// Reads the keys of one output, checking each value and the rules between them, and collecting
/// every problem instead of stopping at the first.
struct OutputReader {
    let name: String
    let entries: [String: Assignment]
    /// True once any of this output's values was refused.
    private(set) var failed = false
    /// Diagnostics without their file name (filled in by ``errors(file:)`` and ``warnings(file:)``).
    private var problems: [ConfigDiagnostic] = []
    private var notes: [ConfigDiagnostic] = []

    init(name: String, entries: [String: Assignment]) {
        self.name = name
        self.entries = entries
    }

    func errors(file: String) -> [ConfigDiagnostic] {
        problems.map { diagnostic in
            var diagnostic = diagnostic
            diagnostic.file = file
            return diagnostic
        }
    }

    func warnings(file: String) -> [ConfigDiagnostic] {
        notes.map { diagnostic in
            var diagnostic = diagnostic
            diagnostic.file = file
            return diagnostic
        }
    }

    mutating func problem(
        _ kind: ConfigDiagnostic.Kind, line: Int?, subkey: String?, value: String?, _ message: String,
        related: [Int] = []
    ) {
        failed = true
        problems.append(
            ConfigDiagnostic(
                kind: kind, file: "", line: line, key: subkey.map { "output.\(name).\($0)" }, value: value,
                message: message, relatedLines: related))
    }

    mutating func warn(_ subkey: String, _ message: String, related: [Int] = []) {
        guard let entry = entries[subkey] else { return }
        notes.append(
            ConfigDiagnostic(
                kind: .warning, file: "", line: entry.line, key: "output.\(name).\(subkey)", value: entry.value,
                message: message, relatedLines: related))
    }

    /// The parsed value of `subkey`, or `nil` when it is absent or refused (refusal is recorded).
    mutating func value<T>(_ subkey: String, _ parse: (String) -> Result<T, ValueProblem>) -> T? {
        guard let entry = entries[subkey] else { return nil }
        switch parse(entry.value) {
        case .success(let value):
            return value
        case .failure(let refusal):
            problem(.invalidValue, line: entry.line, subkey: subkey, value: entry.value, refusal.message)
            return nil
        }
    }

    func line(_ subkey: String) -> Int? { entries[subkey]?.line }

    /// `(key = value at line N)` or `(key is value, the default)`, for conflict messages.
    func origin(_ subkey: String, default defaultValue: String) -> String {
        if let entry = entries[subkey] { return "\(subkey) = \(entry.value) at line \(entry.line)" }
        return "\(subkey) is \(defaultValue), the default"
    }

    /// Records a conflict on `subkey` (which must be present) that depends on `other`.
    mutating func conflict(_ subkey: String, _ message: String, dependsOn other: String? = nil) {
        guard let entry = entries[subkey] else { return }
        let related = other.flatMap { line($0) }.map { [$0] } ?? []
        problem(.conflict, line: entry.line, subkey: subkey, value: entry.value, message, related: related)
    }

    mutating func required(_ subkey: String, at line: Int, _ message: String, related: [Int] = []) {
        problem(.missingValue, line: line, subkey: subkey, value: nil, message, related: related)
    }

    // MARK: file

    mutating func fileOutput(typeLine: Int) -> FileWriter.Configuration? {
        let path = value("path") { text -> Result<String, ValueProblem> in
            guard case .success = Values.absolutePath(text), !text.hasSuffix("/") else {
                return .failure(ValueProblem("expected the absolute path of a file (starting with /, not ending in /)"))
            }
            return .success(text)
        }
        if entries["path"] == nil {
            required("path", at: typeLine, "is required for type = file: the absolute path of the events file")
        }
        var output = FileWriter.Configuration.configurationDefaults(path: path ?? "/")
        if let mode = value("mode", Values.mode) { output.mode = mode }
        output.owner = value("owner") { Values.account($0, what: "user") }
        output.group = value("group") { Values.account($0, what: "group") }
        // `max_size = 0` is the file's way of saying "no size rotation".
        if let size = value("max_size", { Values.size($0, in: (64 << 10)...(1 << 40), allowZero: true) }) {
            output.maxFileSize = size > 0 ? size : nil
        }
        if let count = value("num_logs", { Values.integer($0, in: 2...999) }) { output.numLogs = count }
        let flush = value("flush") { Values.choice($0, FlushChoice.allCases.map { ($0.rawValue, $0) }) } ?? .interval
        let interval = value("flush_interval") { Values.duration($0, in: .milliseconds(1) ... .seconds(3600)) }
        switch flush {
        case .none: output.flush = .none
        case .every: output.flush = .everyWrite
        case .interval: if let interval { output.flush = .interval(interval) }
        }
        if flush != .interval {
            warn(
                "flush_interval", "has no effect: flush = \(flush.rawValue) (line \(line("flush") ?? 0))",
                related: line("flush").map { [$0] } ?? [])
        }
        if output.maxFileSize == nil {
            let origin = origin("max_size", default: "0")
            warn("num_logs", "has no effect while max_size is 0 (\(origin)): files rotate only on SIGUSR1")
        }
        return path == nil ? nil : output
    }

    // MARK: syslog

    mutating func syslogOutput(typeLine: Int) -> SyslogWriter.Configuration? {
        var output = SyslogWriter.Configuration()
        let target = value("target") {
            Values.choice($0, [("local", "local"), ("udp", "udp"), ("tcp", "tcp"), ("tls", "tls")])
        }
        let targetName = target ?? (entries["target"] == nil ? "local" : "?")
        let targetOrigin = origin("target", default: "local")

        let framing = value("framing") {
            Values.choice($0, SyslogWriter.Configuration.Framing.allCases.map { ($0.rawValue, $0) })
        }
        if targetName == "tls" {
            conflict(
                "framing", "applies only to target = tcp: target = tls always uses octet-counting (RFC 5425)",
                dependsOn: "target")
        } else if targetName != "tcp", targetName != "?" {
            conflict("framing", "applies only to target = tcp (\(targetOrigin))", dependsOn: "target")
        }
        let tls = tlsSettings(selected: targetName == "tls", selector: "target", selectorOrigin: targetOrigin)
        switch targetName {
        case "local":
            output.target = .local(path: value("address", Values.socketPath) ?? "/dev/log")
        case "udp", "tcp":
            let address = value("address", Values.networkAddress)
            if entries["address"] == nil {
                required(
                    "address", at: line("target") ?? typeLine,
                    "is required for target = \(targetName): host:port of the syslog receiver",
                    related: [line("target") ?? typeLine])
            }
            if let address {
                output.target =
                    targetName == "udp"
                    ? .udp(host: address.host, port: address.port)
                    : .tcp(host: address.host, port: address.port, framing: framing ?? .octetCounting)
            }
        case "tls":
            let address = value("address") { Values.networkAddress($0, defaultPort: TLSKeys.syslogPort) }
            if entries["address"] == nil {
                required(
                    "address", at: line("target") ?? typeLine,
                    "is required for target = tls: host or host:port of the syslog TLS receiver (port 6514 "
                        + "when omitted)",
                    related: [line("target") ?? typeLine])
            }
            if let address, let tls {
                output.target = .tls(host: address.host, port: address.port, tls: tls)
            }
        default:
            break
        }

        syslogHeader(
            structuredDataDefault: false, format: &output.format, facility: &output.facility,
            severity: &output.severity, tag: &output.tag, hostname: &output.hostname)

        if let oversize = value(
            "oversize",
            { Values.choice($0, SyslogWriter.Configuration.OversizePolicy.allCases.map { ($0.rawValue, $0) }) })
        {
            output.oversize = oversize
            if oversize == .tcp, targetName != "udp", targetName != "?" {
                conflict(
                    "oversize", "oversize = tcp applies only to target = udp (\(targetOrigin))", dependsOn: "target")
            }
        }
        if let maxMessage = value("max_message", { Values.integer($0, in: 480...1_048_576) }) {
            output.maxMessage = maxMessage
            if targetName == "udp", maxMessage > 65507 {
                conflict(
                    "max_message", "is larger than a UDP datagram can carry (65507 bytes) with \(targetOrigin)",
                    dependsOn: "target")
            }
        }
        reconnect(&output.reconnectMinimum, &output.reconnectMaximum)
        return failed ? nil : output
    }

    // MARK: gelf

    mutating func gelfOutput(typeLine: Int) -> GELFWriter.Configuration? {
        // The writer's defaults; host and port are filled in once the address is known.
        var output = GELFWriter.Configuration(host: "", port: 0)
        let transport = value("transport") { Values.choice($0, [("udp", "udp"), ("tcp", "tcp"), ("tls", "tls")]) }
        let transportName = transport ?? (entries["transport"] == nil ? "udp" : "?")
        let tls = tlsSettings(
            selected: transportName == "tls", selector: "transport",
            selectorOrigin: origin("transport", default: "udp"))
        let address = value("address", Values.networkAddress)
        if entries["address"] == nil {
            required("address", at: typeLine, "is required for type = gelf: host:port of the Graylog GELF input")
        }
        let compression = value("compression") {
            Values.choice($0, GELFWriter.Configuration.Compression.allCases.map { ($0.rawValue, $0) })
        }
        let chunkSize = value("chunk_size") { Values.integer($0, in: 512...65507) }
        if transportName == "tcp" || transportName == "tls" {
            let why = "(\(origin("transport", default: "udp")); GELF over TCP is neither chunked nor compressed)"
            conflict("compression", "applies only to transport = udp " + why, dependsOn: "transport")
            conflict("chunk_size", "applies only to transport = udp " + why, dependsOn: "transport")
        }
        output.hostname = value("hostname", Values.headerHostname)
        reconnect(&output.reconnectMinimum, &output.reconnectMaximum)
        guard let address, !failed else { return nil }
        output.host = address.host
        output.port = address.port
        if transportName == "tcp" {
            output.transport = .tcp
        } else if transportName == "tls" {
            guard let tls else { return nil }
            output.transport = .tls(tls)
        } else if case .udp(let defaultCompression, let defaultChunkSize) = output.transport {
            output.transport = .udp(
                compression: compression ?? defaultCompression, chunkSize: chunkSize ?? defaultChunkSize)
        }
        return output
    }

    /// The syslog header keys of the syslog and RELP outputs: `syslog_format`, `structured_data`
    /// (applies to RFC 5424 only), `facility`, `severity`, `tag` (at most 32 characters in RFC
    /// 3164) and `hostname`, over the writer's defaults.
    private mutating func syslogHeader(
        structuredDataDefault: Bool, format: inout SyslogWriter.Configuration.Format, facility: inout UInt8,
        severity: inout UInt8, tag: inout String, hostname: inout String?
    ) {
        let name = value("syslog_format") { Values.choice($0, [("rfc5424", "rfc5424"), ("rfc3164", "rfc3164")]) }
        let structuredData = value("structured_data", Values.bool) ?? structuredDataDefault
        if name == "rfc3164" {
            format = .rfc3164
            conflict(
                "structured_data",
                "applies only to syslog_format = rfc5424 (\(origin("syslog_format", default: "rfc5424")))",
                dependsOn: "syslog_format")
        } else {
            format = .rfc5424(structuredData: structuredData)
        }
        if let value = value("facility", Values.facility) { facility = value }
        if let value = value("severity", Values.severity) { severity = value }
        if let value = value("tag", Values.tag) {
            tag = value
            if name == "rfc3164", value.utf8.count > 32 {
                conflict(
                    "tag",
                    "is \(value.utf8.count) characters; RFC 3164 allows at most 32 "
                        + "(\(origin("syslog_format", default: "rfc5424")))",
                    dependsOn: "syslog_format")
            }
        }
        hostname = value("hostname", Values.headerHostname)
    }

    // MARK: relp

    mutating func relpOutput(typeLine: Int) -> RELPWriter.Configuration? {
        // The writer's defaults; host and port are filled in once the address is known.
        var output = RELPWriter.Configuration(host: "", port: 0)
        // TLS unless told otherwise: RELP is how a host sends its trail to a central collector,
        // across a network; plain TCP (`target = tcp`) is for a relay on this host.
        let target = value("target") { Values.choice($0, [("tls", "tls"), ("tcp", "tcp")]) }
        let targetName = target ?? (entries["target"] == nil ? "tls" : "?")
        let tls = tlsSettings(
            selected: targetName == "tls", selector: "target", selectorOrigin: origin("target", default: "tls"))
        let address = value("address", Values.networkAddress)
        if entries["address"] == nil {
            required(
                "address", at: typeLine,
                "is required for type = relp: host:port of rsyslog's imrelp input (RELP has no standard port; "
                    + "20514 is customary)")
        }
        if let window = value("relp_window", { Values.integer($0, in: RELPWriter.windowRange) }) {
            output.window = window
        }
        if let timeout = value("ack_timeout", { Values.duration($0, in: .milliseconds(100) ... .seconds(3600)) }) {
            output.ackTimeout = timeout
        }
        // Structured data is on by default here: its seq= is how a resent event is recognised.
        syslogHeader(
            structuredDataDefault: true, format: &output.format, facility: &output.facility,
            severity: &output.severity, tag: &output.tag, hostname: &output.hostname)
        let policies = SyslogWriter.Configuration.OversizePolicy.allCases.filter { $0 != .tcp }
        if let oversize = value("oversize", { Values.choice($0, policies.map { ($0.rawValue, $0) }) }) {
            output.oversize = oversize
        }
        if let maxMessage = value("max_message", { Values.integer($0, in: 480...1_048_576) }) {
            output.maxMessage = maxMessage
        }
        reconnect(&output.reconnectMinimum, &output.reconnectMaximum)
        guard let address, !failed, targetName != "?", targetName == "tcp" || tls != nil else { return nil }
        output.host = address.host
        output.port = address.port
        output.tls = tls
        return output
    }

    // MARK: spool

    /// `spool_dir`, `spool_max_size` and `spool_sync` of a network output; nil without `spool_dir`
    /// (then the other two are conflicts: they would silently do nothing).
    mutating func spool() -> SpoolConfiguration? {
        let directory = value("spool_dir") { text -> Result<String, ValueProblem> in
            guard case .success = Values.absolutePath(text), normalizedPath(text) != "/" else {
                return .failure(ValueProblem("expected the absolute path of a directory of this output's own"))
            }
            return .success(text)
        }
        let maxSize = value("spool_max_size") { Values.size($0, in: (1 << 20)...(1 << 40), allowZero: false) }
        let sync = value("spool_sync") {
            Values.choice($0, SpoolConfiguration.SyncPolicy.allCases.map { ($0.rawValue, $0) })
        }
        guard entries["spool_dir"] != nil else {
            for key in ["spool_max_size", "spool_sync"] {
                conflict(key, "applies only with spool_dir (the output has no spool)")
            }
            return nil
        }
        guard let directory else { return nil }
        var spool = SpoolConfiguration(directory: directory)
        if let maxSize { spool.maxSize = maxSize }
        if let sync { spool.sync = sync }
        return spool
    }

    /// `reconnect_min` and `reconnect_max` over the writer's defaults, checked against each other.
    private mutating func reconnect(_ minimum: inout Duration, _ maximum: inout Duration) {
        let range = Duration.milliseconds(10)...Duration.seconds(3600)
        if let value = value("reconnect_min", { Values.duration($0, in: range) }) { minimum = value }
        if let value = value("reconnect_max", { Values.duration($0, in: range) }) { maximum = value }
        if minimum > maximum {
            let subject = entries["reconnect_min"] != nil ? "reconnect_min" : "reconnect_max"
            let other = subject == "reconnect_min" ? "reconnect_max" : "reconnect_min"
            func shown(_ key: String, _ value: Duration) -> String {
                renderDuration(value) + (entries[key] == nil ? ", the default" : "")
            }
            conflict(
                subject,
                "reconnect_min (\(shown("reconnect_min", minimum))) must not exceed reconnect_max "
                    + "(\(shown("reconnect_max", maximum)))",
                dependsOn: other)
        }
    }
}

/// The `flush` values, before `flush_interval` is attached to `interval`.
private enum FlushChoice: String, CaseIterable {
    case none, interval, every
}
