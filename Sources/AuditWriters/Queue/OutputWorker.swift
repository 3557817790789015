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
        let core = WorkerCore(
            name: name, configuration: configuration, onNotice: onNotice, spoolGauges: writer.spoolGauges)
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
    /// The writer's disk spool, read into each snapshot.
    let spoolGauges: SpoolGauges?
    let state: Mutex<State>
    /// The worker parks here when idle or backing off.
    let workerParker = Parker()
    /// `close` parks here until the worker finishes.
    let closerParker = Parker()

    init(
        name: String, configuration: OutputQueueConfiguration, onNotice: (@Sendable (WriterNotice) -> Void)?,
        spoolGauges: SpoolGauges? = nil
    ) {
        self.configuration = configuration
        self.spoolGauges = spoolGauges
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
        var snapshot = state.withLock { state in
            var counters = state.counters
            counters.queued = state.pending.count + state.held
            return counters
        }
        snapshot.spool = spoolGauges?.status
        return snapshot
    }

    func notify(_ notice: WriterNotice) {
        onNotice?(notice)
    }
}

extension WorkerCore {
    /// Controls the worker picks up between batches.
    struct Controls {
        var reopen = false
        var flush = false
        var closing = false
        var closeDeadline: UInt64 = 0
    }

    /// Takes the pending controls.
    func takeControls() -> Controls {
        state.withLock { Self.takeControls(from: &$0) }
    }

    /// Takes the pending controls and swaps out the queue into `items` (empty), under one lock.
    func takeControls(swappingQueueInto items: inout [OutputItem]) -> Controls {
        state.withLock { state in
            Swift.swap(&state.pending, &items)
            state.held = items.count
            state.heldBytes = state.pendingBytes
            state.pendingBytes = 0
            return Self.takeControls(from: &state)
        }
    }

    private static func takeControls(from state: inout State) -> Controls {
        defer {
            state.reopenRequested = false
            state.flushRequested = false
        }
        return Controls(
            reopen: state.reopenRequested, flush: state.flushRequested, closing: state.closing,
            closeDeadline: state.closeDeadline)
    }

    /// Counts `items` as finished (written, rejected or dropped at shutdown) with `bytes`
    /// written; returns the queue's drop count at that moment.
    @discardableResult
    func finish(_ items: ArraySlice<OutputItem>, written: Int, rejected: Int = 0, dropped: Int = 0, bytes: Int) -> Int {
        var lineBytes = 0
        for item in items { lineBytes += item.lineCount }
        return state.withLock { state in
            state.held -= items.count
            state.heldBytes -= lineBytes
            state.counters.written += written
            state.counters.rejected += rejected
            state.counters.droppedAtShutdown += dropped
            state.counters.bytes += bytes
            return state.counters.dropped
        }
    }

    /// Counts a warning and reports it.
    func warn(_ error: WriterError, writer: String) {
        state.withLock {
            $0.counters.warnings += 1
            $0.counters.lastError = error
        }
        notify(.warning(writer: writer, error: error))
    }

    /// Counts a recovery (`DeliveryState` ended a failure) and reports it.
    func recovered(_ notice: WriterNotice) {
        state.withLock { state in
            state.counters.isFailing = false
            state.counters.recoveries += 1
        }
        notify(notice)
    }

    /// Parks the idle worker until `wakeAt` (nil: until woken), unless something came meanwhile;
    /// true when it was woken (not timed out).
    func parkIdle(until wakeAt: UInt64?) -> Bool {
        let parked = state.withLock { state -> Bool in
            guard state.pending.isEmpty, !state.closing, !state.reopenRequested, !state.flushRequested
            else { return false }
            state.sleeping = true
            return true
        }
        guard parked else { return false }
        let woken = workerParker.park(untilMonotonicNanoseconds: wakeAt)
        state.withLock { $0.sleeping = false }
        return woken
    }

