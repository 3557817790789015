/// The `audit(SECONDS.MILLIS:SERIAL): ` header at the start of every kernel record payload, and
/// where the body after it lies.
///
/// Parsed on raw bytes, without building a String: the reassembler does this for every record
/// the kernel sends (100k+ per second under load), and only needs three integers and an offset.
public struct AuditRecordHeader: Hashable, Sendable {
    /// The event identity in the header.
    public var id: AuditEventID
    /// The body's byte range in the payload: after `): ` (one separating space, if present) up to
    /// the end, without trailing NUL bytes. Empty for `EOE`.
    public var body: Range<Int>

    /// Creates a header value (normally obtained from `parse(_:)`).
    public init(id: AuditEventID, body: Range<Int>) {
        self.id = id
        self.body = body
    }

    /// The most digits accepted for the seconds (UInt64 holds 20).
    static let maxSecondsDigits = 20
    /// The most digits accepted for the serial (UInt32 holds 10).
    static let maxSerialDigits = 10

    /// Parses the header of a record payload (the netlink payload, not an audit.log line).
    ///
    /// The grammar is what the kernel prints (`audit_log_start`: `"audit(%llu.%03lu:%u): "`):
    /// `audit(`, 1–20 decimal digits, `.`, exactly three digits, `:`, 1–10 digits that fit a
    /// UInt32, `)`, `:`, then an optional single space. Anything else is rejected rather than
    /// guessed at: a record with an unreadable identity cannot be placed in an event, and the
    /// reassembler reports it instead (see `Reassembler`). Further spaces belong to the body
    /// (some kernel records start their body with one; the body is kept byte for byte).
    ///
    /// - Throws: `AuditRecordHeaderError` naming the problem, the byte offset and the payload's
    ///   first bytes.
    public static func parse(_ payload: UnsafeRawBufferPointer) throws(AuditRecordHeaderError) -> AuditRecordHeader {
        try parse(payload, colonOptional: false)
    }

    /// Parses a header; with `colonOptional`, `audit(…)` followed by a space or the end is accepted
    /// too: auditd 2.x wrote its own `DAEMON_CONFIG` records so (`msg=audit(1490239800.477:34)
    /// config changed, auid=0 …`), which is an audit.log form, never a kernel one.
    static func parse(_ payload: UnsafeRawBufferPointer, colonOptional: Bool) throws(AuditRecordHeaderError)
        -> AuditRecordHeader
    {
        var end = payload.count
        while end > 0, payload[end - 1] == 0 { end -= 1 }

        func fail(_ kind: AuditRecordHeaderError.Kind, at offset: Int) -> AuditRecordHeaderError {
            AuditRecordHeaderError(kind: kind, offset: offset, payload: payload)
        }

        // "audit("
        let prefix: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0x61, 0x75, 0x64, 0x69, 0x74, 0x28)
        guard end >= 6,
            payload[0] == prefix.0, payload[1] == prefix.1, payload[2] == prefix.2,
            payload[3] == prefix.3, payload[4] == prefix.4, payload[5] == prefix.5
        else { throw fail(.missingPrefix, at: 0) }
        var i = 6

        // Seconds.
        var seconds: UInt64 = 0
        let secondsStart = i
        while i < end, let digit = decimalDigit(payload[i]) {
            let digitCount = i - secondsStart
            if digitCount < maxSecondsDigits - 1 {
                // 19 digits cannot overflow a UInt64: only the 20th needs the (slower) checked
                // arithmetic, which would otherwise lengthen the loop for every record.
                seconds = seconds &* 10 &+ UInt64(digit)
            } else {
                guard digitCount < maxSecondsDigits else { throw fail(.badSeconds, at: i) }
                let (times10, o1) = seconds.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                guard !o1, !o2 else { throw fail(.badSeconds, at: i) }
                seconds = sum
            }
            i += 1
        }
        guard i > secondsStart else { throw fail(.badSeconds, at: i) }
        guard i < end, payload[i] == 0x2E else { throw fail(.badSeconds, at: i) }  // '.'
        i += 1

        // Milliseconds: always three digits (%03lu); a different count means this is not a
        // kernel header, and reading ".5" as 5 ms or 500 ms would be a guess either way.
        var milliseconds: UInt16 = 0
        for _ in 0..<3 {
            guard i < end, let digit = decimalDigit(payload[i]) else { throw fail(.badMilliseconds, at: i) }
            milliseconds = milliseconds * 10 + UInt16(digit)
            i += 1
        }
        guard i < end, payload[i] == 0x3A else { throw fail(.badMilliseconds, at: i) }  // ':'
        i += 1

