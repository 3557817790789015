package import AuditEvents
import AuditInterpretation
import AuditNetlink
package import AuditProcesses
import Glibc

/// Turns reassembled events into Elastic Common Schema (8.x) documents, one JSON object per line
/// (`format = ecs`), normalized as go-libaudit's `aucoalesce` does for Auditbeat.
///
/// What an event becomes (docs/ecs.md has the full field list):
/// - `@timestamp`, `event.*` (`kind`, `module: auditd`, `category`, `type`, `action`, `outcome`,
///   `sequence`: the kernel serial), `ecs.version`, `host.name` (when configured), `tags` (the rule
///   keys).
/// - The actor/action/object/how summary of aucoalesce in `auditd.summary.*`, with
///   `auditd.message_type`, `auditd.sequence`, `auditd.result` and `auditd.session`.
/// - `user.*` (`id`/`name` of uid, `audit`, `effective`, `saved`, `filesystem`, `group`, and the
///   `user`, `user.effective`, `user.target`, `user.changes`, `group` entities of aucoalesce's ECS
///   mappings), `process.*` (`pid`, `executable`, `name`, `title`, `args`, `args_count`,
///   `working_directory`, `parent.*`), `file.*` from the PATH record that names the object,
///   `source.*`/`destination.*` and `network.direction` from a SOCKADDR record, and, from a
///   ``ProcessContext``, the parent's details, `container.id` and `systemd.unit`.
/// - Every other field of the event in `auditd.data.*` (keywords, values interpreted: names for
///   `arch` and `syscall`, hex-encoded strings decoded), the PATH records in `auditd.paths`, and with
///   ``Options/includeRaw`` the records' text in `event.original`.
///
/// Strings are written as the enriched format writes them (``JSONWriter/appendPercentString(_:)``):
/// valid UTF-8 as it is, and `%xx` for control bytes, `%`, `+` and bytes that are not UTF-8, so the
/// bytes always come back by percent-decoding.
///
/// Cost: the event's fields are indexed once (ranges into the event's storage, the names packed in
/// two words); the summary's values are copied into one reused buffer; nothing is allocated per
/// field once the buffers have grown.
package struct EcsEventEncoder: Sendable {
    /// The encoder's options.
    package struct Options: Hashable, Sendable {
        /// Add the records' text as `event.original` (an array of `type=… msg=audit(…): …` lines).
        package var includeRaw: Bool

        package init(includeRaw: Bool = false) {
            self.includeRaw = includeRaw
        }
    }

    /// User names for `user.*.name` and `file.owner`.
    package private(set) var users: UserDirectory
    /// Group names for `*.group.name` and `file.group`.
    package private(set) var groups: UserDirectory
    /// The host name written in `host.name`, if any.
    package let hostname: String?
    package let options: Options

    /// The ECS version the documents follow.
    package static let ecsVersion: StaticString = "8.17.0"

    private let hostMember: [UInt8]
    private var fields: [IndexedField] = []
    /// The event's bytes while it is encoded (for names longer than a packed name holds).
    /// Set only inside ``encode(_:context:into:)``, which owns the bytes meanwhile.
    private var current = EventBytes()

    private struct EventBytes: @unchecked Sendable {
        var buffer = UnsafeRawBufferPointer(start: nil, count: 0)
    }

    private var storage: UnsafeRawBufferPointer { current.buffer }
    /// Interpreted values of the event (summary, ids, paths…), referenced by ranges.
    private var texts: [UInt8] = []
    /// Decoded hex, reused.
    private var scratch = JSONWriter(capacity: 1024)
    private var levels: [Level] = []
    private var openedDepth = 0
    /// Normalization and name of a system call, by `arch << 32 | number`.
    private var syscallCache: [UInt64: SyscallEntry] = [:]

    private struct SyscallEntry {
        var name: String?
        var normalization: Int
    }

    /// One field of the event: where its name and value are, its name packed for comparison.
    private struct IndexedField {
        var name: PackedName
        var key: Range<Int>
        var value: Range<Int>
        var style: AuditFieldStyle
        var traits: FieldTraits
    }

    private struct Level {
        var key: StaticString
        var members: Int
    }

    /// A value of the output: nothing, a constant, or interpreted bytes in `texts`.
    private enum Value {
        case none
        case literal(StaticString)
        case text(Range<Int>)

        var isNone: Bool {
            if case .none = self { return true }
            return false
        }
    }

    /// An ECS user or group: id and name, or nothing.
    private struct Entity {
        var id: Value = .none
        var name: Value = .none
    }

    /// The object of the event as the PATH record describes it.
    private struct FileObject {
        var path: Value = .none
        var inode: Value = .none
        var device: Value = .none
        var mode: UInt32?
        var uid: Value = .none
        var gid: Value = .none
        var ouid: UInt32?
        var ogid: UInt32?
    }

    private struct SocketObject {
        var ip: Value = .none
        var port: Value = .none
        var path: Value = .none
        var family: StaticString?
    }

    private enum Direction {
        case none, ingress, egress
    }

    /// Everything the document is written from, found before it is written.
    private struct Analysis {
        var type = AuditMessageType(0)
        var arch: UInt32?
        var syscall: Value = .none
        var normalization: Int?
        var syscallNormalization: Int?
        var result: StaticString = "unknown"
        var session: Value = .none
        var actorPrimary: Value = .none
        var actorSecondary: Value = .none
        var objectPrimary: Value = .none
        var objectSecondary: Value = .none
        var objectType: Value = .none
        var how: Value = .none
        var file: FileObject?
        var socket: SocketObject?
        var direction = Direction.none
        var source: Value = .none
        /// The field used as `source.ip`, left out of `auditd.data`.
        var sourceField: Int?
        var pathSpans: [Int] = []
        var user = Entity()
        var userEffective = Entity()
        var userTarget = Entity()
        var userChanges = Entity()
        var group = Entity()
        var groupTarget = Entity()
    }

    /// An encoder that writes `host.name` when `hostname` is not nil.
    package init(
        hostname: String? = nil, users: UserDirectory, groups: UserDirectory, options: Options = Options()
    ) {
        self.hostname = hostname
        self.users = users
        self.groups = groups
        self.options = options
        if let hostname {
            var writer = JSONWriter()
            writer.appendRaw(",\"host\":{\"name\":")
            writer.appendPercentString(Array(hostname.utf8))
            writer.appendByte(UInt8(ascii: "}"))
            hostMember = Array(writer.bytes)
        } else {
            hostMember = []
        }
        fields.reserveCapacity(128)
        texts.reserveCapacity(1024)
        levels.reserveCapacity(8)
    }

    /// Appends `event` as one JSON line, ending in `\n`, to `writer`; `context` is what the process
    /// table knows about the event's process (nil when there is no table).
    package mutating func encode(_ event: AuditEvent, context: ProcessContext? = nil, into writer: inout JSONWriter) {
        users.refreshIfDue()
        groups.refreshIfDue()
        fields.removeAll(keepingCapacity: true)
        texts.removeAll(keepingCapacity: true)
        event.storage.withUnsafeBytes { storage in
            current.buffer = storage
            var analysis = analyze(event, storage)
            write(event, storage, &analysis, context: context, into: &writer)
        }
        current = EventBytes()
        if texts.capacity > Self.textsLimit { texts = [] }
        if scratch.capacity > Self.textsLimit { scratch = JSONWriter(capacity: 1024) }
    }

    /// The most interpreted bytes kept between events.
    static let textsLimit = 64 << 10

    // MARK: Analysis

    private mutating func analyze(_ event: AuditEvent, _ storage: UnsafeRawBufferPointer) -> Analysis {
        var analysis = Analysis()
        // The primary record: the SYSCALL of a kernel event, else the first record.
        var primary: Int?
        var first: Int?
        for (index, span) in event.spans.enumerated() where span.type != .endOfEvent {
            if first == nil { first = index }
            if span.type == .syscall {
                primary = index
                break
            }
        }
        guard let first else { return analysis }
        analysis.type = event.spans[first].type
        let main = primary ?? first
        index(storage, event.spans[main].range)
        for (position, span) in event.spans.enumerated() where position != main {
            switch span.type {
            case .endOfEvent, .execve, .sockaddr: continue
            case .path: analysis.pathSpans.append(position)
            default: index(storage, span.range)
            }
        }

        if let arch = lookup("arch") {
            analysis.arch = ArchitectureNames.parse(UnsafeRawBufferPointer(rebasing: storage[fields[arch].value]))
        }
        var syscallName: String?
        if let field = lookup("syscall"), let arch = analysis.arch,
            let number = EnrichedEventEncoder.decimal(UnsafeRawBufferPointer(rebasing: storage[fields[field].value])),
            number < 1 << 20
        {
            let entry = syscallEntry(arch: arch, number: Int(number))
            syscallName = entry.name
            analysis.syscallNormalization = entry.normalization
            analysis.syscall = text(of: field, storage, arch: analysis.arch)
        } else if lookup("syscall") != nil {
            analysis.syscallNormalization = 0
        }

        if analysis.type == .syscall {
            analysis.normalization = analysis.syscallNormalization
        } else if let candidates = EcsNormalization.byRecordType[analysis.type.rawValue] {
            if candidates.count == 1 {
                analysis.normalization = candidates[0]
            } else {
                for candidate in candidates
                where EcsNormalization.all[candidate].hasFields.allSatisfy({ has($0, event, storage) }) {
                    analysis.normalization = candidate
                }
            }
        }

        analysis.result = result(storage)
        if let ses = lookup("ses") { analysis.session = text(of: ses, storage, arch: analysis.arch) }
        analysis.actorPrimary = value(of: "auid", storage, arch: analysis.arch)
        analysis.actorSecondary = value(of: "uid", storage, arch: analysis.arch)
        analysis.how = defaultHow(storage)

        // A change of the audit configuration (auditctl, or a daemon loading rules) arrives by a
        // `sendto` on the audit netlink socket: that system call is how the change was made, not
        // a network connection, so it adds no `network` category and no destination.
        if analysis.type == .configChange {
            analysis.syscallNormalization = nil
        } else if let span = event.spans.first(where: { $0.type == .sockaddr }) {
            // The socket address, and which way it points.
            analysis.socket = socket(storage, span.range, arch: analysis.arch)
            switch syscallName {
            case "recvfrom", "recvmsg", "accept", "accept4": analysis.direction = .ingress
            case "connect", "sendto", "sendmsg": analysis.direction = .egress
            default: break
            }
        }

        guard let index = analysis.normalization else { return analysis }
        let normalization = EcsNormalization.all[index]
        if let what = normalization.objectWhat { analysis.objectType = .literal(what) }
        switch normalization.objectWhat?.description {
        case "file", "filesystem":
            fileObject(event, storage, &analysis, pathIndex: normalization.pathIndex)
        case "socket":
            if let socket = analysis.socket {
                analysis.objectPrimary = socket.ip.isNone ? socket.path : socket.ip
                analysis.objectSecondary = socket.port
            }
        default: break
        }
        if let value = firstValue(normalization.subjectPrimary, storage, analysis) { analysis.actorPrimary = value }
        if let value = firstValue(normalization.subjectSecondary, storage, analysis) { analysis.actorSecondary = value }
        if let value = firstValue(normalization.objectPrimary, storage, analysis) { analysis.objectPrimary = value }
        if let value = firstValue(normalization.objectSecondary, storage, analysis) {
            analysis.objectSecondary = value
        }
        if let value = firstValue(normalization.how, storage, analysis) { analysis.how = value }
        if analysis.socket == nil || analysis.direction == .none {
            for key in normalization.sourceIP {
                guard let field = lookup(key) else { continue }
                analysis.source = text(of: field, storage, arch: analysis.arch)
                analysis.sourceField = field
                analysis.direction = .ingress
                break
            }
        }
        for mapping in normalization.mappings {
            let value: Value
            switch mapping.from {
            case .subjectPrimary: value = analysis.actorPrimary
            case .subjectSecondary: value = analysis.actorSecondary
            case .objectPrimary: value = analysis.objectPrimary
            case .objectSecondary: value = analysis.objectSecondary
            case .identity(let key): value = self.value(of: key, storage, arch: analysis.arch)
            }
            let entity = entity(value, group: mapping.to == .group || mapping.to == .groupTarget)
            switch mapping.to {
            case .user: analysis.user = entity
            case .userEffective: analysis.userEffective = entity
            case .userTarget: analysis.userTarget = entity
            case .userChanges: analysis.userChanges = entity
            case .group: analysis.group = entity
            case .groupTarget: analysis.groupTarget = entity
            }
        }
        return analysis
    }

    /// Adds the fields of `storage[range]` (up to an ENRICHED log's translations) to `fields`.
    private mutating func index(_ storage: UnsafeRawBufferPointer, _ range: Range<Int>) {
        let end = firstByte(0x1D, in: storage, range)
        var scanner = AuditFieldScanner(storage, range: range.lowerBound..<end)
        while let field = scanner.next() {
            switch field.style {
            case .container, .null, .unknown: continue
            case .quoted where field.value.count == 1 && storage[field.value.lowerBound] == UInt8(ascii: "?"):
                continue  // `acct="?"`: no value, as a bare `?`
            default: break
            }
            let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
            let name = PackedName(longName: key)
            let traits = key.count > 16 ? .plain : FieldTraits.table.lookup(name) ?? .plain
            fields.append(
                IndexedField(name: name, key: field.key, value: field.value, style: field.style, traits: traits))
        }
    }

    /// The first field named `key`, in the order indexed (the primary record first).
    private func lookup(_ key: StaticString) -> Int? {
        let bytes = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        let name = PackedName(longName: bytes)
        return fields.withUnsafeBufferPointer { fields in
            for index in fields.indices where fields[index].name == name {
                if name.count <= 16 || storage[fields[index].key].elementsEqual(bytes) { return index }
            }
            return nil
        }
    }

    /// `has_fields`: a field of that name, or for `seresult`, an SELinux AVC record (`avc:  denied …`).
    private func has(_ key: StaticString, _ event: AuditEvent, _ storage: UnsafeRawBufferPointer) -> Bool {
        if key.description == "seresult" {
            return event.spans.contains { span in
                span.type.rawValue == 1400 && storage[span.range].starts(with: "avc:".utf8)
            }
        }
        return lookup(key) != nil
    }

    private mutating func syscallEntry(arch: UInt32, number: Int) -> SyscallEntry {
        let cacheKey = UInt64(arch) << 32 | UInt64(number)
        if let entry = syscallCache[cacheKey] { return entry }
        let name = ArchitectureNames.syscallName(arch: arch, number: number)
        let entry = SyscallEntry(name: name, normalization: name.flatMap { EcsNormalization.bySyscall[$0] } ?? 0)
        if syscallCache.count < 4096 { syscallCache[cacheKey] = entry }
        return entry
    }

    /// `success=` or `res=` as aucoalesce's result: `success`, `fail` or `unknown`.
    private func result(_ storage: UnsafeRawBufferPointer) -> StaticString {
        guard let field = lookup("success") ?? lookup("res") else { return "unknown" }
        let value = UnsafeRawBufferPointer(rebasing: storage[fields[field].value])
        switch String(decoding: value, as: UTF8.self) {
        case "yes", "success", "1": return "success"
        case "no", "failed", "fail", "0": return "fail"
        default: return "unknown"
        }
    }

    /// The program that acted: `exe`, else `comm`; `comm` for an interpreter's `exe` (a script).
    private mutating func defaultHow(_ storage: UnsafeRawBufferPointer) -> Value {
        let comm = lookup("comm")
        guard let exe = lookup("exe") else {
            return comm.map { text(of: $0, storage, arch: nil) } ?? .none
        }
        let value = text(of: exe, storage, arch: nil)
        guard let comm, case .text(let range) = value else { return value }
        let interpreted = texts[range]
        for prefix in ["/usr/bin/python", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/perl"]
        where interpreted.starts(with: prefix.utf8) {
            return text(of: comm, storage, arch: nil)
        }
        return value
    }

    /// The first of `keys` that the event has, interpreted (or the syscall's name for `syscall`).
    private mutating func firstValue(
        _ keys: [StaticString], _ storage: UnsafeRawBufferPointer, _ analysis: Analysis
    ) -> Value? {
        for key in keys {
            guard let field = lookup(key) else { continue }
            return text(of: field, storage, arch: analysis.arch)
        }
        return nil
    }

    private mutating func value(of key: StaticString, _ storage: UnsafeRawBufferPointer, arch: UInt32?) -> Value {
        guard let field = lookup(key) else { return .none }
        return text(of: field, storage, arch: arch)
    }

    /// The interpreted value of field `index`, appended to `texts`.
    private mutating func text(of index: Int, _ storage: UnsafeRawBufferPointer, arch: UInt32?) -> Value {
        let start = texts.count
        appendInterpreted(fields[index], storage, arch: arch)
        return .text(start..<texts.count)
    }

    /// A field's value as aucoalesce interprets it: `unset` for the unset id, names for `arch` and
    /// `syscall`, hex-encoded strings decoded; otherwise the text as logged.
    private mutating func appendInterpreted(_ field: IndexedField, _ storage: UnsafeRawBufferPointer, arch: UInt32?) {
        let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
        if field.style == .unquoted {
            if field.traits.identity != nil || field.name == Self.sessionName {
                if EnrichedEventEncoder.identityNumber(value) == UInt32.max {
                    texts.append(contentsOf: "unset".utf8)
                    return
                }
            }
            switch field.traits.role {
            case .arch:
                if let number = ArchitectureNames.parse(value), let name = ArchitectureNames.name(arch: number) {
                    texts.append(contentsOf: name.utf8)
                    return
                }
            case .syscall:
                if let arch, let number = EnrichedEventEncoder.decimal(value), number < 1 << 20,
                    let name = syscallEntry(arch: arch, number: Int(number)).name
                {
                    texts.append(contentsOf: name.utf8)
                    return
                }
            default: break
            }
            if field.traits.kind == .encoded || field.traits.role == .proctitle, decodeHex(value) {
                scratch.withUnsafeBytes { texts.append(contentsOf: $0) }
                return
            }
        }
        texts.append(contentsOf: value)
    }

    private static let sessionName = PackedName("ses")!

    /// Decodes an even, non-empty run of hex digits into `scratch`; false otherwise.
    private mutating func decodeHex(_ value: UnsafeRawBufferPointer) -> Bool {
        guard !value.isEmpty else { return false }
        scratch.removeAll()
        return scratch.appendDecodedHex(value)
    }

    /// The id or name of an ECS entity from a summary value (aucoalesce's `ECSEntityData.set`): the
    /// unset id gives nothing, a number an id (and its name), anything else a name.
    private mutating func entity(_ value: Value, group: Bool) -> Entity {
        guard case .text(let range) = value, !range.isEmpty else { return Entity() }
        let bytes = texts[range]
        if bytes.elementsEqual("unset".utf8) || bytes.elementsEqual("-1".utf8) { return Entity() }
        guard bytes.allSatisfy({ (0x30...0x39).contains($0) }), bytes.count <= 10, let id = UInt32(decimal: bytes)
        else { return Entity(name: value) }
        if id == UInt32.max { return Entity() }
        return Entity(id: value, name: name(of: id, group: group))
    }

    private mutating func name(of id: UInt32, group: Bool) -> Value {
        guard id != UInt32.max, let name = group ? groups.name(for: id) : users.name(for: id) else { return .none }
        let start = texts.count
        texts.append(contentsOf: name)
        return .text(start..<texts.count)
    }

    private mutating func appendText(_ text: String) -> Value {
        let start = texts.count
        texts.append(contentsOf: text.utf8)
        return .text(start..<texts.count)
    }

    private mutating func appendText(_ bytes: some Collection<UInt8>) -> Value {
        let start = texts.count
        texts.append(contentsOf: bytes)
        return .text(start..<texts.count)
    }

    /// A SOCKADDR record's address.
    private mutating func socket(_ storage: UnsafeRawBufferPointer, _ range: Range<Int>, arch: UInt32?) -> SocketObject?
    {
        var scanner = AuditFieldScanner(storage, range: range.lowerBound..<firstByte(0x1D, in: storage, range))
        while let field = scanner.next() {
            guard field.hasKey("saddr", in: storage), field.style == .unquoted,
                decodeHex(UnsafeRawBufferPointer(rebasing: storage[field.value]))
            else { continue }
            let littleEndian = arch.map(ArchitectureNames.isLittleEndian(arch:)) ?? true
            guard let address = SocketAddress(scratch.bytes, littleEndian: littleEndian) else { return nil }
            var socket = SocketObject()
            switch address {
            case .inet(let bytes, let port):
                socket.family = "ipv4"
                socket.ip = appendText(SocketAddress.ipv4Text(bytes))
                socket.port = appendText(String(port))
            case .inet6(let bytes, let port):
                socket.family = "ipv6"
                socket.ip = appendText(SocketAddress.ipv6Text(bytes))
                socket.port = appendText(String(port))
            case .local(let path, let abstract):
                socket.family = "unix"
                socket.path = appendText(abstract ? [0x40] + path : path)
            case .netlink:
                socket.family = "netlink"
            case .other:
                return nil
            }
            return socket
        }
        return nil
    }

    /// The PATH record that names the object (aucoalesce's choice: the normalization's index, then
    /// the first record from there on that is not a PARENT or UNKNOWN `nametype`).
    private mutating func fileObject(
        _ event: AuditEvent, _ storage: UnsafeRawBufferPointer, _ analysis: inout Analysis, pathIndex: Int
    ) {
        let paths = analysis.pathSpans
        guard !paths.isEmpty else { return }
        let start = paths.count > pathIndex ? pathIndex : 0
        var chosen = paths[start]
        for position in paths[start...] {
            var scanner = AuditFieldScanner(storage, range: event.spans[position].range)
            var skip = false
            while let field = scanner.next() {
                guard field.hasKey("nametype", in: storage) else { continue }
                skip = field.hasValue("PARENT", in: storage) || field.hasValue("UNKNOWN", in: storage)
            }
            if !skip {
                chosen = position
                break
            }
        }
        var file = FileObject()
        let range = event.spans[chosen].range
        var scanner = AuditFieldScanner(storage, range: range.lowerBound..<firstByte(0x1D, in: storage, range))
        while let field = scanner.next() {
            guard field.style != .null, field.style != .unknown else { continue }
            let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
            let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
            switch String(decoding: key, as: UTF8.self) {
            case "name":
                let start = texts.count
                if field.style == .unquoted, decodeHex(value) {
                    scratch.withUnsafeBytes { texts.append(contentsOf: $0) }
                } else {
                    texts.append(contentsOf: value)
                }
                file.path = .text(start..<texts.count)
                analysis.objectPrimary = file.path
            case "inode": file.inode = appendText(value)
            case "rdev": file.device = appendText(value)
            case "mode": file.mode = FileModes.parseOctal(String(decoding: value, as: UTF8.self))
            case "ouid":
                file.uid = appendText(value)
                file.ouid = EnrichedEventEncoder.identityNumber(value)
            case "ogid":
                file.gid = appendText(value)
                file.ogid = EnrichedEventEncoder.identityNumber(value)
            default: break
            }
        }
        if let mode = file.mode {
            analysis.objectType = .literal(Self.objectType(mode))
        }
        analysis.file = file
    }

    /// The summary's object type for a file mode.
    static func objectType(_ mode: UInt32) -> StaticString {
        switch mode & 0o170000 {
        case 0o040000: "directory"
        case 0o020000: "character-device"
        case 0o060000: "block-device"
        case 0o010000: "named-pipe"
        case 0o120000: "symlink"
        case 0o140000: "socket"
        default: "file"
        }
    }

    /// ECS `file.type` for a file mode.
    static func fileType(_ mode: UInt32) -> StaticString {
        switch mode & 0o170000 {
        case 0o040000: "dir"
        case 0o120000: "symlink"
        default: "file"
        }
    }

    // MARK: Writing

    private mutating func write(
        _ event: AuditEvent, _ storage: UnsafeRawBufferPointer, _ analysis: inout Analysis, context: ProcessContext?,
        into writer: inout JSONWriter
    ) {
        levels.removeAll(keepingCapacity: true)
        levels.append(Level(key: "", members: 0))
        openedDepth = 1
        writer.appendByte(UInt8(ascii: "{"))
        member("@timestamp", &writer)
        Self.appendTimestamp(event.id, into: &writer)

        let normalization = analysis.normalization.map { EcsNormalization.all[$0] }
        let extra = analysis.syscallNormalization.flatMap { $0 == analysis.normalization ? nil : $0 }
            .map { EcsNormalization.all[$0] }
        open("event")
        member("kind", &writer)
        writer.appendByte(UInt8(ascii: "\""))
        writer.appendRaw(normalization?.kind ?? "event")
        writer.appendByte(UInt8(ascii: "\""))
        member("module", &writer)
        writer.appendRaw("\"auditd\"")
        if !(normalization?.categories.isEmpty ?? true) || !(extra?.categories.isEmpty ?? true) {
            member("category", &writer)
            Self.appendArrays(normalization?.categories ?? [], extra?.categories ?? [], into: &writer)
            member("type", &writer)
            Self.appendArrays(normalization?.types ?? [], extra?.types ?? [], into: &writer)
        }
        if let action = normalization?.action {
            member("action", &writer)
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRaw(action)
            writer.appendByte(UInt8(ascii: "\""))
        }
        member("outcome", &writer)
        switch analysis.result.description {
        case "success": writer.appendRaw("\"success\"")
        case "fail": writer.appendRaw("\"failure\"")
        default: writer.appendRaw("\"unknown\"")
        }
        member("sequence", &writer)
        writer.appendDecimal(UInt64(event.id.serial))
        if options.includeRaw { appendOriginal(event, storage, into: &writer) }
        close(&writer)

        member("ecs", &writer)
        writer.appendRaw("{\"version\":\"")
        writer.appendRaw(Self.ecsVersion)
        writer.appendRaw("\"}")
        if !hostMember.isEmpty {
            writer.appendRaw(hostMember)
            levels[0].members += 1
        }

        writeUser(storage, &analysis, into: &writer)
        writeProcess(event, storage, analysis, context: context, into: &writer)
        writeFile(analysis, into: &writer)
        writeNetwork(analysis, into: &writer)
        if let process = context?.process {
            if let container = process.containerID {
                open("container")
                member("id", &writer)
                writer.appendPercentString(Array(container.utf8))
                close(&writer)
            }
            if let unit = process.unit {
                open("systemd")
                member("unit", &writer)
                writer.appendPercentString(Array(unit.utf8))
                close(&writer)
            }
        }
        writeTags(storage, into: &writer)
        writeAuditd(event, storage, analysis, normalization: normalization, into: &writer)
        writer.appendRaw("}\n")
    }

    private mutating func writeUser(
        _ storage: UnsafeRawBufferPointer, _ analysis: inout Analysis, into writer: inout JSONWriter
    ) {
        let normalization = analysis.normalization.map { EcsNormalization.all[$0] }
        var mapsUser = false
        var mapsEffective = false
        for mapping in normalization?.mappings ?? [] {
            if mapping.to == .user { mapsUser = true }
            if mapping.to == .userEffective { mapsEffective = true }
        }
        let arch = analysis.arch
        if !mapsUser { analysis.user = idEntity("uid", storage, arch: arch, group: false) }
        if !mapsEffective { analysis.userEffective = idEntity("euid", storage, arch: arch, group: false) }
        // user.effective only when it differs from user (as Auditbeat writes it).
        let sameEffective = same(analysis.userEffective, analysis.user)

        open("user")
        writeEntity(analysis.user, into: &writer)
        open("audit")
        writeIdentity("auid", storage, arch: arch, group: false, into: &writer)
        close(&writer)
        open("effective")
        if !sameEffective { writeEntity(analysis.userEffective, into: &writer) }
        open("group")
        writeIdentity("egid", storage, arch: arch, group: true, into: &writer)
        close(&writer)
        close(&writer)
        open("saved")
        writeIdentity("suid", storage, arch: arch, group: false, into: &writer)
        open("group")
        writeIdentity("sgid", storage, arch: arch, group: true, into: &writer)
        close(&writer)
        close(&writer)
        open("filesystem")
        writeIdentity("fsuid", storage, arch: arch, group: false, into: &writer)
        open("group")
        writeIdentity("fsgid", storage, arch: arch, group: true, into: &writer)
        close(&writer)
        close(&writer)
        open("group")
        writeIdentity("gid", storage, arch: arch, group: true, into: &writer)
        close(&writer)
        open("target")
        writeEntity(analysis.userTarget, into: &writer)
        open("group")
        writeEntity(analysis.groupTarget, into: &writer)
        close(&writer)
        close(&writer)
        open("changes")
        writeEntity(analysis.userChanges, into: &writer)
        close(&writer)
        close(&writer)

        open("group")
        writeEntity(analysis.group, into: &writer)
        close(&writer)
    }

    private func same(_ a: Entity, _ b: Entity) -> Bool {
        if case .text(let x) = a.id, case .text(let y) = b.id { return texts[x].elementsEqual(texts[y]) }
        if case .text(let x) = a.name, case .text(let y) = b.name { return texts[x].elementsEqual(texts[y]) }
        return false
    }

    /// The entity of an id field (`uid`, `egid`…): its number and name; nothing when unset.
    private mutating func idEntity(
        _ key: StaticString, _ storage: UnsafeRawBufferPointer, arch: UInt32?, group: Bool
    ) -> Entity {
        guard let field = lookup(key) else { return Entity() }
        let value = UnsafeRawBufferPointer(rebasing: storage[fields[field].value])
        guard let id = EnrichedEventEncoder.identityNumber(value), id != UInt32.max else { return Entity() }
        return Entity(id: appendText(value), name: name(of: id, group: group))
    }

    private mutating func writeIdentity(
        _ key: StaticString, _ storage: UnsafeRawBufferPointer, arch: UInt32?, group: Bool,
        into writer: inout JSONWriter
    ) {
        let entity = idEntity(key, storage, arch: arch, group: group)
        writeEntity(entity, into: &writer)
    }

    private mutating func writeEntity(_ entity: Entity, into writer: inout JSONWriter) {
        if !entity.id.isNone {
            member("id", &writer)
            appendValue(entity.id, into: &writer)
        }
        if !entity.name.isNone {
            member("name", &writer)
            appendValue(entity.name, into: &writer)
        }
    }

    private mutating func writeProcess(
        _ event: AuditEvent, _ storage: UnsafeRawBufferPointer, _ analysis: Analysis, context: ProcessContext?,
        into writer: inout JSONWriter
    ) {
        open("process")
        if let pid = lookup("pid") { writeNumber("pid", fields[pid].value, storage, into: &writer) }
        if let exe = lookup("exe") {
            member("executable", &writer)
            let value = text(of: exe, storage, arch: nil)
            appendValue(value, into: &writer)
        }
        if let comm = lookup("comm") {
            member("name", &writer)
            let value = text(of: comm, storage, arch: nil)
            appendValue(value, into: &writer)
        }
        if let title = lookup("proctitle") {
            member("title", &writer)
            appendTitle(fields[title], storage, into: &writer)
        }
        if event.spans.contains(where: { $0.type == .execve }) {
            appendArguments(event, storage, into: &writer)
        }
        if let cwd = lookup("cwd") {
            member("working_directory", &writer)
            let value = text(of: cwd, storage, arch: nil)
            appendValue(value, into: &writer)
        }
        open("parent")
        let parent = context?.parent
        if let pid = parent?.pid {
            member("pid", &writer)
            writer.appendDecimal(Int64(pid))
        } else if let ppid = lookup("ppid") {
            writeNumber("pid", fields[ppid].value, storage, into: &writer)
        }
        if let parent {
            if let executable = parent.executable {
                member("executable", &writer)
                writer.appendPercentString(executable)
            }
            if let command = parent.command {
                member("name", &writer)
                writer.appendPercentString(command)
            }
            if let arguments = parent.arguments {
                member("args", &writer)
                writer.appendByte(UInt8(ascii: "["))
                for (index, argument) in arguments.enumerated() {
                    if index > 0 { writer.appendByte(UInt8(ascii: ",")) }
                    writer.appendPercentString(argument)
                }
                writer.appendByte(UInt8(ascii: "]"))
                member("args_count", &writer)
                writer.appendDecimal(UInt64(arguments.count))
            }
            if let directory = parent.workingDirectory {
                member("working_directory", &writer)
                writer.appendPercentString(directory)
            }
        }
        close(&writer)
        close(&writer)
    }

    /// `proctitle=`: the command line with its NULs as spaces (aucoalesce's `process.title`).
    private mutating func appendTitle(
        _ field: IndexedField, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
        let start = texts.count
        if field.style == .unquoted, decodeHex(value) {
            scratch.withUnsafeBytes { texts.append(contentsOf: $0) }
        } else {
            texts.append(contentsOf: value)
        }
        while texts.count > start, texts[texts.count - 1] == 0 { texts.removeLast() }
        for index in start..<texts.count where texts[index] == 0 { texts[index] = UInt8(ascii: " ") }
        appendValue(.text(start..<texts.count), into: &writer)
    }

    /// `process.args` and `process.args_count` from the EXECVE records: plain `aN=` values and
    /// arguments split into `aN_len=` + `aN[i]=` parts, hex or quoted.
    private mutating func appendArguments(
        _ event: AuditEvent, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        var argc: Range<Int>?
        var count = 0
        var partsStart: Int?
        member("args", &writer)
        writer.appendByte(UInt8(ascii: "["))
        func flush(_ encoder: inout EcsEventEncoder, _ writer: inout JSONWriter) {
            guard let start = partsStart else { return }
            if count > 0 { writer.appendByte(UInt8(ascii: ",")) }
            encoder.texts.withUnsafeBytes { writer.appendPercentString(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            encoder.texts.removeSubrange(start...)
            count += 1
            partsStart = nil
        }
        for span in event.spans where span.type == .execve {
            let range = span.range.lowerBound..<firstByte(0x1D, in: storage, span.range)
            var scanner = AuditFieldScanner(storage, range: range)
            while let field = scanner.next() {
                let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
                let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
                switch ExecveArgumentKey.classify(key) {
                case .whole:
                    flush(&self, &writer)
                    if count > 0 { writer.appendByte(UInt8(ascii: ",")) }
                    if field.style == .unquoted, decodeHex(value) {
                        scratch.withUnsafeBytes { writer.appendPercentString($0) }
                    } else {
                        writer.appendPercentString(value)
                    }
                    count += 1
                case .length:
                    flush(&self, &writer)
                    partsStart = texts.count
                case .part:
                    if partsStart == nil { partsStart = texts.count }
                    if field.style == .unquoted, decodeHex(value) {
                        scratch.withUnsafeBytes { texts.append(contentsOf: $0) }
                    } else {
                        texts.append(contentsOf: value)
                    }
                case .argc, .other:
                    if field.hasKey("argc", in: storage) { argc = field.value }
                }
            }
        }
        flush(&self, &writer)
        writer.appendByte(UInt8(ascii: "]"))
        if let argc {
            writeNumber("args_count", argc, storage, into: &writer)
        } else {
            member("args_count", &writer)
            writer.appendDecimal(UInt64(count))
        }
    }

    private mutating func writeFile(_ analysis: Analysis, into writer: inout JSONWriter) {
        guard let file = analysis.file else { return }
        open("file")
        if !file.path.isNone {
            member("path", &writer)
            appendValue(file.path, into: &writer)
        }
        if !file.inode.isNone {
            member("inode", &writer)
            appendValue(file.inode, into: &writer)
        }
        if !file.device.isNone {
            member("device", &writer)
            appendValue(file.device, into: &writer)
        }
        if let mode = file.mode {
            member("mode", &writer)
            writer.withCursor(atMost: 6) { cursor in
                cursor.byte(UInt8(ascii: "\""))
                cursor.byte(UInt8(ascii: "0"))
                cursor.byte(UInt8(ascii: "0") &+ UInt8(mode >> 6 & 7))
                cursor.byte(UInt8(ascii: "0") &+ UInt8(mode >> 3 & 7))
                cursor.byte(UInt8(ascii: "0") &+ UInt8(mode & 7))
                cursor.byte(UInt8(ascii: "\""))
            }
            member("type", &writer)
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRaw(Self.fileType(mode))
            writer.appendByte(UInt8(ascii: "\""))
        }
        if !file.uid.isNone {
            member("uid", &writer)
            appendValue(file.uid, into: &writer)
        }
        if !file.gid.isNone {
            member("gid", &writer)
            appendValue(file.gid, into: &writer)
        }
        if let ouid = file.ouid, let name = users.name(for: ouid) {
            member("owner", &writer)
            writer.appendPercentString(name)
        }
        if let ogid = file.ogid, let name = groups.name(for: ogid) {
            member("group", &writer)
            writer.appendPercentString(name)
        }
        close(&writer)
    }

    private mutating func writeNetwork(_ analysis: Analysis, into writer: inout JSONWriter) {
        if let socket = analysis.socket, analysis.direction != .none {
            open(analysis.direction == .ingress ? "source" : "destination")
            writeAddress(socket.ip, into: &writer)
            if case .text(let range) = socket.port {
                member("port", &writer)
                writer.appendRaw(Array(texts[range]))
            }
            if !socket.path.isNone {
                member("path", &writer)
                appendValue(socket.path, into: &writer)
            }
            close(&writer)
        } else if !analysis.source.isNone {
            open("source")
            writeAddress(analysis.source, into: &writer)
            close(&writer)
        }
        if analysis.direction != .none {
            open("network")
            member("direction", &writer)
            writer.appendRaw(analysis.direction == .ingress ? "\"ingress\"" : "\"egress\"")
            close(&writer)
        }
    }

    /// `ip` when the value is an IP address, else `address`.
    private mutating func writeAddress(_ value: Value, into writer: inout JSONWriter) {
        guard case .text(let range) = value, !range.isEmpty else { return }
        let isIP = texts.withUnsafeBytes { Self.isIPAddress(UnsafeRawBufferPointer(rebasing: $0[range])) }
        member(isIP ? "ip" : "address", &writer)
        appendValue(value, into: &writer)
    }

    /// True for dotted-quad IPv4 text and for IPv6 text (hex groups, colons, an optional IPv4 tail).
    static func isIPAddress(_ text: UnsafeRawBufferPointer) -> Bool {
        guard !text.isEmpty, text.count < 64, !text.contains(0) else { return false }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
            for (index, byte) in text.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffer[text.count] = 0
            var address = in6_addr()
            return inet_pton(AF_INET, buffer.baseAddress, &address) == 1
                || inet_pton(AF_INET6, buffer.baseAddress, &address) == 1
        }
    }

    /// `tags`: the rule keys (`key=`, several separated by 0x01).
    private mutating func writeTags(_ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter) {
        guard let key = lookup("key") else { return }
        guard case .text(let range) = text(of: key, storage, arch: nil), !range.isEmpty else { return }
        member("tags", &writer)
        writer.appendByte(UInt8(ascii: "["))
        var start = range.lowerBound
        var first = true
        texts.withUnsafeBytes { bytes in
            for index in range.lowerBound...range.upperBound where index == range.upperBound || bytes[index] == 1 {
                if index > start {
                    if !first { writer.appendByte(UInt8(ascii: ",")) }
                    first = false
                    writer.appendPercentString(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                }
                start = index + 1
            }
        }
        writer.appendByte(UInt8(ascii: "]"))
    }

    private mutating func writeAuditd(
        _ event: AuditEvent, _ storage: UnsafeRawBufferPointer, _ analysis: Analysis,
        normalization: EcsNormalization?, into writer: inout JSONWriter
    ) {
        open("auditd")
        member("message_type", &writer)
        writer.appendByte(UInt8(ascii: "\""))
        if let name = analysis.type.name {
            for byte in name.utf8 { writer.appendByte((0x41...0x5A).contains(byte) ? byte | 0x20 : byte) }
        } else {
            writer.appendRaw("unknown[")
            writer.appendDecimal(UInt64(analysis.type.rawValue))
            writer.appendRaw("]")
        }
        writer.appendByte(UInt8(ascii: "\""))
        member("sequence", &writer)
        writer.appendDecimal(UInt64(event.id.serial))
        member("result", &writer)
        writer.appendByte(UInt8(ascii: "\""))
        writer.appendRaw(analysis.result)
        writer.appendByte(UInt8(ascii: "\""))
        if case .text(let range) = analysis.session, !texts[range].elementsEqual("unset".utf8) {
            member("session", &writer)
            appendValue(analysis.session, into: &writer)
        }
        switch event.completion {
        case .timeout: writeLiteral("completion", "timeout", into: &writer)
        case .eviction: writeLiteral("completion", "eviction", into: &writer)
        case .shutdown: writeLiteral("completion", "shutdown", into: &writer)
        case .endOfEvent, .standalone: break
        }
        if event.flags.contains(.truncated) {
            // Cut at the reassembler's bound on one event: how many records were dropped.
            member("truncated", &writer)
            writer.appendRaw("{\"dropped_records\":")
            writer.appendDecimal(UInt64(event.droppedRecords))
            writer.appendByte(UInt8(ascii: "}"))
        }
        open("summary")
        open("actor")
        writeValue("primary", analysis.actorPrimary, into: &writer)
        writeValue("secondary", analysis.actorSecondary, into: &writer)
        close(&writer)
        if let action = normalization?.action { writeLiteral("action", action, into: &writer) }
        open("object")
        writeValue("type", analysis.objectType, into: &writer)
        writeValue("primary", analysis.objectPrimary, into: &writer)
        writeValue("secondary", analysis.objectSecondary, into: &writer)
        close(&writer)
        writeValue("how", analysis.how, into: &writer)
        close(&writer)
        writeData(storage, analysis, into: &writer)
        if !analysis.pathSpans.isEmpty {
            member("paths", &writer)
            writer.appendByte(UInt8(ascii: "["))
            for (index, position) in analysis.pathSpans.enumerated() {
                if index > 0 { writer.appendByte(UInt8(ascii: ",")) }
                writePath(storage, event.spans[position].range, arch: analysis.arch, into: &writer)
            }
            writer.appendByte(UInt8(ascii: "]"))
        }
        close(&writer)
    }

    /// `auditd.data`: the fields no other member carries, the first of each name, interpreted.
    private mutating func writeData(
        _ storage: UnsafeRawBufferPointer, _ analysis: Analysis, into writer: inout JSONWriter
    ) {
        open("data")
        var seen: UInt64 = 0
        for index in fields.indices {
            let field = fields[index]
            if field.traits.ecsConsumed || index == analysis.sourceField { continue }
            let bit: UInt64 = 1 << UInt64(field.name.slot & 63)
            if seen & bit != 0,
                fields[..<index].contains(where: {
                    $0.name == field.name
                        && (field.name.count <= 16 || storage[$0.key].elementsEqual(storage[field.key]))
                })
            {
                continue
            }
            seen |= bit
            memberKey(UnsafeRawBufferPointer(rebasing: storage[field.key]), &writer)
            let start = texts.count
            appendInterpreted(field, storage, arch: analysis.arch)
            appendValue(.text(start..<texts.count), into: &writer)
            texts.removeSubrange(start...)
        }
        if let socket = analysis.socket {
            open("socket")
            if let family = socket.family { writeLiteral("family", family, into: &writer) }
            writeValue("addr", socket.ip, into: &writer)
            writeValue("port", socket.port, into: &writer)
            writeValue("path", socket.path, into: &writer)
            close(&writer)
        }
        close(&writer)
    }

    /// One PATH record as an object of interpreted strings.
    private mutating func writePath(
        _ storage: UnsafeRawBufferPointer, _ range: Range<Int>, arch: UInt32?, into writer: inout JSONWriter
    ) {
        writer.appendByte(UInt8(ascii: "{"))
        var first = true
        var scanner = AuditFieldScanner(storage, range: range.lowerBound..<firstByte(0x1D, in: storage, range))
        while let field = scanner.next() {
            guard field.style != .null, field.style != .unknown, field.style != .container,
                let name = PackedName(UnsafeRawBufferPointer(rebasing: storage[field.key]))
            else { continue }
            if !first { writer.appendByte(UInt8(ascii: ",")) }
            first = false
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRawBytes(UnsafeRawBufferPointer(rebasing: storage[field.key]))
            writer.appendRaw("\":")
            let indexed = IndexedField(
                name: name, key: field.key, value: field.value, style: field.style,
                traits: FieldTraits.table.lookup(name) ?? .plain)
            let start = texts.count
            appendInterpreted(indexed, storage, arch: arch)
            appendValue(.text(start..<texts.count), into: &writer)
            texts.removeSubrange(start...)
        }
        writer.appendByte(UInt8(ascii: "}"))
    }

    /// `event.original`: each record as auditd logs it.
    private func appendOriginal(_ event: AuditEvent, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter) {
        var line = JSONWriter(capacity: 256)
        var first = true
        var opened = false
        for span in event.spans where span.type != .endOfEvent {
            if !opened {
                writer.appendByte(UInt8(ascii: ","))
                writer.appendRaw("\"original\":[")
                opened = true
            }
            if !first { writer.appendByte(UInt8(ascii: ",")) }
            first = false
            line.removeAll()
            line.appendRaw("type=")
            if let name = span.type.name {
                line.appendRaw(Array(name.utf8))
            } else {
                line.appendRaw("UNKNOWN[")
                line.appendDecimal(UInt64(span.type.rawValue))
                line.appendRaw("]")
            }
            line.appendRaw(" msg=audit(")
            line.appendRaw(Array(event.id.description.utf8))
            line.appendRaw("): ")
            line.appendRawBytes(UnsafeRawBufferPointer(rebasing: storage[span.range]))
            line.withUnsafeBytes { writer.appendPercentString($0) }
        }
        if opened { writer.appendByte(UInt8(ascii: "]")) }
    }

    // MARK: Members

    private mutating func open(_ key: StaticString) {
        levels.append(Level(key: key, members: 0))
    }

    private mutating func close(_ writer: inout JSONWriter) {
        if openedDepth == levels.count {
            writer.appendByte(UInt8(ascii: "}"))
            openedDepth -= 1
        }
        levels.removeLast()
    }

    /// Opens the objects not yet written, then writes `,` as needed.
    private mutating func prepareMember(_ writer: inout JSONWriter) {
        while openedDepth < levels.count {
            let parent = openedDepth - 1
            if levels[parent].members > 0 { writer.appendByte(UInt8(ascii: ",")) }
            levels[parent].members += 1
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRaw(levels[openedDepth].key)
            writer.appendRaw("\":{")
            openedDepth += 1
        }
        let current = levels.count - 1
        if levels[current].members > 0 { writer.appendByte(UInt8(ascii: ",")) }
        levels[current].members += 1
    }

    /// `"key":`, in the innermost open object.
    private mutating func member(_ key: StaticString, _ writer: inout JSONWriter) {
        prepareMember(&writer)
        writer.appendByte(UInt8(ascii: "\""))
        writer.appendRaw(key)
        writer.appendRaw("\":")
    }

    /// `"key":` for a record's field name (letters, digits, `_`, `-`, `[`, `]`: no escaping needed).
    private mutating func memberKey(_ key: UnsafeRawBufferPointer, _ writer: inout JSONWriter) {
        prepareMember(&writer)
        writer.appendByte(UInt8(ascii: "\""))
        writer.appendRawBytes(key)
        writer.appendRaw("\":")
    }

    private mutating func writeValue(_ key: StaticString, _ value: Value, into writer: inout JSONWriter) {
        guard !value.isNone else { return }
        member(key, &writer)
        appendValue(value, into: &writer)
    }

    private mutating func writeLiteral(_ key: StaticString, _ value: StaticString, into writer: inout JSONWriter) {
        member(key, &writer)
        writer.appendByte(UInt8(ascii: "\""))
        writer.appendRaw(value)
        writer.appendByte(UInt8(ascii: "\""))
    }

    /// A number when the field's text is a decimal integer; nothing otherwise (the ECS type is long).
    private mutating func writeNumber(
        _ key: StaticString, _ range: Range<Int>, _ storage: UnsafeRawBufferPointer, into writer: inout JSONWriter
    ) {
        let value = UnsafeRawBufferPointer(rebasing: storage[range])
        guard EnrichedEventEncoder.isInteger(value) else { return }
        member(key, &writer)
        writer.appendRawBytes(value)
    }

    private func appendValue(_ value: Value, into writer: inout JSONWriter) {
        switch value {
        case .none: writer.appendRaw("null")
        case .literal(let text):
            writer.appendByte(UInt8(ascii: "\""))
            writer.appendRaw(text)
            writer.appendByte(UInt8(ascii: "\""))
        case .text(let range):
            texts.withUnsafeBytes { writer.appendPercentString(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }

    /// One JSON array of the constants of `first` and then of `second`.
    private static func appendArrays(
        _ first: [StaticString], _ second: [StaticString], into writer: inout JSONWriter
    ) {
        writer.appendByte(UInt8(ascii: "["))
        var count = 0
        for values in [first, second].lazy {
            for value in values {
                if count > 0 { writer.appendByte(UInt8(ascii: ",")) }
                count += 1
                writer.appendByte(UInt8(ascii: "\""))
                writer.appendRaw(value)
                writer.appendByte(UInt8(ascii: "\""))
            }
        }
        writer.appendByte(UInt8(ascii: "]"))
    }

    /// `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (UTC).
    static func appendTimestamp(_ id: AuditEventID, into writer: inout JSONWriter) {
        let seconds = Int64(clamping: id.seconds)
        let days = seconds / 86_400
        let rest = seconds % 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let milliseconds = Int64(min(id.milliseconds, 999))
        writer.withCursor(atMost: 32) { cursor in
            func digits(_ value: Int64, _ count: Int) {
                var divisor: Int64 = 1
                for _ in 1..<count { divisor *= 10 }
                while divisor > 0 {
                    cursor.byte(UInt8(ascii: "0") &+ UInt8(value / divisor % 10))
                    divisor /= 10
                }
            }
            cursor.byte(UInt8(ascii: "\""))
            digits(min(year, 9999), 4)
            cursor.byte(UInt8(ascii: "-"))
            digits(month, 2)
            cursor.byte(UInt8(ascii: "-"))
            digits(day, 2)
            cursor.byte(UInt8(ascii: "T"))
            digits(rest / 3600, 2)
            cursor.byte(UInt8(ascii: ":"))
            digits(rest / 60 % 60, 2)
            cursor.byte(UInt8(ascii: ":"))
            digits(rest % 60, 2)
            cursor.byte(UInt8(ascii: "."))
            digits(milliseconds, 3)
            cursor.raw("Z\"")
        }
    }
}

extension PackedName {
    /// Packs a constant name.
    init?(_ name: StaticString) {
        self.init(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// Packs a name of any length: longer than 16 bytes, the first 16 and the length (equal packed
    /// names then still need a comparison of the bytes).
    init(longName bytes: UnsafeRawBufferPointer) {
        if let packed = PackedName(UnsafeRawBufferPointer(rebasing: bytes.prefix(16))) {
            self = packed
        } else {
            self = PackedName(UnsafeRawBufferPointer(start: nil, count: 0))!
        }
        count = bytes.count
    }
}

extension UInt32 {
    /// Parses ASCII decimal digits; nil on overflow.
    init?(decimal digits: some Collection<UInt8>) {
        var value: UInt64 = 0
        for digit in digits {
            value = value * 10 + UInt64(digit &- 0x30)
            if value > UInt64(UInt32.max) { return nil }
        }
        self = UInt32(value)
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
