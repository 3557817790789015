/// The limits and timings of one output's queue.
public struct OutputQueueConfiguration: Sendable, Hashable {
    /// Most items waiting for the writer, the batch in its hands included. Beyond it, new items
    /// are dropped and counted (`WriterCounters.dropped`); the caller is never blocked.
    public var capacity: Int
    /// Most bytes of JSON waiting, likewise (one oversized item is still accepted into an empty
    /// queue, so a huge event is not unwritable by construction).
    public var maxBytes: Int
    /// Most items handed to one `write` call (one `write(2)` for files).
    public var maxItemsPerWrite: Int
    /// The first wait after a failed write; doubled after each further failure…
    public var retryInitialDelay: Duration
    /// …up to this (keep it short: it bounds how late the output resumes after recovery).
    public var retryMaximumDelay: Duration
    /// How long an idle worker, once woken by a new item, waits for more before writing
    /// (cut short when a full write's worth is queued). At a moderate rate this turns one
    /// wake-up and one `write(2)` per event into one per window; it adds at most this much
    /// latency. Zero writes each item as soon as the thread wakes.
    public var batchDelay: Duration
    /// The thread's name in `top -H` (at most 15 bytes are kept).
    public var threadName: String

    /// The defaults: 8192 items, 32 MiB, 1024 items per write, retries from 50 ms up to 1 s,
    /// a 500 µs batch delay.
    public init(
        capacity: Int = 8192,
        maxBytes: Int = 32 << 20,
        maxItemsPerWrite: Int = 1024,
        retryInitialDelay: Duration = .milliseconds(50),
        retryMaximumDelay: Duration = .seconds(1),
        batchDelay: Duration = .microseconds(500),
        threadName: String = "audit-output"
    ) {
        self.capacity = capacity
        self.maxBytes = maxBytes
        self.maxItemsPerWrite = maxItemsPerWrite
        self.retryInitialDelay = retryInitialDelay
        self.retryMaximumDelay = retryMaximumDelay
        self.batchDelay = batchDelay
        self.threadName = threadName
    }
}

/// One output's counters at one moment (for `STATUS=`, loss events and tests).
///
/// Every item offered to `enqueue` ends in exactly one bucket:
/// `enqueued + dropped` = offered, and
/// `enqueued` = `written + rejected + droppedAtShutdown + queued`.
public struct WriterCounters: Sendable, Hashable {
    /// The writer's name.
    public var name: String
    /// Items accepted into the queue.
    public var enqueued: Int
    /// Items refused because the queue was full or closed: lost, and reported.
    public var dropped: Int
    /// Items the writer completed.
    public var written: Int
    /// Items the writer refused for good (`WriterError.isRetryable == false`).
    public var rejected: Int
    /// Items still queued when the close deadline passed.
    public var droppedAtShutdown: Int
    /// Items waiting now, the batch being written included.
    public var queued: Int
    /// The most items ever waiting.
    public var peakQueued: Int
    /// Bytes written, framing included.
    public var bytes: Int
    /// Failed `write` calls (each retry counts).
    public var writeErrors: Int
    /// Successful reopens.
    public var reopens: Int
    /// Failed reopens (retried with backoff).
    public var reopenErrors: Int
    /// Failed flushes, syncs and other non-fatal warnings.
    public var warnings: Int
    /// Size rotations done.
    public var rotations: Int
    /// Times the writer came back after failing.
    public var recoveries: Int
    /// Whether the writer is failing right now (retrying with backoff).
    public var isFailing: Bool
    /// The most recent error or warning.
    public var lastError: WriterError?

    /// All zeros, for `name`.
    public init(name: String) {
        self.name = name
        enqueued = 0
        dropped = 0
        written = 0
        rejected = 0
        droppedAtShutdown = 0
        queued = 0
        peakQueued = 0
        bytes = 0
        writeErrors = 0
        reopens = 0
        reopenErrors = 0
        warnings = 0
        rotations = 0
        recoveries = 0
        isFailing = false
        lastError = nil
    }
}

/// A change of an output's health, delivered on the output's own thread (keep the handler
/// short and non-blocking: enqueue a loss event, log a line).
public enum WriterNotice: Sendable, Hashable {
    /// The writer started failing; the worker retries with backoff and counts drops meanwhile.
    case failing(writer: String, error: WriterError)
    /// The writer works again: how many items were dropped at the queue since its last
    /// successful write, how many writes failed, and how long since the first failure.
    case recovered(writer: String, droppedWhileFailing: Int, failedWrites: Int, duration: Duration)
    /// A problem that did not stop writing (rotation, sync, reopen failure, torn line).
    case warning(writer: String, error: WriterError)
    /// The destination was reopened on request.
    case reopened(writer: String)
}

/// How `OutputWorker.close(drainTimeout:)` ended.
public struct WriterCloseReport: Sendable, Hashable {
    /// The final counters.
    public var counters: WriterCounters
    /// True when the worker finished (drained or gave up at the deadline, then closed the
    /// writer); false when it was still blocked after the grace period and was left behind.
    public var finished: Bool
}
