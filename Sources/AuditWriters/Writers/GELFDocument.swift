package import AuditEncoding
import AuditEvents
import AuditNetlink
import Glibc

/// Builds GELF 1.1 documents from output items.
///
/// ```
/// {"version":"1.1","host":"web1","short_message":"SYSCALL execve by uid 1000 (alice) exe=/usr/bin/ls key=exec",
///  "timestamp":1700000000.123,"level":6,"_sequence":4711,"_record_types":"SYSCALL,EXECVE,CWD,PATH,PROCTITLE",
///  "_syscall":"execve","_arch":"c000003e","_success":"yes","_exit":0,"_pid":1234,"_uid":1000,
///  "_uid_name":"alice",…,"_event":"{\"sequence\":4711,…}"}
/// ```
///
/// - `short_message` is a one-line summary (at most 256 bytes, control characters as `?`): the
///   first record type, the syscall name, who (uid, and auid when it differs, with names from
///   the line's `uid_map`), exe, key, failure; for user-space records op, acct, res; for the
///   daemon's own lines their type and leading scalar members.
/// - `timestamp` is the event's time, seconds with milliseconds; `level` the syslog severity
///   (the configured level for events, 4 = warning for `swift-audit.loss` lines).
/// - Additional fields, each with a stable JSON type so that Graylog's index mapping never
///   conflicts: numbers `_sequence`, `_exit`, `_pid`, `_ppid`, `_auid`, `_uid`, `_euid`, `_gid`,
///   `_ses`; strings `_record_types`, `_syscall` (the name when known, else the number in
///   decimal), `_arch` (as the kernel writes it), `_success`, `_comm`, `_exe`, `_key` (several
///   keys joined with `,`), `_cwd`, `_tty`, `_op`, `_acct`, `_res`, `_terminal`, `_addr`,
///   `_remote_host` (the `hostname=` of user-space records), `_uid_name`, `_auid_name`,
///   `_completion` and `_flags` (only for irregular events), `_type` (daemon lines).
///   Values are taken from the first record that has the field. The kernel's bare-hex values
///   (untrusted strings) are decoded when the result is printable UTF-8; otherwise the field
///   keeps the hex. A quoted value that is not printable text is left out (it is in `_event`).
/// - `_event` is the whole JSON line, as a string. When the document would exceed the limit it
///   is shortened: `_event` becomes `[swift-audit truncated KEPT/TOTAL seq=SERIAL] ` followed by
///   the first KEPT bytes of the line, and `_event_truncated` holds TOTAL (the line's length).
///
/// Field names match GELF's `^[\w\.\-]*$` and none is `_id`.
package struct GELFDocumentBuilder: Sendable {
    /// Names syscalls for `_syscall`: the audit arch (`0xc000003e`) and the number.
    package typealias SyscallNamer = @Sendable (_ arch: UInt32, _ number: Int) -> String?

    private let host: [UInt8]
    private let level: UInt8
    private let syscallName: SyscallNamer?
    private var json = JSONWriter(capacity: 8192)
    private var summary = Summary()
    private var shortMessage: [UInt8] = []

    /// A builder naming `host` in every document, with `level` for audit events.
    package init(host: String, level: UInt8, syscallName: SyscallNamer?) {
        var bytes = Array(host.utf8.prefix(255)).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "_") : $0 }
        if bytes.isEmpty { bytes = Array("localhost".utf8) }
        self.host = bytes
        self.level = min(level, 7)
        self.syscallName = syscallName
    }

    /// The document last built.
    package var document: ArraySlice<UInt8> { json.bytes }

    /// Reads the fields of `item` once, before one or more `build` calls.
    package mutating func prepare(_ item: OutputItem) {
        summary = Summary(item, syscallName: syscallName)
        shortMessage = summary.shortMessage()
    }

    /// Builds the document of the prepared item; `keep` shortens `_event` to that many bytes of
    /// the line (with the marker), nil keeps it whole.
    package mutating func build(_ item: OutputItem, keep: Int?) {
        json.removeAll()
        json.appendRaw("{\"version\":\"1.1\",\"host\":")
        json.appendString(host)
        json.appendRaw(",\"short_message\":")
        json.appendString(shortMessage)
        json.appendRaw(",\"timestamp\":")
        json.appendDecimal(summary.stamp.seconds)
        json.appendByte(UInt8(ascii: "."))
        let millis = summary.stamp.milliseconds
        json.appendByte(0x30 + UInt8(millis / 100))
        json.appendByte(0x30 + UInt8(millis / 10 % 10))
        json.appendByte(0x30 + UInt8(millis % 10))
        json.appendRaw(",\"level\":")
        let isLoss = summary.stamp.head.type.map { $0.elementsEqual("swift-audit.loss".utf8) } ?? false
        json.appendDecimal(UInt64(isLoss ? min(level, 4) : level))
        if let sequence = summary.stamp.sequence {
            json.appendRaw(",\"_sequence\":")
            json.appendDecimal(sequence)
        }
        if let type = summary.stamp.head.type, item.event == nil {
            json.appendRaw(",\"_type\":")
            json.appendString(type)
        }
        if !summary.types.isEmpty {
            var names: [UInt8] = []
            for (index, type) in summary.types.enumerated() {
                if index > 0 { names.append(UInt8(ascii: ",")) }
                names.append(contentsOf: type.description.utf8)
            }
            json.appendRaw(",\"_record_types\":")
            json.appendString(names)
        }
        if let syscall = summary.syscallText {
            json.appendRaw(",\"_syscall\":")
            json.appendString(syscall)
        }
        for field in Summary.Field.allCases {
            guard let value = summary.values[field.rawValue] else { continue }
            switch field.kind {
            case .number:
                guard let number = AuditFields.integer(value.bytes) else { continue }
                appendName(field)
                json.appendDecimal(number)
            case .text:
                guard let text = summary.text(field), AuditFields.isPrintableText(text) else { continue }
                appendName(field)
                json.appendString(text)
            }
        }
        for (name, uidField) in [("_uid_name", Summary.Field.uid), ("_auid_name", .auid)] {
            if let uid = summary.number(uidField), let userName = summary.userName(uid) {
                json.appendByte(UInt8(ascii: ","))
                json.appendString(name)
                json.appendByte(UInt8(ascii: ":"))
                json.appendString(userName)
            }
        }
        if let event = item.event {
            switch event.completion {
            case .endOfEvent, .standalone: break
            case .timeout: json.appendRaw(",\"_completion\":\"timeout\"")
            case .eviction: json.appendRaw(",\"_completion\":\"eviction\"")
            case .shutdown: json.appendRaw(",\"_completion\":\"shutdown\"")
            }
            if !event.flags.isEmpty {
                var flags: [String] = []
                if event.flags.contains(.late) { flags.append("late") }
                if event.flags.contains(.duplicate) { flags.append("duplicate") }
                if event.flags.contains(.malformedHeader) { flags.append("malformed_header") }
                json.appendRaw(",\"_flags\":")
                json.appendString(flags.joined(separator: ","))
            }
        }
        let line = item.line
        if let keep, keep < line.count {
            let kept = SyslogFormatter.boundary(in: line, from: 0, atMost: max(0, keep))
            let cut = keep <= 0 ? 0 : kept
            json.appendRaw(",\"_event_truncated\":")
            json.appendDecimal(UInt64(line.count))
            var marker = Array("[swift-audit truncated ".utf8)
            appendDecimal(UInt64(cut), to: &marker)
            marker.append(UInt8(ascii: "/"))
            appendDecimal(UInt64(line.count), to: &marker)
            marker.append(contentsOf: " seq=".utf8)
            if let sequence = summary.stamp.sequence {
                appendDecimal(sequence, to: &marker)
            } else {
                marker.append(UInt8(ascii: "-"))
            }
            marker.append(contentsOf: "] ".utf8)
            json.appendRaw(",\"_event\":\"")
            marker.withUnsafeBufferPointer { _ = json.appendEscaped($0) }
            line.withUnsafeBufferPointer { _ = json.appendEscaped(UnsafeBufferPointer(rebasing: $0[0..<cut])) }
            json.appendByte(UInt8(ascii: "\""))
        } else {
            json.appendRaw(",\"_event\":")
            json.appendString(line)
        }
        json.appendByte(UInt8(ascii: "}"))
    }

    private mutating func appendName(_ field: Summary.Field) {
        json.appendRaw(",\"_")
        json.appendRaw(Array(field.name.utf8))
        json.appendRaw("\":")
    }
}

