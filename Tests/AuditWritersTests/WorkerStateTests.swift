import AuditWriters
import Glibc
import Testing

/// The output worker's decisions (`DeliveryState`, `WriterTimers`) driven step by step with a
/// fake clock: each step is an input at the clock's time and the actions it must produce.
@Suite struct WorkerStateTests {
    static let ms: UInt64 = 1_000_000
    static let full = WriterError(code: .write, target: "w", errno: ENOSPC)
    static let refused = WriterError(code: .rejected, target: "w", isRetryable: false)

    /// A clock that moves only when told.
    struct FakeClock {
        var now: UInt64 = 1_000 * ms
        /// How often the state read it.
        var reads = 0

        mutating func read() -> UInt64 {
            reads += 1
            return now
        }
    }

    enum Input: Sendable, CustomStringConvertible {
        /// The clock moves on.
        case wait(milliseconds: UInt64)
        /// A whole write got through; the queue has dropped `droppedNow` items so far.
        case wrote(droppedNow: Int)
        /// A write of `attempted` items threw after `completed` got through.
        case failed(WriterError, completed: Int, attempted: Int, droppedNow: Int)

        var description: String {
            switch self {
            case .wait(let milliseconds): "wait \(milliseconds) ms"
            case .wrote(let dropped): "wrote (dropped \(dropped))"
            case .failed(let error, let completed, let attempted, let dropped):
                "\(error.isRetryable ? "retryable" : "non-retryable") error after \(completed)/\(attempted) "
                    + "(dropped \(dropped))"
            }
        }
    }

    /// What the worker does, in order.
    enum Action: Sendable, Hashable {
        case notice(WriterNotice)
        /// Finish this many items as rejected.
        case reject(Int)
        /// Back off this long, then write the same items again.
        case retry(afterMilliseconds: UInt64)
    }

    struct Step: Sendable {
        var input: Input
        var actions: [Action]
        init(_ input: Input, _ actions: [Action] = []) {
            self.input = input
            self.actions = actions
        }
    }

    static func failing(_ error: WriterError = full) -> Action { .notice(.failing(writer: "w", error: error)) }
    static func recovered(dropped: Int, failedWrites: Int, milliseconds: Int64) -> Action {
        .notice(
            .recovered(
                writer: "w", droppedWhileFailing: dropped, failedWrites: failedWrites,
                duration: .milliseconds(milliseconds)))
    }
    static func warning(_ error: WriterError = refused) -> Action { .notice(.warning(writer: "w", error: error)) }

