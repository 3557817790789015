public import AuditNetlink

/// Groups kernel records into events and hands the events on in serial order, with loss
/// accounting.
///
/// ## Model
/// The kernel gives every event an identity `audit(SECONDS.MILLIS:SERIAL)` and sends its records
/// one datagram each, possibly interleaved with other events' records (several CPUs log at once).
/// An event is complete when:
/// - an `EOE` record with its identity arrives (the `EOE` itself is not part of the event);
/// - its record type is standalone (`AuditMessageType.isStandalone`: user-space and daemon
///   records, which the kernel never follows with an `EOE`); or
/// - `endOfEventTimeout` milliseconds passed since its first record, measured on the clock the
///   caller passes in (`now`); `tick(now:emit:)` applies it without any traffic, which matters
///   because an event whose tail the kernel dropped would otherwise wait for the next record
///   (go-audit kept such events until shutdown).
///
/// `PROCTITLE` does not end an event: some kernels send a `PATH` after it, before the `EOE`.
///
/// ## Order
/// Events leave in serial order (modulo 2^32): a complete event waits until every earlier serial
/// that is in flight has completed, timed out or been evicted. Only the oldest in-flight event
/// is checked against the timeout, so a later event that timed out waits at most until the oldest
/// one does (records of one event arrive together, so the oldest serial is nearly always the one
/// that started first).
///
/// Serials are handed out before an event's records are queued, so with several CPUs logging at
/// once the kernel often sends a whole event before the first record of the serial just below it
/// (by a few records, microseconds apart). A complete event that comes right after a hole in the
/// serials therefore waits up to `reorderWindow` milliseconds (from its first record) for the
/// hole to fill; only then is the hole counted as a gap. Without the wait, every such overtaking
/// would be reported as loss and its event would come out flagged `late`. The first event after
/// the start (or `restart`) has no frontier to compare with and never waits: if the one numbered
/// below it comes next, that one is `late`.
///
/// ## Irregular records
/// - A record whose serial is already behind the frontier (the last serial passed in order) is
///   *late* when its event left without an `EOE` or its serial was counted as a gap (the count is
///   then corrected: `recoveredSerials`), and a *duplicate* when its event had been closed. It is
///   not merged into the past: records of the same identity are collected into an event of their
///   own, flagged `.late` or `.duplicate`, which leaves as soon as it completes (by `EOE`,
///   timeout or eviction) without waiting for serial order. They never count as loss, and the
///   frontier never moves backwards (go-libaudit's "lost 4294967295").
/// - A record arriving for an in-flight event that was already closed is a duplicate; it is kept
///   in that event, which is flagged `.duplicate`.
/// - A record whose header cannot be parsed is counted in `malformedRecords` and emitted at once
///   as a single-record event flagged `.malformedHeader` with `AuditEventID.unknown`, the whole
///   payload as its body: dropping it would lose data silently, guessing its event could corrupt
///   another one.
///   An `EOE` whose header cannot be parsed is the exception: it has no body to keep and no
///   event to close, so it is dropped and counted (`malformedEndOfEvents`, also part of
///   `endOfEventRecords`).
/// - An `EOE` that arrives alone for a serial already passed closes nothing and is only counted;
///   an `EOE` alone for a new serial passes that serial without emitting (`emptyEvents`).
/// - A record of another serial stream (another boot, a second capture file) looks like a gap or
///   a late record; call `restart(emit:)` between streams. Serials are compared by signed
///   distance, so a jump of 2^31 or more reads as "behind": such records come out as `late`
///   events (never dropped) until `restart`.
///
/// ## Bounds
/// At most `maxInFlight` events are held (the in-order ones plus the out-of-order ones); beyond
/// that the oldest is evicted (out-of-order events first, then the lowest serial): emitted as it
/// is, counted in `evictedEvents`. One event keeps at most `maxEventRecords` records and
/// `maxEventBytes` bytes of record text: later records of a full event are dropped, counted
/// (`truncatedRecords`, `truncatedEvents`), and the event is flagged `.truncated` with the number
/// it lost (`droppedRecords`); it stays one event, in serial order, rather than several with the
/// same identity. Records with a type outside `minType...maxType` are dropped and
/// counted, but still take part in the serial accounting
/// (otherwise every filtered event would look like a lost one), and an `EOE` closes its event
/// whatever the window says.
///
/// ## Cost
/// Not thread-safe, no locks: one pipeline thread owns it. Per record it parses the header on
/// bytes, finds the event (nearly always the newest, checked first), and copies the body into
/// the event's contiguous storage; no String, no allocation beyond the event's own two arrays,
/// whose capacity is reserved from a running average of recent events. Emission calls a
/// non-escaping closure, so the consumer decides where events go (a ring, an array in tests).
public struct Reassembler: Sendable {
    /// The knobs of a reassembler.
    public struct Configuration: Hashable, Sendable {
        /// Milliseconds after an event's first record when the event is emitted without an `EOE`.
        public var endOfEventTimeout: UInt64
        /// The most events held at once; at least 1.
        public var maxInFlight: Int
        /// The lowest record type kept in events (like go-audit's `events.min`); records of other
        /// types are counted and dropped.
        public var minType: AuditMessageType
        /// The highest record type kept in events (like go-audit's `events.max`). When it is below
        /// `minType`, no record is kept.
        public var maxType: AuditMessageType
        /// Milliseconds a complete event that follows a hole in the serials waits for the missing
        /// serial before the hole is counted as lost (see "Order"). 0: never wait.
        public var reorderWindow: UInt64
        /// Where the clock comes from.
        public var clock: Clock
        /// The most records one event keeps; later records of the same event are dropped and
        /// counted, and the event is flagged `.truncated` (see "Bounds"). At least 1.
        public var maxEventRecords: Int
        /// The most record bytes one event keeps (its bodies, back to back); as `maxEventRecords`.
        public var maxEventBytes: Int

