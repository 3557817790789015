import AuditConfig
import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditWriters
import Glibc
import Testing

@Suite struct ConfigRenderTests {
    /// A configuration with every key away from its default, and values that need quoting.
    static let everythingChanged: DaemonConfiguration = {
        var configuration = DaemonConfiguration()
        configuration.audit = AuditSettings(
            enabled: .locked, failure: .panic, rateLimit: 500, backlogLimit: 65536, backlogWaitTime: 0,
            socketBufferSize: 1_000_000, takeover: true, confirmPanic: true, confirmLock: true)
        configuration.rules = RuleSettings(
            file: "/etc/audit/audit.rules", directory: "/etc/audit/my rules.d", atExit: .clear)
        configuration.reassembly = Reassembler.Configuration(
            endOfEventTimeout: 1500, maxInFlight: 100, minType: AuditMessageType(1300),
            maxType: AuditMessageType(1399))
        configuration.hostname = .user("rack\"4\"\\east")
        configuration.pipeline = PipelineSettings(
            ringSize: 3 << 20, statusInterval: .milliseconds(250), lossReportInterval: .seconds(90))
        configuration.outputs = [
            OutputConfiguration(
                name: "main", enabled: false, queueSize: 10,
                kind: .file(
                    FileWriter.Configuration(
                        path: "/var/log/swift audit/events#1.json", mode: 0o640, owner: .name("audit"),
                        group: .id(4), maxFileSize: 10 << 20, numLogs: 9, flush: .everyWrite))),
            OutputConfiguration(name: "none-flush", kind: .file(FileWriter.Configuration(path: "/b", flush: .none))),
            OutputConfiguration(
                name: "ival", kind: .file(FileWriter.Configuration(path: "/c", flush: .interval(.milliseconds(20))))),
            OutputConfiguration(name: "console", kind: .stdout),
            OutputConfiguration(
                name: "local",
                kind: .syslog(
                    SyslogWriter.Configuration(
                        target: .local(path: "/run/log"), format: .rfc5424(structuredData: true),
                        facility: 10, severity: 5, tag: "audit#x", hostname: "h1", maxMessage: 2048, oversize: .drop,
                        reconnectMinimum: .seconds(1), reconnectMaximum: .seconds(60)))),
            OutputConfiguration(
                name: "udp",
                kind: .syslog(
                    SyslogWriter.Configuration(
                        target: .udp(host: "10.1.2.3", port: 514), format: .rfc3164, facility: 13, oversize: .tcp))),
            OutputConfiguration(
                name: "tcp",
                kind: .syslog(
                    SyslogWriter.Configuration(target: .tcp(host: "fe80::1", port: 6514, framing: .newline)))),
            OutputConfiguration(
                name: "gelf-udp",
                kind: .gelf(
                    GELFWriter.Configuration(
                        host: "graylog", port: 12201, transport: .udp(compression: .zlib, chunkSize: 8154),
                        hostname: "web"))),
            OutputConfiguration(
                name: "gelf-tcp",
                kind: .gelf(
                    GELFWriter.Configuration(
                        host: "graylog", port: 12201, transport: .tcp, reconnectMinimum: .milliseconds(10),
                        reconnectMaximum: .milliseconds(10)))),
        ]
        return configuration
    }()

    static let examples: [DaemonConfiguration] = [
        DaemonConfiguration.quickStart(file: "/var/log/swift-audit/events.json"),
        DaemonConfiguration.quickStart(stdout: true),
        DaemonConfiguration.quickStart(file: "/tmp/e.json", stdout: true),
        everythingChanged,
    ]

    @Test(arguments: examples.indices)
    func renderedTextParsesBackToAnEqualConfiguration(index: Int) throws {
        let configuration = Self.examples[index]
        let text = configuration.render()
        let parsed = try DaemonConfiguration.parse(text, file: "rendered")
        #expect(parsed.configuration == configuration, "\(text)")
        #expect(parsed.configuration.render() == text)
    }

