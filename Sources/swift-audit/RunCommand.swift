import ArgumentParser
import AuditConfig
import AuditDaemon
import Logging

/// `swift-audit run`: the audit daemon.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the audit daemon in the foreground (what the systemd unit starts).",
        discussion: """
            swift-audit registers as the kernel's audit daemon (like auditd), reassembles the \
            kernel's records into events and writes each event as one JSON line to the outputs \
            of the configuration. Needs root (CAP_AUDIT_CONTROL); only one audit daemon can run, \
            so stop auditd first.

            Without --config it runs on a built-in configuration that writes events to standard \
            output. The kernel only produces events for its rules, e.g.:
              auditctl -a always,exit -F arch=b64 -S execve -k exec      (or: swift-audit rules load FILE)

            Signals: SIGTERM/SIGINT drain and stop (nothing already received is lost); SIGHUP \
            re-reads the configuration (an invalid one is reported and the running one stays); \
            SIGUSR1 reopens file outputs after logrotate moved them.

            Exit codes: 0 stopped cleanly, 1 could not start or run, 4 missing privilege, 6 invalid \
            configuration.
            """
    )

    @Option(name: [.short, .long], help: "The configuration file (auditd.conf style; see config/swift-audit.conf).")
    var config: String?

    @Flag(
        help: ArgumentHelp(
            "Check the configuration as start-up would (the kernel aside), print the effective configuration (defaults included) and exit.",
            discussion:
                "Checks the rule files (read, parsed, what the kernel is sure to refuse, -f 2/-e 2 without confirm_panic/confirm_lock), the file outputs' owner and group, and their directories (a missing one is created at start, mode 0700); warns about paths the systemd unit does not let the daemon write. Exit 6 when start-up would refuse."
        ))
    var checkConfig = false

    @Option(
        help: ArgumentHelp(
            "Also record every datagram received from the kernel to FILE, for `swift-audit replay`.", valueName: "FILE")
    )
    var record: String?

    @Option(
        help: ArgumentHelp(
            "The daemon's own log level (its log goes to stderr; under systemd the journal, with each line's priority).",
            valueName: "trace|debug|info|notice|warning|error|critical"))
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level \(logLevel): expected trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() throws {
        if checkConfig {
            let configuration = try loadConfiguration(path: config, checkOnly: true)
            // The checks start-up runs before it touches the kernel, on the same code.
            let report = StartupChecks.check(configuration)
            for error in report.errors { printError(error) }
            for warning in report.warnings { printError("swift-audit: warning: \(warning)") }
            for note in report.notes { printError("swift-audit: \(note)") }
            guard report.errors.isEmpty else {
                printError(
                    "swift-audit: \(config ?? "the built-in configuration"): \(report.errors.count) problem(s) "
                        + "start-up would refuse")
                throw ExitCode.configuration
            }
            print(configuration.render(), terminator: "")
            return
        }
        let options = DaemonCommandLine(
            configurationPath: config, recordPath: record, logLevel: Logger.Level(rawValue: logLevel) ?? .info)
        let status = runDaemon(options)
        if status != .success { throw ExitCode(status) }
    }
}

/// `swift-audit replay`: recorded datagrams through the same pipeline.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Feed recorded kernel datagrams through the pipeline, as `run` would have written them.",
        discussion: """
            Reads captures in the `[u32 little-endian length][datagram]` format that `run --record` \
            writes (unicast or multicast framing), reassembles and encodes them exactly as the \
            daemon does (timeouts on the records' own timestamps), and writes the events to the \
            outputs of --config, or as JSON lines to standard output without it. Needs no \
            privilege and does not touch the kernel.

            Datagrams shorter than a netlink header, that do not decode, or an EOE without a \
            valid header are dropped and counted, as the live daemon counts them \
            (malformed_datagram): replay says how many on standard error and exits 0 when the \
            capture held anything valid, 1 when it held nothing else.

            Example:
              swift-audit run --record /tmp/incident.bin      (reproduce the problem, then stop it)
              swift-audit replay /tmp/incident.bin | jq .
              ssh host cat /tmp/incident.bin | swift-audit replay -
            """
    )

    @Option(name: [.short, .long], help: "A configuration whose outputs and reassembly settings to use.")
    var config: String?

    @Argument(
        help: ArgumentHelp(
            "Capture files, replayed in order; each is a serial stream of its own; - for standard input.",
            valueName: "CAPTURE"))
    var captures: [String]

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file (- for standard input)") }
        // A pipe cannot be read twice: the second `-` would replay nothing, silently.
        if captures.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be given only once")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: .notice) }
        let configuration = try loadConfiguration(path: config, checkOnly: false)
        let status = Daemon.replay(
            configuration: configuration, captures: captures, logger: Logger(label: "swift-audit"))
        if status != .success { throw ExitCode(status) }
    }
}

/// Loads and checks a configuration file, printing every problem; without a path, the built-in
/// quick-start configuration (events to stdout).
func loadConfiguration(path: String?, checkOnly: Bool) throws -> DaemonConfiguration {
    guard let configuration = readConfiguration(path: path) else { throw ExitCode.configuration }
    if checkOnly {
        // What only the file system can say: whether each spool directory can be created or used.
        var problems = 0
        for output in configuration.outputs {
            guard let (directory, problem) = output.spoolDirectoryProblem else { continue }
            printError("\(path ?? "swift-audit"): output.\(output.name).spool_dir = \(directory): \(problem)")
            problems += 1
        }
        if problems > 0 {
            printError("swift-audit: \(path ?? ""): \(problems) problem(s); nothing was started")
            throw ExitCode.configuration
        }
    }
    return configuration
}

/// `loadConfiguration` without ArgumentParser's types, for the daemon's own start: nil when the
/// file is invalid (every problem printed).
func readConfiguration(path: String?) -> DaemonConfiguration? {
    guard let path else { return DaemonConfiguration.quickStart(stdout: true) }
    do {
        let parsed = try DaemonConfiguration.load(path: path)
        for warning in parsed.warnings { printError("swift-audit: warning: \(warning)") }
        return parsed.configuration
    } catch {
        for diagnostic in error.diagnostics { printError(diagnostic.description) }
        printError("swift-audit: \(path): \(error.diagnostics.count) problem(s); nothing was started")
        return nil
    }
}

/// Starts the daemon and returns its exit code. Both ways in (the plain command line matched by
/// `DaemonCommandLine`, and ArgumentParser's `run`) end here, so they behave the same.
func runDaemon(_ options: DaemonCommandLine) -> ExitStatus {
    let level = options.logLevel
    LoggingSystem.bootstrap { label in JournalLogHandler(label: label, level: level) }
    guard let configuration = readConfiguration(path: options.configurationPath) else {
        return .configuration
    }
    return Daemon.run(
        DaemonOptions(
            configuration: configuration, configurationPath: options.configurationPath,
            recordPath: options.recordPath, logger: Logger(label: "swift-audit")))
}