        /// The default bounds of one event: 10,000 records, 8 MiB of record text.
        ///
        /// Why: the largest events the kernel makes are an `execve` with huge arguments, split
        /// into `EXECVE` records of at most ~7.5 KiB each. With the usual 8 MiB stack limit the
        /// arguments and environment are at most 2 MiB, written in hex: ~4 MiB of text in ~550
        /// records. Both bounds leave room for twice that (and for PATH-heavy calls, which have
        /// tens of records); beyond them one serial is a broken or hostile sender, and without a
        /// bound 100,000 records of one serial became one 24 MB line and 198 MB resident.
        public static let defaultMaxEventRecords = 10_000
        public static let defaultMaxEventBytes = 8 << 20

        /// The clock that drives timeouts.
        public enum Clock: Hashable, Sendable {
            /// Only the `now` values passed to `push`, `tick` (live: a monotonic wall clock read
            /// by the pipeline's timer).
            case external
            /// The records' own timestamps as well (replay: the capture's time, so a replay
            /// behaves as the live run would have, however fast it runs). The reassembler's
            /// clock is the largest of all values seen.
            case recordTimestamps
        }

        /// Creates a configuration; the defaults suit a live daemon and keep every record type.
        public init(
            endOfEventTimeout: UInt64 = 2_000,
            maxInFlight: Int = 4_096,
            minType: AuditMessageType = AuditMessageType(0),
            maxType: AuditMessageType = AuditMessageType(UInt16.max),
            reorderWindow: UInt64 = 5,
            clock: Clock = .external,
            maxEventRecords: Int = Configuration.defaultMaxEventRecords,
            maxEventBytes: Int = Configuration.defaultMaxEventBytes
        ) {
            self.maxEventRecords = maxEventRecords
            self.maxEventBytes = maxEventBytes
            self.endOfEventTimeout = endOfEventTimeout
            self.reorderWindow = reorderWindow
            self.maxInFlight = maxInFlight
            self.minType = minType
            self.maxType = maxType
            self.clock = clock
        }
    }

    /// The settings in force (see `reconfigure(_:)`).
    public private(set) var configuration: Configuration
    /// Counters since creation.
    public private(set) var statistics = ReassemblerStatistics()
    /// The reassembler's clock: the largest `now` (and, with `.recordTimestamps`, record time)
    /// seen so far, in milliseconds.
    public private(set) var clock: UInt64 = 0

