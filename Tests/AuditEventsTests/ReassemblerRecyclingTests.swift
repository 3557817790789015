import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

/// `Reassembler.recycle(_:)` lets the next event fill the buffers of one already emitted. The same
/// traffic goes through a reassembler that gets every event back and one that never does; both
/// must emit the same events, byte for byte, and an event the receiver kept a copy of must not
/// change when its buffers are reused.
struct ReassemblerRecyclingTests {
    /// An event as plain values, taken as soon as it is emitted.
    struct Snapshot: Equatable, CustomStringConvertible {
        var id: AuditEventID
        var completion: AuditEvent.Completion
        var flags: UInt8
        var types: [UInt16]
        var bodies: [[UInt8]]
        /// All of the event's bytes: a reused event must not keep the previous one's.
        var storage: [UInt8]

        init(_ event: borrowing AuditEvent) {
            id = event.id
            completion = event.completion
            flags = event.flags.rawValue
            types = event.typeNumbers
            bodies = event.records.map { Array($0.body) }
            storage = event.storage
        }

        var description: String {
            "\(id) \(completion) flags \(flags) types \(types) sizes \(bodies.map(\.count)) of \(storage.count)"
        }
    }

    struct Message {
        var type: AuditMessageType
        var payload: [UInt8]
        var now: UInt64
    }

    /// Interleaved events of 1 to 4 records with bodies from empty to 40 KiB (over the size of buffer
    /// that is kept for reuse), lost tails (timeouts), repeats of finished events (late and
    /// duplicate flags), malformed headers, records outside the type window and standalone records.
    static func traffic(seed: UInt64) -> [Message] {
        var random = SplitMix64(seed: seed)
        var messages: [Message] = []
        var serial: UInt32 = 1_000
        var now: UInt64 = 0
        var open: [(serial: UInt32, remaining: Int)] = []
        var finished: [UInt32] = []
        let letters = Array("abcdefghijklmnopqrstuvwxyz =\"".utf8)
        func body() -> String {
            let size: Int
            switch Int.random(in: 0..<20, using: &random) {
            case 0: size = 0
            case 1: size = Int.random(in: 17_000...40_000, using: &random)
            default: size = Int.random(in: 1...600, using: &random)
            }
            return String(decoding: (0..<size).map { _ in letters.randomElement(using: &random)! }, as: UTF8.self)
        }
        func push(_ type: AuditMessageType, _ serial: UInt32, _ text: String) {
            messages.append(Message(type: type, payload: payload(serial, text), now: now))
        }
        for _ in 0..<1_500 {
            now += UInt64.random(in: 0...4, using: &random)
            switch Int.random(in: 0..<40, using: &random) {
            case 0:
                messages.append(Message(type: .syscall, payload: Array("no header \(body())".utf8), now: now))
            case 1:
                serial &+= 1
                push(.daemonStart, serial, body())  // standalone
                finished.append(serial)
            case 2 where !finished.isEmpty:
                push(.path, finished.randomElement(using: &random)!, body())  // late or duplicate
            case 3:
                serial &+= 1
                push(AuditMessageType(1500), serial, body())  // outside the window: filtered
                push(.endOfEvent, serial, "")
            default:
                if open.count < 4, Int.random(in: 0..<3, using: &random) == 0 {
                    serial &+= 1
                    open.append((serial, Int.random(in: 1...4, using: &random)))
                }
                guard !open.isEmpty else { continue }
                let pick = Int.random(in: 0..<open.count, using: &random)
                let s = open[pick].serial
                if open[pick].remaining > 0 {
                    push(open[pick].remaining == 1 ? .proctitle : .syscall, s, body())
                    open[pick].remaining -= 1
                } else {
                    // One event in eight loses its EOE and leaves on the timeout.
                    if Int.random(in: 0..<8, using: &random) != 0 { push(.endOfEvent, s, "") }
                    open.remove(at: pick)
                    finished.append(s)
                }
            }
            if finished.count > 64 { finished.removeFirst(32) }
        }
        return messages
    }

    static let configuration = Reassembler.Configuration(
        endOfEventTimeout: 40, maxInFlight: 8, minType: AuditMessageType(1100), maxType: AuditMessageType(1499))

