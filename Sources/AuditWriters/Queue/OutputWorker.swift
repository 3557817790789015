package import AuditEncoding
internal import AuditSystem
import AuditThreads
import Glibc
import Synchronization

/// One output's bounded queue and the thread that drains it into its writer.
///
/// `enqueue` never blocks: when the queue is full the item is dropped and counted, so a slow or
/// dead output costs the reader and the other outputs nothing. The thread takes everything queued
/// in one swap, writes it in batches (one `write(2)` per batch for files), retries a failing writer
/// with exponential backoff (sleeping, not spinning), and reports failure and recovery through
/// `onNotice` and `counters`.
package final class OutputWorker: Sendable {
    /// The writer's name.
    package let name: String
    private let core: WorkerCore
    private let thread: Mutex<SystemThread?>

    /// Starts a thread that owns `writer` from now on (do not use your copy of it again).
    ///
    /// `onNotice` runs on that thread when the writer starts failing, recovers, or warns.
    package init<W: EventWriter>(
        _ writer: W,
        configuration: OutputQueueConfiguration = OutputQueueConfiguration(),
        onNotice: (@Sendable (WriterNotice) -> Void)? = nil
    ) throws(WriterError) {
        let name = writer.name
        guard configuration.capacity > 0, configuration.maxItemsPerWrite > 0, configuration.maxBytes > 0 else {
            throw WriterError(
                code: .configuration, target: name,
                detail: "queue capacity, bytes and items per write must be positive",
                isRetryable: false)
        }
        let core = WorkerCore(name: name, configuration: configuration, onNotice: onNotice)
        self.name = name
        self.core = core
        let thread: SystemThread
        do {
            thread = try SystemThread.spawn(name: configuration.threadName) {
                WorkerLoop.run(core: core, writer: writer)
            }
        } catch {
            throw WriterError(code: .threadStart, target: name, errno: error.errno, isRetryable: false)
        }
        self.thread = Mutex(thread)
    }

    deinit {
        // Not closed: tell the thread to stop at once (dropping what is queued, counted) and
        // let it finish on its own.
        if let thread = thread.withLock({ $0.take() }) {
            core.requestClose(deadline: SystemClock.monotonicNanoseconds())
            thread.detach()
        }
    }

    /// Queues `item` for writing; false when it was dropped (queue full or closed), which is
    /// counted. Never blocks on the writer.
    ///
    /// With `deferringWake`, an idle writer thread is woken only once a full write's worth is
    /// queued; the caller then calls `wakeIfWaiting()` after its batch. Why: the processing stage
    /// hands over events one by one in bursts, and waking the writer for the first of them makes
    /// it write a few events at a time (or wait out `batchDelay` guessing the burst's length).
    @discardableResult
    package func enqueue(_ item: OutputItem, deferringWake: Bool = false) -> Bool {
        core.enqueue(CollectionOfOne(item), deferringWake: deferringWake) == 1
    }

    /// Queues `items` in order under one lock, each counted as `enqueue(_:deferringWake:)` would:
    /// those that do not fit are dropped and counted. Returns how many were accepted.
    @discardableResult
    package func enqueue(contentsOf items: some Collection<OutputItem>, deferringWake: Bool = false) -> Int {
        core.enqueue(items, deferringWake: deferringWake)
    }

    /// Wakes the writer thread if it sleeps while items wait (after `enqueue(_:deferringWake:)`).
    package func wakeIfWaiting() {
        core.wakeIfWaiting()
    }

    /// Asks the thread to reopen the destination (SIGUSR1 after logrotate); returns at once.
    package func requestReopen() {
        core.request(reopen: true)
    }

    /// Asks the thread to flush (`fsync`) the destination soon; returns at once.
    package func requestFlush() {
        core.request(reopen: false)
    }

    /// The current counters, from any thread.
    package var counters: WriterCounters {
        core.snapshot()
    }

    /// Stops accepting items, writes everything queued (retrying a failing writer) until
    /// `drainTimeout` has passed, drops and counts what is left, flushes and closes the writer.
    ///
    /// Waits for the thread at most `drainTimeout` plus `grace` (for a write in progress to hit
    /// its own stall timeout); a thread still blocked after that is left behind and the report
    /// says `finished == false`. Later calls return the same counters at once.
    package func close(drainTimeout: Duration, grace: Duration = .seconds(2)) -> WriterCloseReport {
        guard let thread = thread.withLock({ $0.take() }) else {
            return WriterCloseReport(counters: core.snapshot(), finished: core.isFinished)
        }
        let now = SystemClock.monotonicNanoseconds()
        let deadline = now &+ drainTimeout.clampedNanoseconds
        core.requestClose(deadline: deadline)
        let finished = core.waitUntilFinished(deadline: deadline &+ grace.clampedNanoseconds)
        if finished { thread.join() } else { thread.detach() }
        return WriterCloseReport(counters: core.snapshot(), finished: finished)
    }
}