        // Serial.
        var serial: UInt64 = 0
        let serialStart = i
        while i < end, let digit = decimalDigit(payload[i]) {
            guard i - serialStart < maxSerialDigits else { throw fail(.badSerial, at: i) }
            serial = serial &* 10 &+ UInt64(digit)  // at most 10 digits: cannot overflow a UInt64
            i += 1
        }
        guard i > serialStart, serial <= UInt64(UInt32.max) else { throw fail(.badSerial, at: serialStart) }
        guard i < end, payload[i] == 0x29 else { throw fail(.badSerial, at: i) }  // ')'
        i += 1
        if i < end, payload[i] == 0x3A {  // ':'
            i += 1
        } else if !colonOptional || (i < end && payload[i] != 0x20) {
            throw fail(.missingColon, at: i)
        }
        if i < end, payload[i] == 0x20 { i += 1 }

        return AuditRecordHeader(
            id: AuditEventID(seconds: seconds, milliseconds: milliseconds, serial: UInt32(serial)),
            body: i..<end)
    }

    /// Parses the header of a record payload held in an array; see `parse(_:)`.
    public static func parse(_ payload: [UInt8]) throws(AuditRecordHeaderError) -> AuditRecordHeader {
        let result: Result<AuditRecordHeader, AuditRecordHeaderError> = payload.withUnsafeBytes { raw in
            do throws(AuditRecordHeaderError) {
                return .success(try parse(raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @inline(__always)
    private static func decimalDigit(_ byte: UInt8) -> UInt8? {
        let value = byte &- 0x30
        return value < 10 ? value : nil
    }
}

/// A record payload that does not start with a kernel `audit(SECONDS.MILLIS:SERIAL): ` header.
///
/// Carries the first bytes of the payload (never the whole record, which may be 9 KB) so that a
/// log line shows what was received.
public struct AuditRecordHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which part of the header is wrong.
    public enum Kind: Hashable, Sendable {
        /// The payload does not start with `audit(`.
        case missingPrefix
        /// The seconds are missing, too long, overflow, or are not followed by `.`.
        case badSeconds
        /// The milliseconds are not exactly three digits followed by `:`.
        case badMilliseconds
        /// The serial is missing, does not fit 32 bits, or is not followed by `)`.
        case badSerial
        /// `)` is not followed by `:`.
        case missingColon
    }

    /// How many payload bytes the error keeps.
    public static let prefixLimit = 64

    /// Which part of the header is wrong.
    public var kind: Kind
    /// The byte offset in the payload where parsing stopped.
    public var offset: Int
    /// The payload's length in bytes.
    public var payloadLength: Int
    /// The payload's first bytes (at most `prefixLimit`).
    public var prefix: [UInt8]

    /// Creates an error, keeping at most `prefixLimit` bytes of the payload.
    public init(kind: Kind, offset: Int, payload: UnsafeRawBufferPointer) {
        self.kind = kind
        self.offset = offset
        self.payloadLength = payload.count
        self.prefix = Array(payload.prefix(Self.prefixLimit))
    }

    public var description: String {
        "record header \(Self.describe(kind)) \(located(offset, of: payloadLength, prefix))"
    }
}

extension AuditRecordHeaderError {
    /// What is wrong, as words (`has a bad serial`).
    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .missingPrefix: "does not start with \"audit(\""
        case .badSeconds: "has bad seconds"
        case .badMilliseconds: "has bad milliseconds (want 3 digits)"
        case .badSerial: "has a bad serial"
        case .missingColon: "lacks ':' after ')'"
        }
    }
}

/// `at byte OFFSET of LENGTH: "FIRST BYTES…"`, the tail of every parse error's message.
func located(_ offset: Int, of length: Int, _ prefix: [UInt8]) -> String {
    "at byte \(offset) of \(length): \"\(escaped(prefix))\(length > prefix.count ? "…" : "")\""
}

/// Printable ASCII as is, `"` and `\` escaped, everything else as `\xHH`: error messages must show
/// exactly which bytes arrived, and must not inject control characters into a log.
func escaped(_ bytes: some Sequence<UInt8>) -> String {
    let hex: [Character] = Array("0123456789abcdef")
    var out = ""
    for byte in bytes {
        switch byte {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x20..<0x7F: out.append(Character(Unicode.Scalar(byte)))
        default:
            out += "\\x"
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
    }
    return out
}