    /// Runs `steps` on a fresh state (retries from 10 ms up to 80 ms), checking each step's
    /// actions; returns the state at the end.
    @discardableResult
    static func drive(
        _ steps: [Step], initialDelay: Duration = .milliseconds(10), maximumDelay: Duration = .milliseconds(80),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> DeliveryState {
        var state = DeliveryState(writer: "w", initialDelay: initialDelay, maximumDelay: maximumDelay)
        var clock = FakeClock()
        for (index, step) in steps.enumerated() {
            var actions: [Action] = []
            switch step.input {
            case .wait(let milliseconds):
                clock.now += milliseconds * ms
            case .wrote(let droppedNow):
                if let notice = state.wrote(droppedNow: droppedNow, now: clock.read()) {
                    actions.append(.notice(notice))
                }
            case .failed(let error, let completed, let attempted, let droppedNow):
                let result = state.failed(
                    error, completed: completed, attempted: attempted, droppedNow: droppedNow, now: clock.now)
                if let notice = result.recovered { actions.append(.notice(notice)) }
                switch result.next {
                case .skip(let rejecting, let warning):
                    if rejecting > 0 { actions.append(.reject(rejecting)) }
                    actions.append(.notice(warning))
                case .retry(let retryAt, let failing):
                    if let failing { actions.append(.notice(failing)) }
                    #expect(retryAt >= clock.now, sourceLocation: sourceLocation)
                    actions.append(.retry(afterMilliseconds: (retryAt - clock.now) / ms))
                }
            }
            #expect(actions == step.actions, "step \(index): \(step.input)", sourceLocation: sourceLocation)
        }
        return state
    }

    @Test func theFirstRetryableErrorStartsAFailureAndNotifiesFailingOnce() {
        let state = Self.drive([
            Step(.wrote(droppedNow: 0)),
            Step(
                .failed(Self.full, completed: 0, attempted: 5, droppedNow: 0),
                [Self.failing(), .retry(afterMilliseconds: 10)]),
            Step(.wait(milliseconds: 10)),
            Step(.failed(Self.full, completed: 0, attempted: 5, droppedNow: 1), [.retry(afterMilliseconds: 20)]),
            Step(.wait(milliseconds: 20)),
            Step(.failed(Self.full, completed: 0, attempted: 5, droppedNow: 1), [.retry(afterMilliseconds: 40)]),
        ])
        #expect(state.isFailing)
        #expect(state.phase == .failing(.init(since: FakeClock().now, droppedAtStart: 0, errors: 3)))
    }

    /// (initial, maximum, the waits after each of eight consecutive errors), in milliseconds.
    @Test(
        arguments: [
            (10, 80, [10, 20, 40, 80, 80, 80, 80, 80]),
            (50, 1000, [50, 100, 200, 400, 800, 1000, 1000, 1000]),
            (30, 100, [30, 60, 100, 100, 100, 100, 100, 100]),
            // A maximum below the initial delay is the initial delay.
            (100, 20, [100, 100, 100, 100, 100, 100, 100, 100]),
        ] as [(Int64, Int64, [UInt64])])
    func furtherErrorsCountAndDoubleTheDelayUpToTheMaximum(initial: Int64, maximum: Int64, waits: [UInt64]) {
        var steps: [Step] = []
        for (index, wait) in waits.enumerated() {
            let notices = index == 0 ? [Self.failing()] : []
            steps.append(
                Step(
                    .failed(Self.full, completed: 0, attempted: 1, droppedNow: 0),
                    notices + [.retry(afterMilliseconds: wait)]))
            steps.append(Step(.wait(milliseconds: wait)))
        }
        let total = waits.reduce(0, +)
        steps.append(
            Step(
                .wrote(droppedNow: 0),
                [Self.recovered(dropped: 0, failedWrites: waits.count, milliseconds: Int64(total))]))
        // The delay starts over after a good write.
        steps.append(
            Step(
                .failed(Self.full, completed: 0, attempted: 1, droppedNow: 0),
                [Self.failing(), .retry(afterMilliseconds: waits[0])]))
        Self.drive(steps, initialDelay: .milliseconds(initial), maximumDelay: .milliseconds(maximum))
    }

    @Test func aGoodWriteEndsTheFailureWithTheDropsSinceTheLastGoodWrite() {
        let state = Self.drive([
            Step(.wrote(droppedNow: 2)),
            Step(.wait(milliseconds: 5)),
            // The queue dropped 3 more between the last good write and this error: they count.
            Step(
                .failed(Self.full, completed: 0, attempted: 5, droppedNow: 5),
                [Self.failing(), .retry(afterMilliseconds: 10)]),
            Step(.wait(milliseconds: 10)),
            Step(.failed(Self.full, completed: 0, attempted: 5, droppedNow: 7), [.retry(afterMilliseconds: 20)]),
            Step(.wait(milliseconds: 20)),
            Step(.wrote(droppedNow: 9), [Self.recovered(dropped: 7, failedWrites: 2, milliseconds: 30)]),
            // Healthy again: no second recovery, and the next failure backs off from the start.
            Step(.wrote(droppedNow: 9)),
            Step(.wait(milliseconds: 1)),
            Step(
                .failed(Self.full, completed: 0, attempted: 5, droppedNow: 12),
                [Self.failing(), .retry(afterMilliseconds: 10)]),
            Step(.wait(milliseconds: 10)),
            Step(.wrote(droppedNow: 12), [Self.recovered(dropped: 3, failedWrites: 1, milliseconds: 10)]),
        ])
        #expect(!state.isFailing)
        #expect(state.delay == 10 * Self.ms)
        #expect(state.droppedAtLastSuccess == 12)
    }

    @Test func aPartialWriteBeforeAnErrorIsARecoveryThenANewFailure() {
        Self.drive([
            // Healthy: the items that got through are no recovery, the error starts a failure.
            Step(
                .failed(Self.full, completed: 3, attempted: 10, droppedNow: 1),
                [Self.failing(), .retry(afterMilliseconds: 10)]),
            Step(.wait(milliseconds: 10)),
            Step(.failed(Self.full, completed: 0, attempted: 7, droppedNow: 2), [.retry(afterMilliseconds: 20)]),
            Step(.wait(milliseconds: 20)),
            // Room for two: the failure ends (drops since the write of 3), and a new one starts
            // with the delay reset.
            Step(
                .failed(Self.full, completed: 2, attempted: 7, droppedNow: 4),
                [
                    Self.recovered(dropped: 3, failedWrites: 2, milliseconds: 30), Self.failing(),
                    .retry(afterMilliseconds: 10),
                ]),
            Step(.wait(milliseconds: 10)),
            Step(.wrote(droppedNow: 4), [Self.recovered(dropped: 0, failedWrites: 1, milliseconds: 10)]),
        ])
    }

    @Test func aNonRetryableErrorRejectsOneItemAndWarnsWithoutFailing() {
        let healthy = Self.drive([
            Step(.failed(Self.refused, completed: 0, attempted: 5, droppedNow: 0), [.reject(1), Self.warning()]),
            Step(.failed(Self.refused, completed: 2, attempted: 5, droppedNow: 0), [.reject(1), Self.warning()]),
            // All of them got through before the error: nothing left to reject, still a warning.
            Step(.failed(Self.refused, completed: 5, attempted: 5, droppedNow: 0), [Self.warning()]),
        ])
        #expect(healthy.phase == .healthy)
        #expect(healthy.delay == 10 * Self.ms)

        // While failing: the failure is neither ended nor counted by it.
        Self.drive([
            Step(
                .failed(Self.full, completed: 0, attempted: 5, droppedNow: 0),
                [Self.failing(), .retry(afterMilliseconds: 10)]),
            Step(.wait(milliseconds: 10)),
            Step(.failed(Self.refused, completed: 0, attempted: 5, droppedNow: 1), [.reject(1), Self.warning()]),
            Step(.failed(Self.full, completed: 0, attempted: 4, droppedNow: 1), [.retry(afterMilliseconds: 20)]),
            Step(.wait(milliseconds: 20)),
            // Items before the refused one got through: that is a recovery.
            Step(
                .failed(Self.refused, completed: 2, attempted: 4, droppedNow: 1),
                [Self.recovered(dropped: 1, failedWrites: 2, milliseconds: 30), .reject(1), Self.warning()]),
        ])
    }

    @Test func theClockIsReadOnlyWhenAFailureEnds() {
        var state = DeliveryState(writer: "w", initialDelay: .milliseconds(10), maximumDelay: .milliseconds(80))
        var clock = FakeClock()
        for dropped in 0..<10 { _ = state.wrote(droppedNow: dropped, now: clock.read()) }
        #expect(clock.reads == 0)
        _ = state.failed(Self.full, completed: 0, attempted: 1, droppedNow: 10, now: clock.now)
        _ = state.wrote(droppedNow: 10, now: clock.read())
        #expect(clock.reads == 1)
    }

    /// (close deadline, or nil while not closing; now; whether the items in hand are dropped).
    @Test(
        arguments: [
            (nil, 0, false), (nil, .max, false), (100, 99, false), (100, 100, true), (100, 500, true), (0, 0, true),
        ] as [(UInt64?, UInt64, Bool)])
    func aPassedCloseDeadlineDropsTheRest(deadline: UInt64?, now: UInt64, drops: Bool) {
        var state = DeliveryState(writer: "w", initialDelay: .milliseconds(10), maximumDelay: .milliseconds(80))
        #expect(state.awaitsCloseDeadline)
        if let deadline { state.closing(deadline: deadline) }
        #expect(state.awaitsCloseDeadline == (deadline == nil))
        var clock = FakeClock(now: now)
        let dropped = state.dropsRest(now: clock.read())
        #expect(dropped == drops)
        #expect(clock.reads == (deadline == nil ? 0 : 1), "the clock is read only while closing")
    }

    @Test func aDeadlinePassedWhileBackingOffDropsTheRestAtOnce() {
        var state = DeliveryState(writer: "w", initialDelay: .milliseconds(10), maximumDelay: .milliseconds(80))
        state.closing(deadline: 1_000 * Self.ms)
        #expect(!state.dropsRest(now: 10 * Self.ms))
        state.closeDeadlinePassed()
        #expect(state.dropsRest(now: 10 * Self.ms))
    }

    /// (now, retry at, reopen requested, close deadline, the step), in milliseconds.
    @Test(
        arguments: [
            (0, 10, false, nil, .park(until: 10)),
            (10, 10, false, nil, .retry),
            (11, 10, false, nil, .retry),
            (5, 10, true, nil, .retry),
            (5, 10, false, 7, .park(until: 7)),
            (5, 10, false, 20, .park(until: 10)),
            (5, 10, true, 20, .retry),
            (7, 10, false, 7, .giveUp),
            // Closing beats a reopen.
            (7, 10, true, 7, .giveUp),
            (12, 10, false, 12, .giveUp),
        ] as [(UInt64, UInt64, Bool, UInt64?, DeliveryState.BackoffStep)])
    func backingOffWakesOnlyToRetryReopenOrGiveUp(
        now: UInt64, retryAt: UInt64, reopen: Bool, deadline: UInt64?, step: DeliveryState.BackoffStep
    ) {
        #expect(
            DeliveryState.backoffStep(now: now, retryAt: retryAt, reopenRequested: reopen, closeDeadline: deadline)
                == step)
    }