    /// An event being collected.
    struct InFlight {
        var event: AuditEvent
        /// Clock value at which it times out.
        var deadline: UInt64
        /// Clock value when its first record came.
        var arrival: UInt64
        /// Closed by `EOE` or a standalone record.
        var closed: Bool
        /// Records dropped by the type window.
        var filtered: Int

        /// What `add` did with a record.
        enum Outcome { case kept, endOfEvent, filtered, truncated }

        /// Adds a record: closes the event on `EOE` or a standalone type, drops the record if
        /// `keep` is false or the event is full (`limits`: records, bytes; then flagged
        /// `.truncated`), and flags records that come after the close as duplicates.
        mutating func add(
            type: AuditMessageType, body: UnsafeRawBufferPointer, keep: Bool, limits: (records: Int, bytes: Int)
        ) -> Outcome {
            // The kernel sends nothing after an event's EOE (or after a standalone record).
            if closed { event.flags.insert(.duplicate) }
            if type == .endOfEvent {
                if !closed {
                    closed = true
                    event.completion = .endOfEvent
                }
                return .endOfEvent
            }
            let outcome: Outcome
            // Once cut, always cut: the event stays a prefix of what the kernel sent.
            if keep,
                event.flags.contains(.truncated) || event.count >= limits.records
                    || event.storage.count + body.count > limits.bytes
            {
                event.flags.insert(.truncated)
                event.droppedRecords += 1
                outcome = .truncated
            } else if keep {
                event.append(type: type, body: body)
                outcome = .kept
            } else {
                filtered += 1
                outcome = .filtered
            }
            if type.isStandalone, !closed {
                closed = true
                event.completion = .standalone
            }
            return outcome
        }

        static var vacant: InFlight {
            InFlight(event: AuditEvent(id: .unknown), deadline: 0, arrival: 0, closed: false, filtered: 0)
        }
    }

    /// In-order events, sorted by serial; live entries are `pending[head...]`.
    private var pending: [InFlight] = []
    private var head = 0
    /// Out-of-order (late or duplicate) events, oldest first.
    private var stragglers: [InFlight] = []
    /// The last serial passed in order (emitted, filtered or empty); nil before the first.
    public private(set) var frontier: UInt32?
    private var history = SerialHistory()
    /// Running averages used to reserve capacity for new events.
    private var averageBytes = 512
    private var averageRecords = 4
    /// An emitted event handed back by `recycle(_:)`, for the next new event to fill.
    private var spare: AuditEvent?

    /// Changes the timeout, the in-flight bound and the type window without losing the events in
    /// flight or the serial accounting (a configuration reload). The clock kind stays as it was.
    /// Events already in flight keep the deadline they were given; a lower `maxInFlight` takes
    /// effect (by eviction) at the next record.
    public mutating func reconfigure(_ newConfiguration: Configuration) {
        var updated = newConfiguration
        updated.clock = configuration.clock
        updated.maxInFlight = max(1, updated.maxInFlight)
        updated.maxEventRecords = max(1, updated.maxEventRecords)
        updated.maxEventBytes = max(1, updated.maxEventBytes)
        configuration = updated
    }

    /// Creates an empty reassembler.
    public init(configuration: Configuration = Configuration()) {
        var configuration = configuration
        configuration.maxInFlight = max(1, configuration.maxInFlight)
        configuration.maxEventRecords = max(1, configuration.maxEventRecords)
        configuration.maxEventBytes = max(1, configuration.maxEventBytes)
        self.configuration = configuration
    }

    /// The number of events currently held.
    public var inFlightCount: Int { pending.count - head + stragglers.count }

    // MARK: - Input

