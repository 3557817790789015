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

    public init(seconds: UInt64, milliseconds: UInt16, serial: UInt32) {
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    /// The time in milliseconds since the epoch.
    public var epochMilliseconds: UInt64 { seconds &* 1000 &+ UInt64(milliseconds) }

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

    /// An event with no records yet.
    public init(id: AuditEventID, reservingCapacity bytes: Int = 0) {
        self.id = id
        self.storage = []
        self.spans = []
        storage.reserveCapacity(bytes)
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
        public var startIndex: Int { 0 }
        public var endIndex: Int { event.spans.count }
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

    public init(type: AuditMessageType, body: ArraySlice<UInt8>) {
        self.type = type
        self.body = body
    }
}
