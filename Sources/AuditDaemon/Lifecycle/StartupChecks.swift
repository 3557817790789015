package import AuditConfig
import AuditWriters

/// What `run --check-config` finds: everything start-up would refuse, what it would do on its own
/// (create a directory), and what deserves a look.
package struct StartupCheckReport: Sendable {
    /// What start-up would refuse; each names the file and line, or the output.
    package var errors: [String] = []
    /// Accepted, but worth a look (rule-file warnings, paths the systemd unit does not let the
    /// daemon write).
    package var warnings: [String] = []
    /// What start-up will do by itself (create a missing output directory).
    package var notes: [String] = []
}

/// The checks start-up runs before it touches the kernel, run without changing anything, for
/// `run --check-config`.
///
/// Why: the unit has `RestartPreventExitStatus=6`, so a configuration that "checked clean" and
/// then fails at start keeps the service down. Every step here is the code start-up runs: the
/// rule files through ``DaemonRules/prepare(_:warnings:)`` (read with the ownership checks,
/// parsed, what the kernel is sure to refuse, `-f 2`/`-e 2` without their confirmation), the file
/// outputs' owner and group through `FileWriter.Configuration.resolvingAccounts()` (what opening
/// the output does), and their directories through ``OutputDirectories``. Only the kernel itself
/// (privilege, registration, settings) is left for start-up.
package enum StartupChecks {
    package static func check(_ configuration: DaemonConfiguration) -> StartupCheckReport {
        var report = StartupCheckReport()
        do {
            _ = try DaemonRules.prepare(configuration, warnings: &report.warnings)
        } catch {
            report.errors.append(error.message)
        }
        for output in configuration.outputs where output.enabled {
            guard case .file(let file) = output.kind else { continue }
            do {
                _ = try file.resolvingAccounts()
            } catch {
                report.errors.append("output \"\(output.name)\": \(error)")
            }
            let directory = OutputDirectories.check(output: output.name, path: file.path)
            if let note = directory.note { report.notes.append(note) }
            if let error = directory.error { report.errors.append(error) }
            if !OutputDirectories.isServiceWritable(file.path) {
                report.warnings.append(outsideTheUnit("output \"\(output.name)\": \(file.path)"))
            }
        }
        for output in configuration.outputs where output.enabled {
            if let spool = output.spool, !OutputDirectories.isServiceWritable(spool.directory) {
                report.warnings.append(outsideTheUnit("output \"\(output.name)\": spool_dir \(spool.directory)"))
            }
        }
        if let state = configuration.processes.stateFile, configuration.processes.enabled,
            !OutputDirectories.isServiceWritable(state)
        {
            report.warnings.append(outsideTheUnit("process_state_file \(state)"))
        }
        if let textfile = configuration.metrics.textfile, !OutputDirectories.isServiceWritable(textfile) {
            report.warnings.append(outsideTheUnit("metrics_textfile \(textfile)"))
        }
        return report
    }

    private static func outsideTheUnit(_ what: String) -> String {
        "\(what) is outside the paths the systemd unit lets swift-audit write ("
            + OutputDirectories.serviceWritablePaths.joined(separator: ", ")
            + "): started by contrib/swift-audit.service the daemon cannot write there (EROFS); allow it with "
            + "systemctl edit swift-audit ([Service] ReadWritePaths=DIRECTORY)"
    }
}
