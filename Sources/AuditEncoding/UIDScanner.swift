import Glibc

/// Collects the distinct user ids named by `*uid=` fields of record bodies, for `uid_map`.
///
/// What counts: a field whose key ends in `uid` (`uid`, `auid`, `euid`, `suid`, `fsuid`, `ouid`, `iuid`,
/// `oauid`, `sauid`, `old-auid`…) and whose unquoted value is a canonical decimal number (no sign, no
/// leading zero) that fits 32 bits. The scan walks the record field by field on bytes (fields are
/// separated by spaces, as the kernel and libaudit write them), so text inside a quoted value never
/// counts: `comm="uid=0"` has the key `comm`. A quote opens a quoted string only at the start of a
/// word or a value; inside a word (`it's`) it is an ordinary byte. Kernel-quoted values never contain
/// `"` (the kernel hex-encodes such strings), so the next `"` closes the value.
///
/// User-space records (AUDIT_USER*, 1100–1299, 2100–2999) carry a second level: the kernel writes the
/// sender's `pid= uid= auid= ses=` and then `msg='…'`, the sender's own `key=value` text, which names
/// the account acted on (`sauid=`, and `uid=`/`auid=` for su, sudo, sshd, useradd). Those ids are
/// real, so the scan descends into `msg='…'` one level. That text runs to the last `'` of the record
/// (the kernel closes the quote last; a `'` inside the text cannot end it early). The nested text is
/// written by the sending program, so a forged `uid=` there can add an entry to `uid_map`; that entry
/// only names a user, it changes no record data, and the kernel-written ids before `msg=` are always
/// present too.
///
/// Output order: go-audit prints a Go map, and `encoding/json` sorts map keys as strings
/// ("0" < "1000" < "33" < "4294967295"); ``sortForOutput()`` does the same.
struct UIDScanner {
    /// Distinct ids of the current event, in no particular order until ``sortForOutput()``.
    private(set) var uids: [UInt32] = []

    init() {
        uids.reserveCapacity(8)
    }

    /// Forgets the ids of the previous event, keeping the memory.
    mutating func reset() {
        uids.removeAll(keepingCapacity: true)
    }

    /// Adds the ids of one record body.
    mutating func scan(_ body: UnsafeBufferPointer<UInt8>) {
        guard let base = body.baseAddress else { return }
        scanFields(base, from: 0, to: body.count, nested: false)
    }

    /// Sorts the ids in the order of their decimal strings.
    mutating func sortForOutput() {
        if uids.count > 1 {
            uids.sort { Self.lexicographicKey($0) < Self.lexicographicKey($1) }
        }
    }

    /// A number whose order is the order of the decimal strings: the digits padded to ten places
    /// with zeros on the right, then the digit count, so that "1" < "10" < "100" < "2".
    static func lexicographicKey(_ uid: UInt32) -> UInt64 {
        var digits = 1
        var scale: UInt64 = 10
        while UInt64(uid) >= scale {
            digits += 1
            scale *= 10
        }
        var padded = UInt64(uid)
        for _ in digits..<10 {
            padded *= 10
        }
        return padded << 4 | UInt64(digits)
    }

    private mutating func insert(_ uid: UInt32) {
        if !uids.contains(uid) {
            uids.append(uid)
        }
    }

    private static let space: UInt8 = 0x20
    private static let equals = UInt8(ascii: "=")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")

    private mutating func scanFields(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, nested: Bool) {
        var index = start
        while index < end {
            // Separators: spaces, and any other control byte a user message may hold.
            while index < end, base[index] <= Self.space {
                index += 1
            }
            guard index < end else { return }
            let first = base[index]
            if first == Self.doubleQuote || first == Self.singleQuote {
                index = Self.skipQuoted(base, from: index + 1, to: end, quote: first)
                continue
            }
            let keyStart = index
            // A quote inside a word (`it's`) is part of the word; only a quote that starts a word or
            // a value opens a quoted string.
            index = Self.firstIndex(base, from: index, to: end, where: Self.keyDelimiters)
            guard index < end else { return }
            if base[index] != Self.equals {
                continue  // a word without a value
            }
            let keyEnd = index
            index += 1
            guard index < end else { return }
            let valueFirst = base[index]
            if valueFirst == Self.doubleQuote {
                index = Self.skipQuoted(base, from: index + 1, to: end, quote: valueFirst)
                continue
            }
            if valueFirst == Self.singleQuote {
                if !nested, Self.isMsg(base, from: keyStart, to: keyEnd) {
                    var close = end - 1
                    while close > index, base[close] != Self.singleQuote {
                        close -= 1
                    }
                    let nestedEnd = close > index ? close : end
                    scanFields(base, from: index + 1, to: nestedEnd, nested: true)
                    index = nestedEnd + 1
                } else {
                    index = Self.skipQuoted(base, from: index + 1, to: end, quote: valueFirst)
                }
                continue
            }
            if Self.endsInUID(base, from: keyStart, to: keyEnd) {
                // The value runs to the next space or control byte; its digits are read on the way
                // (one pass), and it counts only if it is a canonical 32-bit decimal: 1–10 digits,
                // no leading zero (anything else, `uid=root`, `-1`, hex, `007`, is no id; canonical
                // only, so that every `uid_map` key appears verbatim in `data`).
                let valueStart = index
                var value: UInt64 = 0
                var digitsOnly = true
                while index < end {
                    let byte = base[index]
                    if byte <= Self.space { break }
                    let digit = byte &- UInt8(ascii: "0")
                    if digit >= 10 { digitsOnly = false }
                    // Wraps only for values longer than 10 bytes, which are rejected below.
                    value = value &* 10 &+ UInt64(digit)
                    index += 1
                }
                let length = index - valueStart
                if digitsOnly, length >= 1, length <= 10, length == 1 || base[valueStart] != UInt8(ascii: "0"),
                    value <= UInt64(UInt32.max)
                {
                    insert(UInt32(truncatingIfNeeded: value))
                }
            } else {
                // Most values are skipped. Values end at a space, the separator the kernel and
                // libaudit write (a tab or other control byte inside a value does not end it).
                index = Self.valueEnd(base, from: index, to: end)
            }
        }
    }