extension GELFDocumentBuilder {
    /// The fields of one item that the document shows.
    struct Summary: Sendable {
        /// The record fields picked up, by `Field.rawValue`.
        enum Field: Int, CaseIterable, Sendable {
            case arch, success, exit, pid, ppid, auid, uid, euid, gid, ses, tty, comm, exe, key, cwd
            case op, acct, res, terminal, addr, hostname

            enum Kind { case number, text }

            var kind: Kind {
                switch self {
                case .exit, .pid, .ppid, .auid, .uid, .euid, .gid, .ses: .number
                default: .text
                }
            }

            /// The GELF field name without `_`.
            var name: String {
                switch self {
                case .hostname: "remote_host"
                default: "\(self)"
                }
            }

            /// The record key.
            var key: String { "\(self)" }

            /// Bare hex is the kernel's encoding of these (untrusted strings).
            var mayBeHex: Bool {
                switch self {
                case .comm, .exe, .key, .cwd, .acct, .tty, .terminal, .hostname, .addr: true
                default: false
                }
            }
        }

        struct Value: Sendable {
            var bytes: ArraySlice<UInt8>
            var quoted: Bool
        }

        var stamp: ItemStamp
        var types: [AuditMessageType] = []
        var firstType: AuditMessageType?
        var values: [Value?] = Array(repeating: nil, count: Field.allCases.count)
        var syscallNumber: Int?
        var syscallText: [UInt8]?
        var line: [UInt8]
        var headMembers: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []

