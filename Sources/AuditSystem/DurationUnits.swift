extension Duration {
    /// The duration in whole nanoseconds, clamped to 0…UInt64.max: what deadlines on the
    /// monotonic clock (`SystemClock`) are computed in.
    @inlinable
    package var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        guard seconds < 18_000_000_000 else { return .max }  // about 570 years
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// The duration in whole milliseconds, clamped to 0…Int.max: what timeouts of `poll` and
    /// the control loop's ticks take.
    @inlinable
    package var clampedMilliseconds: Int {
        Int(clamping: clampedNanoseconds / 1_000_000)
    }

    /// A duration of `nanoseconds`.
    @inlinable
    package static func fromNanoseconds(_ nanoseconds: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds))
    }
}
