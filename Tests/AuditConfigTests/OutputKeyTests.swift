import AuditConfig
import AuditEncoding
import AuditFilters
import AuditTLS
import AuditWriters
import Testing

/// Minimal valid outputs that the examples add one line to.
enum Base {
    static let file = "output.f.type = file\noutput.f.path = /var/log/a.json\n"
    static let syslog = "output.s.type = syslog\n"
    static let syslogUDP = "output.s.type = syslog\noutput.s.target = udp\noutput.s.address = 10.0.0.1:514\n"
    static let syslogTCP = "output.s.type = syslog\noutput.s.target = tcp\noutput.s.address = logs:6514\n"
    static let gelf = "output.g.type = gelf\noutput.g.address = graylog:12201\n"
    static let gelfTCP = "output.g.type = gelf\noutput.g.address = graylog:12201\noutput.g.transport = tcp\n"
    static let relp = "output.r.type = relp\noutput.r.target = tcp\noutput.r.address = central:20514\n"
    static let syslogTLS =
        "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = logs\noutput.s.tls_ca = /etc/ca.pem\n"

    static let fileOutput = OutputConfiguration(name: "f", kind: .file(.configurationDefaults(path: "/var/log/a.json")))
    static let syslogOutput = OutputConfiguration(name: "s", kind: .syslog(SyslogWriter.Configuration()))
    static let udpOutput = OutputConfiguration(
        name: "s", kind: .syslog(SyslogWriter.Configuration(target: .udp(host: "10.0.0.1", port: 514))))
    static let tcpOutput = OutputConfiguration(
        name: "s",
        kind: .syslog(SyslogWriter.Configuration(target: .tcp(host: "logs", port: 6514, framing: .octetCounting))))
    static let gelfOutput = OutputConfiguration(
        name: "g", kind: .gelf(GELFWriter.Configuration(host: "graylog", port: 12201)))
    static let gelfTCPOutput = OutputConfiguration(
        name: "g", kind: .gelf(GELFWriter.Configuration(host: "graylog", port: 12201, transport: .tcp)))
    static let relpOutput = OutputConfiguration(
        name: "r", kind: .relp(RELPWriter.Configuration(host: "central", port: 20514)))
    static let tlsOutput = OutputConfiguration(
        name: "s",
        kind: .syslog(
            SyslogWriter.Configuration(
                target: .tls(host: "logs", port: 6514, tls: TLSConfiguration(caFile: "/etc/ca.pem")))))
}

/// One accepted output line added to a base output, and the output it must produce.
struct AcceptedOutputLine: Sendable, CustomTestStringConvertible {
    let text: String
    let expected: OutputConfiguration
    let testDescription: String

    init(_ base: String, _ line: String, _ start: OutputConfiguration, _ change: (inout OutputConfiguration) -> Void) {
        self.text = base + line + "\n"
        var output = start
        change(&output)
        self.expected = output
        self.testDescription = line
    }

    static func file(_ line: String, _ change: @escaping (inout FileWriter.Configuration) -> Void) -> Self {
        Self(Base.file, line, Base.fileOutput) { output in
            if case .file(var file) = output.kind {
                change(&file)
                output.kind = .file(file)
            }
        }
    }

    static func syslog(
        _ line: String, base: String = Base.syslog, start: OutputConfiguration = Base.syslogOutput,
        _ change: @escaping (inout SyslogWriter.Configuration) -> Void
    ) -> Self {
        Self(base, line, start) { output in
            if case .syslog(var syslog) = output.kind {
                change(&syslog)
                output.kind = .syslog(syslog)
            }
        }
    }

    static func gelf(_ line: String, _ change: @escaping (inout GELFWriter.Configuration) -> Void) -> Self {
        Self(Base.gelf, line, Base.gelfOutput) { output in
            if case .gelf(var gelf) = output.kind {
                change(&gelf)
                output.kind = .gelf(gelf)
            }
        }
    }
}

extension AcceptedOutputLine {
    static func relp(_ line: String, _ change: @escaping (inout RELPWriter.Configuration) -> Void) -> Self {
        Self(Base.relp, line, Base.relpOutput) { output in
            if case .relp(var relp) = output.kind {
                change(&relp)
                output.kind = .relp(relp)
            }
        }
    }
}

/// One refused output text, the line at fault and a fragment of the message.
struct RefusedOutputLine: Sendable, CustomTestStringConvertible {
    let text: String
    let line: Int
    let kind: ConfigDiagnostic.Kind
    let expected: String
    let testDescription: String

