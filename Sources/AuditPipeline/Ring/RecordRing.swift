import AuditThreads
import Glibc
import Synchronization

/// The hand-off between the socket reader and the reassembler: a single-producer,
/// single-consumer ring of fixed-size byte slots, each big enough for one audit datagram, so the
/// reader can `recv()` straight into a slot and the reassembler parses it in place (no copy, no
/// allocation per record).
///
/// # Threads
/// Exactly one thread may call the producer methods (`withNextFreeSlot`, `tryWithNextFreeSlot`,
/// `publish`, `waitForFreeSlot`) and exactly one other thread the consumer methods
/// (`consumeAvailable`, `waitForData`). `statistics`, `wakeConsumer` and `wakeProducer` may be
/// called from any thread.
///
/// # Waiting
/// The consumer spins briefly, then parks; the producer wakes it only when the consumer's
/// `sleeping` flag is set, so a busy consumer costs the producer no syscall. When the ring is
/// full the producer waits the same way (the kernel's socket buffer and backlog absorb the
/// burst); it never drops a record, and each such stall is counted with its duration.
///
/// # Memory
/// One allocation made at init: `slotCount` slots of `slotSize` bytes plus a 16-byte header,
/// rounded up to a multiple of 64. Pages are only touched as slots are first used, but a ring that
/// has cycled once keeps all of them resident: 1024 × 9 KiB is about 9 MiB of RSS.
public final class RecordRing: @unchecked Sendable {
    // @unchecked: the slot memory is shared without a lock under the SPSC discipline. A slot
    // between `head` and `tail` belongs to the consumer, every other slot to the producer, and
    // ownership only moves through the release/acquire (here sequentially consistent) stores and
    // loads of `tail` and `head`. Every other mutable field is an `Atomic`.

    /// The default slot payload: `MAX_AUDIT_MESSAGE_LENGTH` (8970) plus the 16-byte netlink
    /// header, rounded up to 9 KiB.
    public static let defaultSlotSize = 9 * 1024
    /// The default number of slots (about 9 MiB with the default slot size).
    public static let defaultSlotCount = 1024

    /// Bytes before each slot's payload: the payload length (an `Int`) and padding that keeps
    /// the payload 16-byte aligned.
    fileprivate static let slotHeaderSize = 16

    /// The number of slots, a power of two.
    public let slotCount: Int
    /// The payload capacity of one slot, in bytes.
    public let slotSize: Int
    /// How many times a waiting side polls before it parks.
    public let spinIterations: Int

    private let mask: Int
    private let stride: Int
    /// The occupancy at which the producer cuts a lingering consumer's wait short.
    private let lingerWakeThreshold: Int
    private let memory: UnsafeMutableRawPointer
    private let consumerParker = Parker()
    private let producerParker = Parker()

    // Producer cache line(s): written by the producer, read by the consumer only through `tail`.
    private let padding0 = CacheLinePadding()
    /// Records published so far (monotonic, never masked): the consumer may read slots below it.
    private let tail = Atomic<Int>(0)
    /// Slots filled so far, published or not. Producer-only.
    private let pendingTail = Atomic<Int>(0)
    /// The producer's last view of `head`. Producer-only.
    private let producerCachedHead = Atomic<Int>(0)
    /// Monotonic nanoseconds at which the current stall began, 0 when not stalled.
    private let stallStart = Atomic<UInt64>(0)
    private let stallEpisodes = Atomic<Int>(0)
    private let stallNanoseconds = Atomic<UInt64>(0)

    // Consumer cache line(s).
    private let padding1 = CacheLinePadding()
    /// Records consumed so far (monotonic): the producer may refill slots below it.
    private let head = Atomic<Int>(0)
    /// The consumer's last view of `tail`. Consumer-only.
    private let consumerCachedTail = Atomic<Int>(0)
    /// The largest number of records seen waiting at the start of a batch.
    private let peakOccupancy = Atomic<Int>(0)

    // Flags: read by the other side on every publish or release, written rarely.
    private let padding2 = CacheLinePadding()
    private let consumerSleeping = Atomic<Bool>(false)
    private let consumerLingering = Atomic<Bool>(false)
    private let producerSleeping = Atomic<Bool>(false)
    private let consumerWakeRequested = Atomic<Bool>(false)
    private let producerWakeRequested = Atomic<Bool>(false)
    private let padding3 = CacheLinePadding()

