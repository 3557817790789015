package import AuditConfig
import AuditPipeline
import AuditWriters

/// Works out, for a reload, which running outputs stay, which start anew, and which retire; and
/// starts the new ones all or none.
///
/// An output whose configuration did not change keeps its worker (and its queue, so nothing
/// queued is lost and its counters go on). A new or changed output starts a new worker. If any
/// of them cannot start, those already started are closed again and nothing changes: a reload
/// applies whole or not at all.
package struct OutputReconciler {
    /// The outcome of a reconciliation that succeeded.
    package struct Plan {
        /// The new list, in the order of the new configuration.
        package var outputs: [DaemonOutput]
        /// Running outputs the new list no longer holds: to close once the processing thread
        /// has moved on to the new list.
        package var retiring: [DaemonOutput]
        /// Outputs started for this reload.
        package var started: [DaemonOutput]
        /// Kept outputs that must read their files again: TLS outputs, whose certificates may
        /// have been replaced although the configuration names the same files. The daemon asks
        /// them to reopen (their writers build a new TLS context and reconnect; the queue stays).
        package var rereading: [DaemonOutput] = []
    }

    /// Starts one output; the daemon's is ``OutputFactory/start(_:logger:)``.
    package var start: (OutputConfiguration) throws(DaemonError) -> DaemonOutput
    /// Closes outputs that were started but are not used after all.
    package var close: ([DaemonOutput]) -> Void

    package init(
        start: @escaping (OutputConfiguration) throws(DaemonError) -> DaemonOutput,
        close: @escaping ([DaemonOutput]) -> Void
    ) {
        self.start = start
        self.close = close
    }

    /// The plan that takes `running` (started from `runningConfigurations`) to `next`.
    package func reconcile(
        running: [DaemonOutput], runningConfigurations: [String: OutputConfiguration], next: [OutputConfiguration]
    ) throws(DaemonError) -> Plan {
        let byName = Dictionary(running.map { ($0.name, $0) }) { first, _ in first }
        var outputs: [DaemonOutput] = []
        var started: [DaemonOutput] = []
        var rereading: [DaemonOutput] = []
        for configuration in next where configuration.enabled {
            if let old = byName[configuration.name], runningConfigurations[configuration.name] == configuration {
                outputs.append(old)
                if configuration.tlsConfiguration != nil { rereading.append(old) }
                continue
            }
            do {
                let output = try start(configuration)
                started.append(output)
                outputs.append(output)
            } catch {
                close(started)
                throw error
            }
        }
        let kept = Set(outputs.map { ObjectIdentifier($0.worker) })
        let retiring = running.filter { !kept.contains(ObjectIdentifier($0.worker)) }
        return Plan(outputs: outputs, retiring: retiring, started: started, rereading: rereading)
    }
}
