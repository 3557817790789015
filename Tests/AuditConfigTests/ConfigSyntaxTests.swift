import AuditConfig
import AuditEncoding
import AuditTestSupport
import AuditWriters
import FoundationEssentials
import Glibc
import Testing

@Suite struct ConfigSyntaxTests {
    @Test func acceptsCommentsBlankLinesAndSurroundingWhitespace() {
        let text = """
            # a comment

               \t# an indented comment
            \tbacklog_limit=100
              rate_limit   =   7\t
            \(stdoutOutput)
            """
        let parsed = parseOK(text)
        #expect(
            parsed?.configuration
                == defaultsWithStdout {
                    $0.audit.backlogLimit = 100; $0.audit.rateLimit = 7
                })
    }

    @Test func acceptsCarriageReturnLineEndsAndNoFinalNewline() {
        let text = "backlog_limit = 100\r\nrate_limit = 5\r\noutput.out.type = stdout"
        let parsed = parseOK(text)
        #expect(
            parsed?.configuration
                == defaultsWithStdout {
                    $0.audit.backlogLimit = 100; $0.audit.rateLimit = 5
                })
    }

    /// A file saved by a Windows editor: the byte-order mark is skipped with one warning that names
    /// it, instead of an unknown key "\u{FEFF}backlog_limit"; CR LF line ends are accepted as before.
    @Test func aByteOrderMarkIsSkippedWithOneWarningNamingIt() throws {
        let bytes = [0xEF, 0xBB, 0xBF] + Array("backlog_limit = 100\r\n\(stdoutOutput)".utf8)
        let parsed = try DaemonConfiguration.parse(bytes: bytes, file: testFile)
        #expect(parsed.configuration == defaultsWithStdout { $0.audit.backlogLimit = 100 })
        #expect(
            parsed.warnings.map(\.description) == [
                "\(testFile):1: the file starts with a UTF-8 byte-order mark (bytes EF BB BF); it is skipped "
                    + "(save the file as UTF-8 without a BOM to silence this)"
            ])
    }

    @Test func keepsAHashInsideAValue() throws {
        let text = """
            output.s.type = syslog
            output.s.tag = audit#1
            output.f.type = file
            output.f.path = /var/log/a#b.json
            """
        let outputs = try #require(parseOK(text)?.configuration.outputs)
        try #require(outputs.count == 2, "\(outputs)")
        guard case .syslog(let syslog) = outputs[0].kind, case .file(let file) = outputs[1].kind else {
            Issue.record("unexpected kinds \(outputs)")
            return
        }
        #expect(syslog.tag == "audit#1")
        #expect(file.path == "/var/log/a#b.json")
    }

    @Test(arguments: [
        "backlog_limit = 8192 # bigger",
        "backlog_limit = 8192\t#bigger",
        "output.out.queue_size = 10   # main log",
        "hostname = \"user:a b\" # comment",
    ])
    func refusesATrailingComment(line: String) {
        let text = stdoutOutput + line + "\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.kind == .syntax)
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.message.contains("does not start a comment") == true)
    }

    @Test func readsQuotedValuesWithSpacesAndEscapes() {
        let text = """
            rules_file = "/etc/rack 4 \\"east\\" \\\\ west"
            \(stdoutOutput)
            """
        #expect(parseOK(text)?.configuration.rules.file == "/etc/rack 4 \"east\" \\ west")
    }

    @Test func readsAQuotedValueContainingAHash() {
        let text = "rules_file = \"/a # b\"\n" + stdoutOutput
        #expect(parseOK(text)?.configuration.rules.file == "/a # b")
    }

    @Test(arguments: [
        ("hostname = \"user:abc", "closing double quote is missing"),
        ("hostname = \"user:a\" b", "unexpected text after the closing quote"),
        ("hostname = \"user:a\\tb\"", "unknown escape"),
        ("hostname = user:a b", "must be double-quoted"),
        ("just some words", "expected key = value"),
        ("= 5", "the key is missing"),
        ("Backlog_Limit = 5", "lower-case letters"),
        ("backlog limit = 5", "contains a space"),
    ])
    func refusesMalformedLines(line: String, expected: String) {
        let diagnostics = parseFailing(line + "\n" + stdoutOutput)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.kind == .syntax)
        #expect(diagnostics.first?.line == 1)
        #expect(diagnostics.first?.message.contains(expected) == true, "\(diagnostics)")
    }

    @Test func refusesAnEmptyValue() {
        let diagnostics = parseFailing("backlog_limit =\n" + stdoutOutput)
        #expect(diagnostics.map(\.kind) == [.missingValue])
        #expect(diagnostics.first?.key == "backlog_limit")
    }

    @Test func refusesControlCharactersAndInvalidUTF8WithTheirLine() throws {
        var bytes = Array("rate_limit = 1\n".utf8)
        bytes += Array("hostname = user:a".utf8) + [0x01] + Array("b\n".utf8)
        bytes += Array("hostname2 = ".utf8) + [0xC3, 0x28] + [0x0A]
        bytes += Array(stdoutOutput.utf8)
        do {
            _ = try DaemonConfiguration.parse(bytes: bytes, file: testFile)
            Issue.record("accepted")
        } catch {
            #expect(error.diagnostics.map(\.line) == [2, 3])
            #expect(error.diagnostics.map(\.kind) == [.syntax, .syntax])
            #expect(error.diagnostics[0].message.contains("0x01"))
            #expect(error.diagnostics[1].message.contains("UTF-8"))
        }
    }

    @Test func refusesOverlongLines() {
        let line = "hostname = user:" + String(repeating: "a", count: 5000)
        let diagnostics = parseFailing(line + "\n" + stdoutOutput)
        #expect(diagnostics.map(\.kind) == [.syntax])
        #expect(diagnostics.first?.message.contains("4096") == true)
    }

    @Test func acceptsAnEmptyStringOnlyWhereTheKeyAllowsIt() {
        let diagnostics = parseFailing("hostname = \"\"\n" + stdoutOutput)
        #expect(diagnostics.map(\.kind) == [.invalidValue])
        #expect(
            diagnostics.first?.description
                == "\(testFile):1: hostname = \"\": expected none, hostname, fqdn or user:NAME")
    }
}

