import ArgumentParser
import AuditDaemon
import Glibc

/// The process entry point. The daemon's plain start (`run` with its usual options, as the systemd
/// unit gives it) goes straight to the daemon without ArgumentParser, whose reflection-built
/// command tree would otherwise stay resident for the daemon's lifetime (about 4 MiB; see
/// `DaemonCommandLine`). Everything else, including every help text and usage error, is
/// ArgumentParser's.
@main
enum Entry {
    static func main() {
        if let options = DaemonCommandLine(arguments: Array(CommandLine.arguments.dropFirst())) {
            exit(runDaemon(options).rawValue)
        }
        SwiftAudit.main()
    }
}
