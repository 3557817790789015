import ArgumentParser
import AuditDaemon
import AuditNetlink

/// Writes a line to standard error.
func printError(_ message: String) {
    writeStandardError(message + "\n")
}

/// Reports a kernel error the way an operator reads it, and picks the exit code.
func reportedExitCode(_ error: AuditNetlinkError) -> ExitCode {
    printError("swift-audit: \(error)")
    if case .permissionDenied = error.kind { return ExitCode.privilege }
    return ExitCode.failure
}
