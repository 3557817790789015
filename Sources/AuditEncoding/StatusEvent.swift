internal import AuditSystem

/// One of the daemon's own events (start, stop, reload, loss…), written to the outputs next to the
/// audit events so that loss is data, not a log line.
///
/// It encodes as one JSON line,
/// `{"type":"swift-audit.loss","timestamp":"1795345044.640","hostname":"h","reason":"enobufs","count":3}`:
/// `type`, `timestamp` (the same `"SECONDS.MILLIS"` string as audit events) and, when configured,
/// `hostname` come first, then ``fields`` in the given order. Audit events have `"sequence"` and never
/// `"type"` at the top level, so a consumer tells the two apart by the presence of `"type"`.
/// Fields named `type`, `timestamp` or `hostname` are skipped, so that a line never repeats a key.
package struct StatusEvent: Sendable {
    /// The event kind, `swift-audit.<what>` by convention (`swift-audit.loss`, `swift-audit.start`).
    package var type: String
    /// Seconds since the epoch.
    package var seconds: UInt64
    /// Milliseconds within the second (0–999).
    package var milliseconds: UInt16
    /// The event's own keys and values, in output order.
    package var fields: [(key: String, value: Value)]

    /// A field value: JSON has no other kinds that the daemon needs.
    package enum Value: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
        ExpressibleByBooleanLiteral
    {
        /// A string, escaped like record data.
        case string(String)
        /// A signed integer.
        case integer(Int64)
        /// An unsigned integer (counters).
        case unsigned(UInt64)
        /// `true` or `false`.
        case boolean(Bool)

        /// A string value from a literal.
        package init(stringLiteral value: String) { self = .string(value) }
        /// An integer value from a literal.
        package init(integerLiteral value: Int64) { self = .integer(value) }
        /// A boolean value from a literal.
        package init(booleanLiteral value: Bool) { self = .boolean(value) }
    }

    /// An event stamped with the given time.
    package init(type: String, seconds: UInt64, milliseconds: UInt16, fields: [(key: String, value: Value)] = []) {
        self.type = type
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.fields = fields
    }

    /// An event stamped with the current wall-clock time.
    package init(type: String, fields: [(key: String, value: Value)] = []) {
        let now = SystemClock.realtime()
        self.init(type: type, seconds: now.seconds, milliseconds: now.milliseconds, fields: fields)
    }

    /// A `swift-audit.loss` event: `reason`, `count` (lost since the previous report), `total` (since
    /// start), then `output` when the loss belongs to one writer, then any `extra` fields.
    package static func loss(
        reason: LossReason,
        count: UInt64,
        total: UInt64,
        output: String? = nil,
        extra: [(key: String, value: Value)] = []
    ) -> StatusEvent {
        var fields: [(key: String, value: Value)] = [
            ("reason", .string(reason.rawValue)), ("count", .unsigned(count)), ("total", .unsigned(total)),
        ]
        if let output {
            fields.append(("output", .string(output)))
        }
        fields.append(contentsOf: extra)
        return StatusEvent(type: "swift-audit.loss", fields: fields)
    }
}

/// Why events were lost; open, so that new pipeline stages can add reasons.
package struct LossReason: RawRepresentable, Hashable, Sendable {
    /// The reason as written in `"reason"`.
    package var rawValue: String

    /// Wraps a reason string.
    package init(rawValue: String) { self.rawValue = rawValue }

    /// The kernel's `lost` counter (AUDIT_GET) went up: records dropped inside the kernel.
    package static let kernelLost = Self(rawValue: "kernel_lost")
    /// `recv` returned ENOBUFS: the socket buffer overflowed.
    package static let enobufs = Self(rawValue: "enobufs")
    /// ENOBUFS on the multicast socket (`socket = multicast`): the kernel could not queue its copy
    /// of records for this reader (it never waits for a multicast reader); the registered daemon
    /// may still have them.
    package static let multicastOverrun = Self(rawValue: "multicast_overrun")
    /// Datagrams on the multicast socket from a sender other than the kernel (`nl_pid` ≠ 0):
    /// forged records, dropped.
    package static let foreignSender = Self(rawValue: "foreign_sender")
    /// Serials were skipped between emitted events.
    package static let serialGap = Self(rawValue: "serial_gap")
    /// The reader found the ring full and had to wait.
    package static let ringStall = Self(rawValue: "ring_stall")
    /// An output's queue was full and events for it were dropped.
    package static let writerDrop = Self(rawValue: "writer_drop")
    /// Events reached the bound on one event (`max_event_records`, `max_event_bytes`): emitted
    /// with their first records, flagged `truncated`, the rest dropped.
    package static let eventTruncated = Self(rawValue: "event_truncated")
    /// The reassembler evicted incomplete events to stay within its bound.
    package static let eviction = Self(rawValue: "eviction")
    /// Datagrams that did not decode as netlink or as an audit record were dropped.
    package static let malformedDatagram = Self(rawValue: "malformed_datagram")
    /// Receiving from the audit socket failed for another reason than ENOBUFS (the reader retries).
    package static let receiveError = Self(rawValue: "receive_error")
    /// An output shortened events to fit its destination's message limit (with a marker).
    package static let writerTruncated = Self(rawValue: "writer_truncated")
    /// An output's UDP datagrams were refused (ECONNREFUSED: nobody listening).
    package static let writerRefused = Self(rawValue: "writer_refused")
    /// An output's disk spool held damaged entries (a tail torn by a crash mid-write, corruption):
    /// each damaged region lost at least one event.
    package static let spoolTorn = Self(rawValue: "spool_torn")
}