    /// Adds one message from the audit socket or a capture.
    ///
    /// - Parameters:
    ///   - type: the netlink message type; non-record types (see `isAuditRecord`) are counted and
    ///     ignored.
    ///   - payload: the netlink payload (`audit(…): body`); copied, so the caller may reuse its
    ///     buffer as soon as this returns.
    ///   - now: the caller's clock in milliseconds (ignored if smaller than an earlier value).
    ///   - emit: receives every event that this record completes or makes due, in order.
    public mutating func push(
        type: AuditMessageType, payload: UnsafeRawBufferPointer, now: UInt64,
        emit: (consuming AuditEvent) -> Void
    ) {
        statistics.messages &+= 1
        advance(to: now)
        guard type.isAuditRecord else {
            statistics.ignoredMessages &+= 1
            return
        }
        let header: AuditRecordHeader
        do {
            header = try AuditRecordHeader.parse(payload)
        } catch {
            statistics.malformedRecords &+= 1
            pushMalformed(type: type, payload: payload, emit: emit)
            drain(emit: emit)
            return
        }
        if configuration.clock == .recordTimestamps { advance(to: header.id.epochMilliseconds) }
        let body = UnsafeRawBufferPointer(rebasing: payload[header.body])
        route(id: header.id, type: type, body: body, emit: emit)
        drain(emit: emit)
        enforceBound(emit: emit)
    }

    /// Adds one message held in an array; see `push(type:payload:now:emit:)`.
    public mutating func push(
        type: AuditMessageType, payload: [UInt8], now: UInt64, emit: (consuming AuditEvent) -> Void
    ) {
        payload.withUnsafeBytes { push(type: type, payload: $0, now: now, emit: emit) }
    }

    /// Advances the clock and emits every event that is due, without any new record.
    ///
    /// Call it from a timer (live) so that events whose `EOE` never comes still leave on time.
    public mutating func tick(now: UInt64, emit: (consuming AuditEvent) -> Void) {
        advance(to: now)
        drain(emit: emit)
    }

    /// Emits everything in flight, in serial order, complete or not (shutdown).
    ///
    /// The serial frontier is kept, so records pushed afterwards are still judged against it;
    /// use `restart(emit:)` to begin a new serial stream.
    public mutating func flushAll(emit: (consuming AuditEvent) -> Void) {
        while let entry = popStraggler(at: stragglers.startIndex) {
            finishStraggler(entry, completion: .shutdown, emit: emit)
        }
        while head < pending.count {
            let entry = popHead()
            finishInOrder(entry, completion: entry.closed ? entry.event.completion : .shutdown, emit: emit)
        }
    }

    /// Flushes everything and forgets the serial frontier, so the next record starts a new serial
    /// stream without a gap: between capture files of a replay, or records of another boot.
    public mutating func restart(emit: (consuming AuditEvent) -> Void) {
        flushAll(emit: emit)
        frontier = nil
        history.reset()
    }

    // MARK: - Routing

    private mutating func advance(to now: UInt64) {
        if now > clock { clock = now }
    }

    private var deadline: UInt64 {
        let (sum, overflow) = clock.addingReportingOverflow(configuration.endOfEventTimeout)
        return overflow ? .max : sum
    }

    @inline(__always)
    private func keeps(_ type: AuditMessageType) -> Bool {
        configuration.minType <= type && type <= configuration.maxType
    }

    private mutating func pushMalformed(
        type: AuditMessageType, payload: UnsafeRawBufferPointer, emit: (consuming AuditEvent) -> Void
    ) {
        // An EOE carries nothing but the identity it failed to give: emitted, it became an
        // empty-bodied event with sequence 0. It closes nothing either (which event?).
        if type == .endOfEvent {
            statistics.malformedEndOfEvents &+= 1
            statistics.endOfEventRecords &+= 1
            return
        }
        guard keeps(type) else {
            statistics.filteredRecords &+= 1
            return
        }
        var end = payload.count
        while end > 0, payload[end - 1] == 0 { end -= 1 }
        var event = AuditEvent(id: .unknown, reservingCapacity: end, reservingRecords: 1)
        event.append(type: type, body: UnsafeRawBufferPointer(rebasing: payload[0..<end]))
        event.completion = .standalone
        event.flags.insert(.malformedHeader)
        deliver(consume event, emit: emit)
    }

