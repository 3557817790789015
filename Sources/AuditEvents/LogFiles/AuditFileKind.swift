/// What an input file holds, told from its first bytes: an audit.log, a capture of netlink
/// datagrams, or something else.
///
/// `swift-audit parse` reads both kinds and `swift-audit replay` reads captures only; both use this
/// to say what a file is when it is not what they expect, instead of failing on its bytes (an
/// audit.log read as a capture used to fail with "frame length 1701869940 exceeds 1048576 bytes":
/// `type` read as a little-endian length).
public enum AuditFileKind: Hashable, Sendable, CustomStringConvertible {
    /// No bytes at all.
    case empty
    /// auditd's text log (RAW or ENRICHED `log_format`, with or without `node=`), or the same lines
    /// from `ausearch --raw`: text with lines that start with `type=` or `node=`.
    case auditLog
    /// A capture in the `[u32 little-endian length][datagram]` framing (`swift-audit run --record`,
    /// the corpus's `*.bin`); `multicast` when the first datagram's `nlmsg_len` counts its 16-byte
    /// header (a copy from the `AUDIT_NLGRP_READLOG` group), false for the registered daemon's
    /// unicast quirk (`nlmsg_len` = payload length).
    case capture(multicast: Bool)
    /// `ausearch -i` output: records whose values were replaced by their interpretation
    /// (`msg=audit(12/06/2016 21:36:24.827:17) : arch=x86_64 syscall=openat`), which has lost
    /// the records' original form. (ausearch's default output, the records between `----` and
    /// `time->…` lines, is an ``auditLog``: the reader passes over those lines.)
    case ausearchReport
    /// Text that is none of the above; `firstLine` is its first non-blank line (a bounded prefix).
    case otherText(firstLine: [UInt8])
    /// Bytes that are not text; `prefix` holds the first of them.
    case binary(prefix: [UInt8])

    /// How many bytes ``detect(_:atEnd:)`` looks at, at most (fewer suffice once it is sure).
    public static let detectionLength = 4096

    /// The most bytes of a file that a ``otherText(firstLine:)`` or ``binary(prefix:)`` value keeps.
    public static let prefixLimit = 64

    /// Tells the kind of an input from its first bytes.
    ///
    /// An audit.log is text with a line that starts with `type=` or `node=` among the first
    /// ``detectionLength`` bytes (not necessarily the first line: a log cut out by hand or a test
    /// file may start with a comment or a stray line, which the reader then reports as skipped).
    ///
    /// - Parameters:
    ///   - prefix: the input's first bytes.
    ///   - atEnd: true when no more bytes follow `prefix` (the whole input, or ``detectionLength``
    ///     bytes of it: decide with what is there).
    /// - Returns: the kind, or nil when `prefix` does not tell yet and more bytes may come.
    public static func detect(_ prefix: UnsafeRawBufferPointer, atEnd: Bool = true) -> AuditFileKind? {
        if prefix.isEmpty { return atEnd ? .empty : nil }
        if let multicast = captureFraming(prefix) { return .capture(multicast: multicast) }
        if prefix.count < 4 + 16, !atEnd, !looksLikeText(prefix) { return nil }  // a capture's first frame?
        // The first line that is not blank.
        var start = 0
        while start < prefix.count, isBlank(prefix[start]) { start += 1 }
        let text = UnsafeRawBufferPointer(rebasing: prefix[start...])
        let isText = looksLikeText(prefix)
        if isText {
            var lineStart = start
            while lineStart < prefix.count {
                let line = UnsafeRawBufferPointer(rebasing: prefix[lineStart...])
                if startsWith(line, "type=") || startsWith(line, "node=") {
                    return isInterpreted(line) ? .ausearchReport : .auditLog
                }
                // A last line too short to tell yet.
                if !atEnd, line.count < 5, isPrefixOfKeyword(line) { return nil }
                let newline = firstIndex(of: 0x0A, in: prefix, lineStart..<prefix.count)
                lineStart = newline + 1
            }
        }
        if !atEnd { return nil }
        if !isText { return .binary(prefix: Array(prefix.prefix(prefixLimit))) }
        let lineEnd = firstIndex(of: 0x0A, in: text, 0..<text.count)
        return .otherText(firstLine: Array(text[0..<min(lineEnd, prefixLimit)]))
    }