/// The parser's input comes from files an operator edits by hand: arbitrary bytes must give
/// diagnostics, never a trap (the libFuzzer targets in docs/design.md, "Testing against hostile
/// input", go further).
@Suite struct ConfigRobustnessTests {
    @Test func randomBytesNeverTrap() {
        var random = SplitMix(seed: 42)
        let alphabet =
            Array("output.a.type = file\n path /x \"\\#=\t\r".utf8) + [0x00, 0x7F, 0xC3, 0xA9, 0xFF, 0xE2, 0x80]
        for _ in 0..<2000 {
            let bytes = (0..<random.int(0...200)).map { _ in random.pick(alphabet) }
            let outcome = Result { () throws(ConfigError) in try DaemonConfiguration.parse(bytes: bytes, file: "f") }
            if case .failure(let error) = outcome {
                #expect(!error.diagnostics.isEmpty)
            }
        }
    }

    @Test func mutatedExampleConfigurationsNeverTrap() throws {
        let path = TestEnvironment.repositoryRoot.path + "/config/swift-audit.conf"
        let original = try ConfigFile.read(
            path: path, policy: ConfigFilePolicy(allowedOwners: [getuid(), geteuid(), 0])
        ).bytes
        var random = SplitMix(seed: 7)
        for _ in 0..<500 {
            var bytes = original
            for _ in 0..<random.int(1...20) where !bytes.isEmpty {
                let index = random.int(0...bytes.count - 1)
                switch random.int(0...3) {
                case 0: bytes[index] ^= UInt8(1 << random.int(0...7))
                case 1: bytes.remove(at: index)
                case 2: bytes.insert(random.pick(Array("=#\"\\ \n.".utf8)), at: index)
                default: bytes.removeSubrange(index...)
                }
            }
            let outcome = Result { () throws(ConfigError) in try DaemonConfiguration.parse(bytes: bytes, file: "f") }
            switch outcome {
            case .success(let parsed):
                // Whatever was accepted renders to text that parses to the same configuration.
                let again = try DaemonConfiguration.parse(parsed.configuration.render(), file: "r")
                #expect(again.configuration == parsed.configuration)
            case .failure(let error):
                #expect(!error.diagnostics.isEmpty)
            }
        }
    }
}
