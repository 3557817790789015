/// Takes a record body apart into ``AuditField``s, in order, without copying or allocating.
///
/// The same scanner serves a live record (the body after ``AuditRecordHeader``), an audit.log line
/// (the body ``AuditLogLine`` found) and auditd's ENRICHED translations (the part after `\x1d`,
/// scanned on its own so that a translation never mixes with a raw field).
///
/// ```swift
/// var scanner = AuditFieldScanner(bytes, range: header.body)
/// while let field = scanner.next() { … }
/// if let cut = scanner.truncation { … }  // the record ended inside a value
/// ```
///
/// The grammar, and why:
/// - Fields are separated by whitespace (any byte up to 0x20, which includes `\x1d`). A key is a
///   run of letters, digits, `_`, `-`, `[` and `]` (`a1[2]`, `prog-id`) directly followed by `=`.
/// - Anything else is free text and is skipped a token at a time: SELinux's
///   `avc:  denied  { read } for  pid=…`, `policy loaded auid=…`, `netlabel: auid=…`, the
///   `(enforce)` after an AppArmor label, `(seqno=2)`. A token that does not start like a key is
///   skipped to the next whitespace, so `(seqno=2)` never becomes a field; a free-text token in
///   double quotes is skipped as a whole, so words inside it never become fields either.
/// - A value is `"…"` (to the next `"`), `'…'` (a container, outer level only), `{…}` (to the
///   next `}`), or a bare token to the next whitespace; a bare `(null)` or `?` is reported as such.
///   An empty value is a value (`subj= res=success`).
/// - A container's text is scanned for nested fields, which follow the container field itself. It
///   ends at the last `'` of the body, not the first: the kernel copies user-space text into
///   `msg='…'` verbatim, so a `'` inside it is possible, while nothing the kernel or auditd writes
///   after the container contains one. Inside a container a `'` starts no new container.
/// - A record cut short (the kernel truncates at its buffer size; a log line can be cut) yields
///   what is there: the open value runs to the end and ``truncation`` says what was cut. The scanner
///   always moves forward, so it ends on any input.
///
/// The scanner holds a raw buffer pointer: the bytes must stay valid while it is used.
public struct AuditFieldScanner: IteratorProtocol {
    /// The scanned bytes (all of them; ranges are offsets into this buffer).
    public let buffer: UnsafeRawBufferPointer
    /// The range being scanned.
    public let range: Range<Int>
    /// Set once the scan reached the end inside an unterminated value; nil for a whole record.
    public var truncation: AuditFieldTruncation? { cut }

    // The scan's state is visible to inlined code: `next()` is @inlinable so that a caller that
    // walks every field (the enriched encoder, the filters) gets it specialized in place.
    @usableFromInline var cut: AuditFieldTruncation?

    @usableFromInline var position: Int
    /// The end of the current level: `range.upperBound`, or a container's closing quote.
    @usableFromInline var limit: Int
    /// Where the outer scan resumes after the container (after its closing quote); nil at the
    /// outer level.
    @usableFromInline var resume: Int?