    /// The index after the closing quote, or `end` when the quote never closes.
    private static func skipQuoted(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, quote: UInt8) -> Int {
        min(find(quote, base, from: start, to: end) + 1, end)
    }

    /// The index of the first `byte` in `start..<end`, or `end`.
    private static func find(_ byte: UInt8, _ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        guard start < end, let found = memchr(base + start, CInt(byte), end - start) else { return end }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    private static func isMsg(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Bool {
        end - start == 3 && base[start] == UInt8(ascii: "m") && base[start + 1] == UInt8(ascii: "s")
            && base[start + 2] == UInt8(ascii: "g")
    }

    private static func endsInUID(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Bool {
        end - start >= 3 && base[end - 3] == UInt8(ascii: "u") && base[end - 2] == UInt8(ascii: "i")
            && base[end - 1] == UInt8(ascii: "d")
    }

    private static let lowBits: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of every byte of a little-endian word that ends a key: a space or control byte
    /// (`<= 0x20`) or `=`.
    ///
    /// Exact per byte, not just "somewhere in this word": every sum is of two 7-bit values, so no
    /// carry crosses into the next byte; bytes `>= 0x80` (UTF-8 in a user message) never match.
    @inline(__always)
    static func keyDelimiters(_ word: UInt64) -> UInt64 {
        let low = word & lowBits
        let aboveSpace = low &+ 0x5F5F_5F5F_5F5F_5F5F  // high bit set when low >= 0x21
        let notEquals = (low ^ 0x3D3D_3D3D_3D3D_3D3D) &+ lowBits  // high bit set when low != '='
        return ~((aboveSpace & notEquals) | word) & highBits
    }

    /// The high bit of every space (0x20) of a little-endian word, exactly (see ``keyDelimiters(_:)``).
    @inline(__always)
    static func spaces(_ word: UInt64) -> UInt64 {
        let low = word & lowBits
        return ~(((low ^ 0x2020_2020_2020_2020) &+ lowBits) | word) & highBits
    }

    /// The index of the first byte in `start..<end` whose high bit `mask` sets, or `end`.
    ///
    /// Eight bytes per step: keys and most values are 2–16 bytes, too short for `memchr`'s call to
    /// pay off, too long for a byte loop to be cheap. The last partial word is read as the word that
    /// ends at `end` (never past it, never before the buffer's start at index 0) with the bytes before
    /// `start` shifted out.
    @inline(__always)
    static func firstIndex(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int, where mask: (UInt64) -> UInt64
    ) -> Int {
        var index = start
        let raw = UnsafeRawPointer(base)
        while index &+ 8 <= end {
            let found = mask(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            if found != 0 { return index &+ found.trailingZeroBitCount &>> 3 }
            index &+= 8
        }
        let rest = end &- index
        guard rest > 0 else { return end }
        if end >= 8 {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: end &- 8, as: UInt64.self))
            let found = mask(word) &>> UInt64(truncatingIfNeeded: (8 &- rest) &* 8)
            return found != 0 ? index &+ found.trailingZeroBitCount &>> 3 : end
        }
        while index < end, mask(UInt64(base[index])) & 0x80 == 0 {
            index &+= 1
        }
        return index
    }

    /// The index of the first space at or after `start`, or `end`: a few words inline for the
    /// common short value, then `memchr` for long hex strings (proctitle, execve arguments).
    @inline(__always)
    static func valueEnd(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        let inlineEnd = min(end, start &+ 32)
        let found = firstIndex(base, from: start, to: inlineEnd, where: spaces)
        if found < inlineEnd || inlineEnd == end { return found }
        return find(space, base, from: inlineEnd, to: end)
    }
}
