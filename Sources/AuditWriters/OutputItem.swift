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
    /// The structured event, for writers that need fields (GELF's `_syscall`, syslog's
    /// timestamp); nil for daemon-generated lines such as loss reports.
    public var event: AuditEvent?

    /// Wraps an encoded line and, when a writer needs fields, its event.
    public init(line: [UInt8], event: AuditEvent? = nil) {
        self.line = line
        self.event = event
    }
}