    init(_ base: String, _ line: String, _ expected: String, kind: ConfigDiagnostic.Kind = .invalidValue) {
        self.text = base + line + "\n"
        self.line = base.split(separator: "\n").count + 1
        self.kind = kind
        self.expected = expected
        self.testDescription = line
    }
}

@Suite struct OutputKeyTests {
    static let accepted: [AcceptedOutputLine] = [
        // common keys
        AcceptedOutputLine(Base.file, "output.f.enabled = yes", Base.fileOutput) { $0.enabled = true },
        AcceptedOutputLine(Base.file, "output.f.queue_size = 1", Base.fileOutput) { $0.queueSize = 1 },
        AcceptedOutputLine(Base.file, "output.f.queue_size = 1048576", Base.fileOutput) { $0.queueSize = 1_048_576 },
        AcceptedOutputLine("", "output.c.type = stdout", OutputConfiguration(name: "c", kind: .stdout)) { _ in },
        AcceptedOutputLine(Base.file, "output.f.take = all", Base.fileOutput) { $0.selection = .all },
        AcceptedOutputLine(Base.file + "output.f.format = ecs\n", "output.f.include_raw = yes", Base.fileOutput) {
            $0.format = .ecs
            $0.includeRaw = true
        },
        AcceptedOutputLine(
            Base.file + "filter.x.action = drop\nfilter.x.key = k\nfilter.y.action = keep\nfilter.y.all = yes\n",
            "output.f.filters = \"x, y\"", Base.fileOutput
        ) { $0.filters = ["x", "y"] },
        // file
        .file("output.f.mode = 0640") { $0.mode = 0o640 },
        .file("output.f.mode = 600") { $0.mode = 0o600 },
        .file("output.f.mode = 0") { $0.mode = 0 },
        .file("output.f.owner = root") { $0.owner = .name("root") },
        .file("output.f.owner = 0") { $0.owner = .id(0) },
        .file("output.f.owner = audit.user-1") { $0.owner = .name("audit.user-1") },
        .file("output.f.group = adm") { $0.group = .name("adm") },
        .file("output.f.group = 4") { $0.group = .id(4) },
        .file("output.f.group = machine$") { $0.group = .name("machine$") },
        .file("output.f.max_size = 0") { $0.maxFileSize = nil },
        .file("output.f.max_size = 8M") { $0.maxFileSize = 8 << 20 },
        .file("output.f.max_size = 1048576") { $0.maxFileSize = 1 << 20 },
        .file("output.f.num_logs = 2") { $0.numLogs = 2 },
        .file("output.f.num_logs = 999") { $0.numLogs = 999 },
        .file("output.f.flush = none") { $0.flush = .none },
        .file("output.f.flush = every") { $0.flush = .everyWrite },
        .file("output.f.flush = INTERVAL") { $0.flush = .interval(.seconds(1)) },
        .file("output.f.flush_interval = 250ms") { $0.flush = .interval(.milliseconds(250)) },
        // syslog
        .syslog("output.s.target = local") { _ in },
        .syslog("output.s.address = /run/systemd/journal/syslog") {
            $0.target = .local(path: "/run/systemd/journal/syslog")
        },
        .syslog("output.s.syslog_format = rfc3164") { $0.format = .rfc3164 },
        // The key's name before `format` chose the event layout: still read, with a warning.
        .syslog("output.s.format = RFC3164") { $0.format = .rfc3164 },
        .syslog("output.s.structured_data = yes") { $0.format = .rfc5424(structuredData: true) },
        .syslog("output.s.facility = local0") { $0.facility = 16 },
        .syslog("output.s.facility = AUTHPRIV") { $0.facility = 10 },
        .syslog("output.s.facility = security") { $0.facility = 4 },
        .syslog("output.s.facility = 13") { $0.facility = 13 },
        .syslog("output.s.severity = warning") { $0.severity = 4 },
        .syslog("output.s.severity = warn") { $0.severity = 4 },
        .syslog("output.s.severity = 0") { $0.severity = 0 },
        .syslog("output.s.tag = audit#1") { $0.tag = "audit#1" },
        .syslog("output.s.tag = " + String(repeating: "t", count: 48)) { $0.tag = String(repeating: "t", count: 48) },
        .syslog("output.s.hostname = web-01.example.com") { $0.hostname = "web-01.example.com" },
        .syslog("output.s.oversize = truncate") { $0.oversize = .truncate },
        .syslog("output.s.oversize = drop") { $0.oversize = .drop },
        .syslog("output.s.max_message = 480") { $0.maxMessage = 480 },
        .syslog("output.s.max_message = 1048576") { $0.maxMessage = 1_048_576 },
        .syslog("output.s.reconnect_min = 1s") { $0.reconnectMinimum = .seconds(1) },
        .syslog("output.s.reconnect_max = 1m") { $0.reconnectMaximum = .seconds(60) },
        .syslog("output.s.oversize = tcp", base: Base.syslogUDP, start: Base.udpOutput) { $0.oversize = .tcp },
        .syslog("output.s.max_message = 65507", base: Base.syslogUDP, start: Base.udpOutput) { $0.maxMessage = 65507 },
        .syslog("output.s.framing = newline", base: Base.syslogTCP, start: Base.tcpOutput) {
            $0.target = .tcp(host: "logs", port: 6514, framing: .newline)
        },
        .syslog("output.s.framing = octet-counting", base: Base.syslogTCP, start: Base.tcpOutput) { _ in },
        .syslog(
            "output.s.tls_cert = /etc/c.pem\noutput.s.tls_key = /etc/c.key", base: Base.syslogTLS, start: Base.tlsOutput
        ) {
            $0.target = .tls(
                host: "logs", port: 6514,
                tls: TLSConfiguration(caFile: "/etc/ca.pem", certificateFile: "/etc/c.pem", keyFile: "/etc/c.key"))
        },
        .syslog(
            "output.s.tls_key = /etc/c.key\noutput.s.tls_cert = /etc/c.pem", base: Base.syslogTLS, start: Base.tlsOutput
        ) {
            $0.target = .tls(
                host: "logs", port: 6514,
                tls: TLSConfiguration(caFile: "/etc/ca.pem", certificateFile: "/etc/c.pem", keyFile: "/etc/c.key"))
        },
        .syslog("output.s.tls_server_name = logs.example.com", base: Base.syslogTLS, start: Base.tlsOutput) {
            $0.target = .tls(
                host: "logs", port: 6514, tls: TLSConfiguration(caFile: "/etc/ca.pem", serverName: "logs.example.com"))
        },
        .syslog(
            "output.s.tls_ca = /etc/other.pem",
            base: "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = [::1]:7000\n",
            start: Base.tlsOutput
        ) {
            $0.target = .tls(host: "::1", port: 7000, tls: TLSConfiguration(caFile: "/etc/other.pem"))
        },
        // gelf
        .gelf("output.g.transport = udp") { _ in },
        .gelf("output.g.compression = gzip") { $0.transport = .udp(compression: .gzip, chunkSize: 1420) },
        .gelf("output.g.compression = zlib") { $0.transport = .udp(compression: .zlib, chunkSize: 1420) },
        .gelf("output.g.chunk_size = 8154") { $0.transport = .udp(compression: .none, chunkSize: 8154) },
        .gelf("output.g.chunk_size = 512") { $0.transport = .udp(compression: .none, chunkSize: 512) },
        .gelf("output.g.chunk_size = 65507") { $0.transport = .udp(compression: .none, chunkSize: 65507) },
        .gelf("output.g.hostname = h1") { $0.hostname = "h1" },
        .gelf("output.g.reconnect_min = 10ms") { $0.reconnectMinimum = .milliseconds(10) },
        .gelf("output.g.reconnect_max = 1h") { $0.reconnectMaximum = .seconds(3600) },
        AcceptedOutputLine(Base.gelf, "output.g.address = [2001:db8::1]:12201", Base.gelfOutput) {
            $0.kind = .gelf(GELFWriter.Configuration(host: "2001:db8::1", port: 12201))
        },
        // relp
        .relp("output.r.relp_window = 1") { $0.window = 1 },
        AcceptedOutputLine(
            "output.r.type = relp\noutput.r.address = central:20514\n", "output.r.tls_ca = /etc/ca.pem",
            Base.relpOutput
        ) { output in
            output.kind = .relp(
                RELPWriter.Configuration(host: "central", port: 20514, tls: TLSConfiguration(caFile: "/etc/ca.pem")))
        },
        .relp("output.r.relp_window = 4096") { $0.window = 4096 },
        .relp("output.r.ack_timeout = 30s") { $0.ackTimeout = .seconds(30) },
        .relp("output.r.structured_data = no") { $0.format = .rfc5424(structuredData: false) },
        .relp("output.r.syslog_format = rfc3164") { $0.format = .rfc3164 },
        .relp("output.r.oversize = truncate") { $0.oversize = .truncate },
        .relp("output.r.max_message = 65536") { $0.maxMessage = 65536 },
        .relp("output.r.facility = auth") { $0.facility = 4 },
        .relp("output.r.tag = audit") { $0.tag = "audit" },
        .relp("output.r.hostname = web-1") { $0.hostname = "web-1" },
        .relp("output.r.reconnect_max = 30s") { $0.reconnectMaximum = .seconds(30) },
        .gelf("output.g.transport = tls\noutput.g.tls_ca = /etc/ca.pem") {
            $0.transport = .tls(TLSConfiguration(caFile: "/etc/ca.pem"))
        },
        AcceptedOutputLine(Base.syslogTCP, "output.s.spool_dir = /var/spool/swift-audit/s", Base.tcpOutput) {
            $0.spool = SpoolConfiguration(directory: "/var/spool/swift-audit/s")
        },
        AcceptedOutputLine(Base.gelf + "output.g.spool_dir = /sp\n", "output.g.spool_max_size = 1G", Base.gelfOutput) {
            $0.spool = SpoolConfiguration(directory: "/sp", maxSize: 1 << 30)
        },
        AcceptedOutputLine(Base.syslog + "output.s.spool_dir = /sp\n", "output.s.spool_sync = never", Base.syslogOutput)
        {
            $0.spool = SpoolConfiguration(directory: "/sp", sync: .never)
        },
        AcceptedOutputLine(Base.gelfTCP, "output.g.hostname = h", Base.gelfTCPOutput) {
            $0.kind = .gelf(
                GELFWriter.Configuration(host: "graylog", port: 12201, transport: .tcp, hostname: "h"))
        },
    ]

