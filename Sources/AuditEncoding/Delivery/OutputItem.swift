package import AuditEvents

/// One event ready for the outputs: its encoded JSON line, and optionally the event itself.
///
/// The encoder builds one `OutputItem` per event and hands the same value to every output's
/// queue, so N outputs share one buffer and cost N reference counts, not N copies. The line either
/// has an array of its own or is a range of a chunk shared with the other lines of its batch
/// (`init(sharing:range:)`): the processing stage encodes a batch's lines one after another into
/// one buffer, so a line costs no allocation of its own and the writer thread frees one buffer per
/// batch instead of one per event (on two CPUs, a `malloc` here and a `free` there contend for the
/// same allocator arena, event after event).
package struct OutputItem: Sendable {
    /// The line's own array, or the chunk it shares.
    private var storage: [UInt8]
    /// The line is `storage[start..<end]`; a line never reaches 4 GiB.
    private var start: UInt32
    private var end: UInt32
    /// The structured event behind a reference, so that an item stays three words: a queue holds
    /// thousands of items while its writer catches up, and most writers (file, stdout) never
    /// carry an event.
    private var box: EventBox?

    /// One complete JSON document, **without** a trailing newline: each writer adds its own
    /// framing (a newline for files and stdout, a syslog header and octet count, a GELF field).
    /// Must not contain a raw newline (the JSON encoder escapes control characters).
    ///
    /// A line that shares a chunk is copied out by this getter; writers on the hot path use
    /// `lineCount` and `withLineBytes(_:)` instead.
    package var line: [UInt8] {
        get {
            start == 0 && Int(end) == storage.count ? storage : Array(storage[Int(start)..<Int(end)])
        }
        set {
            storage = newValue
            start = 0
            end = UInt32(clamping: newValue.count)
        }
    }

    /// The line's length in bytes, without copying it.
    package var lineCount: Int { Int(end - start) }

    /// Calls `body` with the line's bytes, without copying them.
    package func withLineBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let range = Int(start)..<Int(end)
        return storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The capacity of the buffer the line lives in (its own array or the shared chunk): what
    /// queueing the item keeps allocated.
    package var bufferCapacity: Int { storage.capacity }

    /// The structured event, for writers that need fields (GELF's `_syscall`, syslog's
    /// timestamp); nil for daemon-generated lines such as loss reports.
    package var event: AuditEvent? {
        get { box?.event }
        set { box = newValue.map(EventBox.init) }
    }

    /// Wraps an encoded line and, when a writer needs fields, its event.
    package init(line: [UInt8], event: AuditEvent? = nil) {
        self.storage = line
        self.start = 0
        self.end = UInt32(clamping: line.count)
        self.box = event.map(EventBox.init)
    }

    /// An item whose line is `range` of `chunk`, a buffer shared with other items (no copy). A
    /// range outside the chunk is clamped to it.
    package init(sharing chunk: [UInt8], range: Range<Int>, event: AuditEvent? = nil) {
        let range = range.clamped(to: 0..<chunk.count)
        self.storage = chunk
        self.start = UInt32(clamping: range.lowerBound)
        self.end = max(self.start, UInt32(clamping: range.upperBound))
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
