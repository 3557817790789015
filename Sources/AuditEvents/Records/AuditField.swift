internal import Glibc

/// One `key=value` field of a record, as byte ranges into the buffer it was scanned from.
///
/// A field owns no bytes: `key` and `value` are offsets into the buffer given to
/// ``AuditFieldScanner``, so scanning a record allocates nothing and the caller decides what to
/// copy, decode or compare. The value range never includes the quotes or braces that delimit it;
/// ``style`` says how it was written.
public struct AuditField: Hashable, Sendable {
    /// The key's byte range (`uid` in `uid=0`). Never empty.
    public var key: Range<Int>
    /// The value's byte range, without delimiters: the text inside `"…"`, `'…'` or `{…}`, or the
    /// unquoted token. May be empty (`subj= res=success`).
    public var value: Range<Int>
    /// How the value was written.
    public var style: AuditFieldStyle
    /// True for a field inside a single-quoted container (the `op=…` in `msg='op=… uid=…'`).
    ///
    /// User-space programs send their text through the kernel, which puts it in `msg='…'` after
    /// the sender's own `pid=`, `uid=`, `auid=` and `ses=`. A `uid=` inside the container is what
    /// the program claims, not who sent it, so nested fields never stand in for outer ones.
    public var isNested: Bool

    /// Creates a field (normally obtained from ``AuditFieldScanner``).
    public init(key: Range<Int>, value: Range<Int>, style: AuditFieldStyle, isNested: Bool) {
        self.key = key
        self.value = value
        self.style = style
        self.isNested = isNested
    }

    /// True when the key's bytes in `buffer` are `name` (exact, case-sensitive).
    public func hasKey(_ name: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        equalBytes(buffer, key, name)
    }

    /// True when the value's bytes in `buffer` are `text` (exact, case-sensitive).
    public func hasValue(_ text: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        equalBytes(buffer, value, text)
    }
}

/// How a field's value was written. The scanner only reports the syntax; what the value means
/// (a number, a hex-encoded string, a name) depends on the key and the record type and is decided
/// later, by whoever interprets the field.
public enum AuditFieldStyle: Hashable, Sendable {
    /// A bare token up to the next space: numbers, hex, SELinux contexts, `(none)`, names such as
    /// `nametype=NORMAL`. The kernel writes a string it does not trust (a path, a command name)
    /// either in double quotes or, when it holds a space, a quote or a control byte, as upper-case
    /// hex without quotes; which keys can be hex is known only by name (see ``AuditHex``).
    case unquoted
    /// Inside double quotes. The kernel never escapes inside them: a value that would need it is
    /// written as hex instead, so the first `"` after the opening one closes the value.
    case quoted
    /// A single-quoted container, `msg='…'`: user-space text whose own fields follow as nested
    /// fields (``AuditField/isNested``). The value is the whole text between the quotes.
    case container
    /// Inside braces, `SADDR={ saddr_fam=inet laddr=… }` (auditd's ENRICHED translation of a
    /// socket address). The value is the text between the braces; scan it again to take it apart.
    case braced
    /// Exactly `(null)`: the kernel printed a NULL string (a rule without a key: `key=(null)`).
    case null
    /// Exactly `?`: the value is unknown or does not apply (`hostname=? addr=? terminal=?`).
    case unknown
}

/// True when `buffer[range]` holds exactly the bytes of `text`: for the parser's own literals
/// (`type=`, `(null)`), read straight from the binary's constant data.
@inlinable @inline(__always)
func equalBytes(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard range.count == count else { return false }
    let literal = text.utf8Start
    for i in 0..<count where buffer[range.lowerBound + i] != literal[i] { return false }
    return true
}

/// The first position of `byte` in `buffer[range]`, or `range.upperBound` (memchr: the long runs
/// of a record, quoted paths and the search for the translations, go by words, not bytes).
@usableFromInline
func firstIndex(of byte: UInt8, in buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int {
    guard !range.isEmpty, let base = buffer.baseAddress else { return range.upperBound }
    guard let found = memchr(base + range.lowerBound, Int32(byte), range.count) else { return range.upperBound }
    return base.distance(to: UnsafeRawPointer(found))
}

/// True when `buffer[range]` holds exactly the UTF-8 bytes of `text`. No allocation: a native
/// String's UTF-8 view is read in place.
@inline(__always)
func equalBytes(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
    let utf8 = text.utf8
    guard range.count == utf8.count else { return false }
    var i = range.lowerBound
    for byte in utf8 {
        if buffer[i] != byte { return false }
        i += 1
    }
    return true
}
