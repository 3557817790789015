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

    /// Plain regions seen lately (see ``scan(_:)``) and the ids each holds, reused round robin.
    private var regions: [Region] = []
    private var nextRegion = 0
    /// The ids of the record being walked, before they join ``uids``.
    private var found: [UInt32] = []

    /// The bytes of a record from the word of its first `uid=` to the end of its last one's value,
    /// with no quote or control byte in them, and the distinct ids the walk finds there.
    private struct Region {
        var bytes: [UInt8]
        var ids: [UInt32]
    }

    /// How many regions are remembered: a SYSCALL record's and a few PATH records' (`ouid=`).
    static let rememberedRegions = 4

    init() {
        uids.reserveCapacity(8)
        found.reserveCapacity(8)
    }

    /// Forgets the ids of the previous event, keeping the memory.
    mutating func reset() {
        uids.removeAll(keepingCapacity: true)
    }

    /// Adds the ids of one record body.
    ///
    /// The field walk below is the rule; this only narrows where it has to run, without changing
    /// its result. Every counted field contains `uid=`, so a body without one (PROCTITLE, CWD, most
    /// PATH records) is not walked at all, and the walk ends once it is past the last one (the
    /// quoted `comm=`/`exe=` tail of a SYSCALL record). It also starts at the word holding the first
    /// `uid=` when nothing before that word can open a quote or hide a separator (no quote, no
    /// control byte): there the walk would only step from word to word and count nothing.
    ///
    /// The walk's result is also remembered when the region it covers is plain: from the start of
    /// the walk to the end of the last `uid=` value, nothing but words and spaces (no quote, no
    /// control byte). The walk then depends on those bytes alone, so a record with the same region
    /// (the next system call of the same process) takes the remembered ids after one comparison.
    mutating func scan(_ body: UnsafeBufferPointer<UInt8>) {
        guard let base = body.baseAddress,
            let (first, last) = Self.uidAssignments(base, count: body.count)
        else { return }
        let start = Self.walkStart(base, firstAssignment: first)
        var regionEnd = last &+ 1
        while regionEnd < body.count, base[regionEnd] > Self.space {
            regionEnd &+= 1
        }
        let region = UnsafeBufferPointer(start: base + start, count: regionEnd &- start)
        // Through a buffer pointer: a `for … in regions` would copy (retain and release) each entry.
        let hit = regions.withUnsafeBufferPointer { remembered -> Int? in
            remembered.indices.first { index in
                remembered[index].bytes.count == region.count
                    && remembered[index].bytes.withUnsafeBufferPointer { bytes in
                        bytes.baseAddress.map { memcmp($0, base + start, region.count) == 0 } ?? false
                    }
            }
        }
        if let hit {
            // Through a buffer pointer: indexing `regions[hit].ids` per id retains and releases it.
            regions[hit].ids.withUnsafeBufferPointer { ids in
                for uid in ids { Self.insert(uid, into: &uids) }
            }
            return
        }
        found.removeAll(keepingCapacity: true)
        scanFields(base, from: start, to: body.count, nested: false, last: last)
        for uid in found { Self.insert(uid, into: &uids) }
        if Self.isPlain(region) { remember(region) }
    }

    /// Keeps `region` and the ids just found in it, in place of the oldest remembered one.
    private mutating func remember(_ region: UnsafeBufferPointer<UInt8>) {
        if regions.count < Self.rememberedRegions {
            regions.append(Region(bytes: Array(region), ids: found))
            return
        }
        regions[nextRegion].bytes.removeAll(keepingCapacity: true)
        regions[nextRegion].bytes.append(contentsOf: region)
        regions[nextRegion].ids.removeAll(keepingCapacity: true)
        regions[nextRegion].ids.append(contentsOf: found)
        nextRegion = (nextRegion &+ 1) % Self.rememberedRegions
    }

    /// Whether `bytes` holds no quote and no control byte.
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let controls = SIMD16<UInt8>(repeating: 0x20)
        let doubleQuotes = SIMD16<UInt8>(repeating: doubleQuote)
        let singleQuotes = SIMD16<UInt8>(repeating: singleQuote)
        var index = 0
        while index &+ 16 <= bytes.count {
            let block = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            if any((block .< controls) .| (block .== doubleQuotes) .| (block .== singleQuotes)) { return false }
            index &+= 16
        }
        while index < bytes.count {
            let byte = base[index]
            if byte < space || byte == doubleQuote || byte == singleQuote { return false }
            index &+= 1
        }
        return true
    }

    /// The positions of the `=` of the first and the last `uid=` in the `count` bytes at `base`, or
    /// nil when there is none.
    ///
    /// Sixteen positions per step, with vector compares of the four bytes at offsets 0–3 (whole
    /// vectors: compares against a scalar literal are not lowered to vector instructions). Each
    /// lane of the result is 0x00 or 0xFF, so the two halves read as words give the first and last
    /// hit of a block by counting zero bits, without visiting each hit.
    static func uidAssignments(_ base: UnsafePointer<UInt8>, count: Int) -> (first: Int, last: Int)? {
        var first = -1
        var last = -1
        let raw = UnsafeRawPointer(base)
        let letterU = SIMD16<UInt8>(repeating: UInt8(ascii: "u"))
        let letterI = SIMD16<UInt8>(repeating: UInt8(ascii: "i"))
        let letterD = SIMD16<UInt8>(repeating: UInt8(ascii: "d"))
        let equals = SIMD16<UInt8>(repeating: UInt8(ascii: "="))
        var index = 0
        while index &+ 19 <= count {
            let u = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self) .== letterU
            let i = raw.loadUnaligned(fromByteOffset: index &+ 1, as: SIMD16<UInt8>.self) .== letterI
            let d = raw.loadUnaligned(fromByteOffset: index &+ 2, as: SIMD16<UInt8>.self) .== letterD
            let e = raw.loadUnaligned(fromByteOffset: index &+ 3, as: SIMD16<UInt8>.self) .== equals
            let hits = unsafeBitCast(u .& i .& d .& e, to: SIMD2<UInt64>.self)
            let (low, high) = (hits[0], hits[1])
            if low | high != 0 {
                if first < 0 {
                    let lane = low != 0 ? low.trailingZeroBitCount &>> 3 : 8 &+ high.trailingZeroBitCount &>> 3
                    first = index &+ lane &+ 3
                }
                let lane = high != 0 ? 15 &- high.leadingZeroBitCount &>> 3 : 7 &- low.leadingZeroBitCount &>> 3
                last = index &+ lane &+ 3
            }
            index &+= 16
        }
        while index &+ 3 < count {
            if base[index] == UInt8(ascii: "u"), base[index &+ 1] == UInt8(ascii: "i"),
                base[index &+ 2] == UInt8(ascii: "d"), base[index &+ 3] == UInt8(ascii: "=")
            {
                if first < 0 { first = index &+ 3 }
                last = index &+ 3
            }
            index &+= 1
        }
        return first < 0 ? nil : (first, last)
    }

    /// Where the field walk may start for a body whose first `uid=` has its `=` at
    /// `firstAssignment`: the start of that word when every byte before it is a space or an
    /// ordinary byte (no quote, no control byte), else 0.
    ///
    /// Why that is exact: without quotes and control bytes, the walk goes from word to word (a key
    /// ends at `=` or a space, an unquoted value at a space), so it reaches the start of that word
    /// as a word start, and no word before it contains `uid=`.
    static func walkStart(_ base: UnsafePointer<UInt8>, firstAssignment: Int) -> Int {
        var wordStart = firstAssignment
        while wordStart > 0, base[wordStart &- 1] != space {
            wordStart &-= 1
        }
        return isPlain(UnsafeBufferPointer(start: base, count: wordStart)) ? wordStart : 0
    }

    /// Sorts the ids in the order of their decimal strings.
    mutating func sortForOutput() {
        guard uids.count > 1 else { return }
        guard uids.count <= 16 else {
            uids.sort { Self.lexicographicKey($0) < Self.lexicographicKey($1) }
            return
        }
        // An event names a handful of ids (usually 1–3): a plain insertion sort that computes each
        // id's key once beats the general sort, which recomputes both keys per comparison.
        uids.withUnsafeMutableBufferPointer { ids in
            for next in 1..<ids.count {
                let id = ids[next]
                let key = Self.lexicographicKey(id)
                var slot = next
                while slot > 0, key < Self.lexicographicKey(ids[slot - 1]) {
                    ids[slot] = ids[slot - 1]
                    slot -= 1
                }
                ids[slot] = id
            }
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

    /// Adds `uid` to `ids` unless it is there. Static, so that it can run while `regions` is read.
    private static func insert(_ uid: UInt32, into ids: inout [UInt32]) {
        if !ids.contains(uid) {
            ids.append(uid)
        }
    }

    private static let space: UInt8 = 0x20
    private static let equals = UInt8(ascii: "=")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")

    /// Walks the fields of `start..<end`; `last` is the `=` of the body's last `uid=`: a word that
    /// starts after it cannot be a counted field, nor can any later one.
    private mutating func scanFields(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int, nested: Bool, last: Int
    ) {
        var index = start
        while index < end {
            // Separators: spaces, and any other control byte a user message may hold.
            while index < end, base[index] <= Self.space {
                index += 1
            }
            guard index < end, index <= last else { return }
            let first = base[index]
            if first == Self.doubleQuote || first == Self.singleQuote {
                index = Self.skipQuoted(base, from: index + 1, to: end, quote: first)
                continue
            }
            let keyStart = index
            while index < end {
                let byte = base[index]
                // A quote inside a word (`it's`) is part of the word; only a quote that starts a
                // word or a value opens a quoted string.
                if byte <= Self.space || byte == Self.equals {
                    break
                }
                index += 1
            }
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
                    scanFields(base, from: index + 1, to: nestedEnd, nested: true, last: last)
                    index = nestedEnd + 1
                } else {
                    index = Self.skipQuoted(base, from: index + 1, to: end, quote: valueFirst)
                }
                continue
            }
            if Self.endsInUID(base, from: keyStart, to: keyEnd) {
                let valueStart = index
                while index < end, base[index] > Self.space {
                    index += 1
                }
                if let uid = Self.decimalUInt32(base, from: valueStart, to: index), !found.contains(uid) {
                    found.append(uid)
                }
            } else {
                // Most values are skipped: long hex strings (proctitle, execve) go by with memchr.
                // Values end at a space, the separator the kernel and libaudit write.
                index = Self.find(Self.space, base, from: index, to: end)
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

    /// A canonical decimal (1–10 digits, no leading zero) that fits 32 bits; anything else (`uid=root`,
    /// `-1`, hex, `007`) is no id. Canonical only, so that every `uid_map` key appears verbatim in `data`.
    private static func decimalUInt32(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> UInt32? {
        let length = end - start
        guard length >= 1, length <= 10 else { return nil }
        if length > 1, base[start] == UInt8(ascii: "0") { return nil }
        var value: UInt64 = 0
        for index in start..<end {
            let digit = base[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + UInt64(digit)
        }
        return value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }
}
