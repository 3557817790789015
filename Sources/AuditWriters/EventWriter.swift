package import AuditEncoding
/// An output: the file, stdout, and later syslog and GELF writers all conform.
///
/// # Threading and ownership
/// A writer is handed to one `OutputWorker`, which calls it from its own thread only; nothing
/// else may use that writer (or a copy of it: writers are structs holding descriptors) afterwards.
/// A writer may block in its calls, since that only delays its own queue, but it should give up
/// after a bounded time (a stall timeout, a send timeout) with a retryable error, so that
/// `OutputWorker.close(drainTimeout:)` can end it.
///
/// # Errors and progress
/// `write` gets the items in order and either writes them all or throws a `WriterError` whose
/// `completedItems` says how many of the first items are done. The worker counts those as
/// written and then:
/// - retryable error: waits (exponential backoff) and calls `write` again with the rest;
/// - not retryable: drops the next item (`items[completedItems]`) as rejected and goes on.
///
/// A writer must never leave half an item in its output: it either completes a partial write
/// later (and then counts that item as completed now) or undoes it.
package protocol EventWriter: Sendable {
    /// A short name for logs, counters and `STATUS=` ("file /var/log/audit/events.json").
    var name: String { get }

    /// How often the worker should call `performMaintenance()` while idle or busy; nil for never.
    var maintenanceInterval: Duration? { get }

    /// Writes `items` in order, ideally with one system call per batch.
    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome

    /// Pushes everything written so far to its destination (for files: `fsync`/`fdatasync`).
    mutating func flush() throws(WriterError)

    /// Reopens the destination (SIGUSR1 after logrotate renamed a file); on failure the writer
    /// keeps its old destination and throws.
    mutating func reopen() throws(WriterError)

    /// Timed work: periodic sync, reconnect attempts, keep-alives.
    mutating func performMaintenance() throws(WriterError)

    /// Flushes and releases the destination. Called once, last. `unwrittenItems` in a thrown
    /// error counts items already reported completed that could not be finished after all.
    mutating func close() throws(WriterError)

    /// The disk spool's status, published by a `SpoolingWriter` for `STATUS=` and loss events;
    /// nil for writers without a spool. Read once, when the worker starts.
    var spoolGauges: SpoolGauges? { get }
}

extension EventWriter {
    /// No periodic work by default.
    package var maintenanceInterval: Duration? { nil }

    /// Nothing to do by default.
    package mutating func performMaintenance() throws(WriterError) {}

    /// Nothing to reopen by default.
    package mutating func reopen() throws(WriterError) {}

    /// No spool by default.
    package var spoolGauges: SpoolGauges? { nil }
}

/// What one successful `write` did.
package struct WriteOutcome: Sendable, Hashable {
    /// Bytes handed to the destination, framing included.
    package var bytes: Int
    /// Files rotated during this write (size rotation).
    package var rotations: Int
    /// A problem that did not stop the write (a failed rotation, a failed sync): reported and
    /// counted, not retried.
    package var warning: WriterError?
    /// Reconnections and oversize handling since the writer last reported (added to
    /// `WriterCounters.activity`).
    package var activity: WriterActivity

    /// Describes a write.
    package init(
        bytes: Int = 0, rotations: Int = 0, warning: WriterError? = nil, activity: WriterActivity = WriterActivity()
    ) {
        self.bytes = bytes
        self.rotations = rotations
        self.warning = warning
        self.activity = activity
    }
}
