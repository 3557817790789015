import ArgumentParser
import AuditNetlink
internal import Glibc

/// Writes a line to standard error (fd 2, unbuffered: diagnostics must not wait behind output).
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// Reports a kernel error the way an operator reads it, and picks the exit code.
func reportedExitCode(_ error: AuditNetlinkError) -> ExitCode {
    printError("swift-audit: \(error)")
    if case .permissionDenied = error.kind { return ExitCodes.privilege }
    return ExitCodes.failure
}