extension OutputWorker {
    /// Closes several workers at once with one shared deadline, so that N stalled outputs cost
    /// one `drainTimeout`, not N (systemd's stop timeout is finite). Reports come in order.
    package static func closeAll(
        _ workers: [OutputWorker], drainTimeout: Duration, grace: Duration = .seconds(2)
    ) -> [WriterCloseReport] {
        let deadline = SystemClock.monotonicNanoseconds() &+ drainTimeout.clampedNanoseconds
        let threads = workers.map { worker in worker.thread.withLock { $0.take() } }
        for (worker, thread) in zip(workers, threads) where thread != nil {
            worker.core.requestClose(deadline: deadline)
        }
        var reports: [WriterCloseReport] = []
        for (worker, thread) in zip(workers, threads) {
            guard let thread else {
                reports.append(WriterCloseReport(counters: worker.core.snapshot(), finished: worker.core.isFinished))
                continue
            }
            let finished = worker.core.waitUntilFinished(deadline: deadline &+ grace.clampedNanoseconds)
            if finished { thread.join() } else { thread.detach() }
            reports.append(WriterCloseReport(counters: worker.core.snapshot(), finished: finished))
        }
        return reports
    }
}

/// The state shared between the enqueuing threads, the worker thread and `close`.
final class WorkerCore: Sendable {
    struct State {
        var pending: [OutputItem] = []
        var pendingBytes = 0
        /// Items (and bytes) the worker took and has not finished.
        var held = 0
        var heldBytes = 0
        var sleeping = false
        /// Waiting out the batch delay: woken early only when `lingerWakeThreshold` items wait.
        var lingering = false
        var reopenRequested = false
        var flushRequested = false
        var closing = false
        var closeDeadline: UInt64 = 0
        var finished = false
        var counters: WriterCounters
    }

    let configuration: OutputQueueConfiguration
    /// Queued items that end the batch delay early: a full write, or half the capacity.
    let lingerWakeThreshold: Int
    let onNotice: (@Sendable (WriterNotice) -> Void)?
    let state: Mutex<State>
    /// The worker parks here when idle or backing off.
    let workerParker = Parker()
    /// `close` parks here until the worker finishes.
    let closerParker = Parker()

    init(name: String, configuration: OutputQueueConfiguration, onNotice: (@Sendable (WriterNotice) -> Void)?) {
        self.configuration = configuration
        self.lingerWakeThreshold = max(1, min(configuration.capacity / 2, configuration.maxItemsPerWrite))
        self.onNotice = onNotice
        var initial = State(counters: WriterCounters(name: name))
        initial.pending.reserveCapacity(min(configuration.capacity, 1024))
        self.state = Mutex(initial)
    }

    func wakeIfWaiting() {
        let wake = state.withLock { state -> Bool in
            guard state.sleeping, !state.pending.isEmpty else { return false }
            state.sleeping = false
            return true
        }
        if wake { workerParker.unpark() }
    }