    @Test func renderWritesEveryTopLevelKey() {
        let text = DaemonConfiguration.quickStart(stdout: true).render()
        let lines = text.split(separator: "\n")
        for key in DaemonConfiguration.topLevelKeys {
            let written = lines.contains { $0.hasPrefix("\(key) = ") || $0.hasPrefix("# \(key) is not set") }
            #expect(written, "\(key) missing from:\n\(text)")
        }
        #expect(text.contains("\nsocket_buffer = 64M\n"))
        #expect(text.contains("\nnap_socket_buffer = 64K\n"))
        #expect(text.contains("\nend_of_event_timeout = 2s\n"))
        #expect(text.contains("\nenabled = 1\n"))
    }

    @Test func renderQuotesOnlyWhatNeedsIt() {
        let text = Self.everythingChanged.render()
        #expect(text.contains("\nhostname = user:rack\"4\"\\east\n"))
        #expect(text.contains("\noutput.main.path = \"/var/log/swift audit/events#1.json\"\n"))
        #expect(text.contains("\noutput.local.tag = audit#x\n"))
        #expect(text.contains("\noutput.tcp.address = [fe80::1]:6514\n"))
        #expect(text.contains("\noutput.main.mode = 0640\n"))
        #expect(text.contains("\nenabled = lock\n"))
    }

    @Test func randomConfigurationsRoundTrip() throws {
        var random = SplitMix(seed: 0x5EED)
        for _ in 0..<300 {
            let configuration = random.configuration()
            let text = configuration.render()
            let parsed = try DaemonConfiguration.parse(text, file: "random")
            #expect(parsed.configuration == configuration, "\(text)")
        }
    }

    @Test func quickStartMakesARelativeFileAbsoluteAgainstTheWorkingDirectory() {
        var buffer = [CChar](repeating: 0, count: 4097)
        guard getcwd(&buffer, buffer.count) != nil else {
            Issue.record("getcwd failed")
            return
        }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let configuration = DaemonConfiguration.quickStart(file: "./events.json")
        let expectedPath = (cwd == "/" ? "" : cwd) + "/events.json"
        #expect(
            configuration.outputs == [
                OutputConfiguration(name: "file", kind: .file(.configurationDefaults(path: expectedPath)))
            ])
        #expect(DaemonConfiguration.quickStart().outputs == [OutputConfiguration(name: "stdout", kind: .stdout)])
        #expect(DaemonConfiguration.quickStart(file: "/a", stdout: true).outputs.map(\.typeName) == ["file", "stdout"])
    }
}

