package import AuditPipeline
package import AuditWriters

/// The daemon's outputs: the pipeline's outputs on the writers' queues (`OutputWorker`), whose
/// counters, reopen and close the control plane uses.
package typealias DaemonOutput = Output<OutputWorker>

/// The set of outputs in force, as the daemon's processing stage writes to them.
package typealias DaemonOutputSet = OutputSet<OutputWorker>
