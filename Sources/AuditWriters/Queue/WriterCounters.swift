/// The limits and timings of one output's queue.
package struct OutputQueueConfiguration: Sendable, Hashable {
    /// Most items waiting for the writer, the batch in its hands included. Beyond it, new items
    /// are dropped and counted (`WriterCounters.dropped`); the caller is never blocked.
    package var capacity: Int
    /// Most bytes of JSON waiting, likewise (one oversized item is still accepted into an empty
    /// queue, so a huge event is not unwritable by construction).
    package var maxBytes: Int
    /// Most items handed to one `write` call (one `write(2)` for files).
    package var maxItemsPerWrite: Int
    /// The first wait after a failed write; doubled after each further failure…
    package var retryInitialDelay: Duration
    /// …up to this (keep it short: it bounds how late the output resumes after recovery).
    package var retryMaximumDelay: Duration
    /// How long an idle worker, once woken by a new item, waits for more before writing
    /// (cut short when a full write's worth is queued). At a moderate rate this turns one
    /// wake-up and one `write(2)` per event into one per window; it adds at most this much
    /// latency. Zero (the default) writes what is queued as soon as the thread wakes: the
    /// daemon's processing stage wakes a writer once per batch it hands over (see
    /// `OutputWorker.enqueue(_:deferringWake:)`), which batches better than any fixed delay.
    package var batchDelay: Duration
    /// The thread's name in `top -H` (at most 15 bytes are kept).
    package var threadName: String

    /// The defaults: 8192 items, 32 MiB, 1024 items per write, retries from 50 ms up to 1 s,
    /// no batch delay.
    package init(
        capacity: Int = 8192,
        maxBytes: Int = 32 << 20,
        maxItemsPerWrite: Int = 1024,
        retryInitialDelay: Duration = .milliseconds(50),
        retryMaximumDelay: Duration = .seconds(1),
        batchDelay: Duration = .zero,
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
package struct WriterCounters: Sendable, Hashable {
    /// The writer's name.
    package var name: String
    /// Items accepted into the queue.
    package var enqueued: Int
    /// Items refused because the queue was full or closed: lost, and reported.
    package var dropped: Int
    /// Items the writer completed.
    package var written: Int
    /// Items the writer refused for good (`WriterError.isRetryable == false`).
    package var rejected: Int
    /// Items still queued when the close deadline passed.
    package var droppedAtShutdown: Int
    /// Items waiting now, the batch being written included.
    package var queued: Int
    /// The most items ever waiting.
    package var peakQueued: Int
    /// Bytes written, framing included.
    package var bytes: Int
    /// Failed `write` calls (each retry counts).
    package var writeErrors: Int
    /// Successful reopens.
    package var reopens: Int
    /// Failed reopens (retried with backoff).
    package var reopenErrors: Int
    /// Failed flushes, syncs and other non-fatal warnings.
    package var warnings: Int
    /// Size rotations done.
    package var rotations: Int
    /// Times the writer came back after failing.
    package var recoveries: Int
    /// What network writers did besides writing items: reconnections, oversize handling, refused
    /// datagrams (all zero for files and stdout).
    package var activity: WriterActivity
    /// Whether the writer is failing right now (retrying with backoff).
    package var isFailing: Bool
    /// The most recent error or warning.
    package var lastError: WriterError?
    /// The disk spool (`spool_dir`), when the output has one.
    package var spool: SpoolStatus?

    /// All zeros, for `name`.
    package init(name: String) {
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
        activity = WriterActivity()
        isFailing = false
        lastError = nil
        spool = nil
    }
}

/// A change of an output's health, delivered on the output's own thread (keep the handler
/// short and non-blocking: enqueue a loss event, log a line).
package enum WriterNotice: Sendable, Hashable {
    /// The writer started failing; the worker retries with backoff and counts drops meanwhile.
    case failing(writer: String, error: WriterError)
    /// The writer works again (at least one item got through, even if the same write then
    /// failed anew): how many items were dropped at the queue since its last successful write,
    /// how many writes failed, and how long since the first failure.
    case recovered(writer: String, droppedWhileFailing: Int, failedWrites: Int, duration: Duration)
    /// A problem that did not stop writing (rotation, sync, reopen failure, torn line).
    case warning(writer: String, error: WriterError)
    /// The destination was reopened on request.
    case reopened(writer: String)
}

/// How `OutputWorker.close(drainTimeout:)` ended.
package struct WriterCloseReport: Sendable, Hashable {
    /// The final counters.
    package var counters: WriterCounters
    /// True when the worker finished (drained or gave up at the deadline, then closed the
    /// writer); false when it was still blocked after the grace period and was left behind.
    package var finished: Bool

    package init(counters: WriterCounters, finished: Bool) {
        self.counters = counters
        self.finished = finished
    }
}

/// Things a writer did besides writing items, reported with each `write` (in `WriteOutcome` or in
/// the thrown `WriterError`) and summed in `WriterCounters.activity` for `STATUS=` and loss events.
///
/// The oversize counts say how an event longer than the destination allows was handled; none of
/// them is silent (the output carries a marker, or the item is counted as rejected too).
package struct WriterActivity: Sendable, Hashable {
    /// Connections established after the first one (the collector came back, a stream was reset).
    package var reconnects: Int
    /// Connection attempts that failed (refused, timed out, name not resolved).
    package var connectFailures: Int
    /// Events sent as several marked messages (syslog `oversize = split`).
    package var oversizeSplit: Int
    /// Events sent shortened, with a marker (syslog `truncate`, GELF documents over the limit).
    package var oversizeTruncated: Int
    /// Events not sent because they were too long (syslog `drop`); also counted as `rejected`.
    package var oversizeDropped: Int
    /// Events sent over TCP because they did not fit a UDP datagram (syslog `oversize = tcp`).
    package var oversizeRerouted: Int
    /// UDP or local datagrams the receiving host refused (ECONNREFUSED: no one listening). Each
    /// refusal means at least one earlier datagram was lost; ICMP rate limits make it a lower bound.
    package var refusedDatagrams: Int
    /// Events sent again on a new connection because the one they were sent on was lost before
    /// the collector acknowledged them (RELP): the collector may hold each of them twice, never
    /// none. Duplicates carry the same sequence number, timestamp and host name.
    package var resent: Int
    /// Negative acknowledgements (a RELP `rsp` other than 200, such as rsyslog's 500 when it
    /// cannot take the message); the event is sent again after the retry backoff.
    package var refusedByCollector: Int

    /// All zeros.
    package init(
        reconnects: Int = 0,
        connectFailures: Int = 0,
        oversizeSplit: Int = 0,
        oversizeTruncated: Int = 0,
        oversizeDropped: Int = 0,
        oversizeRerouted: Int = 0,
        refusedDatagrams: Int = 0,
        resent: Int = 0,
        refusedByCollector: Int = 0
    ) {
        self.reconnects = reconnects
        self.connectFailures = connectFailures
        self.oversizeSplit = oversizeSplit
        self.oversizeTruncated = oversizeTruncated
        self.oversizeDropped = oversizeDropped
        self.oversizeRerouted = oversizeRerouted
        self.refusedDatagrams = refusedDatagrams
        self.resent = resent
        self.refusedByCollector = refusedByCollector
    }

    /// True when nothing happened.
    package var isEmpty: Bool { self == WriterActivity() }

    /// Adds `other`'s counts to `total`.
    package static func += (total: inout WriterActivity, other: WriterActivity) {
        total.reconnects += other.reconnects
        total.connectFailures += other.connectFailures
        total.oversizeSplit += other.oversizeSplit
        total.oversizeTruncated += other.oversizeTruncated
        total.oversizeDropped += other.oversizeDropped
        total.oversizeRerouted += other.oversizeRerouted
        total.refusedDatagrams += other.refusedDatagrams
        total.resent += other.resent
        total.refusedByCollector += other.refusedByCollector
    }
}
