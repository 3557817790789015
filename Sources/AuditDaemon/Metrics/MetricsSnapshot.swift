package import AuditNetlink
internal import CAuditThreads
import Synchronization

/// Everything the Prometheus metrics show, at one moment: a plain value that the control thread
/// builds from the counters it already reads each turn of its loop (for `STATUS=` and the loss
/// events), and that the metrics thread renders when it is scraped.
///
/// Nothing on the event path changes for metrics: the stages keep their atomics and published
/// statistics, and a scrape reads the copy the control thread last put on the ``MetricsBoard``.
package struct MetricsSnapshot: Sendable {
    /// The stages' counters.
    package var pipeline: PipelineSnapshot
    /// The loss counters, as the loss events report them.
    package var loss: LossCounters
    /// The kernel's last `AUDIT_GET` reading; nil before the first one answered.
    package var kernel: AuditStatus?
    /// Whether that reading named this process as the audit daemon.
    package var registered: Bool
    /// `queue_size` of each output, by name.
    package var queueCapacities: [String: Int]
    /// Reloads (SIGHUP) applied, and those that failed (the running configuration stayed).
    package var reloadsApplied: Int
    package var reloadsFailed: Int
    /// The ring's size and the most bytes it ever held.
    package var ringBytes: Int
    package var ringPeakBytes: Int
    /// Whether the process table is on (its metrics are left out otherwise).
    package var processContext: Bool
    /// When the daemon started and when this snapshot was taken, in milliseconds since the epoch.
    package var startTime: UInt64
    package var time: UInt64

    package init(
        pipeline: PipelineSnapshot = PipelineSnapshot(), loss: LossCounters = LossCounters(),
        kernel: AuditStatus? = nil, registered: Bool = false, queueCapacities: [String: Int] = [:],
        reloadsApplied: Int = 0, reloadsFailed: Int = 0, ringBytes: Int = 0, ringPeakBytes: Int = 0,
        processContext: Bool = false, startTime: UInt64 = 0, time: UInt64 = 0
    ) {
        self.pipeline = pipeline
        self.loss = loss
        self.kernel = kernel
        self.registered = registered
        self.queueCapacities = queueCapacities
        self.reloadsApplied = reloadsApplied
        self.reloadsFailed = reloadsFailed
        self.ringBytes = ringBytes
        self.ringPeakBytes = ringPeakBytes
        self.processContext = processContext
        self.startTime = startTime
        self.time = time
    }
}

/// Where the control thread leaves the latest ``MetricsSnapshot`` for the metrics thread: one
/// lock taken once per control-loop turn and once per scrape, never by the pipeline's threads.
package final class MetricsBoard: Sendable {
    private let latest = Mutex<MetricsSnapshot?>(nil)

    package init() {}

    /// Replaces the snapshot.
    package func publish(_ snapshot: MetricsSnapshot) { latest.withLock { $0 = snapshot } }

    /// The latest snapshot; nil until the daemon published one.
    package var snapshot: MetricsSnapshot? { latest.withLock { $0 } }
}

/// What the `swift_audit_build_info` metric and `swift-audit stats` say about this build.
package enum BuildInfo {
    /// The release this source tree is (raise it when releasing).
    package static let version = "0.1.0-dev"

    /// The git commit the binary was built from, when the build passed one (`make release` does:
    /// `-Xcc -DSWIFT_AUDIT_COMMIT=…`); "unknown" for a plain `swift build`.
    package static let commit: String = {
        let text = String(cString: caudit_build_commit())
        return text.isEmpty ? "unknown" : text
    }()
}
