package import Logging

/// The daemon's own command line, `swift-audit run [--config FILE] [--record FILE] [--log-level L]`,
/// recognised without the argument parser.
///
/// Why: ArgumentParser builds its command tree by reflection, and the code and metadata that
/// touches stay resident for the daemon's whole life. Measured on the 2-vCPU VM (static release
/// builds, `/usr/bin/time -f %M`): a program with one ArgumentParser option peaks at 9.3 MiB, the
/// same program without the parser at 5.0 MiB; the daemon's budget is 12 MiB. So the command line
/// that systemd and operators use to start the daemon is matched here, exactly and nothing more;
/// anything else (other subcommands, `--help`, `--check-config`, a repeated or unknown option, a
/// value that looks like an option, an invalid log level) returns nil and goes through
/// ArgumentParser, which owns the help text and every error message.
package struct DaemonCommandLine: Hashable, Sendable {
    /// `--config`/`-c`: the configuration file; nil runs the built-in quick-start configuration.
    package var configurationPath: String?
    /// `--record`: where to record every datagram for `swift-audit replay`.
    package var recordPath: String?
    /// `--log-level`: the daemon's own log level.
    package var logLevel: Logger.Level

    /// The options as given (for the ArgumentParser path, which validated them already).
    package init(configurationPath: String?, recordPath: String?, logLevel: Logger.Level) {
        self.configurationPath = configurationPath
        self.recordPath = recordPath
        self.logLevel = logLevel
    }

    /// Matches `arguments` (without the program name), or returns nil when they are anything but a
    /// plain, valid `run` command line.
    package init?(arguments: [String]) {
        guard arguments.first == "run" else { return nil }
        var configurationPath: String?
        var recordPath: String?
        var logLevel: Logger.Level?
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            var name = argument
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else {
                // ArgumentParser does not take a value that starts with "-" (it reports it).
                guard let next = rest.first, !next.hasPrefix("-") else { return nil }
                value = rest.popFirst()
            }
            guard let value, !value.isEmpty else { return nil }
            switch name {
            case "--config", "-c":
                guard configurationPath == nil else { return nil }
                configurationPath = value
            case "--record":
                guard recordPath == nil else { return nil }
                recordPath = value
            case "--log-level":
                guard logLevel == nil, let level = Logger.Level(rawValue: value) else { return nil }
                logLevel = level
            default:
                return nil
            }
        }
        self.init(configurationPath: configurationPath, recordPath: recordPath, logLevel: logLevel ?? .info)
    }
}
