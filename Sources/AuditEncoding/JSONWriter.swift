/// Appends JSON text to one reused byte buffer, without Foundation and without a `String` per value.
///
/// The encoder thread keeps one writer for its whole life and empties it after every batch
/// (`removeAll()` keeps the capacity), so steady-state encoding allocates nothing.
///
/// # String values
/// Every string value goes through one escaping function, ``appendString(_:)-(UnsafeBufferPointer<UInt8>)``:
/// - RFC 8259: `"` → `\"`, `\` → `\\`, `\n \r \t \b \f` in their short forms, the other C0 controls as
///   `\u00xx`.
/// - Characters that are valid JSON but dangerous to the people and tools that read logs are written as
///   `\uxxxx` escapes, which every JSON decoder turns back into the same character (no information is
///   lost): DEL (U+007F), the C1 controls U+0080–U+009F (some terminals act on U+009B as CSI),
///   U+2028/U+2029 (line breaks for JavaScript-based viewers), and the bidirectional embedding and
///   isolate controls U+202A–U+202E and U+2066–U+2069 ("Trojan Source" reordering).
/// - Text that is well-formed UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing above
///   U+10FFFF) is otherwise copied unchanged, `%` included.
/// - A value that is *not* well-formed UTF-8 is written in percent mode: each byte that is not part of
///   a well-formed sequence becomes `%XX` (two upper-case hex digits), and so does every `%` (`%25`).
///   ``appendString(_:)-(UnsafeBufferPointer<UInt8>)`` returns `true` then, and the event encoder marks
///   the message with `"encoding":"percent"`, so a reader knows to percent-decode that one value.
///
/// Why percent escapes: the kernel hands us bytes, not text (AUDIT_USER `msg='…'` text and LSM contexts
/// are raw), and a JSON string can only hold Unicode scalars. Replacing bad bytes with U+FFFD (what
/// go-audit does) destroys evidence, and writing them as `\u00XX` would be indistinguishable from the
/// real characters U+0080–U+00FF. Lone surrogates (`\udcXX`, Python's "surrogateescape") are rejected
/// by many decoders, including Swift's and Rust's. Within a percent-mode value, escaping `%` as well
/// makes the scheme a bijection: JSON-decode the value, then percent-decode it (RFC 3986 style; `+` is
/// an ordinary character) with ``ByteEscaping/decode(_:)``, and you have the original bytes (laurel's
/// scheme minus its `+` escape). Only values that need it pay: the kernel hex-encodes untrusted
/// strings, so nearly every record is valid UTF-8 and comes out byte for byte as go-audit writes it,
/// a literal `%` (`date +%s`) included.
package struct JSONWriter: Sendable {
    /// Initialized bytes: the text is `storage[..<length]`, the rest is zeroed room to write into
    /// through a pointer (an `Array` cannot be written beyond its count, and appending piece by piece
    /// costs a uniqueness and capacity check each time).
    private var storage: [UInt8]
    private var length: Int

    /// An empty writer with room for `capacity` bytes before it grows.
    package init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: max(capacity, 0))
        length = 0
    }

    /// The JSON text written so far.
    package var bytes: ArraySlice<UInt8> { storage[..<length] }

    /// Appends the text written so far to `output`, without its final newline if it has one: how
    /// the processing stage copies each event's line into its batch. No slice of the buffer is
    /// made (a slice retains and releases it, for every event).
    package func appendLine(to output: inout [UInt8]) {
        storage.withUnsafeBufferPointer { buffer in
            var end = length
            if end > 0, buffer[end &- 1] == UInt8(ascii: "\n") { end &-= 1 }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
    }

    /// The number of bytes written.
    package var count: Int { length }

    /// The bytes the buffer holds without growing.
    package var capacity: Int { storage.count }

    /// Drops what was written after the first `count` bytes.
    package mutating func truncate(to count: Int) {
        length = min(length, max(0, count))
    }

    /// Calls `body` with the bytes written so far, in place.
    package func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
    }

    /// Forgets the text but keeps the buffer, so that the next batch reuses the memory.
    package mutating func removeAll() {
        length = 0
    }

    /// Runs `body` with a writer that appends to `output`, without copying `output`.
    package static func appending(to output: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var writer = JSONWriter()
        swap(&writer.storage, &output)
        writer.length = writer.storage.count
        body(&writer)
        writer.storage.removeSubrange(writer.length...)
        swap(&writer.storage, &output)
    }

    /// Makes room for `maximum` bytes and lets `body` write them at the end; `body` returns how many
    /// it wrote (at most `maximum`).
    @inline(__always)
    private mutating func write(atMost maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        guard maximum > 0 else { return }
        if storage.count &- length < maximum {
            grow(toFit: maximum)
        }
        let start = length
        let written = storage.withUnsafeMutableBufferPointer { buffer in
            body(buffer.baseAddress.unsafelyUnwrapped + start)
        }
        length = start &+ min(max(written, 0), maximum)
    }

    private mutating func grow(toFit extra: Int) {
        let needed = length + extra
        let target = max(needed, storage.count * 2, 4096)
        storage.append(contentsOf: repeatElement(0, count: target - storage.count))
    }

    /// Makes room for `maximum` bytes once and lets `body` write at most that many through a
    /// cursor.
    ///
    /// Why: every `append…` call checks the buffer's capacity and uniqueness and goes through a
    /// closure; the event encoder writes a whole record message (about ten pieces) or the event's
    /// head with one such check instead. `body` must keep within `maximum` (each cursor method
    /// documents its own worst case).
    @inline(__always)
    package mutating func withCursor(atMost maximum: Int, _ body: (inout JSONCursor) -> Void) {
        write(atMost: maximum) { target in
            var cursor = JSONCursor(target)
            body(&cursor)
            return cursor.count
        }
    }

    // MARK: Raw pieces

    /// Appends text that is already valid JSON (keys, punctuation).
    package mutating func appendRaw(_ text: StaticString) {
        text.withUTF8Buffer { appendRaw($0) }
    }

    /// Appends bytes that are already valid JSON.
    package mutating func appendRaw(_ raw: UnsafeBufferPointer<UInt8>) {
        guard let source = raw.baseAddress else { return }
        write(atMost: raw.count) { target in
            target.update(from: source, count: raw.count)
            return raw.count
        }
    }

    /// Appends bytes that are already valid JSON.
    package mutating func appendRaw(_ raw: [UInt8]) {
        raw.withUnsafeBufferPointer { appendRaw($0) }
    }

    /// Appends everything `other` has written (pieces built apart, such as the `uid_map` members),
    /// without making a slice of its buffer.
    package mutating func appendRaw(contentsOf other: borrowing JSONWriter) {
        let count = other.length
        other.storage.withUnsafeBufferPointer { appendRaw(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// Appends one byte of JSON punctuation.
    package mutating func appendByte(_ byte: UInt8) {
        write(atMost: 1) { target in
            target.pointee = byte
            return 1
        }
    }

    // MARK: Numbers

    /// Appends an unsigned integer in decimal.
    package mutating func appendDecimal(_ value: UInt64) {
        write(atMost: 20) { target in JSONEscaping.writeDecimal(value, to: target) }
    }

    /// Appends a signed integer in decimal.
    package mutating func appendDecimal(_ value: Int64) {
        if value < 0 {
            appendByte(UInt8(ascii: "-"))
        }
        appendDecimal(value.magnitude)
    }

    /// Appends `"SECONDS.MILLIS"` with exactly three digits of milliseconds, as in the kernel's header.
    ///
    /// Milliseconds above 999 cannot come from a header; they are clamped rather than printed wrongly.
    package mutating func appendTimestamp(seconds: UInt64, milliseconds: UInt16) {
        write(atMost: 26) { target in
            JSONEscaping.writeTimestamp(seconds: seconds, milliseconds: milliseconds, to: target)
        }
    }

    // MARK: Strings

    /// Appends a JSON string holding `source`, escaped as described on ``JSONWriter``.
    ///
    /// - Returns: `true` when `source` was not well-formed UTF-8 and was written in percent mode.
    @discardableResult
    package mutating func appendString(_ source: UnsafeBufferPointer<UInt8>) -> Bool {
        appendByte(UInt8(ascii: "\""))
        let percentMode = appendEscaped(source)
        appendByte(UInt8(ascii: "\""))
        return percentMode
    }

    /// Appends a JSON string holding `source`'s bytes, escaped as described on ``JSONWriter``.
    ///
    /// - Returns: `true` when `source` was not well-formed UTF-8 and was written in percent mode.
    @discardableResult
    package mutating func appendString(_ source: some Collection<UInt8>) -> Bool {
        if let percentMode = source.withContiguousStorageIfAvailable({ appendString($0) }) {
            return percentMode
        }
        return appendString(Array(source))
    }

    /// Appends a JSON string holding `text`, escaped as described on ``JSONWriter``.
    package mutating func appendString(_ text: String) {
        var text = text
        text.withUTF8 { _ = appendString($0) }
    }

    /// Appends the escaped form of `source` without quotes; `true` when it used percent mode.
    @discardableResult
    package mutating func appendEscaped(_ source: UnsafeBufferPointer<UInt8>) -> Bool {
        var percentMode = false
        // Six output bytes per input byte is the worst case (a control byte becomes `\u00xx`).
        withCursor(atMost: source.count &* 6) { cursor in
            percentMode = cursor.escaped(source)
        }
        return percentMode
    }
}

/// Writes JSON pieces to memory that ``JSONWriter/withCursor(atMost:_:)`` reserved, with no checks
/// of its own: the caller reserved the worst case of everything it writes.
package struct JSONCursor {
    let start: UnsafeMutablePointer<UInt8>
    /// The bytes written so far.
    package internal(set) var count = 0

    init(_ start: UnsafeMutablePointer<UInt8>) {
        self.start = start
    }

    /// Writes text that is already valid JSON (keys, punctuation): `text.utf8CodeUnitCount` bytes.
    @inline(__always)
    package mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { raw($0) }
    }

    /// Writes bytes that are already valid JSON: `source.count` bytes.
    @inline(__always)
    package mutating func raw(_ source: UnsafeBufferPointer<UInt8>) {
        guard let base = source.baseAddress else { return }
        (start + count).update(from: base, count: source.count)
        count &+= source.count
    }

    /// Writes one byte of JSON punctuation.
    @inline(__always)
    package mutating func byte(_ byte: UInt8) {
        start[count] = byte
        count &+= 1
    }

    /// Writes an unsigned integer in decimal: at most 20 bytes.
    @inline(__always)
    package mutating func decimal(_ value: UInt64) {
        count &+= JSONEscaping.writeDecimal(value, to: start + count)
    }

    /// Writes `"SECONDS.MILLIS"` (see ``JSONWriter/appendTimestamp(seconds:milliseconds:)``): at most
    /// 26 bytes.
    @inline(__always)
    package mutating func timestamp(seconds: UInt64, milliseconds: UInt16) {
        count &+= JSONEscaping.writeTimestamp(seconds: seconds, milliseconds: milliseconds, to: start + count)
    }

    /// Writes the escaped form of `source`, without quotes, as described on ``JSONWriter``: at most
    /// `6 * source.count` bytes. Returns `true` when `source` was not well-formed UTF-8 and was
    /// written in percent mode.
    @inline(__always)
    package mutating func escaped(_ source: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = source.baseAddress else { return false }
        // Nearly every value is well-formed UTF-8: escape it at once, and start over in percent mode
        // in the rare case that a bad sequence turns up (one pass instead of validating first).
        if let written = JSONEscaping.escape(base, count: source.count, to: start + count, percentMode: false) {
            count &+= written
            return false
        }
        count &+= JSONEscaping.escape(base, count: source.count, to: start + count, percentMode: true) ?? 0
        return true
    }
}

/// The byte-level rules behind ``JSONWriter``'s string escaping.
enum JSONEscaping {
    /// Writes `value` in decimal at `target` (room for 20 bytes) and returns the digit count.
    @inline(__always)
    static func writeDecimal(_ value: UInt64, to target: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20, value >= scale {
            digits &+= 1
            scale = scale &* 10
        }
        // Two digits per division: every event writes its serial, its time and each record's type.
        var rest = value
        var index = digits
        let pairs = digitPairs.utf8Start
        while rest >= 100 {
            let pair = Int(truncatingIfNeeded: rest % 100) &* 2
            rest /= 100
            index &-= 2
            target[index] = pairs[pair]
            target[index &+ 1] = pairs[pair &+ 1]
        }
        if rest >= 10 {
            let pair = Int(truncatingIfNeeded: rest) &* 2
            target[0] = pairs[pair]
            target[1] = pairs[pair &+ 1]
        } else {
            target[0] = 0x30 &+ UInt8(truncatingIfNeeded: rest)
        }
        return digits
    }

    /// "00", "01", … "99" back to back: the two digits of `n` are at `2n` and `2n + 1`.
    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// Writes the escaped form of `count` bytes at `base` to `target` (room for `6 * count` bytes)
    /// and returns the number of bytes written. In `percentMode` (for values that are not
    /// well-formed UTF-8) bad bytes and `%` become `%XX`. Otherwise `%` is copied, and the result
    /// is `nil` as soon as a byte turns out not to start a well-formed sequence: the value then
    /// needs percent mode as a whole, and the caller writes it again (over the partial output).
    static func escape(
        _ base: UnsafePointer<UInt8>, count end: Int, to target: UnsafeMutablePointer<UInt8>, percentMode: Bool
    ) -> Int? {
        var out = 0
        var index = 0
        @inline(__always) func put(_ byte: UInt8) {
            target[out] = byte
            out &+= 1
        }
        @inline(__always) func putUnicodeEscape(_ scalar: UInt16) {
            put(UInt8(ascii: "\\"))
            put(UInt8(ascii: "u"))
            put(hexDigit(scalar &>> 12, lowercase: true))
            put(hexDigit(scalar &>> 8, lowercase: true))
            put(hexDigit(scalar &>> 4, lowercase: true))
            put(hexDigit(scalar, lowercase: true))
        }
        while true {
            copyClean(base, index: &index, end: end, to: target, out: &out, percentMode: percentMode)
            if index >= end { break }
            let byte = base[index]
            if byte >= 0x80 {
                let length = validSequenceLength(base, at: index, end: end)
                if length != 0 {
                    if let scalar = unicodeEscape(base, at: index, length: length) {
                        putUnicodeEscape(scalar)
                    } else {
                        for offset in 0..<length { put(base[index &+ offset]) }  // well-formed and harmless
                    }
                    index &+= length
                    continue
                }
                guard percentMode else { return nil }
                put(UInt8(ascii: "%"))
                put(hexDigit(UInt16(byte &>> 4), lowercase: false))
                put(hexDigit(UInt16(byte), lowercase: false))
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"):
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "\\"))
                case UInt8(ascii: "%"):
                    put(UInt8(ascii: "%"))
                    put(UInt8(ascii: "2"))
                    put(UInt8(ascii: "5"))
                case 0x0A:
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "n"))
                case 0x0D:
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "r"))
                case 0x09:
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "t"))
                case 0x08:
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "b"))
                case 0x0C:
                    put(UInt8(ascii: "\\"))
                    put(UInt8(ascii: "f"))
                default: putUnicodeEscape(UInt16(byte))  // other C0 controls and DEL
                }
            }
            index &+= 1
        }
        return out
    }

    /// Copies the bytes from `index` on that need no escape to `target + out`, advancing both, and
    /// stops at the first byte that may (or at `end`).
    ///
    /// Sixteen bytes per step with vector compares (SSE2 on x86-64, NEON on arm64), copied as they
    /// are scanned: one pass over the text, no `memmove` call per clean run. A block holding a
    /// special byte is stored whole too, but only its clean prefix is counted; the rest is
    /// overwritten next. That store cannot overrun: every input byte before `index` produced at
    /// most six output bytes and the target has room for six per input byte, so
    /// `out + 16 <= 6 * index + 16 <= 6 * end` while `index + 16 <= end`.
    @inline(__always)
    static func copyClean(
        _ base: UnsafePointer<UInt8>, index: inout Int, end: Int, to target: UnsafeMutablePointer<UInt8>,
        out: inout Int, percentMode: Bool
    ) {
        let raw = UnsafeRawPointer(base)
        let destination = UnsafeMutableRawPointer(target)
        // Whole vectors: compares against a scalar literal are not lowered to vector instructions.
        // Outside percent mode the `%` lane compares against `"` again, so one loop serves both.
        let control = SIMD16<UInt8>(repeating: 0x20)
        let printable = SIMD16<UInt8>(repeating: 0x7E)
        let quote = SIMD16<UInt8>(repeating: 0x22)
        let backslash = SIMD16<UInt8>(repeating: 0x5C)
        let percent = SIMD16<UInt8>(repeating: percentMode ? 0x25 : 0x22)
        while index &+ 16 <= end {
            let block = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let special =
                (block .< control) .| (block .> printable) .| (block .== quote) .| (block .== backslash)
                .| (block .== percent)
            destination.storeBytes(of: block, toByteOffset: out, as: SIMD16<UInt8>.self)
            // Each lane is 0x00 or 0xFF: the two halves as words give the first special byte.
            let lanes = unsafeBitCast(special, to: SIMD2<UInt64>.self)
            if lanes[0] | lanes[1] != 0 {
                let clean =
                    (lanes[0] != 0 ? lanes[0].trailingZeroBitCount : 64 &+ lanes[1].trailingZeroBitCount) &>> 3
                index &+= clean
                out &+= clean
                return
            }
            index &+= 16
            out &+= 16
        }
        while index < end {
            let byte = base[index]
            if isSpecial(byte, percentMode: percentMode) { return }
            target[out] = byte
            out &+= 1
            index &+= 1
        }
    }

    /// The hex digit for the low four bits of `value`.
    @inline(__always)
    static func hexDigit(_ value: UInt16, lowercase: Bool) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? 0x30 &+ nibble : (lowercase ? 0x57 : 0x37) &+ nibble
    }

    /// Writes `"SECONDS.MILLIS"` at `target` (room for 26 bytes) and returns its length; milliseconds
    /// above 999 cannot come from a header and are clamped rather than printed wrongly.
    @inline(__always)
    static func writeTimestamp(seconds: UInt64, milliseconds: UInt16, to target: UnsafeMutablePointer<UInt8>) -> Int {
        let millis = min(milliseconds, 999)
        target[0] = UInt8(ascii: "\"")
        let index = 1 &+ writeDecimal(seconds, to: target + 1)
        target[index] = UInt8(ascii: ".")
        target[index &+ 1] = 0x30 &+ UInt8(truncatingIfNeeded: millis / 100)
        target[index &+ 2] = 0x30 &+ UInt8(truncatingIfNeeded: millis / 10 % 10)
        target[index &+ 3] = 0x30 &+ UInt8(truncatingIfNeeded: millis % 10)
        target[index &+ 4] = UInt8(ascii: "\"")
        return index &+ 5
    }

    /// True when an ASCII or high byte cannot be copied as it is: `"`, `\`, C0, DEL, ≥ 0x80, and `%`
    /// in percent mode.
    @inline(__always)
    static func isSpecial(_ byte: UInt8, percentMode: Bool) -> Bool {
        byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || (percentMode && byte == UInt8(ascii: "%"))
    }

    /// The length (2–4) of the well-formed UTF-8 sequence that starts at `index`, or 0 when the byte
    /// there does not start one (Unicode 15, table 3-7).
    @inline(__always)
    static func validSequenceLength(_ base: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
        let lead = base[index]
        let available = end - index
        @inline(__always) func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            offset < available && (low...high).contains(base[index + offset])
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// The scalar to write as `\uxxxx` for a well-formed sequence, or `nil` to copy it: C1 controls,
    /// U+2028/U+2029, U+202A–U+202E, U+2066–U+2069.
    @inline(__always)
    static func unicodeEscape(_ base: UnsafePointer<UInt8>, at index: Int, length: Int) -> UInt16? {
        let lead = base[index]
        if length == 2, lead == 0xC2, base[index + 1] <= 0x9F {
            return UInt16(base[index + 1])  // U+0080–U+009F
        }
        if length == 3, lead == 0xE2 {
            let second = base[index + 1]
            let third = base[index + 2]
            let scalar = 0x2000 | UInt16(second & 0x3F) << 6 | UInt16(third & 0x3F)
            if (0x2028...0x202E).contains(scalar) || (0x2066...0x2069).contains(scalar) {
                return scalar
            }
        }
        return nil
    }
}
