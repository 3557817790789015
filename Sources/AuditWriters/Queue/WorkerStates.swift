internal import AuditSystem

/// The decisions of an output worker's thread, as values: whether the writer is delivering or
/// failing, how long to back off, when to give up at shutdown, and when timed work is due.
///
/// They take outcomes and times (monotonic nanoseconds) and say what to do; the thread
/// (`WorkerLoop`) keeps the locking, parking and writer calls and carries that out. Nothing here
/// reads a clock: a time is passed in, lazily (`@autoclosure`) where the thread did not read the
/// clock before, so the write path costs what it did.

/// Whether the writer gets items through, and what a write's outcome means for the notices, the
/// retry and the items in hand.
///
/// healthy ──retryable error──▶ failing(since, droppedAtStart, errors) ──items written──▶ healthy
/// A non-retryable error rejects one item and warns, in either state, and changes neither.
package struct DeliveryState: Sendable, Hashable {
    /// The failure in progress.
    package struct Failure: Sendable, Hashable {
        /// When it started.
        package var since: UInt64
        /// The queue's drop count at the last good write.
        package var droppedAtStart: Int
        /// Writes that failed retryably since it started.
        package var errors: Int

        package init(since: UInt64, droppedAtStart: Int, errors: Int) {
            self.since = since
            self.droppedAtStart = droppedAtStart
            self.errors = errors
        }
    }

    package enum Phase: Sendable, Hashable {
        case healthy
        case failing(Failure)
    }

    /// What to do after a write that threw.
    package enum AfterError: Sendable, Hashable {
        /// A non-retryable error: finish `rejecting` items (1, or 0 when the writer completed all
        /// of them before throwing) as rejected, send `warning`, and go on with the next items.
        case skip(rejecting: Int, warning: WriterNotice)
        /// A retryable error: send `failing` when it is not nil (this error starts a failure: the
        /// counters say failing from now on), wait until `retryAt`, then write the same items again.
        case retry(at: UInt64, failing: WriterNotice?)
    }

    /// The actions for one write that threw, in order: `recovered`, then `next`.
    package struct ErrorActions: Sendable, Hashable {
        /// `.recovered`, when items got through before the error and the writer was failing.
        package var recovered: WriterNotice?
        package var next: AfterError

        package init(recovered: WriterNotice?, next: AfterError) {
            self.recovered = recovered
            self.next = next
        }
    }

    package let writer: String
    package let initialDelay: UInt64
    package let maximumDelay: UInt64
    package private(set) var phase: Phase = .healthy
    /// The wait before the next retry: `initialDelay`, doubled after each retryable error up to
    /// `maximumDelay`, back to `initialDelay` after each good write.
    package private(set) var delay: UInt64
    /// The queue's drop count at the last good write.
    package private(set) var droppedAtLastSuccess = 0
    /// When the worker stops writing and drops what it holds (closing); nil while not closing.
    package private(set) var closeDeadline: UInt64?

    package init(writer: String, initialDelay: Duration, maximumDelay: Duration) {
        self.writer = writer
        self.initialDelay = initialDelay.clampedNanoseconds
        self.maximumDelay = max(self.initialDelay, maximumDelay.clampedNanoseconds)
        self.delay = self.initialDelay
    }

    package var isFailing: Bool {
        if case .failing = phase { true } else { false }
    }

    /// Items were written: ends a failure in progress (counted and reported: the returned
    /// `.recovered`) and resets the backoff. `droppedNow` is the queue's drop count after the
    /// write; `now` is read only when a failure ends.
    package mutating func wrote(droppedNow: Int, now: @autoclosure () -> UInt64) -> WriterNotice? {
        var recovered: WriterNotice?
        if case .failing(let ended) = phase {
            phase = .healthy
            recovered = .recovered(
                writer: writer, droppedWhileFailing: droppedNow - ended.droppedAtStart,
                failedWrites: ended.errors, duration: .fromNanoseconds(now() &- ended.since))
        }
        droppedAtLastSuccess = droppedNow
        delay = initialDelay
        return recovered
    }

    /// A write of `attempted` items threw `error` after `completed` of them got through
    /// (`droppedNow`: the queue's drop count after those were counted).
    package mutating func failed(
        _ error: WriterError, completed: Int, attempted: Int, droppedNow: Int, now: UInt64
    ) -> ErrorActions {
        // Items got through before this error: a failing output recovered, if only briefly
        // (space came back, then ran out again). Reported as such, and the error below starts a
        // new failure.
        let recovered = completed > 0 ? wrote(droppedNow: droppedNow, now: now) : nil
        guard error.isRetryable else {
            // The same item would never get through: it is rejected and the rest go on. A failure
            // in progress is neither ended nor counted.
            return ErrorActions(
                recovered: recovered,
                next: .skip(rejecting: completed < attempted ? 1 : 0, warning: .warning(writer: writer, error: error)))
        }
        var failing: WriterNotice?
        var failure: Failure
        if case .failing(let current) = phase {
            failure = current
        } else {
            // Drops since the last good write belong to this outage.
            failure = Failure(since: now, droppedAtStart: droppedAtLastSuccess, errors: 0)
            failing = .failing(writer: writer, error: error)
        }
        failure.errors += 1
        phase = .failing(failure)
        let retryAt = now &+ delay
        delay = min(maximumDelay, delay &* 2)
        return ErrorActions(recovered: recovered, next: .retry(at: retryAt, failing: failing))
    }

    /// Whether the close deadline is still to be learnt (then the thread looks it up before each
    /// write).
    package var awaitsCloseDeadline: Bool { closeDeadline == nil }

    /// Closing was requested: stop writing at `deadline`.
    package mutating func closing(deadline: UInt64) {
        closeDeadline = deadline
    }

    /// The close deadline passed while backing off: drop what is left at once.
    package mutating func closeDeadlinePassed() {
        closeDeadline = 0
    }

    /// Whether to drop the items in hand instead of writing them (counted as dropped at
    /// shutdown). `now` is read only while closing.
    package func dropsRest(now: @autoclosure () -> UInt64) -> Bool {
        guard let closeDeadline else { return false }
        return now() >= closeDeadline
    }

    /// One step of backing off until `retryAt`.
    package enum BackoffStep: Sendable, Hashable {
        /// The close deadline passed: stop retrying.
        case giveUp
        /// Time to retry (or a reopen was requested, which may cure the failure).
        case retry
        /// Sleep until then (or until woken).
        case park(until: UInt64)
    }

    /// Backing off sleeps until `retryAt`, waking early only to close (`giveUp`: the close
    /// deadline passed) or to reopen (which may cure the failure).
    package static func backoffStep(
        now: UInt64, retryAt: UInt64, reopenRequested: Bool, closeDeadline: UInt64?
    ) -> BackoffStep {
        if let closeDeadline, now >= closeDeadline { return .giveUp }
        if reopenRequested || now >= retryAt { return .retry }
        return .park(until: closeDeadline.map { min(retryAt, $0) } ?? retryAt)
    }
}

