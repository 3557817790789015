/// Serial arithmetic modulo 2^32.
///
/// The kernel's event serial is a per-boot `u32` that wraps. Comparing serials with `<` or
/// subtracting them as unsigned numbers gives nonsense at the wrap (go-libaudit reports a "loss of
/// 4294967295" there); the signed distance is right as long as the two serials are less than 2^31
/// apart, which holds for anything a reassembler holds at once.
enum Serial {
    /// How far `a` is ahead of `b` (negative when `a` is behind `b`).
    @inline(__always)
    static func distance(_ a: UInt32, from b: UInt32) -> Int64 {
        Int64(Int32(bitPattern: a &- b))
    }

    /// True when `a` comes before `b`.
    @inline(__always)
    static func precedes(_ a: UInt32, _ b: UInt32) -> Bool {
        distance(a, from: b) < 0
    }
}

/// What became of each of the most recent serials behind the reassembler's frontier.
///
/// A record whose serial was already passed is either the tail of an event emitted without its
/// `EOE` (late), a repeat of a closed event (duplicate), or the first sign of an event whose serial
/// was counted as lost (late, and the loss count is corrected). Telling these apart needs a memory
/// of the passed serials; one byte per serial in a fixed ring (64 KiB) covers the last 65,536
/// serials, which at 100k events/s is more than half a second of lag — late tails come within
/// the end-of-event timeout window of their event in practice, and anything older is still
/// counted as late, just without the loss correction.
struct SerialHistory {
    enum State: UInt8 {
        /// Never passed within the window, or passed before the first emitted event.
        case unknown = 0
        /// Skipped: counted in `lostSerials`.
        case gap = 1
        /// Passed with an event that had no `EOE` (timed out, evicted, flushed).
        case open = 2
        /// Passed with an event closed by `EOE` or a standalone record.
        case closed = 3
    }

    /// Serials remembered; a power of two so that `serial & mask` indexes the ring across the wrap.
    static let window: Int = 1 << 16
    private static let mask = UInt32(window - 1)

    /// Allocated on first use, so an idle reassembler costs nothing.
    private var states: [UInt8] = []

    init() {}

    /// Records that the frontier moved from `previous` to `serial` (which is ahead of it): the
    /// serials in between are gaps.
    mutating func pass(_ serial: UInt32, after previous: UInt32?, closed: Bool) {
        if states.isEmpty { states = [UInt8](repeating: State.unknown.rawValue, count: Self.window) }
        if let previous {
            let skipped = Serial.distance(serial, from: previous) - 1
            if skipped > 0 {
                let marks = min(skipped, Int64(Self.window - 1))
                var gapSerial = serial
                for _ in 0..<marks {
                    gapSerial &-= 1
                    states[Int(gapSerial & Self.mask)] = State.gap.rawValue
                }
            }
        }
        states[Int(serial & Self.mask)] = (closed ? State.closed : State.open).rawValue
    }

    /// Records the outcome of an out-of-order event at `serial`, which is behind `frontier`.
    mutating func settle(_ serial: UInt32, frontier: UInt32, closed: Bool) {
        guard isRemembered(serial, frontier: frontier) else { return }
        states[Int(serial & Self.mask)] = (closed ? State.closed : State.open).rawValue
    }

    /// What happened to `serial`, which is at or behind `frontier` (the last passed serial).
    func state(of serial: UInt32, frontier: UInt32) -> State {
        guard isRemembered(serial, frontier: frontier) else { return .unknown }
        return State(rawValue: states[Int(serial & Self.mask)]) ?? .unknown
    }

    private func isRemembered(_ serial: UInt32, frontier: UInt32) -> Bool {
        let behind = Serial.distance(frontier, from: serial)
        return !states.isEmpty && behind >= 0 && behind < Int64(Self.window)
    }

    /// Forgets everything (a new serial stream).
    mutating func reset() {
        if !states.isEmpty {
            for i in states.indices { states[i] = State.unknown.rawValue }
        }
    }
}
