internal import AuditSystem

/// The monotonic clock under its old name, for the files that have not moved to AuditSystem's
/// `SystemClock` yet (AuditDaemon, the pipeline's outputs and event processor). Each member is
/// the `SystemClock` call of the same meaning; remove this file when they import AuditSystem.
package enum MonotonicClock {
    /// `SystemClock.monotonicNanoseconds()`.
    @inlinable package static func nanoseconds() -> UInt64 { SystemClock.monotonicNanoseconds() }
    /// `SystemClock.monotonicMilliseconds()`.
    @inlinable package static func milliseconds() -> UInt64 { SystemClock.monotonicMilliseconds() }
    /// `SystemClock.sleep(milliseconds:)`.
    package static func sleep(milliseconds: Int) { SystemClock.sleep(milliseconds: milliseconds) }
    /// `SystemClock.sleep(microseconds:)`.
    package static func sleep(microseconds: Int) { SystemClock.sleep(microseconds: microseconds) }
}
