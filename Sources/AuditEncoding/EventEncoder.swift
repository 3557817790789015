package import AuditEvents
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
///   `"duplicate"`, `"malformed_header"`, `"truncated"` (see `AuditEvent.Flags`); a truncated
///   event also has `"dropped_records"`, the records cut off at the reassembler's bound.
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
package struct EventEncoder: Sendable {
    /// The user names for `uid_map`; the encoder refreshes it before each event.
    package private(set) var users: UserDirectory
    /// The host name written in `"hostname"`, if any.
    package let hostname: String?

    private var scanner = UIDScanner()
    /// The `uid_map` members of the last event whose ids were looked up, and the ids they were
    /// made from, in the order the scan found them, with the directory's `loadCount` then. Most
    /// events of a busy host name the same ids as the event before (one process, many system
    /// calls), so the sort, the name lookups and the escaping are done once per change of ids or of
    /// the passwd file. (With the processing stage alone replaying a capture of the benchmark load,
    /// the `uid=` scan and these members took a third of its time per event.)
    private var members = JSONWriter(capacity: 256)
    private var memberIDs: [UInt32] = []
    private var memberLoadCount = -1
    /// `,"hostname":"…"`, encoded once.
    private let hostnameMember: [UInt8]

    /// The string go-audit prints for a uid it cannot name.
    package static let unknownUserName = "UNKNOWN_USER"
    /// The name printed for 4294967295, the kernel's unset uid.
    package static let unsetUserName = "unset"

    /// An encoder that adds `"hostname"` when `hostname` is not `nil` (see ``HostnameFormat/resolve()``).
    package init(hostname: String? = nil, users: UserDirectory) {
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
    ///
    /// Written in a few large pieces (the head and all messages at once, then one per `uid_map`
    /// entry, then the tail), each reserved for its worst case, rather than value by value: this
    /// runs once per event on the processing thread, and each reservation costs a capacity and
    /// uniqueness check.
    package mutating func encode(_ event: AuditEvent, into writer: inout JSONWriter) {
        users.refreshIfDue()
        scanner.reset()
        event.storage.withUnsafeBufferPointer { storage in
            event.spans.withUnsafeBufferPointer { spans in
                // Head (at most 12 + 20 + 13 + 26 + 13 bytes), then per message at most
                // `,{"type":` 9 + 5 digits + `,"data":"` 9 + 6 per body byte + `","encoding":"percent"}` 23.
                var maximum = 96
                for span in spans {
                    maximum &+= 48 &+ 6 &* Self.clamped(span.range, to: storage.count).count
                }
                writer.withCursor(atMost: maximum) { out in
                    out.raw("{\"sequence\":")
                    out.decimal(UInt64(event.id.serial))
                    out.raw(",\"timestamp\":")
                    out.timestamp(seconds: event.id.seconds, milliseconds: event.id.milliseconds)
                    out.raw(",\"messages\":[")
                    var first = true
                    for span in spans where span.type != .endOfEvent {
                        let body = UnsafeBufferPointer(rebasing: storage[Self.clamped(span.range, to: storage.count)])
                        out.raw(first ? "{\"type\":" : ",{\"type\":")
                        first = false
                        out.decimal(UInt64(span.type.rawValue))
                        out.raw(",\"data\":\"")
                        if out.escaped(body) {
                            out.raw("\",\"encoding\":\"percent\"}")
                        } else {
                            out.raw("\"}")
                        }
                        scanner.scan(body)
                    }
                    out.raw("],\"uid_map\":{")
                }
            }
        }
        // Equal lists in scan order mean equal sets, so equal members; a different order of the same
        // ids only costs one more lookup.
        if scanner.uids != memberIDs || users.loadCount != memberLoadCount {
            memberIDs.removeAll(keepingCapacity: true)
            memberIDs.append(contentsOf: scanner.uids)
            memberLoadCount = users.loadCount
            scanner.sortForOutput()
            members.removeAll()
            for (index, uid) in scanner.uids.enumerated() {
                let name = users.name(for: uid)
                let write = { (name: UnsafeBufferPointer<UInt8>) in
                    // `,"` 2 + 10 digits + `":"` 3 + 6 per name byte + `"` 1.
                    members.withCursor(atMost: 16 &+ 6 &* name.count) { out in
                        out.raw(index == 0 ? "\"" : ",\"")
                        out.decimal(UInt64(uid))
                        out.raw("\":\"")
                        // Names are written like any value: a passwd file is not guaranteed to be UTF-8.
                        _ = out.escaped(name)
                        out.byte(UInt8(ascii: "\""))
                    }
                }
                if let name {
                    name.withUnsafeBufferPointer(write)
                } else if uid == UInt32.max {
                    Self.unsetUserNameBytes.withUnsafeBufferPointer(write)
                } else {
                    Self.unknownUserNameBytes.withUnsafeBufferPointer(write)
                }
            }
        }
        writer.appendRaw(contentsOf: members)
        hostnameMember.withUnsafeBufferPointer { hostname in
            // `}` 1 + the hostname member + `,"completion":"shutdown"` 24 + `,"flags":[…]` at most 60
            // + `,"dropped_records":N` at most 40 + `}\n` 2.
            writer.withCursor(atMost: 130 &+ hostname.count) { out in
                out.byte(UInt8(ascii: "}"))
                out.raw(hostname)
                switch event.completion {
                case .endOfEvent, .standalone: break
                case .timeout: out.raw(",\"completion\":\"timeout\"")
                case .eviction: out.raw(",\"completion\":\"eviction\"")
                case .shutdown: out.raw(",\"completion\":\"shutdown\"")
                }
                if !event.flags.isEmpty {
                    out.raw(",\"flags\":[")
                    var separator = false
                    for (flag, name) in Self.flagNames where event.flags.contains(flag) {
                        out.raw(separator ? ",\"" : "\"")
                        out.raw(name)
                        out.byte(UInt8(ascii: "\""))
                        separator = true
                    }
                    out.byte(UInt8(ascii: "]"))
                }
                if event.droppedRecords > 0 {
                    out.raw(",\"dropped_records\":")
                    out.decimal(UInt64(event.droppedRecords))
                }
                out.raw("}\n")
            }
        }
    }

    /// `range` limited to `0..<count`. Spans come from `AuditEvent.append` and always lie inside the
    /// storage; clamping anyway means that a malformed event can never trap here.
    @inline(__always)
    private static func clamped(_ range: Range<Int>, to count: Int) -> Range<Int> {
        let lower = min(max(range.lowerBound, 0), count)
        let upper = min(max(range.upperBound, lower), count)
        return lower..<upper
    }

    /// ``unsetUserName`` and ``unknownUserName`` as bytes, made once rather than per event.
    private static let unsetUserNameBytes = Array(unsetUserName.utf8)
    private static let unknownUserNameBytes = Array(unknownUserName.utf8)

    private static let flagNames: [(AuditEvent.Flags, StaticString)] = [
        (.late, "late"), (.duplicate, "duplicate"), (.malformedHeader, "malformed_header"), (.truncated, "truncated"),
    ]

    /// Appends `event` as one JSON line, ending in `\n`, to `output`.
    package mutating func encode(_ event: AuditEvent, into output: inout [UInt8]) {
        JSONWriter.appending(to: &output) { encode(event, into: &$0) }
    }

    /// Appends a daemon event as one JSON line, ending in `\n`, to `writer`.
    package func encode(_ status: StatusEvent, into writer: inout JSONWriter) {
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
    package func encode(_ status: StatusEvent, into output: inout [UInt8]) {
        JSONWriter.appending(to: &output) { encode(status, into: &$0) }
    }
}