        init() {
            line = []
            stamp = ItemStamp(OutputItem(line: []))
        }

        private static let keys: [[UInt8]] = Field.allCases.map { Array($0.key.utf8) }
        private static let syscallKey = Array("syscall".utf8)

        init(_ item: OutputItem, syscallName: SyscallNamer?) {
            stamp = ItemStamp(item)
            line = item.line
            guard let event = item.event else {
                headMembers = Self.leadingMembers(item.line)
                return
            }
            types = event.distinctTypes
            firstType = types.first
            var syscallValue: ArraySlice<UInt8>?
            for record in event.records {
                switch record.type.rawValue {
                case 1309, 1302, 1327, 1320: continue  // EXECVE, PATH, PROCTITLE, EOE: nothing we show
                default: break
                }
                AuditFields.forEach(in: record.body) { key, value, quoted in
                    if syscallValue == nil, key.elementsEqual(Self.syscallKey) {
                        syscallValue = value
                        return
                    }
                    for (index, name) in Self.keys.enumerated()
                    where values[index] == nil && key.count == name.count && key.elementsEqual(name) {
                        values[index] = Value(bytes: value, quoted: quoted)
                        break
                    }
                }
            }
            if let syscallValue, let number = AuditFields.integer(syscallValue) {
                syscallNumber = Int(number)
                let arch = values[Field.arch.rawValue].flatMap {
                    UInt32(String(decoding: $0.bytes, as: UTF8.self), radix: 16)
                }
                if let arch, let name = syscallName?(arch, Int(number)) {
                    syscallText = Array(name.utf8)
                } else {
                    syscallText = decimalBytes(Int(number))
                }
            }
        }

        /// A field as display text (hex decoded where the kernel used it); nil when absent.
        func text(_ field: Field) -> ArraySlice<UInt8>? {
            guard let value = values[field.rawValue] else { return nil }
            if field == .key, !value.quoted, let decoded = AuditFields.decodeHex(value.bytes) {
                // Several keys are joined by \x01 in one field.
                let keys = decoded.split(separator: 0x01)
                if keys.allSatisfy({ AuditFields.isPrintableText($0) }) {
                    return Array(keys.joined(separator: [UInt8(ascii: ",")]))[...]
                }
                return value.bytes
            }
            return field.mayBeHex
                ? AuditFields.text(value.bytes, quoted: value.quoted)
                : (value.bytes.isEmpty || value.bytes.elementsEqual("?".utf8) ? nil : value.bytes)
        }

        /// A numeric field.
        func number(_ field: Field) -> Int64? {
            values[field.rawValue].flatMap { AuditFields.integer($0.bytes) }
        }

