import AuditEncoding
import AuditEvents
import AuditNetlink
internal import AuditSystem

/// What the start of an encoded line says: `{"sequence":N,"timestamp":"S.mmm",…` for audit events,
/// `{"type":"swift-audit.loss","timestamp":"S.mmm",…` for the daemon's own events.
///
/// Only the leading scalar members are read (up to the first array or object value), so a
/// writer can date and label an item that carries no `AuditEvent`.
struct LineHead: Sendable {
    var sequence: UInt64?
    var seconds: UInt64?
    var milliseconds: UInt16 = 0
    /// The `type` string of a daemon event, when it needs no unescaping.
    var type: ArraySlice<UInt8>?

    init(_ line: [UInt8]) {
        var index = 0
        let end = line.count
        func skip(_ byte: UInt8) -> Bool {
            guard index < end, line[index] == byte else { return false }
            index += 1
            return true
        }
        /// A string without escapes, as a slice; nil (and stop) otherwise.
        func string() -> ArraySlice<UInt8>? {
            guard skip(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < end, line[index] != UInt8(ascii: "\"") {
                if line[index] == UInt8(ascii: "\\") || line[index] < 0x20 { return nil }
                index += 1
            }
            guard index < end else { return nil }
            defer { index += 1 }
            return line[start..<index]
        }
        guard skip(UInt8(ascii: "{")) else { return }
        for _ in 0..<16 {
            guard let key = string(), skip(UInt8(ascii: ":")), index < end else { return }
            if line[index] == UInt8(ascii: "\"") {
                guard let value = string() else { return }
                if key.elementsEqual("timestamp".utf8) {
                    (seconds, milliseconds) = Self.timestamp(value)
                } else if key.elementsEqual("type".utf8) {
                    type = value
                }
            } else if line[index] >= UInt8(ascii: "0") && line[index] <= UInt8(ascii: "9") {
                var value: UInt64 = 0
                while index < end, line[index] >= UInt8(ascii: "0"), line[index] <= UInt8(ascii: "9") {
                    let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(UInt64(line[index] - 0x30))
                    if overflow1 || overflow2 { return }
                    value = sum
                    index += 1
                }
                if key.elementsEqual("sequence".utf8) { sequence = value }
            } else {
                return  // an array, an object or a literal: the leading scalars are over
            }
            guard skip(UInt8(ascii: ",")) else { return }
        }
    }

    /// Parses `SECONDS.MILLIS`.
    private static func timestamp(_ text: ArraySlice<UInt8>) -> (UInt64?, UInt16) {
        var seconds: UInt64 = 0
        var index = text.startIndex
        var digits = 0
        while index < text.endIndex, text[index] >= 0x30, text[index] <= 0x39, digits < 19 {
            seconds = seconds * 10 + UInt64(text[index] - 0x30)
            index += 1
            digits += 1
        }
        guard digits > 0 else { return (nil, 0) }
        var milliseconds: UInt16 = 0
        if index < text.endIndex, text[index] == UInt8(ascii: ".") {
            index += 1
            var scale: UInt16 = 100
            while index < text.endIndex, text[index] >= 0x30, text[index] <= 0x39 {
                milliseconds += UInt16(text[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        return (seconds, min(milliseconds, 999))
    }
}

/// The identity and time of an item: from its event when it has one, else from its line's head,
/// else now.
struct ItemStamp {
    var sequence: UInt64?
    var seconds: UInt64
    var milliseconds: UInt16
    var head: LineHead

    init(_ item: OutputItem) {
        head = LineHead(item.line)
        if let event = item.event, event.id != .unknown {
            sequence = UInt64(event.id.serial)
            seconds = event.id.seconds
            milliseconds = min(event.id.milliseconds, 999)
        } else if let seconds = head.seconds {
            sequence = head.sequence
            self.seconds = seconds
            milliseconds = head.milliseconds
        } else {
            sequence = head.sequence
            (seconds, milliseconds) = SystemClock.realtime()
        }
    }
}

extension AuditEvent {
    /// The distinct record types in order of first appearance, EOE left out.
    var distinctTypes: [AuditMessageType] {
        var types: [AuditMessageType] = []
        for span in spans where span.type != .endOfEvent && !types.contains(span.type) {
            types.append(span.type)
        }
        return types
    }
}

/// The `key=value` fields of audit record bodies, read on bytes.
enum AuditFields {
    /// Calls `visit(key, value, quoted)` for each field of `body`, in order. A `msg='…'` value
    /// (user-space records: it runs to the body's last `'`) is visited whole and then its own
    /// fields are visited too, one level deep. `quoted` is true for `"…"` and `'…'` values; the
    /// kernel writes untrusted strings either quoted or as bare hex.
    static func forEach(
        in body: ArraySlice<UInt8>, nested: Bool = true,
        _ visit: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>, _ quoted: Bool) -> Void
    ) {
        var index = body.startIndex
        let end = body.endIndex
        while index < end {
            while index < end, isSeparator(body[index]) { index += 1 }
            let keyStart = index
            while index < end, body[index] != UInt8(ascii: "="), !isSeparator(body[index]) { index += 1 }
            guard index < end, body[index] == UInt8(ascii: "="), index > keyStart else {
                if index < end, !isSeparator(body[index]) { index += 1 }  // a stray `=`: step over it
                continue
            }
            let key = body[keyStart..<index]
            index += 1
            guard index < end else {
                visit(key, body[index..<index], false)
                return
            }
            let quote = body[index]
            if quote == UInt8(ascii: "\"") {
                let start = index + 1
                var stop = start
                while stop < end, body[stop] != quote { stop += 1 }
                visit(key, body[start..<stop], true)
                index = min(end, stop + 1)
            } else if quote == UInt8(ascii: "'") {
                let start = index + 1
                var stop = end
                while stop > start, body[stop - 1] != quote { stop -= 1 }
                let valueEnd = stop > start ? stop - 1 : end
                let value = body[start..<valueEnd]
                visit(key, value, true)
                if nested { forEach(in: value, nested: false, visit) }
                index = stop > start ? stop : end
            } else {
                let start = index
                while index < end, !isSeparator(body[index]) { index += 1 }
                visit(key, body[start..<index], false)
            }
        }
    }

    /// Spaces and the group separator auditd puts before enriched fields.
    @inline(__always)
    private static func isSeparator(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x1D || byte == 0x0A }

    /// The bytes of an even-length run of hex digits (the kernel's encoding of an untrusted
    /// string), or nil when `value` is not one.
    static func decodeHex(_ value: ArraySlice<UInt8>) -> [UInt8]? {
        guard !value.isEmpty, value.count % 2 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(value.count / 2)
        var index = value.startIndex
        while index < value.endIndex {
            guard let high = hexValue(value[index]), let low = hexValue(value[index + 1]) else { return nil }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// True for well-formed UTF-8 without C0 controls, DEL or C1 controls: text that is safe to
    /// show as it is.
    static func isPrintableText(_ bytes: some Collection<UInt8>) -> Bool {
        let text = String(validating: bytes, as: UTF8.self)
        guard let text else { return false }
        return !text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// A string field's value for display: a bare hex value is decoded when the result is
    /// printable text (else kept as the kernel wrote it); `(null)` and `?` count as absent.
    static func text(_ value: ArraySlice<UInt8>, quoted: Bool) -> ArraySlice<UInt8>? {
        if quoted { return value }
        if value.elementsEqual("(null)".utf8) || value.elementsEqual("?".utf8) || value.isEmpty { return nil }
        if let decoded = decodeHex(value), isPrintableText(decoded) { return decoded[...] }
        return value
    }

    /// A decimal number with an optional sign; nil otherwise.
    static func integer(_ value: ArraySlice<UInt8>) -> Int64? {
        var index = value.startIndex
        var negative = false
        if index < value.endIndex, value[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < value.endIndex, value.endIndex - index <= 19 else { return nil }
        var result: Int64 = 0
        while index < value.endIndex {
            let byte = value[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result = result * 10 + Int64(byte - 0x30)
            index += 1
        }
        return negative ? -result : result
    }
}
