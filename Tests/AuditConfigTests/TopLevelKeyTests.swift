import AuditConfig
import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditProcesses
import Testing

/// One accepted line and the configuration it must produce.
struct AcceptedLine: Sendable, CustomTestStringConvertible {
    let line: String
    let expected: DaemonConfiguration
    init(_ line: String, _ change: (inout DaemonConfiguration) -> Void) {
        self.line = line
        self.expected = defaultsWithStdout(change)
    }
    var testDescription: String { line }
}

/// One refused line and a fragment of the message that says what is accepted.
struct RefusedLine: Sendable, CustomTestStringConvertible {
    let line: String
    let expected: String
    init(_ line: String, _ expected: String) {
        self.line = line
        self.expected = expected
    }
    var testDescription: String { line }
}

@Suite struct TopLevelKeyTests {
    static let accepted: [AcceptedLine] = [
        AcceptedLine("enabled = 0") { $0.audit.enabled = .disabled },
        AcceptedLine("enabled = 1") { $0.audit.enabled = .enabled },
        AcceptedLine("enabled = lock\nconfirm_lock = yes") {
            $0.audit.enabled = .locked
            $0.audit.confirmLock = true
        },
        AcceptedLine("enabled = LOCK\nconfirm_lock = YES") {
            $0.audit.enabled = .locked
            $0.audit.confirmLock = true
        },
        AcceptedLine("failure = silent") { $0.audit.failure = .silent },
        AcceptedLine("failure = printk") { $0.audit.failure = .printk },
        AcceptedLine("failure = PANIC\nconfirm_panic = yes") {
            $0.audit.failure = .panic
            $0.audit.confirmPanic = true
        },
        AcceptedLine("confirm_panic = no") { _ in },
        AcceptedLine("confirm_lock = yes") { $0.audit.confirmLock = true },
        AcceptedLine("failure = 0") { $0.audit.failure = .silent },
        AcceptedLine("rate_limit = 0") { $0.audit.rateLimit = 0 },
        AcceptedLine("rate_limit = 4294967295") { $0.audit.rateLimit = UInt32.max },
        AcceptedLine("backlog_limit = 1") { $0.audit.backlogLimit = 1 },
        AcceptedLine("backlog_limit = 320000") { $0.audit.backlogLimit = 320_000 },
        AcceptedLine("backlog_wait_time = 0") { $0.audit.backlogWaitTime = 0 },
        AcceptedLine("backlog_wait_time = 15000") { $0.audit.backlogWaitTime = 15000 },
        AcceptedLine("socket_buffer = 0") { $0.audit.socketBufferSize = 0 },
        AcceptedLine("socket_buffer = 64K") { $0.audit.socketBufferSize = 65536 },
        AcceptedLine("socket_buffer = 16m") { $0.audit.socketBufferSize = 16 << 20 },
        AcceptedLine("socket_buffer = 1G") { $0.audit.socketBufferSize = 1 << 30 },
        AcceptedLine("socket_buffer = 1000000") { $0.audit.socketBufferSize = 1_000_000 },
        AcceptedLine("nap_socket_buffer = 0") { $0.audit.napSocketBufferSize = 0 },
        AcceptedLine("nap_socket_buffer = 128K") { $0.audit.napSocketBufferSize = 128 << 10 },
        AcceptedLine("nap_socket_buffer = 1G") { $0.audit.napSocketBufferSize = 1 << 30 },
        AcceptedLine("socket = multicast") { $0.audit.socket = .multicast },
        AcceptedLine("socket = Unicast") { $0.audit.socket = .unicast },
        AcceptedLine("multicast_load_rules = yes") { $0.rules.loadInMulticast = true },
        AcceptedLine("takeover = yes") { $0.audit.takeover = true },
        AcceptedLine("takeover = No") { $0.audit.takeover = false },
        AcceptedLine("rules_file = /etc/audit/audit.rules") { $0.rules.file = "/etc/audit/audit.rules" },
        AcceptedLine("rules_dir = /etc/audit/rules.d") { $0.rules.directory = "/etc/audit/rules.d" },
        AcceptedLine("rules_at_exit = clear") { $0.rules.atExit = .clear },
        AcceptedLine("rules_at_exit = keep") { $0.rules.atExit = .keep },
        AcceptedLine("end_of_event_timeout = 2") { $0.reassembly.endOfEventTimeout = 2000 },
        AcceptedLine("end_of_event_timeout = 1.5") { $0.reassembly.endOfEventTimeout = 1500 },
        AcceptedLine("end_of_event_timeout = 0.25s") { $0.reassembly.endOfEventTimeout = 250 },
        AcceptedLine("end_of_event_timeout = 500ms") { $0.reassembly.endOfEventTimeout = 500 },
        AcceptedLine("end_of_event_timeout = 10ms") { $0.reassembly.endOfEventTimeout = 10 },
        AcceptedLine("end_of_event_timeout = 10m") { $0.reassembly.endOfEventTimeout = 600_000 },
        AcceptedLine("reorder_window = 0") { $0.reassembly.reorderWindow = 0 },
        AcceptedLine("reorder_window = 20ms") { $0.reassembly.reorderWindow = 20 },
        AcceptedLine("max_in_flight = 1") { $0.reassembly.maxInFlight = 1 },
        AcceptedLine("max_event_records = 16") { $0.reassembly.maxEventRecords = 16 },
        AcceptedLine("max_event_bytes = 64K") { $0.reassembly.maxEventBytes = 64 << 10 },
        AcceptedLine("max_in_flight = 1048576") { $0.reassembly.maxInFlight = 1_048_576 },
        AcceptedLine("min_type = 1300") { $0.reassembly.minType = AuditMessageType(1300) },
        AcceptedLine("min_type = 1000") { $0.reassembly.minType = AuditMessageType(1000) },
        AcceptedLine("max_type = 1399") { $0.reassembly.maxType = AuditMessageType(1399) },
        AcceptedLine("max_type = 65535") { $0.reassembly.maxType = AuditMessageType(65535) },
        AcceptedLine("process_context = no") { $0.processes.enabled = false },
        AcceptedLine("process_table_size = 64") { $0.processes.table.maximumEntries = 64 },
        AcceptedLine("process_state_file = /var/lib/swift-audit/processes.state") {
            $0.processes.stateFile = "/var/lib/swift-audit/processes.state"
        },
        AcceptedLine("process_executable_hash = yes") { $0.processes.table.hashExecutables = true },
        AcceptedLine("process_environment = yes") { $0.processes.table.captureEnvironment = true },
        AcceptedLine("process_environment = PATH,LD_AUDIT") {
            $0.processes.table.captureEnvironment = true
            $0.processes.table.environmentVariables = ["PATH", "LD_AUDIT"]
        },
        AcceptedLine("process_environment = no") { _ in },
        AcceptedLine("process_scripts = yes") { $0.processes.table.detectScripts = true },
        AcceptedLine("hostname = none") { $0.hostname = .none },
        AcceptedLine("hostname = hostname") { $0.hostname = .hostname },
        AcceptedLine("hostname = FQDN") { $0.hostname = .fqdn },
        AcceptedLine("hostname = user:web-01") { $0.hostname = .user("web-01") },
        AcceptedLine("hostname = user:a#b") { $0.hostname = .user("a#b") },
        AcceptedLine("ring_size = 64K") { $0.pipeline.ringSize = 64 << 10 },
        AcceptedLine("ring_size = 32M") { $0.pipeline.ringSize = 32 << 20 },
        AcceptedLine("status_interval = 100ms") { $0.pipeline.statusInterval = .milliseconds(100) },
        AcceptedLine("status_interval = 1h") { $0.pipeline.statusInterval = .seconds(3600) },
        AcceptedLine("loss_report_interval = 30") { $0.pipeline.lossReportInterval = .seconds(30) },
        AcceptedLine("metrics_listen = 127.0.0.1:9477") { $0.metrics.listen = .tcp(host: "127.0.0.1", port: 9477) },
        AcceptedLine("metrics_listen = 127.8.9.10:1") { $0.metrics.listen = .tcp(host: "127.8.9.10", port: 1) },
        AcceptedLine("metrics_listen = [::1]:9477") { $0.metrics.listen = .tcp(host: "::1", port: 9477) },
        AcceptedLine("metrics_listen = [0:0:0:0:0:0:0:1]:9477") { $0.metrics.listen = .tcp(host: "::1", port: 9477) },
        AcceptedLine("metrics_listen = unix:/run/swift-audit/metrics.sock") {
            $0.metrics.listen = .unix(path: "/run/swift-audit/metrics.sock")
        },
        AcceptedLine("metrics_textfile = /var/lib/prometheus/node-exporter/swift-audit.prom") {
            $0.metrics.textfile = "/var/lib/prometheus/node-exporter/swift-audit.prom"
        },
        AcceptedLine("metrics_interval = 1s") { $0.metrics.interval = .seconds(1) },
        AcceptedLine("metrics_interval = 1m") { $0.metrics.interval = .seconds(60) },
        AcceptedLine("queue_memory_budget = auto") { $0.pipeline.queueMemoryBudget = nil },
        AcceptedLine("queue_memory_budget = 512M") { $0.pipeline.queueMemoryBudget = 512 << 20 },
        AcceptedLine("filters = noise\nfilter.noise.action = drop\nfilter.noise.comm = cron") {
            $0.filters = ["noise"]
            $0.filterRules = [
                FilterRule(name: "noise", action: .drop, conditions: [try! FilterCondition.parse(.comm, "cron")])
            ]
        },
    ]