    /// Scans `buffer[range]`.
    public init(_ buffer: UnsafeRawBufferPointer, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "range outside the buffer")
        self.buffer = buffer
        self.range = range
        self.position = range.lowerBound
        self.limit = range.upperBound
    }

    /// Scans all of `buffer`.
    public init(_ buffer: UnsafeRawBufferPointer) {
        self.init(buffer, range: 0..<buffer.count)
    }

    /// The next field, or nil at the end of the range.
    @inlinable
    public mutating func next() -> AuditField? {
        while true {
            var i = position
            while i < limit, buffer[i] <= 0x20 { i += 1 }
            if i >= limit {
                guard let after = resume else {
                    position = limit
                    return nil
                }
                // Leave the container and go on with the outer fields.
                resume = nil
                position = after
                limit = range.upperBound
                continue
            }

            // A key: key bytes directly followed by '='.
            let keyStart = i
            while i < limit, Self.isKeyByte(buffer[i]) { i += 1 }
            guard i > keyStart, i < limit, buffer[i] == 0x3D else {
                position = skipFreeText(from: keyStart)
                continue
            }
            let key = keyStart..<i
            i += 1  // '='
            return value(key: key, at: i)
        }
    }

    /// Reads the value that starts at `start` and moves past it.
    @inlinable
    mutating func value(key: Range<Int>, at start: Int) -> AuditField {
        let nested = resume != nil
        guard start < limit else {
            // `key=` at the very end of the record: the value was cut off. Inside a closed
            // container, or before a space, an empty value is just empty.
            if !nested, start == range.upperBound { cut = .missingValue(key: key) }
            position = start
            return AuditField(key: key, value: start..<start, style: .unquoted, isNested: nested)
        }
        switch buffer[start] {
        case 0x22:  // '"'
            let (content, after) = delimited(from: start + 1, closer: 0x22, field: key)
            position = after
            return AuditField(key: key, value: content, style: .quoted, isNested: nested)
        case 0x7B:  // '{'
            let (content, after) = delimited(from: start + 1, closer: 0x7D, field: key)
            position = after
            return AuditField(key: key, value: content, style: .braced, isNested: nested)
        case 0x27 where !nested:  // '\'': a container
            var close = limit - 1
            while close > start, buffer[close] != 0x27 { close -= 1 }
            let content: Range<Int>
            if close > start {
                content = (start + 1)..<close
                resume = close + 1
            } else {
                content = (start + 1)..<limit
                resume = limit
                if cut == nil { cut = .unterminatedValue(key: key) }
            }
            position = content.lowerBound
            limit = content.upperBound
            return AuditField(key: key, value: content, style: .container, isNested: false)
        default:
            let end = Self.tokenEnd(buffer, from: start, limit: limit)
            position = end
            return AuditField(
                key: key, value: start..<end, style: Self.bareStyle(buffer, start..<end), isNested: nested)
        }
    }

    /// The content from `start` up to `closer` (exclusive) and the position after the closer; at
    /// the end of the level without a closer, everything up to there, and the record is truncated.
    @usableFromInline
    mutating func delimited(from start: Int, closer: UInt8, field: Range<Int>) -> (Range<Int>, Int) {
        let i = firstIndex(of: closer, in: buffer, start..<limit)
        if i < limit { return (start..<i, i + 1) }
        if cut == nil { cut = .unterminatedValue(key: field) }
        return (start..<limit, limit)
    }

    /// The position after a free-text token starting at `start` (which is not whitespace).
    @usableFromInline
    func skipFreeText(from start: Int) -> Int {
        var i = start
        if buffer[i] == 0x22 {
            // A quoted phrase: skip it whole, then the rest of the token.
            i = firstIndex(of: 0x22, in: buffer, (i + 1)..<limit)
            if i < limit { i += 1 }
        }
        while i < limit, buffer[i] > 0x20 { i += 1 }
        return max(i, start + 1)
    }

    /// The first position from `start` on whose byte is whitespace (0x20 or below), or `limit`:
    /// sixteen bytes at a time, since a bare value can be long (an EXECVE argument or a
    /// PROCTITLE in hex runs to tens of kilobytes).
    @inlinable @inline(__always)
    static func tokenEnd(_ buffer: UnsafeRawBufferPointer, from start: Int, limit: Int) -> Int {
        var index = start
        if let base = buffer.baseAddress {
            let space = SIMD16<UInt8>(repeating: 0x20)
            while index &+ 16 <= limit {
                let block = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
                let lanes = unsafeBitCast(block .<= space, to: SIMD2<UInt64>.self)
                if lanes[0] | lanes[1] != 0 {
                    return index
                        &+ ((lanes[0] != 0 ? lanes[0].trailingZeroBitCount : 64 &+ lanes[1].trailingZeroBitCount) &>> 3)
                }
                index &+= 16
            }
        }
        while index < limit, buffer[index] > 0x20 { index &+= 1 }
        return index
    }

    @inlinable @inline(__always)
    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2D, 0x5B, 0x5D: true  // 0-9 A-Z a-z _ - [ ]
        default: false
        }
    }

    @inlinable @inline(__always)
    static func bareStyle(_ buffer: UnsafeRawBufferPointer, _ value: Range<Int>) -> AuditFieldStyle {
        switch value.count {
        case 1 where buffer[value.lowerBound] == 0x3F: .unknown  // ?
        case 6 where buffer[value.lowerBound] == 0x28 && equalBytes(buffer, value, "(null)" as StaticString): .null
        default: .unquoted
        }
    }
}

/// How a record scanned by ``AuditFieldScanner`` was cut short. The fields before the cut are
/// whole; the named field holds what was there.
public enum AuditFieldTruncation: Hashable, Sendable {
    /// A `"…"`, `'…'` or `{…}` value has no closing delimiter; the key's byte range.
    case unterminatedValue(key: Range<Int>)
    /// The record ends right after `key=`; the key's byte range.
    case missingValue(key: Range<Int>)
}

extension AuditFieldScanner {
    /// The first field named `key` in `buffer[range]`, without allocating.
    ///
    /// Only outer fields count unless `includingNested` is true: a `uid=` inside `msg='…'` is
    /// what a user-space program wrote, not the sender's uid (see ``AuditField/isNested``). The
    /// first occurrence wins, as auditd's own lookup does.
    public static func first(
        _ key: String, in buffer: UnsafeRawBufferPointer, range: Range<Int>, includingNested: Bool = false
    ) -> AuditField? {
        var scanner = AuditFieldScanner(buffer, range: range)
        while let field = scanner.next() {
            if field.isNested && !includingNested { continue }
            if field.hasKey(key, in: buffer) { return field }
        }
        return nil
    }
}