    /// Allocates a ring of `slotCount` slots (a power of two, 2…2^24) of `slotSize` payload bytes
    /// (1…16 MiB) each.
    ///
    /// `spinIterations` is how often a waiting side re-checks before it parks; keep it small on
    /// machines with few cores, where spinning steals time from the other side.
    public init(
        slotCount: Int = RecordRing.defaultSlotCount,
        slotSize: Int = RecordRing.defaultSlotSize,
        spinIterations: Int = 200
    ) throws(RecordRingError) {
        guard slotCount >= 2, slotCount <= 1 << 24, slotCount & (slotCount - 1) == 0 else {
            throw RecordRingError(code: .invalidSlotCount, value: slotCount)
        }
        guard slotSize >= 1, slotSize <= 16 << 20 else {
            throw RecordRingError(code: .invalidSlotSize, value: slotSize)
        }
        let stride = (Self.slotHeaderSize + slotSize + 63) & ~63
        let (total, overflow) = stride.multipliedReportingOverflow(by: slotCount)
        guard !overflow else { throw RecordRingError(code: .outOfMemory, value: Int.max) }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, 4096, total) == 0, let pointer else {
            throw RecordRingError(code: .outOfMemory, value: total)
        }
        self.memory = pointer
        self.slotCount = slotCount
        self.slotSize = slotSize
        self.spinIterations = max(0, spinIterations)
        self.mask = slotCount - 1
        self.stride = stride
        self.lingerWakeThreshold = slotCount / 2
    }

    deinit {
        free(memory)
    }

    @inline(__always)
    fileprivate func slot(_ index: Int) -> UnsafeMutableRawPointer {
        memory + (index & mask) &* stride
    }

    // MARK: Producer

    /// Fills the next free slot, waiting (spin, then park) while the ring is full; the wait is
    /// counted as a stall. Returns the byte count `body` reported.
    ///
    /// `body` gets the slot's whole payload area and returns how many bytes it filled; 0 or less
    /// leaves the slot free (for example `recv` was interrupted). Counts above `slotSize` are
    /// clamped. The record becomes visible to the consumer at the next `publish()`; the producer
    /// must publish before it blocks anywhere else (for example in a blocking `recv`).
    @discardableResult
    public func withNextFreeSlot<E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        if !producerHasSpace() {
            while !waitForFreeSlot(timeoutMilliseconds: nil) {}
        }
        return try fill(body)
    }

    /// Fills up to `limit` free slots in one go (one `recvmmsg` for many datagrams), waiting while
    /// the ring is full exactly as `withNextFreeSlot` does. `body` gets the free slots and returns
    /// how many of the first ones it filled, after setting each one's length; those become the
    /// next records. A filled slot must not be left empty (length 0).
    @discardableResult
    public func withFreeSlots<E: Error>(max limit: Int, _ body: (inout FreeSlots) throws(E) -> Int) throws(E) -> Int {
        if !producerHasSpace() {
            while !waitForFreeSlot(timeoutMilliseconds: nil) {}
        }
        if stallStart.load(ordering: .relaxed) != 0 { endStall() }
        let first = pendingTail.load(ordering: .relaxed)
        var available = slotCount - (first - producerCachedHead.load(ordering: .relaxed))
        if available < limit {
            let seenHead = head.load(ordering: .acquiring)
            producerCachedHead.store(seenHead, ordering: .relaxed)
            available = slotCount - (first - seenHead)
        }
        var slots = FreeSlots(ring: self, first: first, count: max(0, min(limit, available)))
        // Only slots whose length was set, in order, are published: a body that returns more
        // than it described can never expose stale or uninitialised bytes.
        let filled = try max(0, min(body(&slots), slots.described))
        if filled > 0 { pendingTail.store(first + filled, ordering: .relaxed) }
        return filled
    }

    /// Free slots handed to the producer by `withFreeSlots`.
    public struct FreeSlots: ~Copyable {
        fileprivate let ring: RecordRing
        fileprivate let first: Int
        /// How many slots are free, from index 0.
        public let count: Int
        /// How many slots, from index 0, have had their length set.
        public private(set) var described = 0

        /// The payload area of the `index`-th free slot.
        public func buffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
            precondition(index >= 0 && index < count, "free slot \(index) of \(count)")
            return UnsafeMutableRawBufferPointer(
                start: ring.slot(first + index) + RecordRing.slotHeaderSize, count: ring.slotSize)
        }

        /// Records how many bytes the `index`-th slot holds (clamped to the slot size, at least 1).
        /// Slots are described in order: `index` must be the next one (0, 1, 2…).
        public mutating func setLength(_ length: Int, at index: Int) {
            precondition(index == described && index < count, "free slot \(index) described out of order")
            described += 1
            ring.slot(first + index).storeBytes(of: max(1, min(length, ring.slotSize)), as: Int.self)
        }
    }

    /// Like `withNextFreeSlot`, but returns nil at once when the ring is full (and starts a stall
    /// episode, ended by the next slot the producer gets).
    public func tryWithNextFreeSlot<E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int? {
        guard producerHasSpace() else {
            beginStall()
            return nil
        }
        return try fill(body)
    }

    /// Makes every filled slot visible to the consumer, and wakes it if it sleeps. Cheap when
    /// nothing is pending; call it once per batch of receives.
    public func publish() {
        let pending = pendingTail.load(ordering: .relaxed)
        guard pending != tail.load(ordering: .relaxed) else { return }
        // Sequentially consistent store then load: pairs with the consumer's store of
        // `consumerSleeping` then load of `tail`, so at least one side sees the other's write
        // and a wake-up cannot be missed.
        tail.store(pending, ordering: .sequentiallyConsistent)
        if consumerSleeping.load(ordering: .sequentiallyConsistent),
            consumerSleeping.exchange(false, ordering: .sequentiallyConsistent)
        {
            consumerParker.unpark()
        } else if consumerLingering.load(ordering: .sequentiallyConsistent),
            pending - head.load(ordering: .relaxed) >= lingerWakeThreshold,
            consumerLingering.exchange(false, ordering: .sequentiallyConsistent)
        {
            consumerParker.unpark()
        }
    }

    /// Waits until at least one slot is free: publishes what is pending, spins, then parks for at
    /// most `timeoutMilliseconds` (nil or negative: no limit). Returns false on timeout or when
    /// `wakeProducer()` interrupted the wait. A full ring starts a stall episode that lasts until
    /// the producer gets a slot.
    public func waitForFreeSlot(timeoutMilliseconds: Int?) -> Bool {
        if producerHasSpace() {
            endStall()
            return true
        }
        beginStall()
        publish()
        for _ in 0..<spinIterations where producerHasSpace() {
            endStall()
            return true
        }
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMilliseconds)
        while true {
            producerSleeping.store(true, ordering: .sequentiallyConsistent)
            let seenHead = head.load(ordering: .sequentiallyConsistent)
            if pendingTail.load(ordering: .relaxed) - seenHead < slotCount {
                producerSleeping.store(false, ordering: .relaxed)
                producerCachedHead.store(seenHead, ordering: .relaxed)
                endStall()
                return true
            }
            if timeoutMilliseconds == 0 {
                producerSleeping.store(false, ordering: .relaxed)
                return false
            }
            producerParker.park(untilMonotonicNanoseconds: deadline)
            producerSleeping.store(false, ordering: .relaxed)
            if producerHasSpace() {
                endStall()
                return true
            }
            if producerWakeRequested.exchange(false, ordering: .relaxed) { return false }
            if let deadline, MonotonicClock.nanoseconds() >= deadline { return false }
        }
    }

    @inline(__always)
    private func producerHasSpace() -> Bool {
        let pending = pendingTail.load(ordering: .relaxed)
        if pending - producerCachedHead.load(ordering: .relaxed) < slotCount { return true }
        let seenHead = head.load(ordering: .acquiring)
        producerCachedHead.store(seenHead, ordering: .relaxed)
        return pending - seenHead < slotCount
    }

    @inline(__always)
    private func fill<E: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        if stallStart.load(ordering: .relaxed) != 0 { endStall() }
        let index = pendingTail.load(ordering: .relaxed)
        let base = slot(index)
        let payload = UnsafeMutableRawBufferPointer(start: base + Self.slotHeaderSize, count: slotSize)
        let filled = try min(body(payload), slotSize)
        guard filled > 0 else { return 0 }
        base.storeBytes(of: filled, as: Int.self)
        pendingTail.store(index + 1, ordering: .relaxed)
        return filled
    }

    private func beginStall() {
        guard stallStart.load(ordering: .relaxed) == 0 else { return }
        stallEpisodes.wrappingAdd(1, ordering: .relaxed)
        stallStart.store(max(1, MonotonicClock.nanoseconds()), ordering: .relaxed)
    }

    private func endStall() {
        let start = stallStart.load(ordering: .relaxed)
        guard start != 0 else { return }
        let now = MonotonicClock.nanoseconds()
        stallNanoseconds.wrappingAdd(now &- min(start, now), ordering: .relaxed)
        stallStart.store(0, ordering: .relaxed)
    }

    // MARK: Consumer

    /// Hands up to `max` waiting records to `body`, oldest first, then frees their slots at once
    /// (one release per batch). Returns how many records were consumed; 0 when the ring is empty.
    ///
    /// The buffer is only valid during the call. If `body` throws, the records before it and the
    /// one it threw on are consumed (a record that always fails cannot wedge the ring), the rest
    /// stay for the next call.
    @discardableResult
    public func consumeAvailable<E: Error>(
        max limit: Int = .max,
        _ body: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Int {
        guard limit > 0 else { return 0 }
        let first = head.load(ordering: .relaxed)
        var available = consumerCachedTail.load(ordering: .relaxed) - first
        if available < limit {
            let seenTail = tail.load(ordering: .acquiring)
            consumerCachedTail.store(seenTail, ordering: .relaxed)
            available = seenTail - first
        }
        guard available > 0 else { return 0 }
        if available > peakOccupancy.load(ordering: .relaxed) {
            peakOccupancy.store(available, ordering: .relaxed)
        }
        let count = min(available, limit)
        var consumed = 0
        defer { release(upTo: first + consumed) }
        while consumed < count {
            let base = slot(first + consumed)
            let length = base.load(as: Int.self)
            consumed += 1
            try body(UnsafeRawBufferPointer(start: base + Self.slotHeaderSize, count: length))
        }
        return count
    }

    private func release(upTo newHead: Int) {
        // Pairs with the producer's store of `producerSleeping` then load of `head`.
        head.store(newHead, ordering: .sequentiallyConsistent)
        if producerSleeping.load(ordering: .sequentiallyConsistent),
            producerSleeping.exchange(false, ordering: .sequentiallyConsistent)
        {
            producerParker.unpark()
        }
    }

    /// Waits until at least one record is published: spins, then parks for at most
    /// `timeoutMilliseconds` (0: just check; nil or negative: no limit). Returns true when data
    /// is ready, false on timeout or when `wakeConsumer()` interrupted the wait, so a consumer
    /// with a timer (end-of-event timeout) or a stop flag gets control back without traffic.
    ///
    /// `lingerMicroseconds` trades latency for wake-ups: when the consumer had to park and was
    /// woken by a new record, it waits that much longer (or until the ring is half full) before
    /// returning, so that at a moderate rate it wakes once per window instead of once per record.
    /// Measured on the 2-vCPU VM with a producer paced at 20k records/s: without lingering the
    /// consumer's wake-ups cost about 1.5–1.8 CPU s per 100k records; with 500 µs or 1000 µs
    /// they fall below the measurement's noise (about 0.2), for a p99 latency of about 0.6 ms or
    /// 1.1 ms. A consumer that finds data without parking never lingers, so throughput under
    /// load is unchanged.
    public func waitForData(timeoutMilliseconds: Int?, lingerMicroseconds: Int = 0) -> Bool {
        if consumerHasData() { return true }
        if timeoutMilliseconds == 0 { return false }
        for _ in 0..<spinIterations where consumerHasData() {
            return true
        }
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMilliseconds)
        while true {
            consumerSleeping.store(true, ordering: .sequentiallyConsistent)
            if tail.load(ordering: .sequentiallyConsistent) != head.load(ordering: .relaxed) {
                consumerSleeping.store(false, ordering: .relaxed)
                return true
            }
            consumerParker.park(untilMonotonicNanoseconds: deadline)
            consumerSleeping.store(false, ordering: .relaxed)
            if consumerHasData() {
                linger(microseconds: lingerMicroseconds)
                return true
            }
            if consumerWakeRequested.exchange(false, ordering: .relaxed) { return false }
            if let deadline, MonotonicClock.nanoseconds() >= deadline { return false }
        }
    }

    /// Parks for `microseconds` unless the ring is (or becomes) half full: the producer wakes a
    /// lingering consumer only at that threshold.
    private func linger(microseconds: Int) {
        guard microseconds > 0 else { return }
        let deadline = MonotonicClock.nanoseconds() &+ UInt64(microseconds) &* 1000
        // Pairs with `publish`: store the flag, then load `tail`.
        consumerLingering.store(true, ordering: .sequentiallyConsistent)
        if tail.load(ordering: .sequentiallyConsistent) - head.load(ordering: .relaxed) < lingerWakeThreshold {
            consumerParker.park(untilMonotonicNanoseconds: deadline)
        }
        consumerLingering.store(false, ordering: .relaxed)
    }

    @inline(__always)
    private func consumerHasData() -> Bool {
        tail.load(ordering: .acquiring) != head.load(ordering: .relaxed)
    }

    // MARK: Any thread

    /// Makes a current or the next `waitForData` return false at once (for shutdown or a config
    /// change), even without data.
    public func wakeConsumer() {
        consumerWakeRequested.store(true, ordering: .relaxed)
        consumerParker.unpark()
    }

    /// Makes a current or the next parked `waitForFreeSlot` return false at once, so a stalled
    /// reader can notice a stop request.
    public func wakeProducer() {
        producerWakeRequested.store(true, ordering: .relaxed)
        producerParker.unpark()
    }

    /// A snapshot of the counters, safe to read from any thread (for STATUS= and loss events).
    public var statistics: RecordRingStatistics {
        let start = stallStart.load(ordering: .relaxed)
        var stalled = stallNanoseconds.load(ordering: .relaxed)
        if start != 0 {
            let now = MonotonicClock.nanoseconds()
            stalled &+= now &- min(start, now)
        }
        return RecordRingStatistics(
            published: tail.load(ordering: .relaxed),
            consumed: head.load(ordering: .relaxed),
            stallEpisodes: stallEpisodes.load(ordering: .relaxed),
            stallDuration: .nanoseconds(Int64(clamping: stalled)),
            isStalled: start != 0,
            peakOccupancy: peakOccupancy.load(ordering: .relaxed)
        )
    }
}