    @Test(arguments: accepted)
    func acceptsValidValue(_ example: AcceptedLine) {
        let parsed = parseOK(example.line + "\n" + stdoutOutput)
        #expect(parsed?.configuration == example.expected)
        #expect(parsed?.warnings == [])
    }

    static let refused: [RefusedLine] = [
        RefusedLine("enabled = 2", "locks the audit configuration until reboot"),
        RefusedLine("enabled = yes", "expected 0, 1 or lock"),
        RefusedLine("enabled = -1", "expected 0, 1 or lock"),
        RefusedLine("failure = loud", "expected silent, printk or panic"),
        RefusedLine("failure = panic", "add confirm_panic = yes"),
        RefusedLine("enabled = lock", "add confirm_lock = yes"),
        RefusedLine("confirm_panic = 1", "expected yes or no"),
        RefusedLine("confirm_lock = sure", "expected yes or no"),
        RefusedLine("failure = 3", "expected silent, printk or panic"),
        RefusedLine("rate_limit = -1", "expected an integer 0…2^32-1"),
        RefusedLine("rate_limit = 4294967296", "expected an integer 0…2^32-1"),
        RefusedLine("rate_limit = 1e3", "expected an integer 0…2^32-1"),
        RefusedLine("backlog_limit = abc", "expected an integer 0…2^32-1"),
        RefusedLine("backlog_limit = +5", "expected an integer 0…2^32-1"),
        RefusedLine("backlog_limit = 99999999999999999999999", "expected an integer 0…2^32-1"),
        RefusedLine("backlog_wait_time = 1.5", "expected an integer 0…2^32-1"),
        RefusedLine("socket_buffer = 1K", "expected a size in bytes with an optional K, M or G suffix, 0 or 64K…1G"),
        RefusedLine("socket_buffer = 2G", "0 or 64K…1G"),
        RefusedLine("socket_buffer = 64MB", "0 or 64K…1G"),
        RefusedLine("socket_buffer = 99999999999999999999G", "0 or 64K…1G"),
        RefusedLine(
            "nap_socket_buffer = 32K", "expected a size in bytes with an optional K, M or G suffix, 0 or 64K…1G"),
        RefusedLine("nap_socket_buffer = yes", "0 or 64K…1G"),
        RefusedLine("socket = netlink", "expected unicast or multicast"),
        RefusedLine("multicast_load_rules = 1", "expected yes or no"),
        RefusedLine("takeover = maybe", "expected yes or no"),
        RefusedLine("takeover = 1", "expected yes or no"),
        RefusedLine("rules_file = audit.rules", "expected an absolute path"),
        RefusedLine("rules_dir = rules.d", "expected an absolute path"),
        RefusedLine("rules_at_exit = delete", "expected keep or clear"),
        RefusedLine("end_of_event_timeout = 0", "10ms…10m"),
        RefusedLine("end_of_event_timeout = 11m", "10ms…10m"),
        RefusedLine("reorder_window = 2s", "0ms…1s"),
        RefusedLine("end_of_event_timeout = 1.5ms", "expected a duration"),
        RefusedLine("end_of_event_timeout = 1.0005s", "expected a duration"),
        RefusedLine("end_of_event_timeout = 2 s", "must be double-quoted"),
        RefusedLine("end_of_event_timeout = 2sec", "expected a duration"),
        RefusedLine("end_of_event_timeout = .5", "expected a duration"),
        RefusedLine("max_in_flight = 0", "expected an integer 1…1048576"),
        RefusedLine("max_event_records = 15", "expected an integer 16…1048576"),
        RefusedLine("max_event_bytes = 1K", "expected a size in bytes"),
        RefusedLine("max_in_flight = 1048577", "expected an integer 1…1048576"),
        RefusedLine("min_type = 999", "expected an integer 1000…65535"),
        RefusedLine("max_type = 65536", "expected an integer 1000…65535"),
        RefusedLine("max_type = SYSCALL", "expected an integer 1000…65535"),
        RefusedLine("hostname = localhost", "expected none, hostname, fqdn or user:NAME"),
        RefusedLine("process_context = maybe", "expected yes or no"),
        RefusedLine("process_table_size = 10", "64"),
        RefusedLine("process_state_file = state", "absolute"),
        RefusedLine("process_executable_hash = 1x", "expected yes or no"),
        RefusedLine("process_environment = LD-PRELOAD", "environment variable names"),
        RefusedLine("process_scripts = sometimes", "expected yes or no"),
        RefusedLine("filters = a,,b", "expected rule names separated by commas"),
        RefusedLine("filters = nope", "names the rule \"nope\", which no filter.nope.* line defines"),
        RefusedLine("hostname = user:", "NAME 1…255 printable ASCII characters without spaces"),
        RefusedLine("ring_size = 0", "64K…1G"),
        RefusedLine("ring_size = 1K", "64K…1G"),
        RefusedLine("status_interval = 50ms", "100ms…1h"),
        RefusedLine("status_interval = 2h", "100ms…1h"),
        RefusedLine("loss_report_interval = soon", "expected a duration"),
        RefusedLine(
            "metrics_listen = 0.0.0.0:9477", "0.0.0.0 is not a loopback address: the metrics listener has no TLS"),
        RefusedLine("metrics_listen = 192.168.1.5:9477", "put a proxy with both in front"),
        RefusedLine("metrics_listen = [::]:9477", "[::] is not a loopback address"),
        RefusedLine("metrics_listen = [::ffff:127.0.0.1]:9477", "is not a loopback address"),
        RefusedLine("metrics_listen = localhost:9477", "write 127.0.0.1 or [::1] rather than localhost"),
        RefusedLine("metrics_listen = metrics.example.org:9477", "is not a loopback address"),
        RefusedLine("metrics_listen = 127.0.0.1", "expected a loopback address and port"),
        RefusedLine("metrics_listen = 127.0.0.1:0", "expected a loopback address and port"),
        RefusedLine("metrics_listen = 127.0.0.256:9477", "is not a loopback address"),
        RefusedLine("metrics_listen = unix:metrics.sock", "a unix socket path is absolute"),
        RefusedLine("metrics_textfile = /var/lib/node-exporter/swift-audit.txt", "ending in .prom"),
        RefusedLine("metrics_textfile = swift-audit.prom", "ending in .prom"),
        RefusedLine("metrics_interval = 500ms", "1s…1h"),
        RefusedLine("queue_memory_budget = 1M", "auto, or expected a size"),
    ]

