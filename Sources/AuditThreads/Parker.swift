internal import CAuditThreads

/// A one-permit parking spot for exactly one waiting thread: `park` sleeps until `unpark` was
/// called (before or during the wait) or the deadline passes.
///
/// Why a bare futex word (in C, since `syscall(2)` is variadic) rather than the alternatives:
/// - a pthread mutex and condition variable cost a lock round trip on both sides, and a waker
///   that signals with the lock held makes the woken thread block again on that lock: at full
///   load that was a second context switch per hand-over between the pipeline's threads;
/// - `eventfd` or a self-pipe cost a file descriptor and a system call per wake-up even when
///   nobody sleeps;
/// - POSIX semaphores only time out against `CLOCK_REALTIME`, so a wall-clock step (NTP, an admin
///   running `date`) would stretch the reassembler's end-of-event timer.
///
/// The futex waits against an absolute `CLOCK_MONOTONIC` deadline, and `unpark` makes a system
/// call only when the other thread actually sleeps. The permit makes a wake that arrives before
/// the wait impossible to lose, so callers need no extra handshake beyond their own "sleeping"
/// flag, which keeps `unpark` off the hot path when nobody sleeps.
package final class Parker: @unchecked Sendable {
    // @unchecked: the word is only touched through the C functions' atomic operations, and the
    // pointer itself never changes after init.
    private let word: UnsafeMutablePointer<UInt32>

    package init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit {
        word.deinitialize(count: 1)
        word.deallocate()
    }

    /// Sleeps until unparked or until `deadline` (monotonic nanoseconds; nil = no limit).
    /// Returns true when a permit was taken, false on timeout. Consumes the permit.
    @discardableResult
    package func park(untilMonotonicNanoseconds deadline: UInt64?) -> Bool {
        caudit_park(word, deadline.map { Int64(clamping: $0) } ?? -1) != 0
    }

    /// Gives the permit and wakes the parked thread, if any. The permit is kept until taken.
    package func unpark() {
        caudit_unpark(word)
    }
}
