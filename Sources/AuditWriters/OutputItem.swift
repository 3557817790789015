public import AuditEvents

/// One event ready for the outputs: its encoded JSON line, and optionally the event itself.
///
/// The encoder builds one `OutputItem` per event and hands the same value to every output's
/// queue: `line` is a copy-on-write array, so N outputs share one buffer and cost N reference
/// counts, not N copies.
public struct OutputItem: Sendable {
    /// One complete JSON document, **without** a trailing newline: each writer adds its own
    /// framing (a newline for files and stdout, a syslog header and octet count, a GELF field).
    /// Must not contain a raw newline (the JSON encoder escapes control characters).
    public var line: [UInt8]
    /// The structured event behind a reference, so that an item is two words: a queue holds
    /// thousands of items while its writer catches up, and most writers (file, stdout) never
    /// carry an event (an item was 48 bytes with the event inline: 384 KiB for a full 8192-item queue,
    /// now 128 KiB).
    private var box: EventBox?

    /// The structured event, for writers that need fields (GELF's `_syscall`, syslog's
    /// timestamp); nil for daemon-generated lines such as loss reports.
    public var event: AuditEvent? {
        get { box?.event }
        set { box = newValue.map(EventBox.init) }
    }

    /// Wraps an encoded line and, when a writer needs fields, its event.
    public init(line: [UInt8], event: AuditEvent? = nil) {
        self.line = line
        self.box = event.map(EventBox.init)
    }
}

/// An event shared by the items of several outputs, immutable.
private final class EventBox: Sendable {
    let event: AuditEvent

    init(_ event: AuditEvent) {
        self.event = event
    }
}