    @Test(arguments: refused)
    func refusesInvalidValueNamingKeyValueAndLine(_ example: RefusedLine) {
        let diagnostics = parseFailing(stdoutOutput + example.line + "\n")
        #expect(diagnostics.count == 1, "\(diagnostics)")
        guard let diagnostic = diagnostics.first else { return }
        #expect(diagnostic.line == 2)
        #expect(diagnostic.file == testFile)
        #expect(diagnostic.message.contains(example.expected), "\(diagnostic)")
        if diagnostic.kind == .invalidValue {
            let key = String(example.line.prefix { $0 != " " })
            #expect(diagnostic.key == key)
            #expect(diagnostic.description.hasPrefix("\(testFile):2: \(key) = \""))
        }
    }

    @Test func rendersTheDocumentedErrorFormat() {
        let diagnostics = parseFailing(
            "\n\n\n\n\n\n\n\n\n\n\nbacklog_limit = abc\n" + stdoutOutput)
        #expect(
            diagnostics.map(\.description) == [
                "/etc/swift-audit/swift-audit.conf:12: backlog_limit = \"abc\": expected an integer 0…2^32-1"
            ])
    }

    @Test func everyTopLevelKeyHasAnAcceptedAndARefusedExample() {
        let acceptedKeys = Set(Self.accepted.map { String($0.line.prefix { $0 != " " }) })
        let refusedKeys = Set(Self.refused.map { String($0.line.prefix { $0 != " " }) })
        for key in DaemonConfiguration.topLevelKeys {
            #expect(acceptedKeys.contains(key), "no accepted example for \(key)")
            #expect(refusedKeys.contains(key), "no refused example for \(key)")
        }
    }

    @Test func minTypeAboveMaxTypeIsAConflictNamingBothLines() {
        let diagnostics = parseFailing("min_type = 1400\nmax_type = 1300\n" + stdoutOutput)
        #expect(diagnostics.map(\.kind) == [.conflict])
        #expect(diagnostics.first?.line == 1)
        #expect(diagnostics.first?.relatedLines == [1, 2])
        let defaultMax = parseFailing("min_type = 3000\n" + stdoutOutput)
        #expect(defaultMax.first?.message.contains("2999, the default") == true, "\(defaultMax)")
    }

    /// One rule for every host name the configuration takes: `hostname = user:NAME` refuses what
    /// the syslog and GELF `hostname` keys refuse (bidi controls, zero-width and other invisible
    /// characters, spaces, anything outside printable ASCII), with the same words.
    @Test(arguments: ["web\u{202E}10-bew", "web\u{200B}01", "web\u{00A0}01", "rack 4", "h\u{E9}llo", "web\u{2066}01"])
    func theEventHostNameRefusesWhatTheOutputHostNamesRefuse(name: String) {
        let diagnostics = parseFailing(stdoutOutput + "hostname = \"user:\(name)\"\n")
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.key == "hostname")
        #expect(
            diagnostics.first?.message.contains("printable ASCII characters without spaces") == true, "\(diagnostics)")
        let output = parseFailing("output.s.type = syslog\noutput.s.hostname = \"\(name)\"\n")
        #expect(output.first?.message.contains("printable ASCII characters without spaces") == true, "\(output)")
    }

    /// `failure = panic` and `enabled = lock` ask for the explicit confirmation `swift-audit set`
    /// asks for (`--confirm-panic`, `--confirm-lock`): a key of its own, named in the error with the
    /// file and line, so that neither goes through by a slip of the keyboard.
    @Test func panicAndLockNeedTheConfirmationSwiftAuditSetAsksFor() {
        #expect(
            parseFailing(stdoutOutput + "failure = panic\n").map(\.description) == [
                "\(testFile):2: failure = \"panic\": halts the machine whenever the kernel loses an audit record; "
                    + "add confirm_panic = yes to mean it (as swift-audit set asks for --confirm-panic)"
            ])
        #expect(
            parseFailing(stdoutOutput + "enabled = lock\n").map(\.description) == [
                "\(testFile):2: enabled = \"lock\": locks every audit rule and setting until reboot; "
                    + "add confirm_lock = yes to mean it (as swift-audit set asks for --confirm-lock)"
            ])
        let confirmed = parseOK(stdoutOutput + "confirm_lock = yes\nenabled = lock\nfailure = 2\nconfirm_panic = yes\n")
        #expect(confirmed?.configuration.audit.enabled == .locked)
        #expect(confirmed?.configuration.audit.failure == .panic)
    }
}
