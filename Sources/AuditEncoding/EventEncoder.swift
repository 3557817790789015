public import AuditEvents
import AuditNetlink

/// Turns reassembled events into go-audit-compatible JSON lines.
///
/// One line per event, keys in this order:
/// `{"sequence":N,"timestamp":"SECONDS.MILLIS","messages":[{"type":1300,"data":"…"},…],"uid_map":{…},"hostname":"…"}`
/// followed by `\n`.
/// - `sequence` is the kernel serial, `timestamp` the header's time with three digits of milliseconds.
/// - `messages` holds the records in arrival order, `data` being the raw body after `audit(…): `,
///   escaped as described on ``JSONWriter``. A record body that is not well-formed UTF-8 is written
///   in percent mode (bad bytes and `%` as `%XX`) and its message gets `"encoding":"percent"`;
///   every other body is the record's text unchanged. EOE records are not written.
/// - `uid_map` maps every uid named by a `*uid=` field (see the scanning rules below) to a user name
///   from ``UserDirectory``; always present, `{}` when there are none. Keys are sorted as strings, as
///   Go's `encoding/json` sorts map keys. Names: the passwd name; `"unset"` for 4294967295 (the
///   kernel's "no login uid", `(uid_t)-1`, which auditd's interpretation also prints as `unset`,
///   whereas go-audit shows `UNKNOWN_USER` as if a user were missing); `"UNKNOWN_USER"` for any
///   other uid not in the file (go-audit's string, kept for its consumers).
/// - `hostname` only when one is configured (``HostnameFormat``), after go-audit's keys.
/// - Only for irregular events, so that whole events keep go-audit's exact shape:
///   `"completion"` (`"timeout"`, `"eviction"` or `"shutdown"`) when the reassembler handed the
///   event on without its EOE, so it may lack records; and `"flags"`, a list of `"late"`,
///   `"duplicate"`, `"malformed_header"` (see `AuditEvent.Flags`).
///
/// Differences from go-audit, all deliberate: no HTML escaping of `<`, `>`, `&` (valid JSON either
/// way); invalid UTF-8 kept as `%XX` (with `"encoding":"percent"`) instead of U+FFFD; DEL, C1 and bidi
/// controls and U+2028/U+2029 written as `\u` escapes; `"unset"` for 4294967295; the `uid=` scan
/// ignores quoted values (go-audit matches `uid=` anywhere, even inside `comm="…"`).
///
/// Which fields feed `uid_map`: keys ending in `uid` (`uid`, `auid`, `euid`, `fsuid`, `ouid`, `oauid`,
/// `sauid`, `old-auid`…) whose value is a canonical decimal 32-bit number, found by walking the
/// fields on bytes, so that text inside quoted values never counts (`comm="uid=0"`). The scan
/// descends one level into a `msg='…'` payload (user-space records: it names the account acted on,
/// e.g. `sauid=`); that payload runs to the record's last `'`.
public struct EventEncoder: Sendable {
    /// The user names for `uid_map`; the encoder refreshes it before each event.
    public var users: UserDirectory
    /// The host name written in `"hostname"`, if any.
    public let hostname: String?

    private var scanner = UIDScanner()
    /// `,"hostname":"…"`, encoded once.
    private let hostnameMember: [UInt8]

    /// The string go-audit prints for a uid it cannot name.
    public static let unknownUserName = "UNKNOWN_USER"
    /// The name printed for 4294967295, the kernel's unset uid.
    public static let unsetUserName = "unset"

    /// An encoder that adds `"hostname"` when `hostname` is not `nil` (see ``HostnameFormat/resolve()``).
    public init(hostname: String? = nil, users: UserDirectory) {
        self.users = users
        self.hostname = hostname
        if let hostname {
            var writer = JSONWriter()
            writer.appendRaw(",\"hostname\":")
            writer.appendString(hostname)
            hostnameMember = Array(writer.bytes)
        } else {
            hostnameMember = []
        }
    }

