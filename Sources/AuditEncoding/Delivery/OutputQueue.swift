/// One output's queue, as the processing stage sees it: where it hands encoded events.
///
/// The seam between the pipeline and the outputs. It is defined here, below both, so that the
/// module graph follows the data path: the processing stage (`AuditPipeline`) hands items to
/// this protocol without knowing the writers, and the writers (`AuditWriters`, whose
/// `OutputWorker` is the real queue) never see the pipeline. Tests can feed the stage into a
/// queue of their own.
package protocol OutputQueue: AnyObject, Sendable {
    /// Offers one item; false when the queue refused it (full: counted as a drop by the queue).
    /// With `deferringWake`, the writer is not woken for it: the stage wakes it once per batch
    /// with `wakeIfWaiting()`.
    @discardableResult
    func enqueue(_ item: OutputItem, deferringWake: Bool) -> Bool
    /// Offers items in order; returns how many the queue took.
    @discardableResult
    func enqueue(batch items: [OutputItem], deferringWake: Bool) -> Int
    /// Wakes the writer if it waits for items.
    func wakeIfWaiting()
    /// How far the writer is behind, for pacing the stage (`OutputPacer`).
    var progress: OutputQueueProgress { get }
}

/// A queue's backlog and its writer's progress at one moment.
package struct OutputQueueProgress: Sendable, Hashable {
    /// Items waiting.
    package var queued: Int
    /// Items the writer has finished with (written or rejected), since the queue started.
    package var completed: Int
    /// Whether the writer is failing now (retrying with backoff): not waited for.
    package var isFailing: Bool

    package init(queued: Int, completed: Int, isFailing: Bool) {
        self.queued = queued
        self.completed = completed
        self.isFailing = isFailing
    }
}
