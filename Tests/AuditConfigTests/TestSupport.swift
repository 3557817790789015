import AuditConfig
import Testing

/// The file name used in diagnostics of in-memory texts.
let testFile = "/etc/swift-audit/swift-audit.conf"

/// A stdout output, appended when a test is about top-level keys (a configuration needs an output).
let stdoutOutput = "output.out.type = stdout\n"

/// Parses `text`, recording the error as an issue (and returning nil) when it is refused.
func parseOK(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ParsedConfiguration? {
    do {
        return try DaemonConfiguration.parse(text, file: testFile)
    } catch {
        Issue.record("unexpected errors:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Parses `text` expecting it to be refused; returns the diagnostics (recording an issue if accepted).
func parseFailing(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigDiagnostic] {
    do {
        let parsed = try DaemonConfiguration.parse(text, file: testFile)
        Issue.record("accepted, expected errors; got \(parsed.configuration)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.diagnostics
    }
}

/// The default configuration with one stdout output named `out` (what `stdoutOutput` parses to).
func defaultsWithStdout(_ change: (inout DaemonConfiguration) -> Void = { _ in }) -> DaemonConfiguration {
    var configuration = DaemonConfiguration(outputs: [OutputConfiguration(name: "out", kind: .stdout)])
    change(&configuration)
    return configuration
}