    @Test func aFailedReopenIsRetriedAfterTheMaximumDelay() {
        let maximum = 80 * Self.ms
        var timers = WriterTimers(maintenanceInterval: nil, reopenRetryDelay: maximum, now: 0)
        #expect(!timers.reopenDue(requested: false, now: 1_000 * Self.ms))
        #expect(timers.reopenDue(requested: true, now: 0))
        #expect(timers.nextWake == nil)

        timers.reopenFailed(now: 5 * Self.ms)
        #expect(timers.reopenRetryAt == 85 * Self.ms)
        #expect(timers.nextWake == 85 * Self.ms)
        #expect(!timers.reopenDue(requested: false, now: 85 * Self.ms - 1))
        #expect(timers.reopenDue(requested: false, now: 85 * Self.ms))
        #expect(timers.reopenDue(requested: true, now: 6 * Self.ms))

        // Failed again at its retry: the next one is another maximum delay later.
        timers.reopenFailed(now: 85 * Self.ms)
        #expect(timers.nextWake == 165 * Self.ms)

        timers.reopenSucceeded()
        #expect(timers.reopenRetryAt == nil)
        #expect(timers.nextWake == nil)
        #expect(!timers.reopenDue(requested: false, now: 1_000 * Self.ms))
    }

    @Test func maintenanceRunsOnItsInterval() {
        let second: UInt64 = 1_000 * Self.ms
        var timers = WriterTimers(maintenanceInterval: .seconds(1), reopenRetryDelay: 80 * Self.ms, now: 100)
        #expect(timers.nextWake == second + 100)
        var due: [UInt64] = []
        // Polled every 100 ms for 3.5 s: due at 1 s, 2 s and 3 s after the start.
        for tick in 1...35 {
            let now = 100 + UInt64(tick) * 100 * Self.ms
            if timers.maintenanceDue(now: now) { due.append((now - 100) / Self.ms) }
        }
        #expect(due == [1_000, 2_000, 3_000])
        #expect(timers.nextWake == 4 * second + 100)

        // Late (a long write): the next is one interval after it ran, not a burst to catch up.
        let late = timers.maintenanceDue(now: 9 * second)
        let again = timers.maintenanceDue(now: 9 * second + 1)
        #expect(late && !again)
        #expect(timers.nextMaintenance == 10 * second)

        // The earlier of maintenance and a reopen retry wakes an idle thread.
        timers.reopenFailed(now: 9 * second)
        #expect(timers.nextWake == 9 * second + 80 * Self.ms)
    }

    @Test func aWriterWithoutMaintenanceNeverReadsTheClockForIt() {
        var clock = FakeClock(now: .max)
        var timers = WriterTimers(maintenanceInterval: nil, reopenRetryDelay: 1, now: clock.read())
        for _ in 0..<5 {
            let due = timers.maintenanceDue(now: clock.read())
            #expect(!due)
        }
        #expect(clock.reads == 0)
        #expect(timers.nextWake == nil)
    }

    @Test(
        arguments: [(Duration.zero, 1_000_000), (.microseconds(10), 1_000_000), (.milliseconds(250), 250_000_000)]
            as [(Duration, UInt64)])
    func theMaintenanceIntervalIsAtLeastAMillisecond(asked: Duration, interval: UInt64) {
        let timers = WriterTimers(maintenanceInterval: asked, reopenRetryDelay: 1, now: 7)
        #expect(timers.maintenanceInterval == interval)
        #expect(timers.nextWake == 7 + interval)
    }
}