    private mutating func route(
        id: AuditEventID, type: AuditMessageType, body: UnsafeRawBufferPointer,
        emit: (consuming AuditEvent) -> Void
    ) {
        if let frontier, Serial.distance(id.serial, from: frontier) <= 0 {
            routeBehindFrontier(id: id, type: type, body: body, frontier: frontier, emit: emit)
            return
        }
        if let index = pendingIndex(of: id.serial) {
            guard pending[index].event.id == id else {
                // Same serial, different time: not the event in flight. Keep it apart.
                routeStraggler(id: id, type: type, body: body, flag: .duplicate, emit: emit)
                return
            }
            if pending[index].closed { statistics.duplicateRecords &+= 1 }
            let keep = keeps(type)
            tally(pending[index].add(type: type, body: body, keep: keep, limits: eventLimits))
        } else {
            let index = insertPending(newEntry(id: id))
            tally(pending[index].add(type: type, body: body, keep: keeps(type), limits: eventLimits))
        }
    }

    /// A record at or behind the frontier: late or duplicate, never loss.
    private mutating func routeBehindFrontier(
        id: AuditEventID, type: AuditMessageType, body: UnsafeRawBufferPointer, frontier: UInt32,
        emit: (consuming AuditEvent) -> Void
    ) {
        if let index = stragglers.firstIndex(where: { $0.event.id == id }) {
            addToStraggler(at: index, type: type, body: body, emit: emit)
            return
        }
        let flag: AuditEvent.Flags
        switch history.state(of: id.serial, frontier: frontier) {
        case .closed:
            flag = .duplicate
        case .gap:
            flag = .late
            if type != .endOfEvent {
                // The serial was counted as lost; it was not.
                statistics.lostSerials &-= min(1, statistics.lostSerials)
                statistics.recoveredSerials &+= 1
            }
        case .open, .unknown:
            flag = .late
        }
        routeStraggler(id: id, type: type, body: body, flag: flag, emit: emit)
    }

    /// Adds a record to the out-of-order event `id`, creating it with `flag` if needed, and emits
    /// it at once when it completes.
    private mutating func routeStraggler(
        id: AuditEventID, type: AuditMessageType, body: UnsafeRawBufferPointer, flag: AuditEvent.Flags,
        emit: (consuming AuditEvent) -> Void
    ) {
        if let index = stragglers.firstIndex(where: { $0.event.id == id }) {
            addToStraggler(at: index, type: type, body: body, emit: emit)
            return
        }
        if type == .endOfEvent {
            // A lone late EOE closes nothing that is still here: count it, nothing to emit.
            count(flag)
            statistics.endOfEventRecords &+= 1
            return
        }
        var entry = newEntry(id: id)
        entry.event.flags.formUnion(flag)
        stragglers.append(consume entry)
        let inFlight = inFlightCount
        if inFlight > statistics.inFlightHighWater { statistics.inFlightHighWater = inFlight }
        addToStraggler(at: stragglers.endIndex - 1, type: type, body: body, emit: emit)
    }

    private mutating func addToStraggler(
        at index: Int, type: AuditMessageType, body: UnsafeRawBufferPointer, emit: (consuming AuditEvent) -> Void
    ) {
        count(stragglers[index].event.flags)
        let keep = keeps(type)
        tally(stragglers[index].add(type: type, body: body, keep: keep, limits: eventLimits))
        // A closed straggler leaves at once: nothing orders it.
        if stragglers[index].closed, let entry = popStraggler(at: index) {
            finishStraggler(entry, completion: entry.event.completion, emit: emit)
        }
    }

    private mutating func count(_ flag: AuditEvent.Flags) {
        if flag.contains(.duplicate) {
            statistics.duplicateRecords &+= 1
        } else {
            statistics.lateRecords &+= 1
        }
    }

    /// Counts what happened to a record added to an entry.
    private mutating func tally(_ outcome: InFlight.Outcome) {
        switch outcome {
        case .kept: break
        case .endOfEvent: statistics.endOfEventRecords &+= 1
        case .filtered: statistics.filteredRecords &+= 1
        case .truncated: statistics.truncatedRecords &+= 1
        }
    }

    @inline(__always)
    private var eventLimits: (records: Int, bytes: Int) {
        (configuration.maxEventRecords, configuration.maxEventBytes)
    }

    private mutating func newEntry(id: AuditEventID) -> InFlight {
        var event: AuditEvent
        if let spare = spare.take() {
            event = consume spare  // moved: a copy would share the buffers, and reuse would reallocate
            event.reuse(for: id)
        } else {
            event = AuditEvent(id: id, reservingCapacity: averageBytes, reservingRecords: averageRecords)
        }
        return InFlight(event: event, deadline: deadline, arrival: clock, closed: false, filtered: 0)
    }

