import Glibc

/// `CLOCK_MONOTONIC` and `CLOCK_REALTIME` readings without Foundation.
package enum MonotonicClock {
    /// Nanoseconds on the monotonic clock (not affected by wall-clock changes).
    package static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Milliseconds on the monotonic clock.
    package static func milliseconds() -> UInt64 { nanoseconds() / 1_000_000 }

    /// The monotonic deadline `milliseconds` from now, or nil for no limit (negative or nil input).
    package static func deadline(afterMilliseconds milliseconds: Int?) -> UInt64? {
        guard let milliseconds, milliseconds >= 0 else { return nil }
        return nanoseconds() &+ UInt64(milliseconds) &* 1_000_000
    }

    /// Wall-clock milliseconds since the epoch, comparable with audit record timestamps.
    package static func wallMilliseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) &* 1000 &+ UInt64(time.tv_nsec / 1_000_000)
    }

    /// Sleeps the calling thread (EINTR resumes the rest of the sleep).
    package static func sleep(milliseconds: Int) {
        sleep(microseconds: milliseconds * 1000)
    }

    /// Sleeps the calling thread (EINTR resumes the rest of the sleep).
    package static func sleep(microseconds: Int) {
        var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