        /// The name `uid_map` gives `uid` in the line, when it needs no unescaping.
        func userName(_ uid: Int64) -> [UInt8]? {
            guard uid >= 0 else { return nil }
            let pattern = Array("\"uid_map\":{".utf8)
            guard var index = Self.find(pattern, in: line) else { return nil }
            index += pattern.count
            let wanted = decimalBytes(Int(uid))
            func string() -> ArraySlice<UInt8>? { Self.plainString(in: line, at: &index) }
            while index < line.count, line[index] != UInt8(ascii: "}") {
                if line[index] == UInt8(ascii: ",") { index += 1 }
                guard let key = string(), index < line.count, line[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = string() else { return nil }
                if key.elementsEqual(wanted) { return Array(value) }
            }
            return nil
        }

        /// The JSON string starting at `index` when it holds no escape (the only strings these
        /// lookups need); `index` moves past its closing quote. nil for anything else.
        static func plainString(in line: [UInt8], at index: inout Int) -> ArraySlice<UInt8>? {
            guard index < line.count, line[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < line.count, line[end] != UInt8(ascii: "\"") {
                if line[end] == UInt8(ascii: "\\") { return nil }
                end += 1
            }
            guard end < line.count else { return nil }
            index = end + 1
            return line[start..<end]
        }

        /// The first occurrence of `pattern` in `bytes`.
        static func find(_ pattern: [UInt8], in bytes: [UInt8]) -> Int? {
            guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
            return bytes.withUnsafeBufferPointer { buffer -> Int? in
                guard let base = buffer.baseAddress else { return nil }
                var start = 0
                let last = buffer.count - pattern.count
                while start <= last {
                    guard let found = memchr(base + start, Int32(first), last - start + 1) else { return nil }
                    let offset = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
                    if memcmp(base + offset, pattern, pattern.count) == 0 { return offset }
                    start = offset + 1
                }
                return nil
            }
        }

        /// The leading scalar members of a daemon line (`"reason":"enobufs","count":3`), at most
        /// eight, raw.
        static func leadingMembers(_ line: [UInt8]) -> [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] {
            var members: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []
            var index = 0
            guard line.first == UInt8(ascii: "{") else { return [] }
            index = 1
            func string() -> ArraySlice<UInt8>? { Self.plainString(in: line, at: &index) }
            while members.count < 12, let key = string(), index < line.count, line[index] == UInt8(ascii: ":") {
                index += 1
                guard index < line.count else { break }
                let value: ArraySlice<UInt8>
                if line[index] == UInt8(ascii: "\"") {
                    guard let text = string() else { break }
                    value = text
                } else {
                    let start = index
                    while index < line.count, line[index] != UInt8(ascii: ","), line[index] != UInt8(ascii: "}"),
                        line[index] != UInt8(ascii: "["), line[index] != UInt8(ascii: "{")
                    {
                        index += 1
                    }
                    guard index < line.count, line[index] == UInt8(ascii: ",") || line[index] == UInt8(ascii: "}")
                    else { break }
                    value = line[start..<index]
                }
                members.append((key, value))
                guard index < line.count, line[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
            return members
        }

        /// The one-line summary.
        func shortMessage() -> [UInt8] {
            var output: [UInt8] = []
            func add(_ bytes: some Sequence<UInt8>) { output.append(contentsOf: bytes) }
            func addField(_ label: String, _ field: Field) {
                guard let value = self.text(field) else { return }
                add(" \(label)=".utf8)
                add(value)
            }
            func addWho() {
                if let uid = number(.uid) {
                    add(" by uid ".utf8)
                    add(decimalBytes(Int(uid)))
                    if let name = userName(uid) {
                        add(" (".utf8)
                        add(name)
                        add(")".utf8)
                    }
                }
                if let auid = number(.auid), auid != number(.uid), auid != 4_294_967_295, auid >= 0 {
                    add(" auid ".utf8)
                    add(decimalBytes(Int(auid)))
                    if let name = userName(auid) {
                        add(" (".utf8)
                        add(name)
                        add(")".utf8)
                    }
                }
            }
            if let firstType {
                add(firstType.description.utf8)
                if let syscallText {
                    add(" ".utf8)
                    add(syscallText)
                    addWho()
                    addField("exe", .exe)
                    addField("key", .key)
                    if let success = text(.success), success.elementsEqual("no".utf8) {
                        add(" failed".utf8)
                        if let exit = values[Field.exit.rawValue] {
                            add(" exit=".utf8)
                            add(exit.bytes)
                        }
                    }
                } else {
                    addField("op", .op)
                    addField("acct", .acct)
                    addField("exe", .exe)
                    addField("res", .res)
                    addWho()
                    addField("key", .key)
                }
            } else if let type = stamp.head.type {
                add(type)
                for (key, value) in headMembers
                where !key.elementsEqual("type".utf8) && !key.elementsEqual("timestamp".utf8)
                    && !key.elementsEqual("hostname".utf8)
                {
                    add(" ".utf8)
                    add(key)
                    add("=".utf8)
                    add(value)
                }
            } else if let sequence = stamp.sequence {
                add("audit event ".utf8)
                add(decimalBytes(Int(clamping: sequence)))
            } else {
                add("swift-audit event".utf8)
            }
            return Self.oneLine(output, limit: 256)
        }

        /// Control characters as `?`, at most `limit` bytes (cut on a character boundary, with `…`).
        static func oneLine(_ text: [UInt8], limit: Int) -> [UInt8] {
            var output = text.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }
            if output.count > limit {
                let end = SyslogFormatter.boundary(in: output, from: 0, atMost: limit - 3)
                output.removeSubrange(end...)
                output.append(contentsOf: "…".utf8)
            }
            if output.isEmpty { output = Array("swift-audit event".utf8) }
            return output
        }
    }
}
