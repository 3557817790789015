/// Counters a `Reassembler` keeps since it was created; the daemon reports them as loss events and
/// in its status line.
///
/// Once nothing is in flight, `messages == ignoredMessages + recordsEmitted + filteredRecords +
/// endOfEventRecords + truncatedRecords`: every message pushed is either emitted or counted, so nothing disappears
/// without a counter moving. Loss and
/// irregularities are separate counters because they mean different things to an operator:
/// `lostSerials` is data the kernel produced and this process never saw; `lateRecords` and
/// `duplicateRecords` are data that was seen and emitted, only out of order.
public struct ReassemblerStatistics: Hashable, Sendable {
    /// Messages pushed, of every type (records, `EOE`, malformed, ignored control messages).
    public var messages: UInt64 = 0
    /// Messages that are not audit records (netlink acks, status replies, `AUDIT_REPLACE`) and
    /// were ignored.
    public var ignoredMessages: UInt64 = 0
    /// Events handed to the consumer (including `late`, `duplicate` and malformed ones).
    public var eventsEmitted: UInt64 = 0
    /// Records inside the emitted events.
    public var recordsEmitted: UInt64 = 0
    /// `EOE` records seen (they close events and are never emitted).
    public var endOfEventRecords: UInt64 = 0

    /// Places in the serial sequence where serials were skipped (one per jump).
    public var gaps: UInt64 = 0
    /// Serials skipped in those gaps, minus those that turned up later (`recoveredSerials`):
    /// events the kernel numbered but this process never received.
    public var lostSerials: UInt64 = 0
    /// Serials first counted as lost that arrived afterwards (out of order, as `late` events).
    public var recoveredSerials: UInt64 = 0
    /// Records whose serial had already been passed (see `AuditEvent.Flags.late`).
    public var lateRecords: UInt64 = 0
    /// Records that arrived after their event had been closed (see `AuditEvent.Flags.duplicate`).
    public var duplicateRecords: UInt64 = 0

    /// Events emitted because `maxInFlight` was exceeded.
    public var evictedEvents: UInt64 = 0
    /// Events emitted because no `EOE` came within the timeout.
    public var timedOutEvents: UInt64 = 0
    /// Unclosed events emitted by `flushAll` or `restart`.
    public var flushedEvents: UInt64 = 0

    /// Records whose header could not be parsed (emitted as single-record `malformedHeader`
    /// events when their type is inside the type window, counted in `filteredRecords` otherwise).
    public var malformedRecords: UInt64 = 0
    /// `EOE` records whose header could not be parsed: dropped (an `EOE` has no body, and one
    /// without an identity closes nothing), counted here and in `malformedRecords` and
    /// `endOfEventRecords`. The daemon reports them as `malformed_datagram` loss.
    public var malformedEndOfEvents: UInt64 = 0
    /// Events that reached `maxEventRecords` or `maxEventBytes` and were emitted cut (flagged
    /// `.truncated`); the daemon reports them as `event_truncated` loss.
    public var truncatedEvents: UInt64 = 0
    /// Records dropped from those events.
    public var truncatedRecords: UInt64 = 0
    /// Records dropped because their type is outside the configured type window.
    public var filteredRecords: UInt64 = 0
    /// Events that ended with no record left after the type window, so nothing was emitted.
    public var filteredEvents: UInt64 = 0
    /// Events that consisted of an `EOE` only (their other records never arrived), so there was
    /// nothing to emit; a sign of kernel-side loss of single records.
    public var emptyEvents: UInt64 = 0

    /// The most events that were in flight at once.
    public var inFlightHighWater: Int = 0

    /// All counters at zero.
    public init() {}
}
