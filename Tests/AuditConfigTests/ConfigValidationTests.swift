import AuditConfig
import AuditEncoding
import AuditWriters
import Testing

@Suite struct ConfigValidationTests {
    // MARK: keys

    @Test func duplicateKeyNamesBothLinesAndKeepsTheFirst() {
        let diagnostics = parseFailing("backlog_limit = 1\n" + stdoutOutput + "backlog_limit = 2\n")
        #expect(diagnostics.count == 1)
        let diagnostic = diagnostics.first
        #expect(diagnostic?.kind == .duplicateKey)
        #expect(diagnostic?.line == 3)
        #expect(diagnostic?.relatedLines == [1])
        #expect(
            diagnostic?.description
                == "\(testFile):3: backlog_limit = \"2\": set twice: first at line 1, again here; keep one")
    }

    @Test func duplicateOutputKeyIsReported() {
        let text = Base.file + "output.f.path = /var/log/b.json\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.duplicateKey])
        #expect(diagnostics.first?.relatedLines == [2])
    }

    @Test(arguments: [
        ("backlog_limt = 5", "did you mean backlog_limit?"),
        ("log_file = /var/log/audit/audit.log", "output.NAME.type = file"),
        ("max_log_file = 8", "output.NAME.max_size"),
        ("name_format = hostname", "hostname = none"),
        ("colour = blue", "see config/swift-audit.conf"),
        ("output.out.queue = 5", "did you mean output.out.queue_size?"),
        ("output.out.bogus_key = 5", "an output accepts type, enabled"),
        ("output.out = 5", "expected output.NAME.KEY"),
        ("output.a.b.c = 5", "expected output.NAME.KEY"),
        ("output._x.type = stdout", "an output NAME is"),
    ])
    func unknownKeyIsAnErrorWithAHint(line: String, hint: String) {
        let diagnostics = parseFailing(stdoutOutput + line + "\n")
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.kind == .unknownKey)
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.message.contains(hint) == true, "\(diagnostics)")
    }

    // MARK: outputs

    @Test func readsSeveralOutputsInTheOrderTheFileNamesThem() {
        let text = """
            output.remote.type = gelf
            output.main.type = file
            output.remote.address = graylog.example.com:12201
            output.main.path = /var/log/swift-audit/events.json
            output.main.max_size = 100M
            output.console.type = stdout
            output.console.enabled = no
            output.console.format = Enriched
            output.sys.type = syslog
            output.sys.target = tcp
            output.sys.address = [::1]:6514
            output.sys.syslog_format = rfc3164
            output.remote.transport = tcp
            """
        let parsed = parseOK(text)
        let expected: [OutputConfiguration] = [
            OutputConfiguration(
                name: "remote",
                kind: .gelf(GELFWriter.Configuration(host: "graylog.example.com", port: 12201, transport: .tcp))),
            OutputConfiguration(
                name: "main",
                kind: .file(
                    FileWriter.Configuration(
                        path: "/var/log/swift-audit/events.json", maxFileSize: 100 << 20,
                        flush: .interval(.seconds(1))))),
            OutputConfiguration(name: "console", enabled: false, format: .enriched, kind: .stdout),
            OutputConfiguration(
                name: "sys",
                kind: .syslog(
                    SyslogWriter.Configuration(
                        target: .tcp(host: "::1", port: 6514, framing: .octetCounting), format: .rfc3164))),
        ]
        #expect(parsed?.configuration.outputs == expected)
        #expect(parsed?.warnings == [])
    }

    @Test func theOldSyslogFormatKeyIsReadAsSyslogFormatWithAWarning() {
        let parsed = parseOK(
            """
            output.sys.type = syslog
            output.sys.format = rfc3164
            """)
        let output = parsed?.configuration.outputs.first
        #expect(output?.format == .raw)
        #expect(output?.kind == .syslog(SyslogWriter.Configuration(format: .rfc3164)))
        #expect(parsed?.warnings.map(\.line) == [2])
        #expect(parsed?.warnings.first?.message.contains("write output.sys.syslog_format instead") == true)
    }

    @Test func noOutputIsAnError() {
        let diagnostics = parseFailing("backlog_limit = 10\n")
        #expect(diagnostics.map(\.kind) == [.missingValue])
        #expect(diagnostics.first?.line == nil)
        #expect(diagnostics.first?.description.hasPrefix("\(testFile): no output is configured") == true)
    }

    @Test func everyOutputDisabledIsAnErrorNamingTheirLines() {
        let text = "output.a.type = stdout\noutput.a.enabled = no\n" + Base.file + "output.f.enabled = no\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.conflict])
        #expect(diagnostics.first?.relatedLines == [2, 5])
    }

    @Test func aDisabledOutputNextToAnEnabledOneIsFine() {
        let text = "output.a.type = stdout\noutput.a.enabled = no\n" + Base.file
        let outputs = parseOK(text)?.configuration.outputs
        #expect(outputs?.map(\.enabled) == [false, true])
    }

    @Test func outputWithoutTypeIsAnErrorAtItsFirstLine() {
        let text = stdoutOutput + "output.f.path = /var/log/x.json\noutput.f.mode = 0640\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.missingValue])
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.key == "output.f.type")
    }

    @Test(arguments: [
        (Base.file, "output.f.address = x:1", "type = syslog, type = gelf or type = relp"),
        (Base.syslog, "output.s.path = /x", "type = file"),
        (Base.gelf, "output.g.tag = x", "type = syslog"),
        (stdoutOutput, "output.out.mode = 0600", "type = file"),
        (Base.gelf, "output.g.framing = newline", "type = syslog"),
    ])
    func keyOfAnotherOutputTypeIsAConflictNamingTheTypeLine(base: String, line: String, expected: String) {
        let diagnostics = parseFailing(base + line + "\n")
        #expect(diagnostics.map(\.kind) == [.conflict], "\(diagnostics)")
        #expect(diagnostics.first?.relatedLines == [1])
        #expect(diagnostics.first?.message.contains("applies only to outputs of \(expected)") == true, "\(diagnostics)")
    }

    @Test(arguments: [
        // base, added line, the line at fault, the related line, message fragment
        (Base.file.replacing("output.f.path = /var/log/a.json\n", with: ""), "", 1, [Int](), "path: is required"),
        ("output.s.type = syslog\noutput.s.target = udp\n", "", 2, [2], "address: is required for target = udp"),
        ("output.g.type = gelf\n", "", 1, [], "address: is required for type = gelf"),
        (
            Base.syslog, "output.s.framing = newline", 2, [],
            "applies only to target = tcp (target is local, the default)"
        ),
        (Base.syslogUDP, "output.s.framing = newline", 4, [2], "applies only to target = tcp (target = udp at line 2)"),
        (
            Base.syslog + "output.s.syslog_format = rfc3164\n", "output.s.structured_data = yes", 3, [2],
            "applies only to syslog_format = rfc5424"
        ),
        (Base.syslogTCP, "output.s.oversize = tcp", 4, [2], "applies only to target = udp"),
        (Base.syslog, "output.s.oversize = tcp", 2, [], "applies only to target = udp"),
        (Base.syslogUDP, "output.s.max_message = 70000", 4, [2], "65507"),
        (
            Base.syslog + "output.s.syslog_format = rfc3164\n", "output.s.tag = " + String(repeating: "x", count: 33),
            3, [2],
            "at most 32"
        ),
        (Base.gelfTCP, "output.g.compression = gzip", 4, [3], "applies only to transport = udp"),
        (Base.gelfTCP, "output.g.chunk_size = 8154", 4, [3], "applies only to transport = udp"),
        (
            Base.gelf + "output.g.reconnect_max = 1s\n", "output.g.reconnect_min = 2s", 4, [3],
            "must not exceed reconnect_max"
        ),
        (Base.syslog, "output.s.reconnect_max = 50ms", 2, [], "must not exceed reconnect_max"),
    ])
    func crossFieldRuleNamesTheLinesInvolved(base: String, line: String, at: Int, related: [Int], expected: String) {
        let diagnostics = parseFailing(base + (line.isEmpty ? "" : line + "\n"))
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.line == at, "\(diagnostics)")
        #expect(diagnostics.first?.relatedLines == related, "\(diagnostics)")
        #expect(diagnostics.first?.description.contains(expected) == true, "\(diagnostics)")
    }

    @Test func twoFileOutputsCannotShareAPathHoweverItIsSpelled() {
        let text = Base.file + "output.g.type = file\noutput.g.path = /var//log/./a.json\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.conflict])
        #expect(diagnostics.first?.line == 4)
        #expect(diagnostics.first?.relatedLines == [2])
        #expect(diagnostics.first?.message.contains("output \"f\" already writes this file") == true)
    }

    @Test func onlyOneStdoutOutput() {
        let text = "output.a.type = stdout\noutput.b.type = stdout\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.conflict])
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.relatedLines == [1])
    }

    // MARK: warnings

    @Test func settingsWithoutEffectAreWarningsNotErrors() {
        let text = Base.file + "output.f.flush = every\noutput.f.flush_interval = 5s\noutput.f.num_logs = 9\n"
        let parsed = parseOK(text)
        #expect(parsed?.warnings.map(\.line) == [4, 5])
        #expect(parsed?.warnings.map(\.kind) == [.warning, .warning])
        #expect(parsed?.warnings.first?.message.contains("flush = every (line 3)") == true)
        #expect(parsed?.warnings.last?.message.contains("max_size is 0") == true)
        let withRotation = parseOK(Base.file + "output.f.max_size = 10M\noutput.f.num_logs = 9\n")
        #expect(withRotation?.warnings == [])
    }

    // MARK: all at once

    @Test func reportsEveryErrorOfTheFileInLineOrder() {
        let text = """
            # broken on purpose
            backlog_limit = abc
            enabled = 2
            bogus = 1
            rate_limit = 5 # five
            backlog_limit = 10
            output.f.type = file
            output.f.mode = 0777
            output.s.type = syslog
            output.s.target = udp
            output.g.type = gelf
            output.g.address = graylog:12201
            output.g.transport = tcp
            output.g.compression = gzip
            min_type = 2000
            max_type = 1500
            """
        let diagnostics = parseFailing(text)
        let summary = diagnostics.map { "\($0.line.map(String.init) ?? "-") \($0.kind)" }
        #expect(
            summary == [
                "2 invalidValue",  // backlog_limit = abc
                "3 invalidValue",  // enabled = 2
                "4 unknownKey",  // bogus
                "5 syntax",  // trailing comment
                "6 duplicateKey",  // backlog_limit again
                "7 missingValue",  // file output without path
                "8 invalidValue",  // mode 0777
                "10 missingValue",  // udp without address
                "14 conflict",  // compression with tcp
                "15 conflict",  // min_type > max_type
            ], "\(diagnostics.map(\.description).joined(separator: "\n"))")
        for diagnostic in diagnostics {
            #expect(diagnostic.description.hasPrefix("\(testFile):\(diagnostic.line ?? 0): "))
        }
    }

    @Test func errorDescriptionListsOneProblemPerLine() {
        do {
            _ = try DaemonConfiguration.parse("rate_limit = x\nbacklog_limit = y\n" + stdoutOutput, file: "a.conf")
            Issue.record("accepted")
        } catch {
            #expect(
                error.description == """
                    a.conf:1: rate_limit = "x": expected an integer 0…2^32-1
                    a.conf:2: backlog_limit = "y": expected an integer 0…2^32-1
                    """)
        }
    }
}