    /// After an idle wake-up, waits `batchDelay` for more items (unless enough are queued
    /// or a control request comes), so a moderate rate costs a wake-up per window, not per
    /// item.
    func linger(batchDelay: UInt64) {
        let threshold = lingerWakeThreshold
        let lingering = state.withLock { state -> Bool in
            guard state.pending.count < threshold, !state.closing, !state.reopenRequested,
                !state.flushRequested
            else { return false }
            state.lingering = true
            return true
        }
        guard lingering else { return }
        workerParker.park(untilMonotonicNanoseconds: SystemClock.monotonicNanoseconds() &+ batchDelay)
        state.withLock { $0.lingering = false }
    }
}

/// The worker thread's loop. Everything here runs on that thread only: it takes the locks,
/// parks, calls the writer, and carries out what `DeliveryState` (delivering or failing, backoff,
/// the close deadline) and `WriterTimers` (maintenance, reopen retry) decide.
struct WorkerLoop<W: EventWriter> {
    let core: WorkerCore
    let name: String
    let maxItemsPerWrite: Int
    let batchDelay: UInt64
    var batch: [OutputItem] = []
    var delivery: DeliveryState
    var timers: WriterTimers
    var writer: W

    static func run(core: WorkerCore, writer: W) {
        SystemCall.blockBrokenPipeSignal()
        var loop = WorkerLoop(core: core, writer: writer)
        loop.run()
    }

    init(core: WorkerCore, writer: W) {
        let configuration = core.configuration
        self.core = core
        self.name = writer.name
        self.maxItemsPerWrite = configuration.maxItemsPerWrite
        self.batchDelay = configuration.batchDelay.clampedNanoseconds
        self.batch.reserveCapacity(min(configuration.capacity, 1024))
        self.delivery = DeliveryState(
            writer: name, initialDelay: configuration.retryInitialDelay, maximumDelay: configuration.retryMaximumDelay)
        self.timers = WriterTimers(
            maintenanceInterval: writer.maintenanceInterval, reopenRetryDelay: delivery.maximumDelay,
            now: SystemClock.monotonicNanoseconds())
        self.writer = writer
    }

    mutating func run() {
        while true {
            let controls = core.takeControls(swappingQueueInto: &batch)
            handle(controls)
            if controls.closing { delivery.closing(deadline: controls.closeDeadline) }
            if batch.isEmpty {
                if controls.closing { break }
                maintainIfDue()
                if core.parkIdle(until: timers.nextWake) && batchDelay > 0 { core.linger(batchDelay: batchDelay) }
                continue
            }
            writeBatch()
            batch.removeAll(keepingCapacity: true)
            maintainIfDue()
        }

        // Closing: anything that arrived after the last swap was refused at the door; flush and
        // close the writer.
        do throws(WriterError) { try writer.flush() } catch { core.warn(error, writer: name) }
        do throws(WriterError) {
            try writer.close()
        } catch {
            core.state.withLock { state in
                state.counters.written -= error.unwrittenItems
                state.counters.droppedAtShutdown += error.unwrittenItems
            }
            core.warn(error, writer: name)
        }
        core.state.withLock { $0.finished = true }
        core.closerParker.unpark()
    }