/// Counters of a `RecordRing`, taken at one moment (each field is read separately, so they may
/// be a few records apart).
public struct RecordRingStatistics: Hashable, Sendable {
    /// Records made visible to the consumer since the ring was created.
    public var published: Int
    /// Records the consumer has finished with.
    public var consumed: Int
    /// How many times the producer found the ring full.
    public var stallEpisodes: Int
    /// Total time the producer spent with a full ring, including a stall in progress.
    public var stallDuration: Duration
    /// Whether the producer is waiting for a free slot right now.
    public var isStalled: Bool
    /// The most records ever seen waiting at the start of a consumer batch.
    public var peakOccupancy: Int

    /// Records published but not yet consumed.
    public var occupancy: Int { published - consumed }

    /// Creates a snapshot (used by the ring; public so tests and reports can build expected values).
    public init(
        published: Int,
        consumed: Int,
        stallEpisodes: Int,
        stallDuration: Duration,
        isStalled: Bool,
        peakOccupancy: Int
    ) {
        self.published = published
        self.consumed = consumed
        self.stallEpisodes = stallEpisodes
        self.stallDuration = stallDuration
        self.isStalled = isStalled
        self.peakOccupancy = peakOccupancy
    }
}

/// Why a `RecordRing` could not be created, with the offending value.
public struct RecordRingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public enum Code: Hashable, Sendable {
        /// The slot count is not a power of two in 2…2^24.
        case invalidSlotCount
        /// The slot size is not in 1…16 MiB.
        case invalidSlotSize
        /// The ring's memory could not be allocated (`value` is the byte count).
        case outOfMemory
    }

    /// What went wrong.
    public var code: Code
    /// The value that was refused (slot count, slot size or bytes requested).
    public var value: Int

    /// Creates an error (public so callers can compare against expected errors).
    public init(code: Code, value: Int) {
        self.code = code
        self.value = value
    }

    /// A sentence naming the refused value and the accepted range, for logs and config errors.
    public var description: String {
        switch code {
        case .invalidSlotCount: "ring slot count \(value) is not a power of two between 2 and 16777216"
        case .invalidSlotSize: "ring slot size \(value) is not between 1 and 16777216 bytes"
        case .outOfMemory: "cannot allocate \(value) bytes for the record ring"
        }
    }
}

/// 128 bytes that keep the producer's and the consumer's atomics on different cache lines (128
/// rather than 64 because x86's adjacent-line prefetcher pulls lines in pairs).
struct CacheLinePadding {
    private var words:
        (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}