    /// Takes back an emitted event that its receiver is done with: the next new event reuses its
    /// buffers instead of allocating two and freeing two (25–35 ns of the ~430 ns the processing
    /// stage spent per event, replaying the benchmark's load). An event whose buffers are still
    /// shared (an output kept a copy) costs nothing extra: the next event then allocates as usual.
    public mutating func recycle(_ event: consuming AuditEvent) {
        // A rare huge event (in bytes or in records) must not pin its memory.
        guard event.storage.capacity <= Self.spareBytesLimit, event.spans.capacity <= Self.spareRecordsLimit
        else { return }
        spare = consume event
    }

    /// The largest event buffers kept for reuse: bytes, and records (24 bytes of span each).
    package static let spareBytesLimit = 16 << 10
    package static let spareRecordsLimit = 256

    /// The byte capacity of the event kept for reuse, if any (tests).
    package var spareCapacity: Int? { spare?.storage.capacity }

    // MARK: - In-order queue

    /// Finds the in-flight event with `serial`, newest first (where almost every record goes).
    private func pendingIndex(of serial: UInt32) -> Int? {
        var i = pending.count
        while i > head {
            i -= 1
            if pending[i].event.id.serial == serial { return i }
            // Sorted: once we are behind `serial`, it is not here.
            if Serial.precedes(pending[i].event.id.serial, serial) { return nil }
        }
        return nil
    }

    /// Puts `entry` in serial order and returns its index. Consuming, and filled in place by the
    /// caller afterwards: a copy of an entry retains and later releases both of its arrays, for
    /// every event.
    private mutating func insertPending(_ entry: consuming InFlight) -> Int {
        let serial = entry.event.id.serial
        var i = pending.count
        while i > head, Serial.precedes(serial, pending[i - 1].event.id.serial) { i -= 1 }
        if i == pending.count {
            pending.append(consume entry)
        } else {
            pending.insert(consume entry, at: i)
        }
        let inFlight = inFlightCount
        if inFlight > statistics.inFlightHighWater { statistics.inFlightHighWater = inFlight }
        return i
    }

    private mutating func popHead() -> InFlight {
        if head == pending.count - 1 {
            // The usual case, one event in flight: move it out of the array rather than swap a
            // vacant entry in (no retain, no release).
            let entry = pending.removeLast()
            if head > 0 { pending.removeAll(keepingCapacity: true) }
            head = 0
            return entry
        }
        var entry = InFlight.vacant
        swap(&entry, &pending[head])
        head += 1
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= pending.count {
            pending.removeFirst(head)
            head = 0
        }
        return entry
    }

    private mutating func popStraggler(at index: Int) -> InFlight? {
        guard stragglers.indices.contains(index) else { return nil }
        return stragglers.remove(at: index)
    }

    /// Whether the head of the serial order may leave: timed out, or closed and not waiting for a
    /// hole before it to fill.
    @inline(__always)
    private func isDue(_ entry: borrowing InFlight) -> Bool {
        if entry.deadline <= clock { return true }
        guard entry.closed else { return false }
        return !waitsForHole(entry) || releaseTime(of: entry) <= clock
    }

    @inline(__always)
    private func waitsForHole(_ entry: borrowing InFlight) -> Bool {
        guard configuration.reorderWindow > 0, let frontier else { return false }
        return Serial.distance(entry.event.id.serial, from: frontier) > 1
    }

    @inline(__always)
    private func releaseTime(of entry: borrowing InFlight) -> UInt64 {
        let (sum, overflow) = entry.arrival.addingReportingOverflow(configuration.reorderWindow)
        return overflow ? .max : sum
    }

