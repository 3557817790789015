package import AuditConfig
import AuditPipeline
package import AuditWriters
package import Logging

/// The outputs as a component: every enabled output's writer and worker thread, in one
/// ``OutputSet``. Started first and stopped last, so every stage that feeds them finds them open.
package final class OutputStage: Component {
    package let name = "outputs"
    /// The outputs in force; a reload swaps the list inside.
    package let set = DaemonOutputSet([])
    private let configurations: [OutputConfiguration]
    private let drainTimeout: Duration
    private let logger: Logger
    /// What each output's close reported, in order, once stopped.
    package private(set) var closeReports: [(name: String, report: WriterCloseReport)] = []

    /// - Parameter drainTimeout: how long each output may take to write what it holds when it
    ///   closes.
    package init(_ configurations: [OutputConfiguration], drainTimeout: Duration, logger: Logger) {
        self.configurations = configurations
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    /// Opens every writer before anything reads the kernel: a path that cannot be written is an
    /// error to report now, before the kernel starts sending records.
    package func start() throws(DaemonError) {
        do {
            set.replace(with: try OutputFactory.start(configurations, logger: logger))
        } catch {
            throw DaemonError("\(error)")
        }
    }

    /// Closes every output, each writing what it holds (up to the drain timeout). A stop never
    /// fails for an output that could not drain (a dead collector): its loss is logged and counted.
    package func drain() { close(drainTimeout: drainTimeout) }

    /// Closes what a failed start left open (nothing was written to it yet), without waiting long.
    package func stop() { close(drainTimeout: .seconds(1)) }

    private func close(drainTimeout: Duration) {
        let closing = set.replace(with: [])
        guard !closing.isEmpty else { return }
        let reports = OutputWorker.closeAll(closing.map(\.worker), drainTimeout: drainTimeout)
        closeReports = zip(closing, reports).map { ($0.name, $1) }
        for (output, report) in zip(closing, reports) where !report.finished || report.counters.droppedAtShutdown > 0 {
            logger.error(
                "output did not drain at shutdown",
                metadata: [
                    "output": "\(output.name)", "dropped_at_shutdown": "\(report.counters.droppedAtShutdown)",
                ])
        }
    }
}
