package import AuditConfig
import AuditSystem
package import Logging

/// The metrics thread as a component: binds `metrics_listen` and tries the first textfile write at
/// start, so that a port in use or a directory that cannot be written stops the start with the
/// reason (before the kernel's settings change), rather than leaving the metrics silently off.
package final class MetricsStage: Component {
    package let name = "metrics"
    private let settings: MetricsSettings
    private let board: MetricsBoard
    private let logger: Logger
    private var server: MetricsServer?

    package init(_ settings: MetricsSettings, board: MetricsBoard, logger: Logger) {
        self.settings = settings
        self.board = board
        self.logger = logger
    }

    package func start() throws(DaemonError) {
        if case .unix(let path) = settings.listen {
            for directory in try OutputDirectories.create(forFile: path) {
                logger.info("created the metrics socket's directory", metadata: ["directory": "\(directory)"])
            }
        }
        if let textfile = settings.textfile {
            do { try MetricsTextfile.write(MetricsText.render(board.snapshot), to: textfile) } catch {
                throw DaemonError("metrics_textfile = \(textfile): cannot write it: \(error)")
            }
        }
        let server: MetricsServer
        do { server = try MetricsServer(settings, board: board, logger: logger) } catch {
            throw DaemonError("\(error)")
        }
        do { try server.start() } catch {
            server.stop()
            throw DaemonError("\(error)")
        }
        self.server = server
        var metadata: Logger.Metadata = [:]
        if let listen = settings.listen { metadata["listen"] = "\(listen)" }
        if let textfile = settings.textfile { metadata["textfile"] = "\(textfile)" }
        logger.info("serving Prometheus metrics", metadata: metadata)
    }

    package func stop() {
        server?.stop()
        server = nil
    }
}