/// The writer's timed work besides writing: maintenance on its interval, and the retry of a
/// failed reopen.
package struct WriterTimers: Sendable, Hashable {
    /// Nil when the writer has no periodic work.
    package let maintenanceInterval: UInt64?
    package private(set) var nextMaintenance: UInt64?
    /// When to try a failed reopen again; nil when none failed.
    package private(set) var reopenRetryAt: UInt64?
    package let reopenRetryDelay: UInt64

    /// `maintenanceInterval` is at least a millisecond, so a writer asking for zero does not keep
    /// the thread spinning. A failed reopen is retried after `reopenRetryDelay` (the longest
    /// write backoff).
    package init(maintenanceInterval: Duration?, reopenRetryDelay: UInt64, now: @autoclosure () -> UInt64) {
        let interval = maintenanceInterval.map { max($0.clampedNanoseconds, 1_000_000) }
        self.maintenanceInterval = interval
        self.nextMaintenance = interval.map { now() &+ $0 }
        self.reopenRetryDelay = reopenRetryDelay
    }

    /// Whether to reopen now: requested, or a failed reopen is due for its retry.
    package func reopenDue(requested: Bool, now: UInt64) -> Bool {
        requested || (reopenRetryAt.map { now >= $0 } ?? false)
    }

    package mutating func reopenSucceeded() {
        reopenRetryAt = nil
    }

    /// A reopen tried at `now` failed: the writer keeps its old destination, and the reopen is
    /// retried later without a new request.
    package mutating func reopenFailed(now: UInt64) {
        reopenRetryAt = now &+ reopenRetryDelay
    }

    /// Whether maintenance is due; if so, the next is scheduled one interval from `now` (not
    /// from when it was due, so a long write does not cause a burst). `now` is read only when
    /// the writer has maintenance.
    package mutating func maintenanceDue(now: @autoclosure () -> UInt64) -> Bool {
        guard let interval = maintenanceInterval, let due = nextMaintenance else { return false }
        let now = now()
        guard now >= due else { return false }
        nextMaintenance = now &+ interval
        return true
    }

    /// When an idle thread must wake for timed work; nil for not before a request.
    package var nextWake: UInt64? {
        switch (nextMaintenance, reopenRetryAt) {
        case (let maintenance?, let reopen?): min(maintenance, reopen)
        case (let maintenance?, nil): maintenance
        case (nil, let reopen?): reopen
        case (nil, nil): nil
        }
    }
}
