package import AuditEncoding
import AuditEvents
import AuditNetlink
import Glibc

/// Builds syslog messages around event lines: the RFC 5424 or RFC 3164 header, then the line
/// unchanged as MSG; and, for a line too long for `max_message`, the marked parts or the marked
/// truncation.
///
/// # Header
/// - RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`. TIMESTAMP is the event's
///   time in UTC with milliseconds (`2024-01-02T03:04:05.678Z`); PROCID is the daemon's pid;
///   MSGID is the event's first record type (`SYSCALL`, `USER_LOGIN`) or a daemon event's type
///   (`swift-audit.loss`), `-` otherwise. With structured data, SD is
///   `[swift-audit@32473 seq="SERIAL" types="SYSCALL,EXECVE,…"]`; else `-`. 32473 is the private
///   enterprise number RFC 5612 sets aside for documentation and examples: swift-audit has no
///   number of its own, and an SD-ID with `@` needs one.
/// - RFC 3164: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, the time in local time. To a local
///   socket the HOSTNAME is left out, as glibc's `syslog(3)` does, because local receivers
///   (rsyslog's imuxsock, journald) expect no host name there.
///
/// Header fields are sanitised: every byte outside printable ASCII (and, in an RFC 3164 TAG,
/// `:`, `[` and `]`) becomes `_`, so no header can contain a space where none belongs, a newline
/// or an escape sequence. The MSG is the event's JSON, byte for byte; a line with a raw newline
/// (which the encoder never produces) is rejected rather than sent.
///
/// # Long events
/// A message longer than `limit` bytes (header included) is, by policy:
/// - split into parts whose MSG is `[swift-audit part I/N seq=SERIAL] ` followed by the next
///   piece of the JSON; the pieces, in order, concatenate to the whole line. Pieces end on UTF-8
///   character boundaries. Every part has the same header (same timestamp).
/// - truncated: one message whose MSG is `[swift-audit truncated KEPT/TOTAL seq=SERIAL] `
///   followed by the first KEPT bytes of the TOTAL-byte line (cut on a character boundary).
/// - dropped, or sent elsewhere (the writer decides: the formatter reports it).
/// A line without a sequence (a daemon event) shows `seq=-`. Any MSG that does not start with
/// `{` is one of these markers.
package struct SyslogFormatter: Sendable {
    /// The header style.
    package enum Style: Sendable, Hashable {
        case rfc5424(structuredData: Bool)
        case rfc3164(hostname: Bool)
    }

    /// What to do with a line that does not fit.
    package enum Overflow: Sendable, Hashable {
        case split, truncate, refuse
    }

    /// How `layOut` arranged an item in `messages`.
    package enum Layout: Sendable, Hashable {
        /// One message.
        case whole
        /// `parts` marked messages.
        case split(parts: Int)
        /// One marked message with the start of the line.
        case truncated(kept: Int)
        /// Nothing: the `size`-byte message exceeds the limit and the policy refuses it.
        case tooLarge(size: Int)
        /// Nothing: the line contains a raw newline at `offset`.
        case newline(offset: Int)
    }

    /// The SD-ID of the structured-data element.
    package static let structuredDataID = "swift-audit@32473"

    let style: Style
    let priority: [UInt8]
    let hostname: [UInt8]
    let appName: [UInt8]
    let processID: [UInt8]
    /// The messages of the last `layOut`.
    package private(set) var messages = MessageList()
    private var header: [UInt8] = []
    private var cuts: [Int] = []

    /// A formatter for `facility` (0…23) and `severity` (0…7); `hostname` and `appName` are
    /// sanitised here.
    package init(style: Style, facility: UInt8, severity: UInt8, hostname: String, appName: String, processID: Int32) {
        self.style = style
        var priority: [UInt8] = [UInt8(ascii: "<")]
        appendDecimal(UInt64(facility) * 8 + UInt64(severity), to: &priority)
        priority.append(UInt8(ascii: ">"))
        self.priority = priority
        let isBSD = if case .rfc3164 = style { true } else { false }
        self.hostname = Self.sanitised(hostname, limit: 255, forbidding: [], fallback: "-")
        self.appName = Self.sanitised(
            appName, limit: isBSD ? 32 : 48,
            forbidding: isBSD ? [UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]")] : [], fallback: "swift-audit")
        var pid: [UInt8] = []
        appendDecimal(Int64(processID), to: &pid)
        self.processID = pid
    }

    /// Printable ASCII only (0x21…0x7E, minus `forbidding`), other bytes as `_`, at most `limit`
    /// bytes; `fallback` when empty.
    package static func sanitised(_ text: String, limit: Int, forbidding: [UInt8], fallback: String) -> [UInt8] {
        var output: [UInt8] = []
        for byte in text.utf8.prefix(limit) {
            output.append((0x21...0x7E).contains(byte) && !forbidding.contains(byte) ? byte : UInt8(ascii: "_"))
        }
        return output.isEmpty ? Array(fallback.utf8) : output
    }

    /// Lays `item` out as syslog messages of at most `limit` bytes each into `messages`.
    package mutating func layOut(_ item: OutputItem, limit: Int, overflow: Overflow) -> Layout {
        messages.removeAll()
        let line = item.line
        let newline = line.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, let found = memchr(base, 0x0A, raw.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
        if let newline { return .newline(offset: newline) }
        let stamp = ItemStamp(item)
        buildHeader(item, stamp: stamp)
        let total = header.count + line.count
        if total <= limit {
            messages.append(contentsOf: header)
            messages.append(contentsOf: line)
            messages.finishMessage()
            return .whole
        }
        var sequence: [UInt8] = []
        if let value = stamp.sequence { appendDecimal(value, to: &sequence) } else { sequence = [UInt8(ascii: "-")] }
        switch overflow {
        case .refuse:
            return .tooLarge(size: total)
        case .truncate:
            let totalText = decimalBytes(line.count)
            let marker =
                Self.truncatedPrefix.count + 2 * totalText.count + 1 + Self.sequencePrefix.count
                + sequence.count + 2
            let kept = Self.boundary(in: line, from: 0, atMost: max(64, limit - header.count - marker))
            messages.append(contentsOf: header)
            messages.append(contentsOf: Self.truncatedPrefix)
            messages.append(contentsOf: decimalBytes(kept))
            messages.append(UInt8(ascii: "/"))
            messages.append(contentsOf: totalText)
            messages.append(contentsOf: Self.sequencePrefix)
            messages.append(contentsOf: sequence)
            messages.append(contentsOf: "] ".utf8)
            messages.append(contentsOf: line[0..<kept])
            messages.finishMessage()
            return .truncated(kept: kept)
        case .split:
            var digits = 1
            while true {
                let marker = Self.partPrefix.count + 2 * digits + 1 + Self.sequencePrefix.count + sequence.count + 2
                let capacity = max(64, limit - header.count - marker)
                cuts.removeAll(keepingCapacity: true)
                var start = 0
                while start < line.count {
                    start = Self.boundary(in: line, from: start, atMost: capacity)
                    cuts.append(start)
                }
                let needed = decimalBytes(cuts.count).count
                if needed <= digits { break }
                digits = needed
            }
            let count = decimalBytes(cuts.count)
            var start = 0
            for (index, end) in cuts.enumerated() {
                messages.append(contentsOf: header)
                messages.append(contentsOf: Self.partPrefix)
                messages.append(contentsOf: decimalBytes(index + 1))
                messages.append(UInt8(ascii: "/"))
                messages.append(contentsOf: count)
                messages.append(contentsOf: Self.sequencePrefix)
                messages.append(contentsOf: sequence)
                messages.append(contentsOf: "] ".utf8)
                messages.append(contentsOf: line[start..<end])
                messages.finishMessage()
                start = end
            }
            return .split(parts: cuts.count)
        }
    }

    private static let partPrefix = Array("[swift-audit part ".utf8)
    private static let truncatedPrefix = Array("[swift-audit truncated ".utf8)
    private static let sequencePrefix = Array(" seq=".utf8)

    /// The end of a piece that starts at `start` and holds at most `limit` bytes, moved back (by
    /// at most three bytes) so that it does not cut a UTF-8 sequence; always past `start`.
    static func boundary(in line: [UInt8], from start: Int, atMost limit: Int) -> Int {
        var end = min(line.count, start + max(1, limit))
        guard end < line.count else { return end }
        var steps = 0
        while steps < 3, end - 1 > start, line[end] & 0xC0 == 0x80 {
            end -= 1
            steps += 1
        }
        return line[end] & 0xC0 == 0x80 ? min(line.count, start + max(1, limit)) : end
    }

    /// Builds the header of `item` (everything before MSG) into `header`.
    private mutating func buildHeader(_ item: OutputItem, stamp: ItemStamp) {
        header.removeAll(keepingCapacity: true)
        header.append(contentsOf: priority)
        switch style {
        case .rfc5424(let structuredData):
            header.append(contentsOf: "1 ".utf8)
            CivilTime.appendRFC3339(seconds: stamp.seconds, milliseconds: stamp.milliseconds, to: &header)
            header.append(UInt8(ascii: " "))
            header.append(contentsOf: hostname)
            header.append(UInt8(ascii: " "))
            header.append(contentsOf: appName)
            header.append(UInt8(ascii: " "))
            header.append(contentsOf: processID)
            header.append(UInt8(ascii: " "))
            appendMessageID(item, stamp: stamp)
            header.append(UInt8(ascii: " "))
            if structuredData {
                appendStructuredData(item, stamp: stamp)
            } else {
                header.append(UInt8(ascii: "-"))
            }
            header.append(UInt8(ascii: " "))
        case .rfc3164(let withHostname):
            CivilTime.appendRFC3164(seconds: stamp.seconds, to: &header)
            header.append(UInt8(ascii: " "))
            if withHostname {
                header.append(contentsOf: hostname)
                header.append(UInt8(ascii: " "))
            }
            header.append(contentsOf: appName)
            header.append(UInt8(ascii: "["))
            header.append(contentsOf: processID)
            header.append(contentsOf: "]: ".utf8)
        }
    }

    /// MSGID: the first record type, or a daemon event's type, at most 32 printable bytes.
    private mutating func appendMessageID(_ item: OutputItem, stamp: ItemStamp) {
        var id: [UInt8] = []
        if let event = item.event, let first = event.spans.first(where: { $0.type != .endOfEvent }) {
            id = Array(first.type.description.utf8)
        } else if let type = stamp.head.type {
            id = Array(type)
        }
        let start = header.count
        for byte in id.prefix(32) { header.append((0x21...0x7E).contains(byte) ? byte : UInt8(ascii: "_")) }
        if header.count == start { header.append(UInt8(ascii: "-")) }
    }

    /// `[swift-audit@32473 seq="…" types="…"]`, or `-` when there is nothing to say.
    private mutating func appendStructuredData(_ item: OutputItem, stamp: ItemStamp) {
        let types = item.event?.distinctTypes ?? []
        guard stamp.sequence != nil || !types.isEmpty else {
            header.append(UInt8(ascii: "-"))
            return
        }
        header.append(UInt8(ascii: "["))
        header.append(contentsOf: Self.structuredDataID.utf8)
        if let sequence = stamp.sequence {
            header.append(contentsOf: " seq=\"".utf8)
            appendDecimal(sequence, to: &header)
            header.append(UInt8(ascii: "\""))
        }
        if !types.isEmpty {
            header.append(contentsOf: " types=\"".utf8)
            var written = 0
            for (index, type) in types.enumerated() {
                let name = type.description
                if written + name.utf8.count > 256 {
                    header.append(contentsOf: ",…".utf8)
                    break
                }
                if index > 0 { header.append(UInt8(ascii: ",")) }
                Self.appendParameterValue(name.utf8, to: &header)
                written += name.utf8.count + 1
            }
            header.append(UInt8(ascii: "\""))
        }
        header.append(UInt8(ascii: "]"))
    }

    /// Appends an SD-PARAM value escaped per RFC 5424 §6.3.3 (`"`, `\` and `]` get a backslash),
    /// with control bytes replaced by `_` so the header stays one line.
    package static func appendParameterValue(_ value: some Sequence<UInt8>, to output: inout [UInt8]) {
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case 0..<0x20, 0x7F:
                output.append(UInt8(ascii: "_"))
            default:
                output.append(byte)
            }
        }
    }
}

/// `value` in decimal, as bytes.
func decimalBytes(_ value: Int) -> [UInt8] {
    var output: [UInt8] = []
    appendDecimal(Int64(value), to: &output)
    return output
}
