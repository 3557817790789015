import AuditConfig
import AuditTestSupport
import AuditWriters
import FoundationEssentials
import Glibc
import Testing

/// config/swift-audit.conf is the operator's documentation: it must parse, say the truth about the
/// defaults, and mention every key.
@Suite struct ExampleConfigTests {
    static let path = TestEnvironment.repositoryRoot.path + "/config/swift-audit.conf"

    /// The example file's text, read without the ownership policy (a checkout need not be root's).
    func exampleText() throws -> String {
        let contents = try ConfigFile.read(
            path: Self.path, policy: ConfigFilePolicy(allowedOwners: [getuid(), geteuid(), 0]))
        return String(decoding: contents.bytes, as: UTF8.self)
    }

    /// The lines `#key = value` (no space after `#`): the file's way of showing a default.
    func uncommentingDefaults(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("#"), let second = line.dropFirst().first, second.isLetter, line.contains(" = ") {
                return String(line.dropFirst())
            }
            return String(line)
        }.joined(separator: "\n")
    }

    @Test func parsesToTheDefaultsWithOneFileOutput() throws {
        let parsed = try DaemonConfiguration.parse(exampleText(), file: Self.path)
        let expected = DaemonConfiguration(outputs: [
            OutputConfiguration(
                name: "main", kind: .file(.configurationDefaults(path: "/var/log/swift-audit/events.json")))
        ])
        #expect(parsed.configuration == expected)
        #expect(parsed.warnings == [])
    }

    @Test func uncommentedDefaultLinesGiveTheDefaults() throws {
        let text = uncommentingDefaults(try exampleText())
        let uncommented = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" = ") }
        #expect(uncommented.count > 40, "expected the documented defaults to be uncommentable")
        let parsed = try DaemonConfiguration.parse(text, file: Self.path)
        var expected = DaemonConfiguration(outputs: [
            OutputConfiguration(
                name: "main", kind: .file(.configurationDefaults(path: "/var/log/swift-audit/events.json"))),
            OutputConfiguration(name: "console", kind: .stdout),
            OutputConfiguration(name: "syslog", kind: .syslog(SyslogWriter.Configuration())),
            OutputConfiguration(
                name: "graylog", kind: .gelf(GELFWriter.Configuration(host: "127.0.0.1", port: 12201))),
            OutputConfiguration(
                name: "relay", kind: .relp(RELPWriter.Configuration(host: "127.0.0.1", port: 20514))),
        ])
        // The metrics examples (off by default) are switched on by uncommenting them.
        expected.metrics = MetricsSettings(
            listen: .tcp(host: "127.0.0.1", port: 9477), textfile: "/var/lib/prometheus/node-exporter/swift-audit.prom")
        #expect(parsed.configuration == expected)
        // The only warning: num_logs is shown next to max_size = 0, where it has no effect.
        #expect(parsed.warnings.map(\.key) == ["output.main.num_logs"])
    }

    @Test func documentsEveryKey() throws {
        let text = try exampleText()
        let commentLines = text.split(separator: "\n").filter { $0.hasPrefix("#") }
        func mentions(_ word: String) -> Bool {
            commentLines.contains { line in
                var rest = Substring(line)
                while let range = rest.firstRange(of: word) {
                    let before = range.lowerBound == line.startIndex ? nil : line[line.index(before: range.lowerBound)]
                    let after = range.upperBound == line.endIndex ? nil : line[range.upperBound]
                    let isWordCharacter: (Character?) -> Bool = {
                        $0.map { $0.isLetter || $0.isNumber || $0 == "_" } ?? false
                    }
                    if !isWordCharacter(before), !isWordCharacter(after) { return true }
                    rest = line[range.upperBound...]
                }
                return false
            }
        }
        for key in DaemonConfiguration.topLevelKeys {
            #expect(
                commentLines.contains { $0.hasPrefix("# \(key)") || $0.hasPrefix("#\(key) = ") },
                "\(key) is not documented")
        }
        for key in DaemonConfiguration.outputKeys {
            #expect(mentions(key), "output key \(key) is not documented")
        }
    }
}