    func enqueue(_ items: some Collection<OutputItem>, deferringWake: Bool) -> Int {
        let capacity = configuration.capacity
        let maxBytes = configuration.maxBytes
        let lingerWakeThreshold = self.lingerWakeThreshold
        let (accepted, wake) = state.withLock { state -> (Int, Bool) in
            var accepted = 0
            for item in items {
                let size = item.lineCount
                let queued = state.pending.count + state.held
                let bytes = state.pendingBytes + state.heldBytes
                if state.closing || queued >= capacity || (queued > 0 && bytes + size > maxBytes) {
                    state.counters.dropped += 1
                    continue
                }
                state.pending.append(item)
                state.pendingBytes += size
                state.counters.enqueued += 1
                accepted += 1
            }
            guard accepted > 0 else { return (0, false) }
            let queued = state.pending.count + state.held
            state.counters.peakQueued = max(state.counters.peakQueued, queued)
            let wake =
                (state.sleeping && (!deferringWake || queued >= lingerWakeThreshold))
                || (state.lingering && queued >= lingerWakeThreshold)
            if wake {
                state.sleeping = false
                state.lingering = false
            }
            return (accepted, wake)
        }
        if wake { workerParker.unpark() }
        return accepted
    }

    func request(reopen: Bool) {
        state.withLock { state in
            if reopen { state.reopenRequested = true } else { state.flushRequested = true }
        }
        workerParker.unpark()
    }

    func requestClose(deadline: UInt64) {
        state.withLock { state in
            if !state.closing {
                state.closing = true
                state.closeDeadline = deadline
            }
        }
        workerParker.unpark()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    func waitUntilFinished(deadline: UInt64) -> Bool {
        while true {
            if isFinished { return true }
            if SystemClock.monotonicNanoseconds() >= deadline { return false }
            closerParker.park(untilMonotonicNanoseconds: deadline)
        }
    }

    func snapshot() -> WriterCounters {
        state.withLock { state in
            var counters = state.counters
            counters.queued = state.pending.count + state.held
            return counters
        }
    }

    func notify(_ notice: WriterNotice) {
        onNotice?(notice)
    }
}

/// The worker thread's loop. Everything here runs on that thread only.
enum WorkerLoop {
    /// Controls the worker picks up between batches.
    struct Controls {
        var reopen = false
        var flush = false
        var closing = false
        var closeDeadline: UInt64 = 0
    }

    /// The failure in progress.
    struct Failure {
        var since: UInt64
        var droppedAtStart: Int
        var errors: Int
    }