/// A small seeded generator (SplitMix64) so random round trips are reproducible.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func bool() -> Bool { next() & 1 == 1 }

    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }

    mutating func duration(_ range: ClosedRange<Int>) -> Duration { .milliseconds(int(range)) }

    mutating func word() -> String {
        let letters = Array("abcxyz019-_#.\"\\")
        return String((0..<int(1...12)).map { _ in pick(letters) })
    }

    mutating func configuration() -> DaemonConfiguration {
        var c = DaemonConfiguration()
        c.audit = AuditSettings(
            enabled: pick(AuditEnabledState.allCases), failure: pick(AuditFailureMode.allCases),
            rateLimit: UInt32(truncatingIfNeeded: next()), backlogLimit: UInt32(truncatingIfNeeded: next()),
            backlogWaitTime: UInt32(truncatingIfNeeded: next()),
            socketBufferSize: bool() ? 0 : int((64 << 10)...(1 << 30)), takeover: bool())
        // A panic or a lock parses only with its confirmation; without one, the confirmation is free.
        c.audit.confirmPanic = c.audit.failure == .panic || bool()
        c.audit.confirmLock = c.audit.enabled == .locked || bool()
        c.rules = RuleSettings(
            file: bool() ? "/r/" + word() : nil, directory: bool() ? "/d " + word() : nil,
            atExit: pick(RulesAtExit.allCases))
        let low = int(1000...65535)
        c.reassembly = Reassembler.Configuration(
            endOfEventTimeout: UInt64(int(10...600_000)), maxInFlight: int(1...1_048_576),
            minType: AuditMessageType(UInt16(low)), maxType: AuditMessageType(UInt16(int(low...65535))))
        c.hostname = pick([.none, .hostname, .fqdn, .user("n" + word())])
        c.pipeline = PipelineSettings(
            ringSize: int((64 << 10)...(1 << 30)), statusInterval: duration(100...3_600_000),
            lossReportInterval: duration(100...3_600_000))
        // Room for five million-event queues of network outputs (~25G), whatever this machine has.
        c.pipeline.queueMemoryBudget = pick([1 << 40, 32 << 30])
        c.reassembly.maxEventRecords = int(16...1_048_576)
        c.reassembly.maxEventBytes = int(1...16384) << 16
        c.outputs = (0..<int(1...5)).map { index in output(named: "o\(index)", index: index) }
        return c
    }

    mutating func backoff() -> (minimum: Duration, maximum: Duration) {
        let minimum = int(10...3_600_000)
        return (.milliseconds(minimum), .milliseconds(int(minimum...3_600_000)))
    }

    mutating func output(named name: String, index: Int) -> OutputConfiguration {
        let kind: OutputConfiguration.Kind
        switch index == 0 ? 0 : int(0...2) {
        case 0:
            kind = .file(
                FileWriter.Configuration(
                    path: "/var/log/\(index)/" + word(), mode: UInt32(int(0...0o777)) & ~0o002,
                    owner: pick([nil, .id(UInt32(int(0...60000))), .name("u" + String(int(0...9)))]),
                    group: pick([nil, .id(7), .name("adm")]), maxFileSize: bool() ? nil : int((64 << 10)...(1 << 40)),
                    numLogs: int(2...999),
                    flush: pick([.none, .everyWrite, .interval(duration(1...3_600_000))])))
        case 1:
            let host = pick(["h", "10.0.0.1", "::1", "a.b-c.d"])
            let port = UInt16(int(1...65535))
            let target: SyslogWriter.Configuration.Target = pick([
                .local(path: "/dev/" + word()), .udp(host: host, port: port),
                .tcp(host: host, port: port, framing: pick(SyslogWriter.Configuration.Framing.allCases)),
            ])
            let isUDP = if case .udp = target { true } else { false }
            let format: SyslogWriter.Configuration.Format = bool() ? .rfc3164 : .rfc5424(structuredData: bool())
            let oversize: SyslogWriter.Configuration.OversizePolicy =
                isUDP ? pick(SyslogWriter.Configuration.OversizePolicy.allCases) : pick([.split, .truncate, .drop])
            let reconnect = backoff()
            kind = .syslog(
                SyslogWriter.Configuration(
                    target: target, format: format, facility: UInt8(int(0...23)), severity: UInt8(int(0...7)),
                    tag: "t" + String(word().prefix(20)).replacing("\"", with: "q").replacing("\\", with: "b"),
                    hostname: bool() ? nil : "host" + String(int(0...99)),
                    maxMessage: int(480...(isUDP ? 65507 : 1_048_576)), oversize: oversize,
                    reconnectMinimum: reconnect.minimum, reconnectMaximum: reconnect.maximum))
        default:
            let reconnect = backoff()
            let transport: GELFWriter.Configuration.Transport =
                bool()
                ? .tcp
                : .udp(compression: pick(GELFWriter.Configuration.Compression.allCases), chunkSize: int(512...65507))
            kind = .gelf(
                GELFWriter.Configuration(
                    host: "g\(index)", port: 12201, transport: transport, hostname: bool() ? nil : "gh",
                    reconnectMinimum: reconnect.minimum, reconnectMaximum: reconnect.maximum))
        }
        return OutputConfiguration(name: name, enabled: index == 0 || bool(), queueSize: int(1...1_048_576), kind: kind)
    }
}
