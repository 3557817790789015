import AuditEvents

extension JSONWriter {
    /// Appends `bytes` as a JSON string the way laurel writes decoded values: valid UTF-8 as it is,
    /// `"` and `\` escaped as in JSON, and `%XX` (lower-case hex) for every byte that is a control
    /// (below 0x20, 0x7F), `%`, `+`, or not part of valid UTF-8 — so the bytes always come back by
    /// percent-decoding, and a consumer of laurel's output reads ours unchanged.
    ///
    /// Beyond laurel, and as the raw format does with `\u` escapes, the characters that can make a
    /// log line display as something it is not (C1 controls U+0080–U+009F, the bidi controls
    /// U+202A–U+202E and U+2066–U+2069, and U+2028/U+2029) are percent-encoded too, byte by byte;
    /// they decode the same way.
    package mutating func appendPercentString(_ bytes: UnsafeRawBufferPointer) {
        withCursor(atMost: bytes.count * 3 + 2) { $0.percentString(bytes) }
    }

    /// Appends the bytes `hex` encodes (the kernel's encoding of an untrusted string, either case)
    /// and returns true; at a pair that is not hex, or an odd digit at the end, it undoes what it
    /// appended and returns false. The enriched and ECS encoders decode into a writer used as a
    /// byte buffer (it keeps its grown storage and is not zero-filled per value).
    package mutating func appendDecodedHex(_ hex: UnsafeRawBufferPointer) -> Bool {
        guard hex.count % 2 == 0 else { return false }
        let start = count
        var valid = true
        withCursor(atMost: hex.count / 2) { cursor in
            var index = 0
            while index < hex.count {
                guard let high = AuditHex.digit(hex[index]), let low = AuditHex.digit(hex[index &+ 1]) else {
                    valid = false
                    return
                }
                cursor.byte(high << 4 | low)
                index &+= 2
            }
        }
        if !valid { truncate(to: start) }
        return valid
    }

    /// Appends bytes that are already valid JSON (a record's field name, a checked number).
    package mutating func appendRawBytes(_ bytes: UnsafeRawBufferPointer) {
        appendRaw(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Appends `bytes` as ``appendPercentString(_:)`` does.
    package mutating func appendPercentString(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendPercentString($0) }
    }

    /// C1 controls (C2 80–C2 9F), U+2028/U+2029 and the bidi controls (E2 80 AA–AE, E2 81 A6–A9).
    @inline(__always)
    static func isDeceptive(_ base: UnsafePointer<UInt8>, at index: Int, length: Int) -> Bool {
        let lead = base[index]
        if length == 2 { return lead == 0xC2 && base[index + 1] <= 0x9F }
        guard length == 3, lead == 0xE2 else { return false }
        let second = base[index + 1]
        let third = base[index + 2]
        if second == 0x80 { return (0xA8...0xAE).contains(third) }
        if second == 0x81 { return (0xA6...0xA9).contains(third) }
        return false
    }
}

extension JSONCursor {
    /// Writes `bytes` as ``JSONWriter/appendPercentString(_:)`` describes: at most
    /// `3 * bytes.count + 2` bytes.
    @inline(__always)
    package mutating func percentString(_ bytes: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            byte(UInt8(ascii: "\""))
            return
        }
        let end = bytes.count
        var index = 0
        while index < end {
            // Most bytes need no escape: runs of them are copied 16 at a time.
            copyPlain(base, index: &index, end: end)
            guard index < end else { break }
            let current = base[index]
            if current >= 0x20 && current < 0x7F {
                switch current {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    byte(UInt8(ascii: "\\"))
                    byte(current)
                case UInt8(ascii: "%"), UInt8(ascii: "+"):
                    percent(current)
                default:
                    byte(current)
                }
                index &+= 1
                continue
            }
            let length = current < 0x80 ? 0 : JSONEscaping.validSequenceLength(base, at: index, end: end)
            if length == 0 || JSONWriter.isDeceptive(base, at: index, length: length) {
                // A control byte, a byte outside valid UTF-8, or a whole deceptive character.
                for offset in 0..<max(length, 1) { percent(base[index &+ offset]) }
                index &+= max(length, 1)
            } else {
                for offset in 0..<length { byte(base[index &+ offset]) }
                index &+= length
            }
        }
        byte(UInt8(ascii: "\""))
    }

    /// Copies the plain bytes (``isPlain(_:)``) from `index` on, and stops at the first other one.
    ///
    /// Sixteen bytes at a time, as `JSONEscaping.copyClean` does for the raw format: a block is
    /// stored whole and only its plain prefix counted. The store stays inside the reservation: the
    /// cursor reserved three bytes per input byte, and a block is stored only while sixteen input
    /// bytes remain.
    @inline(__always)
    mutating func copyPlain(_ base: UnsafePointer<UInt8>, index: inout Int, end: Int) {
        let source = UnsafeRawPointer(base)
        let destination = UnsafeMutableRawPointer(start)
        let control = SIMD16<UInt8>(repeating: 0x20)
        let printable = SIMD16<UInt8>(repeating: 0x7E)
        let quote = SIMD16<UInt8>(repeating: 0x22)
        let backslash = SIMD16<UInt8>(repeating: 0x5C)
        let percent = SIMD16<UInt8>(repeating: 0x25)
        let plus = SIMD16<UInt8>(repeating: 0x2B)
        while index &+ 16 <= end {
            let block = source.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let special =
                (block .< control) .| (block .> printable) .| (block .== quote) .| (block .== backslash)
                .| (block .== percent) .| (block .== plus)
            destination.storeBytes(of: block, toByteOffset: count, as: SIMD16<UInt8>.self)
            let lanes = unsafeBitCast(special, to: SIMD2<UInt64>.self)
            if lanes[0] | lanes[1] != 0 {
                let plain =
                    (lanes[0] != 0 ? lanes[0].trailingZeroBitCount : 64 &+ lanes[1].trailingZeroBitCount) &>> 3
                index &+= plain
                count &+= plain
                return
            }
            index &+= 16
            count &+= 16
        }
        while index < end, Self.isPlain(base[index]) {
            byte(base[index])
            index &+= 1
        }
    }

    /// Printable ASCII that a percent string writes as it is.
    @inline(__always)
    static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            && byte != UInt8(ascii: "%") && byte != UInt8(ascii: "+")
    }

    /// Writes bytes that are already valid JSON: `bytes.count` bytes.
    @inline(__always)
    package mutating func rawBytes(_ bytes: UnsafeRawBufferPointer) {
        raw(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Writes `%xx` (lower-case hex): 3 bytes.
    @inline(__always)
    mutating func percent(_ value: UInt8) {
        byte(UInt8(ascii: "%"))
        byte(JSONEscaping.hexDigit(UInt16(value >> 4), lowercase: true))
        byte(JSONEscaping.hexDigit(UInt16(value), lowercase: true))
    }
}