    /// Writes the batch in writes of at most `maxItemsPerWrite`, retrying a failing writer, until
    /// it is written, rejected, or dropped at the close deadline.
    mutating func writeBatch() {
        var start = 0
        while start < batch.count {
            if delivery.awaitsCloseDeadline, let deadline = core.state.withLock({ $0.closing ? $0.closeDeadline : nil })
            {
                delivery.closing(deadline: deadline)
            }
            if delivery.dropsRest(now: SystemClock.monotonicNanoseconds()) {
                let rest = batch[start...]
                core.finish(rest, written: 0, dropped: rest.count, bytes: 0)
                return
            }
            let end = min(batch.count, start + maxItemsPerWrite)
            do throws(WriterError) {
                let outcome = try writer.write(batch[start..<end])
                let droppedNow = core.finish(batch[start..<end], written: end - start, bytes: outcome.bytes)
                start = end
                if outcome.rotations > 0 || !outcome.activity.isEmpty {
                    core.state.withLock {
                        $0.counters.rotations += outcome.rotations
                        $0.counters.activity += outcome.activity
                    }
                }
                if let warning = outcome.warning { core.warn(warning, writer: name) }
                if let recovered = delivery.wrote(droppedNow: droppedNow, now: SystemClock.monotonicNanoseconds()) {
                    core.recovered(recovered)
                }
            } catch {
                let attempted = end - start
                let done = min(max(0, error.completedItems), attempted)
                let droppedNow = core.finish(batch[start..<(start + done)], written: done, bytes: error.completedBytes)
                start += done
                let actions = delivery.failed(
                    error, completed: done, attempted: attempted, droppedNow: droppedNow,
                    now: SystemClock.monotonicNanoseconds())
                if let recovered = actions.recovered { core.recovered(recovered) }
                let startsFailure: Bool
                if case .retry(_, let failing) = actions.next {
                    startsFailure = failing != nil
                } else {
                    startsFailure = false
                }
                core.state.withLock { state in
                    state.counters.writeErrors += 1
                    state.counters.activity += error.activity
                    state.counters.lastError = error
                    if startsFailure { state.counters.isFailing = true }
                }
                switch actions.next {
                case .skip(let rejecting, let warning):
                    if rejecting > 0 {
                        core.finish(batch[start..<(start + rejecting)], written: 0, rejected: rejecting, bytes: 0)
                        start += rejecting
                    }
                    core.notify(warning)
                case .retry(let retryAt, let failing):
                    if let failing { core.notify(failing) }
                    if !backOff(until: retryAt) { delivery.closeDeadlinePassed() }
                }
            }
        }
    }

    /// Sleeps until `until`, waking early only to close (false: the close deadline passed)
    /// or to reopen (which may cure the failure).
    mutating func backOff(until retryAt: UInt64) -> Bool {
        while true {
            let controls = core.takeControls()
            handle(controls)
            let step = DeliveryState.backoffStep(
                now: SystemClock.monotonicNanoseconds(), retryAt: retryAt, reopenRequested: controls.reopen,
                closeDeadline: controls.closing ? controls.closeDeadline : nil)
            switch step {
            case .giveUp: return false
            case .retry: return true
            case .park(let wakeAt): core.workerParker.park(untilMonotonicNanoseconds: wakeAt)
            }
        }
    }

    mutating func handle(_ controls: WorkerCore.Controls) {
        reopenIfDue(controls.reopen)
        if controls.flush {
            do throws(WriterError) { try writer.flush() } catch { core.warn(error, writer: name) }
        }
    }

    /// Runs a pending reopen (requested, or retried after a failure).
    mutating func reopenIfDue(_ requested: Bool) {
        let now = SystemClock.monotonicNanoseconds()
        guard timers.reopenDue(requested: requested, now: now) else { return }
        do {
            try writer.reopen()
            timers.reopenSucceeded()
            core.state.withLock { $0.counters.reopens += 1 }
            core.notify(.reopened(writer: name))
        } catch {
            timers.reopenFailed(now: now)
            core.state.withLock {
                $0.counters.reopenErrors += 1
                $0.counters.lastError = error
            }
            core.notify(.warning(writer: name, error: error))
        }
    }

    mutating func maintainIfDue() {
        guard timers.maintenanceDue(now: SystemClock.monotonicNanoseconds()) else { return }
        do throws(WriterError) { try writer.performMaintenance() } catch { core.warn(error, writer: name) }
    }
}

extension OutputWorker: OutputQueue {
    @discardableResult
    package func enqueue(batch items: [OutputItem], deferringWake: Bool) -> Int {
        core.enqueue(items, deferringWake: deferringWake)
    }

    /// Read for every output once per processing batch: only the three numbers, not a copy of
    /// every counter (whose `lastError` would be retained and released each time).
    package var progress: OutputQueueProgress {
        core.state.withLock { state in
            OutputQueueProgress(
                queued: state.pending.count + state.held, completed: state.counters.written + state.counters.rejected,
                isFailing: state.counters.isFailing)
        }
    }
}
