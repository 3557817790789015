import AuditEvents
package import AuditPipeline
package import AuditWriters

/// The counters of every stage at one moment: what the loss accounting, the status line and the
/// stop event are computed from.
///
/// A plain value, read from the running stages by the daemon (`RunningDaemon.snapshot()`), so the
/// computations on it are tested without threads, sockets or a kernel.
package struct PipelineSnapshot: Sendable {
    /// One output's counters.
    package struct OutputCounters: Sendable {
        /// The output's configured name.
        package var name: String
        /// Its worker's counters.
        package var writer: WriterCounters
        /// Daemon status lines (loss, reload… events) refused by the queues of every worker this
        /// output had since start (a reload may replace its worker): counted in the workers'
        /// `dropped`, but not audit events.
        package var refusedStatusLines: Int

        package init(name: String, writer: WriterCounters, refusedStatusLines: Int = 0) {
            self.name = name
            self.writer = writer
            self.refusedStatusLines = refusedStatusLines
        }
    }

    /// The kernel reader's counters (all zero in a replay, which has no reader).
    package var reader: KernelReader.Counters
    /// The processing stage's counters.
    package var processing: ProcessorStatistics
    /// Times the reader waited for ring space.
    package var ringStalls: Int
    /// The outputs in force, in configuration order.
    package var outputs: [OutputCounters]

    package init(
        reader: KernelReader.Counters = .init(), processing: ProcessorStatistics = .init(), ringStalls: Int = 0,
        outputs: [OutputCounters] = []
    ) {
        self.reader = reader
        self.processing = processing
        self.ringStalls = ringStalls
        self.outputs = outputs
    }
}
