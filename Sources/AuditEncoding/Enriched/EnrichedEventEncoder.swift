package import AuditEvents
import AuditInterpretation
import AuditNetlink
package import AuditProcesses
import Glibc

/// Turns reassembled events into laurel-compatible JSON lines (`format = enriched`).
///
/// The layout is laurel's (its man page; checked against laurel 0.5.1's output for the corpus's
/// scenarios): one object per event, `"ID":"SECONDS.MILLIS:SERIAL"` first, then one member per
/// record type in the order the types first appear:
/// - `SYSCALL`, `EXECVE`, `PROCTITLE`, `CWD` and the record of a one-record event (user-space
///   messages, `DAEMON_START`…) are objects; the other parts of a kernel event (`PATH`,
///   `SOCKADDR`, `LOGIN`, `CONFIG_CHANGE`, `OBJ_PID`, `AVC`…) are arrays of objects, in arrival
///   order. A type that would be an object but occurs twice becomes an array: nothing is dropped.
/// - Each record object holds the record's fields in order, typed by name (``FieldKind``):
///   decimal numbers as JSON numbers, hex values as `"0x…"`, `mode` as `"0o…"`, hex-encoded strings
///   decoded, `(null)` as `null`; user-space text (`msg='…'`) stays one string. Then the
///   translations, in upper case, in the order of the fields they translate: `ARCH`, `SYSCALL`,
///   user and group names (`AUID`, `UID`, `OGID`… and, from inside `msg='…'`, `ID`), `SADDR`. A
///   record read from an ENRICHED audit.log keeps the translations the log holds (names as the
///   machine that wrote it knew them); otherwise they are computed here.
/// - `SYSCALL`'s `a0`–`a3` become `"ARGV":["0x…",…]`; `EXECVE` becomes `{"argc":N,"ARGV":[…]}`
///   with every argument reassembled (`aN_len` + `aN[i]` parts, across records, hex decoded), in
///   time linear in its length; `PROCTITLE` becomes `{"ARGV":[…]}`; `SOCKADDR`'s `saddr` is its
///   decoded bytes, beside `SADDR`, auditd's text for it.
/// - Strings are written as laurel writes them (``JSONWriter/appendPercentString(_:)``): bytes
///   that are not printable UTF-8 as `%xx`, so every byte comes back.
/// - `"NODE"` after `ID` when a host name is configured (laurel's key for auditd's `node=`).
///
/// Process context (laurel's `PPID`, `SCRIPT`, `ENV`) is the process table's, not this encoder's.
package struct EnrichedEventEncoder: Sendable {
    /// User names for the translations.
    package private(set) var users: UserDirectory
    /// Group names for the translations.
    package private(set) var groups: UserDirectory
    /// The host name written in `"NODE"`, if any.
    package let hostname: String?

    private let nodeMember: [UInt8]
    /// One value's decoded bytes (a hex string, an argument in parts); reused, and shrunk after an
    /// event that needed a lot of it.
    private var scratch = JSONWriter(capacity: 4096)
    /// The record types of the event being encoded, in order of first appearance.
    private var types: [AuditMessageType] = []
    /// The current record's fields that get a translation, in order.
    private var translations: [Translation] = []
    /// The current SYSCALL record's `a0`–`a3`.
    private var arguments: [Range<Int>] = []
    /// The event's process context while it is encoded.
    private var context: ProcessContext?

    private enum Translation {
        case identity(IdentityKind, key: Range<Int>, value: Range<Int>)
        case arch(Range<Int>)
        case syscall(Range<Int>)
        case socketAddress(Range<Int>)
    }

    /// The most decoded bytes kept between events.
    static let scratchLimit = 64 << 10

    /// An encoder that adds `"NODE"` when `hostname` is not nil.
    package init(hostname: String? = nil, users: UserDirectory, groups: UserDirectory) {
        self.hostname = hostname
        self.users = users
        self.groups = groups
        if let hostname {
            var writer = JSONWriter()
            writer.appendRaw(",\"NODE\":")
            writer.appendPercentString(Array(hostname.utf8))
            nodeMember = Array(writer.bytes)
        } else {
            nodeMember = []
        }
    }

    /// Appends `event` as one JSON line, ending in `\n`, to `writer`.
    /// `context` is the process table's view of the event's process; its parent, script and
    /// container go where laurel puts them (see ``appendProcessContext(_:event:into:)``).
    package mutating func encode(_ event: AuditEvent, context: ProcessContext? = nil, into writer: inout JSONWriter) {
        self.context = context
        users.refreshIfDue()
        groups.refreshIfDue()
        writer.withCursor(atMost: 64) { cursor in
            cursor.raw("{\"ID\":\"")
            cursor.decimal(event.id.seconds)
            cursor.byte(UInt8(ascii: "."))
            let milliseconds = min(event.id.milliseconds, 999)
            cursor.byte(UInt8(ascii: "0") &+ UInt8(milliseconds / 100))
            cursor.byte(UInt8(ascii: "0") &+ UInt8(milliseconds / 10 % 10))
            cursor.byte(UInt8(ascii: "0") &+ UInt8(milliseconds % 10))
            cursor.byte(UInt8(ascii: ":"))
            cursor.decimal(UInt64(event.id.serial))
            cursor.byte(UInt8(ascii: "\""))
        }
        if !nodeMember.isEmpty { writer.appendRaw(nodeMember) }

        types.removeAll(keepingCapacity: true)
        var recordCount = 0
        for span in event.spans where span.type != .endOfEvent {
            recordCount += 1
            if !types.contains(span.type) { types.append(span.type) }
        }
        event.storage.withUnsafeBytes { storage in
            let arch = Self.architecture(of: event, in: storage)
            for type in types {
                writer.appendRaw(",\"")
                appendTypeName(type, into: &writer)
                writer.appendRaw("\":")
                if type == .execve {
                    appendExecve(event, in: storage, into: &writer)
                    continue
                }
                let count = event.spans.lazy.filter { $0.type == type }.count
                let asArray = count > 1 || (recordCount > 1 && Self.isEventPart(type))
                if asArray { writer.appendByte(UInt8(ascii: "[")) }
                var first = true
                for span in event.spans where span.type == type {
                    if !first { writer.appendByte(UInt8(ascii: ",")) }
                    first = false
                    appendRecord(type, storage, span.range, arch: arch, id: event.id, into: &writer)
                }
                if asArray { writer.appendByte(UInt8(ascii: "]")) }
            }
        }
        if let context { Self.appendContainerInfo(context, into: &writer) }
        if event.flags.contains(.truncated) {
            // Cut at the reassembler's bound on one event (upper case, as the layout's own keys).
            writer.appendRaw(",\"TRUNCATED\":{\"dropped_records\":")
            writer.appendDecimal(UInt64(event.droppedRecords))
            writer.appendByte(UInt8(ascii: "}"))
        }
        writer.appendRaw("}\n")
        self.context = nil
        if scratch.capacity > Self.scratchLimit { scratch = JSONWriter(capacity: 4096) }
    }

    /// Types written as an array even when alone: the parts of a kernel event besides the four
    /// laurel folds into one object each.
    static func isEventPart(_ type: AuditMessageType) -> Bool {
        switch type.rawValue {
        case 1300, 1307, 1309, 1327: false
        case 1006, 1300..<2100: true
        default: false
        }
    }

    private func appendTypeName(_ type: AuditMessageType, into writer: inout JSONWriter) {
        if let name = type.name {
            writer.appendRaw(Array(name.utf8))
        } else {
            writer.appendRaw("UNKNOWN[")
            writer.appendDecimal(UInt64(type.rawValue))
            writer.appendRaw("]")
        }
    }

    /// The event's `arch=`, from its SYSCALL record: it names the system call and gives the byte
    /// order of a socket address.
    private static func architecture(of event: AuditEvent, in storage: UnsafeRawBufferPointer) -> UInt32? {
        guard let span = event.spans.first(where: { $0.type == .syscall }) else { return nil }
        var scanner = AuditFieldScanner(storage, range: span.range)
        while let field = scanner.next() {
            guard field.hasKey("arch", in: storage) else { continue }
            return ArchitectureNames.parse(UnsafeRawBufferPointer(rebasing: storage[field.value]))
        }
        return nil
    }

    // MARK: Records

    private mutating func appendRecord(
        _ type: AuditMessageType, _ storage: UnsafeRawBufferPointer, _ range: Range<Int>, arch: UInt32?,
        id: AuditEventID, into writer: inout JSONWriter
    ) {
        // A record's span holds its fields, after the `audit(…): ` header. In a record read from an
        // ENRICHED audit.log, auditd's translations follow a 0x1d.
        let separator = firstByte(0x1D, in: storage, range)
        translations.removeAll(keepingCapacity: true)
        arguments.removeAll(keepingCapacity: true)
        writer.appendByte(UInt8(ascii: "{"))
        var needsComma = false
        var syscallValue: Range<Int>?
        var succeeded = false
        var scanner = AuditFieldScanner(storage, range: range.lowerBound..<separator)
        while let field = scanner.next() {
            let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
            let traits = FieldTraits.of(key)
            if field.isNested {
                if let identity = traits.identity {
                    translations.append(.identity(identity, key: field.key, value: field.value))
                }
                continue
            }
            switch traits.role {
            case .argument where type == .syscall:
                arguments.append(field.value)
                continue
            case .proctitle where type == .proctitle:
                if needsComma { writer.appendByte(UInt8(ascii: ",")) }
                needsComma = true
                writer.appendRaw("\"ARGV\":")
                appendProctitle(field, storage, into: &writer)
                continue
            case .socketAddress where type == .sockaddr:
                if decodeHexString(storage, field.value) {
                    appendMember(key, decoded: true, needsComma: &needsComma, into: &writer)
                    translations.append(.socketAddress(field.value))
                    continue
                }
            case .arch: translations.append(.arch(field.value))
            case .syscall:
                translations.append(.syscall(field.value))
                syscallValue = field.value
            case .success: succeeded = field.hasValue("yes", in: storage)
            default: break
            }
            appendField(field, key: key, kind: traits.kind, storage, needsComma: &needsComma, into: &writer)
            if let identity = traits.identity {
                translations.append(.identity(identity, key: field.key, value: field.value))
            }
        }
        if separator < range.upperBound {
            appendLogTranslations(storage, (separator + 1)..<range.upperBound, needsComma: &needsComma, into: &writer)
        } else {
            for translation in translations {
                appendTranslation(translation, storage, arch: arch, needsComma: &needsComma, into: &writer)
            }
        }
        if !arguments.isEmpty {
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            writer.appendRaw("\"ARGV\":[")
            for (index, argument) in arguments.enumerated() {
                if index > 0 { writer.appendByte(UInt8(ascii: ",")) }
                writer.appendRaw("\"0x")
                writer.appendEscaped(
                    UnsafeRawBufferPointer(rebasing: storage[argument]).assumingMemoryBound(to: UInt8.self))
                writer.appendByte(UInt8(ascii: "\""))
            }
            writer.appendByte(UInt8(ascii: "]"))
        }
        if type == .syscall, let context {
            let isExec =
                succeeded
                && syscallValue.flatMap { value in
                    arch.flatMap { arch in
                        Self.decimal(UnsafeRawBufferPointer(rebasing: storage[value])).flatMap {
                            ArchitectureNames.syscallName(arch: arch, number: Int($0))
                        }
                    }
                }.map { $0 == "execve" || $0 == "execveat" } == true
            Self.appendProcessContext(context, event: id, isExec: isExec, needsComma: needsComma, into: &writer)
        }
        writer.appendByte(UInt8(ascii: "}"))
    }

    /// `"key":` and the decoded bytes (`scratch`) as a string, in one reservation.
    private func appendMember(
        _ key: UnsafeRawBufferPointer, decoded: Bool, needsComma: inout Bool, into writer: inout JSONWriter
    ) {
        let comma = needsComma
        needsComma = true
        scratch.withUnsafeBytes { value in
            writer.withCursor(atMost: key.count + 3 * value.count + 6) { cursor in
                if comma { cursor.byte(UInt8(ascii: ",")) }
                cursor.byte(UInt8(ascii: "\""))
                cursor.rawBytes(key)
                cursor.raw("\":")
                cursor.percentString(value)
            }
        }
    }

    /// One field as `"key":value`, the value typed by the key's ``FieldKind``, written with one
    /// reservation of the writer (this runs for every field of every event).
    private mutating func appendField(
        _ field: AuditField, key: UnsafeRawBufferPointer, kind: FieldKind, _ storage: UnsafeRawBufferPointer,
        needsComma: inout Bool, into writer: inout JSONWriter
    ) {
        let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
        if field.style == .unquoted, kind == .encoded, decodeHexString(storage, field.value) {
            appendMember(key, decoded: true, needsComma: &needsComma, into: &writer)
            return
        }
        if field.style == .braced {
            // Rare (only in translations); not worth a cursor path of its own.
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRawBytes(key)
            writer.appendRaw("\":")
            appendBraced(value, into: &writer)
            return
        }
        let comma = needsComma
        needsComma = true
        writer.withCursor(atMost: key.count + 3 * value.count + 8) { cursor in
            if comma { cursor.byte(UInt8(ascii: ",")) }
            cursor.byte(UInt8(ascii: "\""))
            cursor.rawBytes(key)
            cursor.raw("\":")
            Self.writeValue(field.style, kind: kind, value, into: &cursor)
        }
    }

    /// A value that needs no decoding: numbers, hex and octal as laurel writes them, the rest as
    /// strings. At most `3 * value.count + 4` bytes.
    @inline(__always)
    private static func writeValue(
        _ style: AuditFieldStyle, kind: FieldKind, _ value: UnsafeRawBufferPointer, into cursor: inout JSONCursor
    ) {
        switch style {
        case .null:
            cursor.raw("null")
        case .unknown:
            cursor.raw("\"?\"")
        case .quoted, .container, .braced:
            cursor.percentString(value)
        case .unquoted:
            switch kind {
            case .decimal where isInteger(value):
                cursor.rawBytes(value)
            case .hex where !value.isEmpty && value.allSatisfy({ AuditHex.digit($0) != nil }):
                // Without leading zeros, as laurel writes them (`0x1fffeffffff`).
                cursor.raw("\"0x")
                cursor.rawBytes(withoutLeadingZeros(value))
                cursor.byte(UInt8(ascii: "\""))
            case .octal where !value.isEmpty && value.allSatisfy({ (0x30...0x37).contains($0) }):
                cursor.raw("\"0o")
                cursor.rawBytes(withoutLeadingZeros(value))
                cursor.byte(UInt8(ascii: "\""))
            default:
                cursor.percentString(value)
            }
        }
    }

    /// The digits without leading zeros, keeping one.
    @inline(__always)
    private static func withoutLeadingZeros(_ digits: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0
        while start < digits.count - 1, digits[start] == UInt8(ascii: "0") { start += 1 }
        return UnsafeRawBufferPointer(rebasing: digits[start...])
    }

    /// One field's value, typed by its key's ``FieldKind`` (EXECVE's members other than arguments).
    private mutating func appendValue(
        _ field: AuditField, kind: FieldKind, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
        if field.style == .unquoted, kind == .encoded, decodeHexString(storage, field.value) {
            scratch.withUnsafeBytes { writer.appendPercentString($0) }
        } else if field.style == .braced {
            appendBraced(value, into: &writer)
        } else {
            writer.withCursor(atMost: 3 * value.count + 8) {
                Self.writeValue(field.style, kind: kind, value, into: &$0)
            }
        }
    }

    /// `{ a=b c=d }` as laurel writes it: `"{a=b c=d}"`.
    private func appendBraced(_ value: UnsafeRawBufferPointer, into writer: inout JSONWriter) {
        var lower = 0
        var upper = value.count
        while lower < upper, value[lower] == UInt8(ascii: " ") { lower += 1 }
        while upper > lower, value[upper - 1] == UInt8(ascii: " ") { upper -= 1 }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.append(contentsOf: value[lower..<upper])
        bytes.append(UInt8(ascii: "}"))
        writer.appendPercentString(bytes)
    }

    /// A canonical decimal integer that fits in 64 bits: what JSON readers take as a number.
    static func isInteger(_ value: UnsafeRawBufferPointer) -> Bool {
        var digits = value[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return false
        }
        return digits.count == 1 || digits.first != UInt8(ascii: "0")
    }

    /// Decodes `storage[range]` (hex) into `scratch`; see ``appendHex(_:_:)``.
    @discardableResult
    private mutating func decodeHex(_ storage: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        scratch.removeAll()
        return appendHex(storage, range)
    }

    /// Decodes `storage[range]` into `scratch` when it is an even, non-empty run of hex digits
    /// (the kernel's encoding of an untrusted string), in one pass; false otherwise.
    private mutating func decodeHexString(_ storage: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty, range.count % 2 == 0 else { return false }
        return decodeHex(storage, range)
    }

    /// Appends the bytes `storage[range]` encodes (hex) to `scratch`; see
    /// ``JSONWriter/appendDecodedHex(_:)``.
    private mutating func appendHex(_ storage: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        scratch.appendDecodedHex(UnsafeRawBufferPointer(rebasing: storage[range]))
    }

    /// Appends `bytes` to `scratch`.
    private mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        scratch.appendRawBytes(bytes)
    }

    /// `proctitle=`: the command line, its arguments separated by NULs (hex), or one quoted word.
    private mutating func appendProctitle(
        _ field: AuditField, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
        if !(field.style == .unquoted && decodeHexString(storage, field.value)) {
            scratch.removeAll()
            appendBytes(value)
        }
        // A trailing NUL ends the last argument; it does not start another.
        if scratch.withUnsafeBytes({ $0.last }) == 0 { scratch.truncate(to: scratch.count - 1) }
        writer.appendByte(UInt8(ascii: "["))
        scratch.withUnsafeBytes { bytes in
            var start = 0
            var first = true
            while true {
                let end = firstByte(0, in: bytes, start..<bytes.count)
                if !first { writer.appendByte(UInt8(ascii: ",")) }
                first = false
                writer.appendPercentString(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                guard end < bytes.count else { break }
                start = end + 1
            }
        }
        writer.appendByte(UInt8(ascii: "]"))
    }

    // MARK: EXECVE

    /// Every EXECVE record of the event as one `{"argc":N,"ARGV":[…]}`: plain `aN=` values, and
    /// long ones given as `aN_len=` followed by `aN[0]=`, `aN[1]=`… (each part quoted or hex, split
    /// anywhere, even inside a UTF-8 character), joined in `scratch` and written once.
    private mutating func appendExecve(
        _ event: AuditEvent, in storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        writer.appendByte(UInt8(ascii: "{"))
        var needsComma = false
        var argvOpen = false
        var argumentCount = 0
        var partsOpen = false
        func openArgv(_ writer: inout JSONWriter) {
            guard !argvOpen else { return }
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            writer.appendRaw("\"ARGV\":[")
            argvOpen = true
            needsComma = true
        }
        for span in event.spans where span.type == .execve {
            let fields = span.range.lowerBound..<firstByte(0x1D, in: storage, span.range)
            var scanner = AuditFieldScanner(storage, range: fields)
            while let field = scanner.next() {
                let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
                let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
                switch ExecveArgumentKey.classify(key) {
                case .whole:
                    if partsOpen {
                        flushParts(argumentCount, &writer)
                        argumentCount += 1
                        partsOpen = false
                    }
                    openArgv(&writer)
                    if argumentCount > 0 { writer.appendByte(UInt8(ascii: ",")) }
                    if field.style == .unquoted, decodeHexString(storage, field.value) {
                        scratch.withUnsafeBytes { writer.appendPercentString($0) }
                    } else {
                        writer.appendPercentString(value)
                    }
                    argumentCount += 1
                case .length:
                    if partsOpen {
                        flushParts(argumentCount, &writer)
                        argumentCount += 1
                    }
                    openArgv(&writer)
                    partsOpen = true
                    scratch.removeAll()
                case .part:
                    if !partsOpen {
                        openArgv(&writer)
                        partsOpen = true
                        scratch.removeAll()
                    }
                    if !(field.style == .unquoted && !value.isEmpty && appendHex(storage, field.value)) {
                        appendBytes(value)
                    }
                case .argc, .other:
                    // `argc=` comes first, before any argument; anything else is kept as a member
                    // only while the argument list is not open.
                    guard !argvOpen else { continue }
                    if needsComma { writer.appendByte(UInt8(ascii: ",")) }
                    needsComma = true
                    writer.appendByte(UInt8(ascii: "\""))
                    writer.appendRawBytes(key)
                    writer.appendRaw("\":")
                    appendValue(field, kind: FieldTraits.of(key).kind, storage, into: &writer)
                }
            }
        }
        if partsOpen { flushParts(argumentCount, &writer) }
        if argvOpen { writer.appendByte(UInt8(ascii: "]")) }
        if let environment = context?.process?.environment {
            // laurel's ENV: the variables asked for that the new program has.
            writer.appendRaw(needsComma ? ",\"ENV\":{" : "\"ENV\":{")
            for (index, variable) in environment.enumerated() {
                if index > 0 { writer.appendByte(UInt8(ascii: ",")) }
                writer.appendPercentString(variable.name)
                writer.appendByte(UInt8(ascii: ":"))
                writer.appendPercentString(variable.value)
            }
            writer.appendByte(UInt8(ascii: "}"))
        }
        writer.appendByte(UInt8(ascii: "}"))
    }

    // MARK: Process context

    /// After a SYSCALL record's own members, what laurel adds from its process table: `PPID`, the
    /// parent (`{"EVENT_ID":…,"comm":…,"exe":…,"ppid":…}`, what is known of it), `PID` for an
    /// execve (`{"EVENT_ID":…}`, the event that started the program, this one), and `SCRIPT`, the
    /// script an interpreter runs (when script detection is on).
    private static func appendProcessContext(
        _ context: ProcessContext, event: AuditEventID, isExec: Bool, needsComma: Bool, into writer: inout JSONWriter
    ) {
        var comma = needsComma
        func member(_ name: StaticString, _ writer: inout JSONWriter) {
            if comma { writer.appendByte(UInt8(ascii: ",")) }
            comma = true
            writer.appendRaw(name)
        }
        if let parent = context.parent {
            member("\"PPID\":{", &writer)
            var inner = false
            func field(_ name: StaticString, _ writer: inout JSONWriter) {
                if inner { writer.appendByte(UInt8(ascii: ",")) }
                inner = true
                writer.appendRaw(name)
            }
            if let command = parent.command {
                field("\"comm\":", &writer)
                writer.appendPercentString(command)
            }
            if let executable = parent.executable {
                field("\"exe\":", &writer)
                writer.appendPercentString(executable)
            }
            if let ppid = parent.ppid {
                field("\"ppid\":", &writer)
                writer.appendDecimal(Int64(ppid))
            }
            writer.appendByte(UInt8(ascii: "}"))
        }
        if isExec {
            member("\"PID\":{\"EVENT_ID\":\"", &writer)
            writer.appendRaw(Array(event.description.utf8))
            writer.appendRaw("\"}")
        }
        if let script = context.process?.script {
            member("\"SCRIPT\":", &writer)
            writer.appendPercentString(script)
        }
    }

    /// `"CONTAINER_INFO":{"ID":…,"RUNTIME":…,"POD_UID":…,"UNIT":…}` after the records, with what
    /// the process's cgroup says; nothing when it says nothing.
    private static func appendContainerInfo(_ context: ProcessContext, into writer: inout JSONWriter) {
        guard let process = context.process,
            process.containerID != nil || process.unit != nil || process.podUID != nil
        else { return }
        writer.appendRaw(",\"CONTAINER_INFO\":{")
        var inner = false
        func field(_ name: StaticString, _ value: String, _ writer: inout JSONWriter) {
            if inner { writer.appendByte(UInt8(ascii: ",")) }
            inner = true
            writer.appendRaw(name)
            writer.appendString(value)
        }
        if let id = process.containerID { field("\"ID\":", id, &writer) }
        if let runtime = process.containerRuntime { field("\"RUNTIME\":", runtime.rawValue, &writer) }
        if let pod = process.podUID { field("\"POD_UID\":", pod, &writer) }
        if let unit = process.unit { field("\"UNIT\":", unit, &writer) }
        writer.appendByte(UInt8(ascii: "}"))
    }

    private func flushParts(_ argumentCount: Int, _ writer: inout JSONWriter) {
        if argumentCount > 0 { writer.appendByte(UInt8(ascii: ",")) }
        scratch.withUnsafeBytes { writer.appendPercentString($0) }
    }

    // MARK: Translations

    private mutating func appendTranslation(
        _ translation: Translation, _ storage: UnsafeRawBufferPointer, arch: UInt32?, needsComma: inout Bool,
        into writer: inout JSONWriter
    ) {
        func member(_ name: StaticString, _ writer: inout JSONWriter) {
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRaw(name)
            writer.appendRaw("\":")
        }
        switch translation {
        case .arch(let range):
            guard let value = ArchitectureNames.parse(UnsafeRawBufferPointer(rebasing: storage[range])),
                let name = ArchitectureNames.name(arch: value)
            else { return }
            member("ARCH", &writer)
            writer.appendString(name)
        case .syscall(let range):
            guard let arch, let number = Self.decimal(UnsafeRawBufferPointer(rebasing: storage[range])),
                let name = ArchitectureNames.syscallName(arch: arch, number: Int(number))
            else { return }
            member("SYSCALL", &writer)
            writer.appendString(name)
        case .socketAddress(let range):
            decodeHex(storage, range)
            let littleEndian = arch.map(ArchitectureNames.isLittleEndian(arch:)) ?? true
            guard let address = SocketAddress(scratch.bytes, littleEndian: littleEndian) else { return }
            member("SADDR", &writer)
            writer.appendPercentString(Array(address.auditdText.utf8))
        case .identity(let kind, let key, let value):
            let text = UnsafeRawBufferPointer(rebasing: storage[value])
            guard let number = Self.identityNumber(text) else { return }
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendByte(UInt8(ascii: "\""))
            for byte in storage[key] {
                writer.appendByte((0x61...0x7A).contains(byte) ? byte &- 0x20 : byte)
            }
            writer.appendRaw("\":")
            if number == UInt32.max {
                writer.appendRaw("\"unset\"")
            } else if let name = kind == .user ? users.name(for: number) : groups.name(for: number) {
                writer.appendPercentString(name)
            } else {
                writer.appendRaw("\"unknown(")
                writer.appendDecimal(UInt64(number))
                writer.appendRaw(")\"")
            }
        }
    }

    /// A uid or gid: a decimal 32-bit number, or `-1` (the kernel prints some unset ids signed).
    static func identityNumber(_ text: UnsafeRawBufferPointer) -> UInt32? {
        if text.count == 2, text[0] == UInt8(ascii: "-"), text[1] == UInt8(ascii: "1") { return UInt32.max }
        guard let value = decimal(text), value <= UInt64(UInt32.max) else { return nil }
        return UInt32(value)
    }

    static func decimal(_ text: UnsafeRawBufferPointer) -> UInt64? {
        guard !text.isEmpty, text.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }

    /// The translations an ENRICHED log line carries, as strings, keys as written.
    private func appendLogTranslations(
        _ storage: UnsafeRawBufferPointer, _ range: Range<Int>, needsComma: inout Bool, into writer: inout JSONWriter
    ) {
        var scanner = AuditFieldScanner(storage, range: range)
        while let field = scanner.next() {
            guard !field.isNested else { continue }
            if needsComma { writer.appendByte(UInt8(ascii: ",")) }
            needsComma = true
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRawBytes(UnsafeRawBufferPointer(rebasing: storage[field.key]))
            writer.appendRaw("\":")
            let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
            if field.style == .braced {
                appendBraced(value, into: &writer)
            } else {
                writer.appendPercentString(value)
            }
        }
    }
}

/// The first position of `byte` in `buffer[range]`, or `range.upperBound`.
@inline(__always)
private func firstByte(_ byte: UInt8, in buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int {
    guard !range.isEmpty, let base = buffer.baseAddress,
        let found = memchr(base + range.lowerBound, Int32(byte), range.count)
    else { return range.upperBound }
    return base.distance(to: UnsafeRawPointer(found))
}
