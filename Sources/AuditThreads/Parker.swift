import Glibc

/// A one-permit parking spot for exactly one waiting thread: `park` sleeps until `unpark` was
/// called (before or during the wait) or the deadline passes.
///
/// Why a pthread mutex and condition variable rather than the alternatives:
/// - a raw futex would be lighter, but `syscall(2)` is variadic and cannot be called from Swift
///   without a C shim;
/// - `eventfd` is not exported by Swift's Glibc module, and a self-pipe costs two file descriptors
///   and three syscalls per wake-up;
/// - POSIX semaphores only time out against `CLOCK_REALTIME`, so a wall-clock step (NTP, an admin
///   running `date`) would stretch the reassembler's end-of-event timer.
///
/// glibc's mutex and condition are futex-based (no syscall when uncontended), and the condition
/// is bound to `CLOCK_MONOTONIC`. The permit makes a wake that arrives before the wait impossible
/// to lose, so callers need no extra handshake beyond their own "sleeping" flag, which keeps
/// `unpark` (and its lock) off the hot path when nobody sleeps.
package final class Parker: @unchecked Sendable {
    // @unchecked: `permit` and `condition` are only read or written with `mutex` held; the three
    // pointers themselves never change after init.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private let permit: UnsafeMutablePointer<Bool>

    package init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        permit = .allocate(capacity: 1)
        permit.initialize(to: false)
        // glibc's init functions only fill in memory; they do not fail for default attributes.
        _ = pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        _ = pthread_condattr_init(&attributes)
        _ = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        _ = pthread_cond_init(condition, &attributes)
        _ = pthread_condattr_destroy(&attributes)
    }

    deinit {
        _ = pthread_cond_destroy(condition)
        _ = pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
        permit.deinitialize(count: 1)
        permit.deallocate()
    }

    /// Sleeps until unparked or until `deadline` (monotonic nanoseconds; nil = no limit).
    /// Returns true when a permit was taken, false on timeout. Consumes the permit.
    @discardableResult
    package func park(untilMonotonicNanoseconds deadline: UInt64?) -> Bool {
        pthread_mutex_lock(mutex)
        if let deadline {
            var time = timespec(
                tv_sec: Int(clamping: deadline / 1_000_000_000),
                tv_nsec: Int(deadline % 1_000_000_000)
            )
            while !permit.pointee {
                if pthread_cond_timedwait(condition, mutex, &time) == ETIMEDOUT { break }
            }
        } else {
            while !permit.pointee {
                pthread_cond_wait(condition, mutex)
            }
        }
        let woken = permit.pointee
        permit.pointee = false
        pthread_mutex_unlock(mutex)
        return woken
    }

    /// Gives the permit and wakes the parked thread, if any. The permit is kept until taken.
    package func unpark() {
        pthread_mutex_lock(mutex)
        permit.pointee = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }
}
