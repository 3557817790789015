internal import Glibc

/// The clocks: `CLOCK_MONOTONIC` for every deadline and duration, `CLOCK_MONOTONIC_COARSE` for
/// cheap "at most once per interval" checks, `CLOCK_REALTIME` for timestamps. All are vDSO reads
/// (no system call) and inline into the caller.
package enum SystemClock {
    /// Nanoseconds on the monotonic clock (not affected by wall-clock changes).
    @inlinable @inline(__always)
    package static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Milliseconds on the monotonic clock.
    @inlinable @inline(__always)
    package static func monotonicMilliseconds() -> UInt64 { monotonicNanoseconds() / 1_000_000 }

    /// The monotonic deadline `milliseconds` from now in nanoseconds, or nil for no limit (nil
    /// or negative input).
    @inlinable
    package static func deadline(afterMilliseconds milliseconds: Int?) -> UInt64? {
        guard let milliseconds, milliseconds >= 0 else { return nil }
        return monotonicNanoseconds() &+ UInt64(milliseconds) &* 1_000_000
    }

    /// Nanoseconds on `CLOCK_MONOTONIC_COARSE`: a few nanoseconds to read, 4 ms resolution; for
    /// intervals of seconds.
    @inlinable
    package static func coarseMonotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// The wall clock: whole seconds since the epoch (0 before it) and milliseconds (0…999).
    @inlinable
    package static func realtime() -> (seconds: UInt64, milliseconds: UInt16) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (time.tv_sec < 0 ? 0 : UInt64(time.tv_sec), UInt16(clamping: max(0, min(999, time.tv_nsec / 1_000_000))))
    }

    /// Wall-clock milliseconds since the epoch, comparable with audit record timestamps.
    @inlinable
    package static func realtimeMilliseconds() -> UInt64 {
        let (seconds, milliseconds) = realtime()
        return seconds &* 1000 &+ UInt64(milliseconds)
    }

    /// Sleeps the calling thread; a signal does not cut the sleep short (the rest is slept).
    package static func sleep(microseconds: Int) {
        let microseconds = max(0, microseconds)
        var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Sleeps the calling thread; a signal does not cut the sleep short.
    package static func sleep(milliseconds: Int) { sleep(microseconds: milliseconds * 1000) }
}
