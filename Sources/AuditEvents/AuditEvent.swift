public import AuditNetlink

/// The identity the kernel gives an event: `audit(SECONDS.MILLIS:SERIAL)` in every record's header.
///
/// All records with the same identity belong to one event.
public struct AuditEventID: Hashable, Sendable, CustomStringConvertible {
    /// Seconds since the epoch.
    public var seconds: UInt64
    /// Milliseconds within the second (0–999).
    public var milliseconds: UInt16
    /// The per-boot serial; wraps at 2^32.
    public var serial: UInt32

    /// Creates an identity from the header's three numbers.
    public init(seconds: UInt64, milliseconds: UInt16, serial: UInt32) {
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    /// The time in milliseconds since the epoch.
    public var epochMilliseconds: UInt64 { seconds &* 1000 &+ UInt64(milliseconds) }

    /// The identity given to records whose header could not be parsed (all zero: no kernel
    /// record carries serial 0 at time 0).
    public static let unknown = AuditEventID(seconds: 0, milliseconds: 0, serial: 0)

    /// `SECONDS.MILLIS:SERIAL`, as in the header.
    public var description: String {
        let ms = String(milliseconds)
        return "\(seconds).\(String(repeating: "0", count: max(0, 3 - ms.count)))\(ms):\(serial)"
    }
}

/// One reassembled event: its identity and its records in arrival order.
///
/// The records' texts live in one contiguous byte buffer so that building an event costs two
/// growing arrays, not one allocation per record.
public struct AuditEvent: Sendable {
    /// The event's identity.
    public var id: AuditEventID
    /// All record bodies, back to back.
    public private(set) var storage: [UInt8]
    /// Where each record's body lies in `storage`, with its type.
    public private(set) var spans: [Span]

    /// One record's place in `storage`.
    public struct Span: Hashable, Sendable {
        /// The record type.
        public var type: AuditMessageType
        /// The body's byte range in `storage`.
        public var range: Range<Int>
    }

    /// How the event ended; the reassembler sets it, encoders and loss reports read it.
    public var completion: Completion
    /// Anything unusual about how the records arrived.
    public var flags: Flags
    /// Records dropped because the event reached its size bound (`flags` then holds `.truncated`).
    public var droppedRecords: Int = 0

    /// Why an event was handed on: closed by the kernel, or given up on by the reassembler.
    ///
    /// Only `endOfEvent` and `standalone` promise a whole event; the others may lack a tail that
    /// was lost or is still on its way (it then arrives as a separate, `late` event).
    public enum Completion: Hashable, Sendable {
        /// Closed by an `EOE` record (which is not part of the event).
        case endOfEvent
        /// A record type that is a whole event by itself (user-space and daemon records).
        case standalone
        /// No `EOE` came within the end-of-event timeout.
        case timeout
        /// Pushed out because too many events were in flight.
        case eviction
        /// Flushed at shutdown or restart before it was closed.
        case shutdown
    }

    /// Irregularities a consumer should be able to report rather than silently smooth over.
    public struct Flags: OptionSet, Hashable, Sendable {
        /// The flags as bits.
        public var rawValue: UInt8
        /// Creates flags from bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Records whose serial the reassembler had already passed: the tail of an event that was
        /// emitted without its `EOE` (timeout, eviction), or an event whose serial was counted as a
        /// gap. Emitted out of serial order, as an event of their own.
        public static let late = Flags(rawValue: 1 << 0)
        /// Records that arrived after their event was already closed by `EOE` (or was a standalone
        /// record): the kernel never does that, so they are repeats (a datagram delivered twice, a
        /// capture replayed twice) or forged; kept, not dropped, so nothing vanishes unseen.
        public static let duplicate = Flags(rawValue: 1 << 1)
        /// A single record whose `audit(…)` header could not be parsed: `id` is
        /// `AuditEventID.unknown` and the record body is the whole payload.
        public static let malformedHeader = Flags(rawValue: 1 << 2)
        /// The event reached the reassembler's bound on one event (`maxEventRecords`,
        /// `maxEventBytes`): its first records are here, `droppedRecords` later ones were dropped.
        public static let truncated = Flags(rawValue: 1 << 3)
    }

    /// An event with no records yet.
    public init(id: AuditEventID, reservingCapacity bytes: Int = 0, reservingRecords records: Int = 0) {
        self.id = id
        self.storage = []
        self.spans = []
        self.completion = .endOfEvent
        self.flags = []
        if bytes > 0 { storage.reserveCapacity(bytes) }
        if records > 0 { spans.reserveCapacity(records) }
    }

    /// Empties the event for `id`, keeping its buffers (see `Reassembler.recycle(_:)`).
    mutating func reuse(for id: AuditEventID) {
        self.id = id
        storage.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        completion = .endOfEvent
        flags = []
        droppedRecords = 0
    }

    /// Adds a record: its type and its body (the text after `audit(…): `).
    public mutating func append(type: AuditMessageType, body: some Collection<UInt8>) {
        let start = storage.count
        storage.append(contentsOf: body)
        spans.append(Span(type: type, range: start..<storage.count))
    }

    /// Adds a record from raw bytes.
    public mutating func append(type: AuditMessageType, body: UnsafeRawBufferPointer) {
        let start = storage.count
        storage.append(contentsOf: body)
        spans.append(Span(type: type, range: start..<storage.count))
    }

    /// The number of records.
    public var count: Int { spans.count }

    /// The records, as views into `storage`.
    public var records: Records { Records(event: self) }

    /// The records of an event, in arrival order.
    public struct Records: RandomAccessCollection, Sendable {
        let event: AuditEvent
        /// Always 0.
        public var startIndex: Int { 0 }
        /// The number of records.
        public var endIndex: Int { event.spans.count }
        /// The record at `position`, a view into the event's storage (no copy).
        public subscript(position: Int) -> AuditRecord {
            let span = event.spans[position]
            return AuditRecord(type: span.type, body: event.storage[span.range])
        }
    }
}

/// One record of an event: its type and its body text (`arch=c000003e syscall=59 …`), as bytes.
public struct AuditRecord: Sendable {
    /// The record type.
    public var type: AuditMessageType
    /// The body, after the `audit(…): ` header; not necessarily valid UTF-8.
    public var body: ArraySlice<UInt8>

    /// Creates a record view.
    public init(type: AuditMessageType, body: ArraySlice<UInt8>) {
        self.type = type
        self.body = body
    }
}
