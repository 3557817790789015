import AuditDaemon
import Logging
import Testing

/// The daemon's plain command line is matched without ArgumentParser; everything it does not
/// match exactly must fall through (nil) so that ArgumentParser gives the help or the error.
@Suite struct DaemonCommandLineTests {
    struct Accepted: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var expected: DaemonCommandLine
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let accepted: [Accepted] = [
        Accepted(arguments: ["run"], expected: .init(configurationPath: nil, recordPath: nil, logLevel: .info)),
        Accepted(
            arguments: ["run", "--config", "/etc/swift-audit/swift-audit.conf"],
            expected: .init(configurationPath: "/etc/swift-audit/swift-audit.conf", recordPath: nil, logLevel: .info)),
        Accepted(
            arguments: ["run", "-c", "a.conf", "--log-level", "warning"],
            expected: .init(configurationPath: "a.conf", recordPath: nil, logLevel: .warning)),
        Accepted(
            arguments: ["run", "--config=a b.conf", "--record=/tmp/x.bin", "--log-level=trace"],
            expected: .init(configurationPath: "a b.conf", recordPath: "/tmp/x.bin", logLevel: .trace)),
        Accepted(
            arguments: ["run", "--record", "r.bin", "--config", "c=d.conf"],
            expected: .init(configurationPath: "c=d.conf", recordPath: "r.bin", logLevel: .info)),
    ]

    @Test(arguments: accepted)
    func plainRunCommandLinesAreMatched(_ line: Accepted) {
        #expect(DaemonCommandLine(arguments: line.arguments) == line.expected)
    }

    static let refused: [[String]] = [
        [], ["status"], ["replay", "x.bin"], ["--help"], ["run", "--help"], ["run", "-h"],
        ["run", "--check-config"], ["run", "--check-config", "--config", "a.conf"],
        ["run", "--config", "a.conf", "--check-config"],
        ["run", "--config"], ["run", "--config="], ["run", "--config", "-c"], ["run", "--config", "--record"],
        ["run", "--config", "a.conf", "--config", "b.conf"], ["run", "-c", "a", "--config=b"],
        ["run", "--record", "a", "--record", "b"],
        ["run", "--log-level", "verbose"], ["run", "--log-level", "INFO"], ["run", "--log-level=", "info"],
        ["run", "--log-level", "info", "--log-level", "debug"],
        ["run", "-c=a.conf"], ["run", "-ca.conf"], ["run", "--takeover"], ["run", "extra"],
        ["run", "--version"], ["RUN"], ["run ", "--config", "a"],
    ]

    @Test(arguments: refused)
    func anythingElseFallsThroughToTheArgumentParser(_ arguments: [String]) {
        #expect(DaemonCommandLine(arguments: arguments) == nil)
    }
}