    /// Tells the kind of bytes held in an array; see ``detect(_:atEnd:)``.
    public static func detect(_ prefix: [UInt8], atEnd: Bool = true) -> AuditFileKind? {
        prefix.withUnsafeBytes { detect($0, atEnd: atEnd) }
    }

    /// What the kind is, as an operator reads it: `an audit.log`, `a multicast capture…`.
    public var description: String {
        switch self {
        case .empty: "an empty file"
        case .auditLog: "an audit.log (text lines \"type=… msg=audit(…): …\")"
        case .capture(let multicast):
            multicast
                ? "a capture of multicast netlink datagrams (AUDIT_NLGRP_READLOG, like the corpus's *.netlink.bin)"
                : "a capture of netlink datagrams (swift-audit run --record)"
        case .ausearchReport:
            "ausearch's interpreted output (ausearch -i: dates and names instead of the records' values)"
        case .otherText(let line): "text that is not an audit.log, starting \"\(escaped(line))\""
        case .binary(let prefix): "binary data starting \"\(escaped(prefix))\""
        }
    }

    /// The framing of a capture, or nil when the bytes do not start with a frame: a length that a
    /// netlink datagram can have, then an `nlmsghdr` with an audit message type or a netlink
    /// control type, whose `nlmsg_len` is that length (the standard) or 16 less (the unicast quirk
    /// of audit records). Control messages (the `NLMSG_ERROR` ack that starts a unicast capture)
    /// always have the standard length, so the first audit record in `bytes` tells the framing;
    /// without one, unicast.
    private static func captureFraming(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        var offset = 0
        while offset + 4 + 16 <= bytes.count {
            let frame = littleEndian32(bytes, offset)
            guard frame >= 16, frame <= UInt32(CaptureReader.maximumDatagramSize) else { return nil }
            let length = littleEndian32(bytes, offset + 4)
            let type = UInt16(bytes[offset + 8]) | UInt16(bytes[offset + 9]) << 8
            if type < 16 {
                guard length == frame else { return nil }
            } else {
                guard (1000..<3000).contains(type) else { return nil }
                if length == frame { return true }
                return length == frame - 16 ? false : nil
            }
            offset += 4 + Int(frame)
        }
        return offset > 0 ? false : nil
    }

    private static func littleEndian32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x0A || byte == 0x0D || byte == 0x20 || byte == 0x09
    }

    private static func startsWith(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        return bytes.count >= count && equalBytes(bytes, 0..<count, text)
    }

    /// The line's `msg=audit(` is followed by a date (`12/06/2016 …`), as `ausearch -i` prints it,
    /// rather than seconds since the epoch.
    private static func isInterpreted(_ line: UnsafeRawBufferPointer) -> Bool {
        let end = firstIndex(of: 0x0A, in: line, 0..<line.count)
        let marker = Array("msg=audit(".utf8)
        var i = 0
        while i + marker.count <= end {
            if line[i] == marker[0], line[i..<(i + marker.count)].elementsEqual(marker) {
                var j = i + marker.count
                while j < end, line[j] >= 0x30, line[j] <= 0x39 { j += 1 }
                return j < end && line[j] == 0x2F  // '/'
            }
            i += 1
        }
        return false
    }

    private static func isPrefixOfKeyword(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for keyword in ["type=", "node="] {
            if keyword.utf8.starts(with: bytes.prefix(keyword.utf8.count)) { return true }
        }
        return false
    }

    /// No NUL and at most one byte in 16 a control byte other than tab, CR and LF (UTF-8 text
    /// passes: only C0 controls count).
    private static func looksLikeText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var controls = 0
        for byte in bytes {
            if byte == 0 { return false }
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D { controls += 1 }
        }
        return controls * 16 <= bytes.count
    }
}