    static func run<W: EventWriter>(core: WorkerCore, writer initial: W) {
        SystemCall.blockBrokenPipeSignal()
        var writer = initial
        let name = writer.name
        let configuration = core.configuration
        var batch: [OutputItem] = []
        batch.reserveCapacity(min(configuration.capacity, 1024))
        var failure: Failure?
        var delay = configuration.retryInitialDelay.clampedNanoseconds
        let maximumDelay = max(delay, configuration.retryMaximumDelay.clampedNanoseconds)
        let maintenanceInterval = writer.maintenanceInterval.map { max($0.clampedNanoseconds, 1_000_000) }
        var nextMaintenance = maintenanceInterval.map { SystemClock.monotonicNanoseconds() &+ $0 }
        var reopenRetryAt: UInt64?
        let batchDelay = configuration.batchDelay.clampedNanoseconds

        /// Runs a pending reopen (requested, or retried after a failure).
        func reopenIfDue(_ requested: Bool) {
            let now = SystemClock.monotonicNanoseconds()
            guard requested || (reopenRetryAt.map { now >= $0 } ?? false) else { return }
            do {
                try writer.reopen()
                reopenRetryAt = nil
                core.state.withLock { $0.counters.reopens += 1 }
                core.notify(.reopened(writer: name))
            } catch {
                reopenRetryAt = now &+ maximumDelay
                core.state.withLock {
                    $0.counters.reopenErrors += 1
                    $0.counters.lastError = error
                }
                core.notify(.warning(writer: name, error: error))
            }
        }

        func warn(_ error: WriterError) {
            core.state.withLock {
                $0.counters.warnings += 1
                $0.counters.lastError = error
            }
            core.notify(.warning(writer: name, error: error))
        }

        /// Takes the pending controls (and, when `items` is given, swaps out the queue).
        func takeControls(into items: inout [OutputItem], swap: Bool) -> Controls {
            core.state.withLock { state in
                let controls = Controls(
                    reopen: state.reopenRequested, flush: state.flushRequested,
                    closing: state.closing, closeDeadline: state.closeDeadline)
                state.reopenRequested = false
                state.flushRequested = false
                if swap {
                    Swift.swap(&state.pending, &items)
                    state.held = items.count
                    state.heldBytes = state.pendingBytes
                    state.pendingBytes = 0
                }
                return controls
            }
        }

        func handle(_ controls: Controls) {
            reopenIfDue(controls.reopen)
            if controls.flush {
                do throws(WriterError) { try writer.flush() } catch { warn(error) }
            }
        }

        func maintainIfDue() {
            guard let interval = maintenanceInterval, let due = nextMaintenance else { return }
            let now = SystemClock.monotonicNanoseconds()
            guard now >= due else { return }
            nextMaintenance = now &+ interval
            do throws(WriterError) { try writer.performMaintenance() } catch { warn(error) }
        }

        /// Counts `items` as finished (written, rejected or dropped at shutdown) with `bytes`
        /// written; returns the queue's drop count at that moment.
        @discardableResult
        func finish(_ items: ArraySlice<OutputItem>, written: Int, rejected: Int = 0, dropped: Int = 0, bytes: Int)
            -> Int
        {
            var lineBytes = 0
            for item in items { lineBytes += item.lineCount }
            return core.state.withLock { state in
                state.held -= items.count
                state.heldBytes -= lineBytes
                state.counters.written += written
                state.counters.rejected += rejected
                state.counters.droppedAtShutdown += dropped
                state.counters.bytes += bytes
                return state.counters.dropped
            }
        }

        /// Sleeps until `until`, waking early only to close (false: the close deadline passed)
        /// or to reopen (which may cure the failure).
        func backOff(until: UInt64) -> Bool {
            while true {
                let controls = takeControls(into: &batch, swap: false)
                handle(controls)
                let now = SystemClock.monotonicNanoseconds()
                if controls.closing && now >= controls.closeDeadline { return false }
                if controls.reopen || now >= until { return true }
                let wakeAt = controls.closing ? min(until, controls.closeDeadline) : until
                core.workerParker.park(untilMonotonicNanoseconds: wakeAt)
            }
        }

        /// After an idle wake-up, waits `batchDelay` for more items (unless enough are queued
        /// or a control request comes), so a moderate rate costs a wake-up per window, not per
        /// item.
        func linger() {
            let threshold = core.lingerWakeThreshold
            let lingering = core.state.withLock { state -> Bool in
                guard state.pending.count < threshold, !state.closing, !state.reopenRequested,
                    !state.flushRequested
                else { return false }
                state.lingering = true
                return true
            }
            guard lingering else { return }
            core.workerParker.park(untilMonotonicNanoseconds: SystemClock.monotonicNanoseconds() &+ batchDelay)
            core.state.withLock { $0.lingering = false }
        }

        var closingDeadline: UInt64?
        var droppedAtLastSuccess = 0

        /// Items were written: ends a failure in progress (counted and reported) and resets the
        /// backoff.
        func madeProgress(droppedNow: Int) {
            if let ended = failure {
                failure = nil
                core.state.withLock { state in
                    state.counters.isFailing = false
                    state.counters.recoveries += 1
                }
                core.notify(
                    .recovered(
                        writer: name, droppedWhileFailing: droppedNow - ended.droppedAtStart,
                        failedWrites: ended.errors,
                        duration: .fromNanoseconds(SystemClock.monotonicNanoseconds() &- ended.since)))
            }
            droppedAtLastSuccess = droppedNow
            delay = configuration.retryInitialDelay.clampedNanoseconds
        }
        while true {
            let controls = takeControls(into: &batch, swap: true)
            handle(controls)
            if controls.closing { closingDeadline = controls.closeDeadline }
            if batch.isEmpty {
                if controls.closing { break }
                maintainIfDue()
                let wakeAt = [nextMaintenance, reopenRetryAt].compactMap { $0 }.min()
                let parked = core.state.withLock { state -> Bool in
                    guard state.pending.isEmpty, !state.closing, !state.reopenRequested, !state.flushRequested
                    else { return false }
                    state.sleeping = true
                    return true
                }
                if parked {
                    let woken = core.workerParker.park(untilMonotonicNanoseconds: wakeAt)
                    core.state.withLock { $0.sleeping = false }
                    if woken && batchDelay > 0 { linger() }
                }
                continue
            }

            var start = 0
            while start < batch.count {
                if closingDeadline == nil {
                    closingDeadline = core.state.withLock { $0.closing ? $0.closeDeadline : nil }
                }
                if let deadline = closingDeadline, SystemClock.monotonicNanoseconds() >= deadline {
                    let rest = batch[start...]
                    finish(rest, written: 0, dropped: rest.count, bytes: 0)
                    start = batch.count
                    break
                }
                let end = min(batch.count, start + configuration.maxItemsPerWrite)
                do throws(WriterError) {
                    let outcome = try writer.write(batch[start..<end])
                    let droppedNow = finish(batch[start..<end], written: end - start, bytes: outcome.bytes)
                    start = end
                    if outcome.rotations > 0 || !outcome.activity.isEmpty {
                        core.state.withLock {
                            $0.counters.rotations += outcome.rotations
                            $0.counters.activity += outcome.activity
                        }
                    }
                    if let warning = outcome.warning { warn(warning) }
                    madeProgress(droppedNow: droppedNow)
                } catch {
                    let done = min(max(0, error.completedItems), end - start)
                    let droppedNow = finish(batch[start..<(start + done)], written: done, bytes: error.completedBytes)
                    start += done
                    // Items got through before this error: a failing output recovered, if only
                    // briefly (space came back, then ran out again). Reported as such, and the error
                    // below starts a new failure.
                    if done > 0 { madeProgress(droppedNow: droppedNow) }
                    let startsFailure = core.state.withLock { state -> Bool in
                        state.counters.writeErrors += 1
                        state.counters.activity += error.activity
                        state.counters.lastError = error
                        if error.isRetryable && !state.counters.isFailing {
                            state.counters.isFailing = true
                            return true
                        }
                        return false
                    }
                    if !error.isRetryable {
                        if start < end {
                            finish(batch[start..<(start + 1)], written: 0, rejected: 1, bytes: 0)
                            start += 1
                        }
                        core.notify(.warning(writer: name, error: error))
                        continue
                    }
                    if startsFailure {
                        // Drops since the last good write belong to this outage.
                        failure = Failure(
                            since: SystemClock.monotonicNanoseconds(), droppedAtStart: droppedAtLastSuccess, errors: 0)
                        core.notify(.failing(writer: name, error: error))
                    }
                    failure?.errors += 1
                    let retryAt = SystemClock.monotonicNanoseconds() &+ delay
                    delay = min(maximumDelay, delay &* 2)
                    if !backOff(until: retryAt) {
                        closingDeadline = 0
                    }
                }
            }
            batch.removeAll(keepingCapacity: true)
            maintainIfDue()
        }

        // Closing: anything that arrived after the last swap was refused at the door; flush and
        // close the writer.
        do throws(WriterError) { try writer.flush() } catch { warn(error) }
        do throws(WriterError) {
            try writer.close()
        } catch {
            core.state.withLock { state in
                state.counters.written -= error.unwrittenItems
                state.counters.droppedAtShutdown += error.unwrittenItems
            }
            warn(error)
        }
        core.state.withLock { $0.finished = true }
        core.closerParker.unpark()
    }
}

extension OutputWorker: OutputQueue {
    @discardableResult
    package func enqueue(batch items: [OutputItem], deferringWake: Bool) -> Int {
        core.enqueue(items, deferringWake: deferringWake)
    }

    package var progress: OutputQueueProgress {
        let counters = core.snapshot()
        return OutputQueueProgress(
            queued: counters.queued, completed: counters.written + counters.rejected, isFailing: counters.isFailing)
    }
}