    /// Snapshots of every event emitted, and the events kept whole (every `keepEvery`-th, when
    /// given) with their snapshots.
    static func run(_ messages: [Message], recycling: Bool, keepEvery: Int? = nil)
        -> (snapshots: [Snapshot], kept: [(event: AuditEvent, snapshot: Snapshot)])
    {
        var reassembler = Reassembler(configuration: configuration)
        var snapshots: [Snapshot] = []
        var kept: [(event: AuditEvent, snapshot: Snapshot)] = []
        // As the daemon's processing stage does: the last event of each call is handed back after
        // the call, with nothing else holding it unless it was kept.
        var spent: AuditEvent?
        let receive = { (event: consuming AuditEvent) in
            let snapshot = Snapshot(event)
            snapshots.append(snapshot)
            if let keepEvery, snapshots.count % keepEvery == 0 { kept.append((copy event, snapshot)) }
            spent = consume event
        }
        func handBack() {
            if recycling, let event = spent.take() { reassembler.recycle(consume event) }
            spent = nil
        }
        for message in messages {
            reassembler.push(type: message.type, payload: message.payload, now: message.now, emit: receive)
            handBack()
            if message.now % 7 == 0 {
                reassembler.tick(now: message.now, emit: receive)
                handBack()
            }
        }
        reassembler.flushAll(emit: receive)
        handBack()
        return (snapshots, kept)
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func recyclingChangesNoEvent(seed: UInt64) {
        let messages = Self.traffic(seed: seed)
        let plain = Self.run(messages, recycling: false).snapshots
        let recycled = Self.run(messages, recycling: true).snapshots
        #expect(plain.count == recycled.count)
        for (index, (a, b)) in zip(plain, recycled).enumerated() where a != b {
            Issue.record("event \(index) differs:\n  without recycling \(a)\n  with recycling    \(b)")
            break
        }
        // The traffic must exercise what a reused event has to forget.
        #expect(plain.contains { $0.flags != 0 })
        #expect(plain.contains { $0.completion == .timeout })
        #expect(plain.contains { $0.bodies.contains { $0.count > 16 << 10 } })
    }

    @Test func anEventKeptByItsReceiverIsNotChangedByReuse() {
        let messages = Self.traffic(seed: 99)
        let run = Self.run(messages, recycling: true, keepEvery: 3)
        #expect(run.kept.count > 100)
        for (event, snapshot) in run.kept where Snapshot(event) != snapshot {
            Issue.record("kept event changed after reuse: was \(snapshot), now \(Snapshot(event))")
            break
        }
        let plain = Self.run(messages, recycling: false).snapshots
        #expect(run.snapshots.elementsEqual(plain), "the events differ without recycling")
    }

    @Test func theNextEventFillsTheBuffersHandedBack() throws {
        var reassembler = Reassembler()
        var events: [AuditEvent] = []
        reassembler.push(type: .syscall, payload: payload(1, "arch=c000003e syscall=59"), now: 0) { events.append($0) }
        reassembler.push(type: .endOfEvent, payload: payload(1), now: 0) { events.append($0) }
        let buffer = events.last?.storage.withUnsafeBufferPointer { $0.baseAddress }
        let capacity = events.last?.storage.capacity
        Self.handBackLast(&events, to: &reassembler)
        #expect(reassembler.spareCapacity == capacity)
        reassembler.push(type: .syscall, payload: payload(2, "arch=c000003e syscall=2"), now: 0) { events.append($0) }
        #expect(reassembler.spareCapacity == nil, "the new event took the spare")
        reassembler.push(type: .endOfEvent, payload: payload(2), now: 0) { events.append($0) }
        let second = try #require(events.last)
        events = []
        #expect(second.storage.withUnsafeBufferPointer { $0.baseAddress } == buffer)
        #expect(Snapshot(second).bodies == [Array("arch=c000003e syscall=2".utf8)])

        // A large event is not kept: its memory would stay pinned.
        let large = String(repeating: "x", count: Reassembler.spareBytesLimit + 1)
        reassembler.push(type: .syscall, payload: payload(3, large), now: 0) { events.append($0) }
        reassembler.push(type: .endOfEvent, payload: payload(3), now: 0) { events.append($0) }
        Self.handBackLast(&events, to: &reassembler)
        #expect(reassembler.spareCapacity == nil)

        // Nor is one of many small records.
        let many = Reassembler.spareRecordsLimit + 1
        for _ in 0..<many {
            reassembler.push(type: .path, payload: payload(4, "item=0"), now: 0) { events.append($0) }
        }
        reassembler.push(type: .endOfEvent, payload: payload(4), now: 0) { events.append($0) }
        #expect(events.last?.count == many)
        #expect((events.last?.storage.capacity ?? .max) <= Reassembler.spareBytesLimit, "small in bytes")
        Self.handBackLast(&events, to: &reassembler)
        #expect(reassembler.spareCapacity == nil)
    }

    /// Moves the last event out of `events` and hands it back, as the processing stage does: with
    /// nothing else holding its buffers.
    static func handBackLast(
        _ events: inout [AuditEvent], to reassembler: inout Reassembler,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let last = events.popLast() else {
            Issue.record("no event was emitted", sourceLocation: sourceLocation)
            return
        }
        reassembler.recycle(consume last)
    }
}