    /// Appends `event` as one JSON line, ending in `\n`, to `writer`.
    public mutating func encode(_ event: AuditEvent, into writer: inout JSONWriter) {
        users.refreshIfDue()
        scanner.reset()
        writer.appendRaw("{\"sequence\":")
        writer.appendDecimal(UInt64(event.id.serial))
        writer.appendRaw(",\"timestamp\":")
        writer.appendTimestamp(seconds: event.id.seconds, milliseconds: event.id.milliseconds)
        writer.appendRaw(",\"messages\":[")
        event.storage.withUnsafeBufferPointer { storage in
            var first = true
            for span in event.spans where span.type != .endOfEvent {
                // Spans come from AuditEvent.append and always lie inside storage; clamp anyway so
                // that a malformed event can never trap here.
                let lower = min(max(span.range.lowerBound, 0), storage.count)
                let upper = min(max(span.range.upperBound, lower), storage.count)
                let body = UnsafeBufferPointer(rebasing: storage[lower..<upper])
                writer.appendRaw(first ? "{\"type\":" : ",{\"type\":")
                first = false
                writer.appendDecimal(UInt64(span.type.rawValue))
                writer.appendRaw(",\"data\":")
                if writer.appendString(body) {
                    writer.appendRaw(",\"encoding\":\"percent\"")
                }
                writer.appendByte(UInt8(ascii: "}"))
                scanner.scan(body)
            }
        }
        writer.appendRaw("],\"uid_map\":{")
        scanner.sortForOutput()
        for (index, uid) in scanner.uids.enumerated() {
            writer.appendRaw(index == 0 ? "\"" : ",\"")
            writer.appendDecimal(UInt64(uid))
            writer.appendRaw("\":")
            if let name = users.name(for: uid) {
                writer.appendString(name)
            } else if uid == UInt32.max {
                writer.appendString(Self.unsetUserName)
            } else {
                writer.appendString(Self.unknownUserName)
            }
        }
        writer.appendByte(UInt8(ascii: "}"))
        writer.appendRaw(hostnameMember)
        switch event.completion {
        case .endOfEvent, .standalone: break
        case .timeout: writer.appendRaw(",\"completion\":\"timeout\"")
        case .eviction: writer.appendRaw(",\"completion\":\"eviction\"")
        case .shutdown: writer.appendRaw(",\"completion\":\"shutdown\"")
        }
        if !event.flags.isEmpty {
            writer.appendRaw(",\"flags\":[")
            var separator = false
            for (flag, name) in Self.flagNames where event.flags.contains(flag) {
                writer.appendRaw(separator ? ",\"" : "\"")
                writer.appendRaw(name)
                writer.appendByte(UInt8(ascii: "\""))
                separator = true
            }
            writer.appendByte(UInt8(ascii: "]"))
        }
        writer.appendRaw("}\n")
    }

    private static let flagNames: [(AuditEvent.Flags, StaticString)] = [
        (.late, "late"), (.duplicate, "duplicate"), (.malformedHeader, "malformed_header"),
    ]

    /// Appends `event` as one JSON line, ending in `\n`, to `output`.
    public mutating func encode(_ event: AuditEvent, into output: inout [UInt8]) {
        JSONWriter.appending(to: &output) { encode(event, into: &$0) }
    }

    /// Appends a daemon event as one JSON line, ending in `\n`, to `writer`.
    public func encode(_ status: StatusEvent, into writer: inout JSONWriter) {
        writer.appendRaw("{\"type\":")
        writer.appendString(status.type)
        writer.appendRaw(",\"timestamp\":")
        writer.appendTimestamp(seconds: status.seconds, milliseconds: status.milliseconds)
        if !hostnameMember.isEmpty {
            writer.appendRaw(hostnameMember)
        }
        for (key, value) in status.fields where key != "type" && key != "timestamp" && key != "hostname" {
            writer.appendByte(UInt8(ascii: ","))
            writer.appendString(key)
            writer.appendByte(UInt8(ascii: ":"))
            switch value {
            case .string(let text): writer.appendString(text)
            case .integer(let number): writer.appendDecimal(number)
            case .unsigned(let number): writer.appendDecimal(number)
            case .boolean(let flag): writer.appendRaw(flag ? "true" : "false")
            }
        }
        writer.appendRaw("}\n")
    }

    /// Appends a daemon event as one JSON line, ending in `\n`, to `output`.
    public func encode(_ status: StatusEvent, into output: inout [UInt8]) {
        JSONWriter.appending(to: &output) { encode(status, into: &$0) }
    }
}
