import ArgumentParser
import AuditConfig
import AuditDaemon
import AuditSystem

/// `swift-audit stats`: the running daemon's counters for a person, from its metrics.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the running daemon's counters: events, kernel, loss, and each output.",
        discussion: """
            Reads the daemon's Prometheus metrics, the numbers Prometheus itself would see, from \
            metrics_listen (or, when only that is set, metrics_textfile) of --config, or from \
            --from; metrics must be switched on in the configuration (both are off by default). \
            The numbers are at most loss_report_interval old.

            Examples:
              swift-audit stats                                  (the configuration of the unit)
              swift-audit stats --from 127.0.0.1:9477
              swift-audit stats --from unix:/run/swift-audit/metrics.sock
              swift-audit stats --from /var/lib/prometheus/node-exporter/swift-audit.prom
              swift-audit stats --raw | grep loss_total          (the exposition as served)
            """
    )

    @Option(name: [.short, .long], help: "The daemon's configuration file.")
    var config: String = "/etc/swift-audit/swift-audit.conf"

    @Option(
        help: ArgumentHelp(
            "Where to read the metrics instead: 127.0.0.1:PORT, [::1]:PORT, unix:PATH or a .prom file.",
            valueName: "SOURCE"))
    var from: String?

    @Flag(help: "Print the exposition text as served, not the summary.")
    var raw = false

    func run() throws {
        let (text, source) = try fetch()
        if raw {
            print(text, terminator: "")
            return
        }
        print(MetricsReport(parsing: text).text(source: source), terminator: "")
    }

    /// The exposition and where it came from.
    private func fetch() throws -> (String, String) {
        var listen: MetricsListenAddress?
        var textfile: String?
        if let from {
            if from.hasPrefix("/") && from.hasSuffix(".prom") {
                textfile = from
            } else {
                switch MetricsListenAddress.parsing(from) {
                case .success(let address): listen = address
                case .failure(let problem):
                    throw ValidationError("--from \(from): \(problem) (or the path of a .prom file)")
                }
            }
        } else {
            guard let configuration = readConfiguration(path: config) else { throw ExitCode.configuration }
            listen = configuration.metrics.listen
            textfile = configuration.metrics.textfile
            if listen == nil && textfile == nil {
                printError(
                    "swift-audit: metrics are off in \(config): set metrics_listen (or metrics_textfile), restart "
                        + "the daemon, or give --from")
                throw ExitCode.failure
            }
        }
        if let listen {
            do { return (try MetricsClient.fetch(listen), "\(listen)") } catch {
                printError("swift-audit: cannot read the metrics from \(error) (is the daemon running?)")
                throw ExitCode.failure
            }
        }
        let path = textfile ?? ""
        guard let text = SystemFile.readText(path: path, limit: 64 << 20) else {
            printError("swift-audit: cannot read \(path) (is the daemon running? it removes the file at stop)")
            throw ExitCode.failure
        }
        return (text, path)
    }
}