    /// The earliest clock value at which `tick(now:emit:)` would emit something without any new
    /// record, or nil when nothing is in flight. A live caller sleeps no longer than this, so an
    /// event held for a missing serial leaves when its window ends, not at the next idle wake-up.
    public var nextDue: UInt64? {
        guard inFlightCount > 0 else { return nil }
        var due = UInt64.max
        if head < pending.count {
            // Already due (a reload shortened the window): now.
            if isDue(pending[head]) { return clock }
            due = pending[head].deadline
            if pending[head].closed && waitsForHole(pending[head]) { due = min(due, releaseTime(of: pending[head])) }
        }
        for index in stragglers.indices { due = min(due, stragglers[index].deadline) }
        return due
    }

    /// Emits what is due: closed or timed-out events at the head of the serial order, and
    /// out-of-order events that timed out.
    private mutating func drain(emit: (consuming AuditEvent) -> Void) {
        while head < pending.count, isDue(pending[head]) {
            let entry = popHead()
            finishInOrder(entry, completion: entry.closed ? entry.event.completion : .timeout, emit: emit)
        }
        if !stragglers.isEmpty {
            var i = 0
            while i < stragglers.count {
                if stragglers[i].deadline <= clock, let entry = popStraggler(at: i) {
                    finishStraggler(entry, completion: .timeout, emit: emit)
                } else {
                    i += 1
                }
            }
        }
    }

    /// Evicts the oldest events while more than `maxInFlight` are held.
    private mutating func enforceBound(emit: (consuming AuditEvent) -> Void) {
        while inFlightCount > configuration.maxInFlight {
            if let entry = popStraggler(at: stragglers.startIndex) {
                finishStraggler(entry, completion: .eviction, emit: emit)
            } else {
                let entry = popHead()
                // A complete event held for a missing serial before it is not cut short: it
                // leaves whole, and the serial it waited for counts as lost.
                finishInOrder(entry, completion: entry.closed ? entry.event.completion : .eviction, emit: emit)
                drain(emit: emit)
            }
        }
    }

    // MARK: - Output

    private mutating func finishInOrder(
        _ entry: consuming InFlight, completion: AuditEvent.Completion, emit: (consuming AuditEvent) -> Void
    ) {
        let serial = entry.event.id.serial
        if let frontier {
            let skipped = Serial.distance(serial, from: frontier) - 1
            if skipped > 0 {
                statistics.gaps &+= 1
                statistics.lostSerials &+= UInt64(skipped)
            }
        }
        history.pass(serial, after: frontier, closed: entry.closed)
        frontier = serial
        finish(entry, completion: completion, emit: emit)
    }

    private mutating func finishStraggler(
        _ entry: consuming InFlight, completion: AuditEvent.Completion, emit: (consuming AuditEvent) -> Void
    ) {
        if let frontier { history.settle(entry.event.id.serial, frontier: frontier, closed: entry.closed) }
        finish(entry, completion: completion, emit: emit)
    }

    private mutating func finish(
        _ entry: consuming InFlight, completion: AuditEvent.Completion, emit: (consuming AuditEvent) -> Void
    ) {
        switch completion {
        case .timeout: statistics.timedOutEvents &+= 1
        case .eviction: statistics.evictedEvents &+= 1
        case .shutdown: statistics.flushedEvents &+= 1
        case .endOfEvent, .standalone: break
        }
        guard entry.event.count > 0 else {
            if entry.filtered > 0 {
                statistics.filteredEvents &+= 1
            } else {
                statistics.emptyEvents &+= 1
            }
            return
        }
        // Moved out of the entry, not copied: a copy would retain both arrays, and dropping the
        // entry release them again, for every event.
        var event = AuditEvent(id: entry.event.id)
        swap(&event, &entry.event)
        event.completion = completion
        deliver(consume event, emit: emit)
    }

    private mutating func deliver(_ event: consuming AuditEvent, emit: (consuming AuditEvent) -> Void) {
        statistics.eventsEmitted &+= 1
        statistics.recordsEmitted &+= UInt64(event.count)
        if event.flags.contains(.truncated) { statistics.truncatedEvents &+= 1 }
        // Running averages (weight 1/8), padded by a quarter so most events never regrow.
        averageBytes = min(1 << 16, max(64, (averageBytes * 7 + event.storage.count + event.storage.count / 4) / 8))
        averageRecords = min(1 << 10, max(1, (averageRecords * 7 + event.count + 1) / 8))
        emit(consume event)  // moved: a copy here would retain and release both arrays
    }
}