    @Test(arguments: accepted)
    func acceptsValidOutputValue(_ example: AcceptedOutputLine) {
        // The address line of the IPv6 example replaces the base one; drop the duplicate first.
        var text = example.text
        if example.testDescription.hasPrefix("output.g.address") {
            text = text.replacing("output.g.address = graylog:12201\n", with: "", maxReplacements: 1)
        }
        let parsed = parseOK(text)
        #expect(parsed?.configuration.outputs == [example.expected])
    }

    static let refused: [RefusedOutputLine] = [
        RefusedOutputLine(Base.file, "output.f.enabled = 0", "expected yes or no"),
        RefusedOutputLine(Base.file, "output.f.queue_size = 0", "expected an integer 1…1048576"),
        RefusedOutputLine(Base.file, "output.f.take = others", "expected all, or filtered-by:NAME"),
        RefusedOutputLine(Base.file, "output.f.include_raw = yes", "applies only to format = ecs", kind: .conflict),
        RefusedOutputLine(Base.file + "output.f.format = ecs\n", "output.f.include_raw = 2", "expected yes or no"),
        RefusedOutputLine(Base.file, "output.f.take = filtered-by:f", "an output cannot take from itself"),
        RefusedOutputLine(Base.file, "output.f.filters = x,x", "is listed twice"),
        RefusedOutputLine(Base.file, "output.f.filters = Noise", "expected rule names"),
        RefusedOutputLine(Base.file, "output.f.queue_size = 2000000", "expected an integer 1…1048576"),
        RefusedOutputLine(Base.file, "output.f.mode = 0666", "must not be writable by others"),
        RefusedOutputLine(Base.file, "output.f.mode = 4600", "no setuid"),
        RefusedOutputLine(Base.file, "output.f.mode = 0800", "expected an octal mode"),
        RefusedOutputLine(Base.file, "output.f.mode = rw-------", "expected an octal mode"),
        RefusedOutputLine(Base.file, "output.f.owner = -root", "expected a user name"),
        RefusedOutputLine(Base.file, "output.f.owner = 4294967295", "0…4294967294"),
        RefusedOutputLine(Base.file, "output.f.group = a:b", "expected a group name"),
        RefusedOutputLine(Base.file, "output.f.max_size = 1K", "0 or 64K…1024G"),
        RefusedOutputLine(Base.file, "output.f.max_size = big", "expected a size"),
        RefusedOutputLine(Base.file, "output.f.num_logs = 1", "expected an integer 2…999"),
        RefusedOutputLine(Base.file, "output.f.num_logs = 1000", "expected an integer 2…999"),
        RefusedOutputLine(Base.file, "output.f.flush = sync", "expected none, interval or every"),
        RefusedOutputLine(Base.file, "output.f.flush_interval = 0", "1ms…1h"),
        RefusedOutputLine(Base.syslog, "output.s.target = unix", "expected local, udp, tcp or tls"),
        RefusedOutputLine(Base.syslog, "output.s.address = dev/log", "absolute path of a unix socket"),
        RefusedOutputLine(Base.syslog, "output.s.address = /" + String(repeating: "x", count: 120), "at most 107"),
        RefusedOutputLine(
            "output.s.type = syslog\noutput.s.target = udp\n", "output.s.address = 10.0.0.1", "expected host:port"),
        RefusedOutputLine(
            "output.s.type = syslog\noutput.s.target = tcp\n", "output.s.address = host:0", "port 1…65535"),
        RefusedOutputLine("output.g.type = gelf\n", "output.g.address = [::1:12201", "expected host:port"),
        RefusedOutputLine("output.g.type = gelf\n", "output.g.address = bad_host!:1", "expected host:port"),
        RefusedOutputLine("", "output.x.type = kafka", "expected file, stdout, syslog, gelf or relp"),
        RefusedOutputLine("output.f.type = file\n", "output.f.path = var/log/a.json", "absolute path of a file"),
        RefusedOutputLine("output.f.type = file\n", "output.f.path = /var/log/", "not ending in /"),
        RefusedOutputLine(Base.syslog, "output.s.syslog_format = json", "expected rfc5424 or rfc3164"),
        RefusedOutputLine(Base.syslog, "output.s.format = json", "expected raw, enriched or ecs"),
        RefusedOutputLine(Base.syslog, "output.s.structured_data = true", "expected yes or no"),
        RefusedOutputLine(Base.syslog, "output.s.facility = local8", "expected a facility"),
        RefusedOutputLine(Base.syslog, "output.s.facility = 24", "expected a facility"),
        RefusedOutputLine(Base.syslog, "output.s.severity = loud", "expected emerg, alert"),
        RefusedOutputLine(Base.syslog, "output.s.severity = 8", "expected emerg, alert"),
        RefusedOutputLine(Base.syslog, "output.s.tag = " + String(repeating: "t", count: 49), "1…48 printable"),
        RefusedOutputLine(Base.syslog, "output.s.tag = \"a b\"", "1…48 printable"),
        RefusedOutputLine(Base.syslog, "output.s.hostname = \"a b\"", "printable ASCII"),
        RefusedOutputLine(Base.syslog, "output.s.hostname = héllo", "printable ASCII"),
        RefusedOutputLine(Base.syslog, "output.s.oversize = cut", "expected split, truncate, drop or tcp"),
        RefusedOutputLine(Base.syslog, "output.s.max_message = 479", "expected an integer 480…1048576"),
        RefusedOutputLine(Base.syslog, "output.s.reconnect_min = 5ms", "10ms…1h"),
        RefusedOutputLine(Base.syslog, "output.s.reconnect_max = 2h", "10ms…1h"),
        RefusedOutputLine(Base.syslogTCP, "output.s.framing = lf", "expected octet-counting or newline"),
        RefusedOutputLine(
            "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = logs\n", "output.s.tls_ca = ca.pem",
            "expected an absolute path"),
        RefusedOutputLine(Base.syslogTLS, "output.s.tls_server_name = \"a b\"", "DNS name or IP address"),
        RefusedOutputLine(
            Base.syslogTLS, "output.s.framing = newline", "target = tls always uses octet-counting", kind: .conflict),
        RefusedOutputLine(
            Base.syslogTCP, "output.s.tls_ca = /etc/ca.pem", "applies only to target = tls", kind: .conflict),
        RefusedOutputLine(
            Base.syslogUDP, "output.s.tls_cert = /etc/c.pem", "applies only to target = tls", kind: .conflict),
        RefusedOutputLine(
            Base.gelfTCP, "output.g.tls_key = /etc/c.key", "applies only to transport = tls", kind: .conflict),
        RefusedOutputLine(Base.gelf, "output.g.transport = http", "expected udp, tcp or tls"),
        RefusedOutputLine(Base.gelf, "output.g.compression = lz4", "expected none, gzip or zlib"),
        RefusedOutputLine(Base.gelf, "output.g.chunk_size = 511", "expected an integer 512…65507"),
        RefusedOutputLine(Base.gelf, "output.g.chunk_size = 65508", "expected an integer 512…65507"),
        RefusedOutputLine(Base.gelf, "output.g.hostname = \"\"", "printable ASCII"),
        RefusedOutputLine(Base.gelf, "output.g.reconnect_min = 0", "10ms…1h"),
        RefusedOutputLine(Base.relp, "output.r.relp_window = 0", "expected an integer 1…4096"),
        RefusedOutputLine(Base.relp, "output.r.relp_window = 4097", "expected an integer 1…4096"),
        RefusedOutputLine(Base.relp, "output.r.ack_timeout = 10ms", "100ms…1h"),
        RefusedOutputLine(Base.relp, "output.r.oversize = tcp", "expected split, truncate or drop"),
        RefusedOutputLine(
            Base.relp, "output.r.framing = newline", "applies only to outputs of type = syslog", kind: .conflict),
        RefusedOutputLine(
            "output.r.type = relp\noutput.r.target = tcp\n", "output.r.address = central", "expected host:port"),
        RefusedOutputLine(Base.relp, "output.r.tls_ca = /etc/ca.pem", "applies only to target = tls", kind: .conflict),
        RefusedOutputLine(
            "output.r.type = relp\noutput.r.address = central:20514\n", "output.r.target = udp", "expected tls or tcp"),
        RefusedOutputLine(Base.syslogTCP, "output.s.spool_dir = var/spool", "absolute path"),
        RefusedOutputLine(Base.gelf + "output.g.spool_dir = /sp\n", "output.g.spool_max_size = 2000G", "1M…1024G"),
        RefusedOutputLine(
            Base.gelf + "output.g.spool_dir = /sp\n", "output.g.spool_sync = yes", "never, interval or always"),
    ]

