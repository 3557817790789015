package import AuditEncoding
import Synchronization

/// One running output: its configured name, its queue, and whether its writer needs the
/// structured event beside the JSON line (syslog timestamps, GELF fields).
///
/// Generic over the queue so that the pipeline knows outputs only through ``OutputQueue`` while
/// the daemon, which made them, keeps their concrete type (the writers' `OutputWorker`) for its
/// counters, reopen and close.
package struct Output<Queue: OutputQueue>: Sendable {
    /// The name from the configuration (`output.NAME.…`).
    package var name: String
    /// The queue that feeds the writer.
    package var worker: Queue
    /// Whether items carry the `AuditEvent` (costs memory while queued; only structured writers).
    package var wantsEvent: Bool
    /// The JSON layout of the lines this output gets.
    package var format: EventFormat
    /// With the ECS format: the records' text in `event.original` too.
    package var includeRaw: Bool

    /// Wraps a queue.
    package init(
        name: String, worker: Queue, wantsEvent: Bool, format: EventFormat = .raw, includeRaw: Bool = false
    ) {
        self.name = name
        self.worker = worker
        self.wantsEvent = wantsEvent
        self.format = format
        self.includeRaw = includeRaw
    }
}

/// An output as the processing stage's hot loop takes it: the queue behind the protocol, and
/// whether it wants the structured event.
///
/// Not generic, so that the stage's per-event code is compiled for one concrete layout: the
/// daemon's queue type is in a module the pipeline does not see, so generic code over it would
/// run unspecialized (every output copied through value witnesses, per event).
package struct OutputTarget: Sendable {
    /// The output's name, which the filter plan uses.
    package let name: String
    /// The output's queue.
    package let queue: any OutputQueue
    /// Whether items carry the `AuditEvent`.
    package let wantsEvent: Bool
    /// The JSON layout of the lines it gets.
    package let format: EventFormat
    /// With the ECS format: the records' text in `event.original` too.
    package let includeRaw: Bool

    package init(_ output: Output<some OutputQueue>) {
        name = output.name
        queue = output.worker
        wantsEvent = output.wantsEvent
        format = output.format
        includeRaw = output.includeRaw
    }
}

/// The outputs in force. The processing thread takes a snapshot once per batch; a reload swaps
/// the whole list at once, so no batch ever sees half of an old and half of a new configuration.
package final class OutputSet<Queue: OutputQueue>: Sendable {
    /// The outputs, and the same as the stage's targets (made once per change, not per batch).
    private let outputs: Mutex<(outputs: [Output<Queue>], targets: [OutputTarget])>
    /// Status lines each output's queue refused, by output name (replaced outputs included).
    private let refusedStatusLines = Mutex<[String: Int]>([:])

    /// Starts with `outputs`.
    package init(_ outputs: [Output<Queue>]) {
        self.outputs = Mutex((outputs, outputs.map(OutputTarget.init)))
    }

    /// The current outputs.
    package func snapshot() -> [Output<Queue>] {
        outputs.withLock { $0.outputs }
    }

    /// The current outputs as the processing stage writes to them.
    package func targets() -> [OutputTarget] {
        outputs.withLock { $0.targets }
    }

    /// Installs `newOutputs` and returns the previous list, so the caller can close the workers
    /// that are no longer used (after the processing thread has moved on to the new list).
    @discardableResult
    package func replace(with newOutputs: [Output<Queue>]) -> [Output<Queue>] {
        let targets = newOutputs.map(OutputTarget.init)
        return outputs.withLock { current in
            let old = current.outputs
            current = (newOutputs, targets)
            return old
        }
    }

    /// Offers an already-encoded line (a daemon status or loss event) to every output.
    ///
    /// A line that an output's full queue refuses is counted here too (see
    /// `refusedStatusLines(of:)`), so that the loss accounting can leave it out: it is not an audit
    /// event. Counted as one, every loss report a dead output drops would be a new drop to report,
    /// one loss event per `loss_report_interval` for as long as the output stays dead.
    package func broadcast(_ line: [UInt8]) {
        let item = OutputItem(line: line)
        for output in snapshot() where !output.worker.enqueue(item, deferringWake: false) {
            refusedStatusLines.withLock { $0[output.name, default: 0] += 1 }
        }
    }

    /// The status lines that the queue of the output named `name` refused since start, also
    /// while an earlier output had that name. They are part of its worker's `dropped` count.
    package func refusedStatusLines(of name: String) -> Int {
        refusedStatusLines.withLock { $0[name] ?? 0 }
    }
}