    @Test(arguments: refused)
    func refusesInvalidOutputValue(_ example: RefusedOutputLine) {
        let diagnostics = parseFailing(example.text)
        #expect(diagnostics.count == 1, "\(diagnostics)")
        guard let diagnostic = diagnostics.first else { return }
        #expect(diagnostic.kind == example.kind)
        #expect(diagnostic.message.contains(example.expected), "\(diagnostic)")
        if !example.testDescription.isEmpty {
            #expect(diagnostic.line == example.line)
            #expect(diagnostic.key == String(example.testDescription.prefix { $0 != " " }))
        }
    }

    @Test func aRELPOutputUsesTLSUnlessToldTCPAndThenNeedsTheCAFile() {
        let diagnostics = parseFailing("output.r.type = relp\noutput.r.address = central:20514\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.key == "output.r.tls_ca", "\(diagnostics)")
        #expect(diagnostics.first?.message.contains("target = tls") == true, "\(diagnostics)")
    }

    @Test func aRELPOutputNeedsAnAddressWithAPort() {
        let diagnostics = parseFailing("output.r.type = relp\noutput.r.target = tcp\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.key == "output.r.address")
        #expect(diagnostics.first?.message.contains("20514") == true, "\(diagnostics)")
    }

    @Test func aRELPOutputSendsStructuredDataByDefault() {
        let parsed = parseOK(Base.relp)
        guard case .relp(let relp) = parsed?.configuration.outputs.first?.kind else {
            Issue.record("not a relp output")
            return
        }
        #expect(relp.format == .rfc5424(structuredData: true))
        #expect(relp.window == 128)
        #expect(relp.ackTimeout == .seconds(10))
    }

    @Test func everyOutputKeyHasAnAcceptedAndARefusedExample() {
        func subkey(_ line: String) -> String? {
            let key = line.prefix { $0 != " " }
            let parts = key.split(separator: ".")
            return parts.count == 3 ? String(parts[2]) : nil
        }
        // type, path and address are in every base text, so they are accepted whenever a base parses.
        let acceptedKeys = Set(Self.accepted.compactMap { subkey($0.testDescription) }).union(["type", "path"])
        let refusedKeys = Set(Self.refused.compactMap { subkey($0.testDescription) })
        for key in DaemonConfiguration.outputKeys {
            #expect(acceptedKeys.contains(key), "no accepted example for \(key)")
            #expect(refusedKeys.contains(key), "no refused example for \(key)")
        }
    }
}
