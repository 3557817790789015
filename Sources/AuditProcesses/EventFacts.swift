internal import AuditEvents
internal import AuditInterpretation
internal import AuditNetlink

/// What the process table needs from a SYSCALL record, read in one pass over its fields without
/// allocating: numbers parsed, strings left as field ranges until an entry needs their bytes.
struct SyscallFacts {
    var arch: UInt32?
    var syscall: Int?
    var success: Bool?
    var exit: Int64?
    var a0: UInt64?
    var a1: UInt64?
    var pid: Int32?
    var ppid: Int32?
    var comm: AuditField?
    var exe: AuditField?

    /// Reads the fields of `storage[range]` (one SYSCALL record's body).
    init(_ storage: UnsafeRawBufferPointer, range: Range<Int>) {
        var scanner = AuditFieldScanner(storage, range: range)
        while let field = scanner.next() {
            if field.isNested { continue }
            let key = field.key
            guard let first = key.isEmpty ? nil : storage[key.lowerBound] else { continue }
            let value = UnsafeRawBufferPointer(rebasing: storage[field.value])
            switch (key.count, first) {
            case (4, 0x61) where Self.isKey(storage, key, "arch"): arch = ArchitectureNames.parse(value)
            case (7, 0x73) where Self.isKey(storage, key, "syscall"): syscall = EventText.decimal(value).map(Int.init)
            case (7, 0x73) where Self.isKey(storage, key, "success"):
                success = value.count == 3 && value[0] == 0x79  // "yes"
            case (4, 0x65) where Self.isKey(storage, key, "exit"): exit = EventText.decimal(value)
            case (2, 0x61) where Self.isKey(storage, key, "a0"): a0 = EventText.hex64(value)
            case (2, 0x61) where Self.isKey(storage, key, "a1"): a1 = EventText.hex64(value)
            case (3, 0x70) where Self.isKey(storage, key, "pid"):
                pid = EventText.decimal(value).flatMap(Int32.init(exactly:))
            case (4, 0x70) where Self.isKey(storage, key, "ppid"):
                ppid = EventText.decimal(value).flatMap(Int32.init(exactly:))
            case (4, 0x63) where Self.isKey(storage, key, "comm"): comm = field
            case (3, 0x65) where Self.isKey(storage, key, "exe"): exe = field
            default: break
            }
        }
    }

    /// True when `storage[key]` is `name`: the bytes of a literal, without going through `String`
    /// (this runs for every field of every SYSCALL record).
    @inline(__always)
    static func isKey(_ storage: UnsafeRawBufferPointer, _ key: Range<Int>, _ name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        let literal = name.utf8Start
        for offset in 0..<key.count where storage[key.lowerBound &+ offset] != literal[offset] { return false }
        return true
    }
}

/// Record values as the kernel writes them.
enum EventText {
    /// A signed decimal (`exit=-2`, `pid=4242`), or nil.
    static func decimal(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard !text.isEmpty, text.count <= 20 else { return nil }
        var index = 0
        let negative = text[0] == 0x2D
        if negative { index = 1 }
        guard index < text.count else { return nil }
        var value: Int64 = 0
        while index < text.count {
            let byte = text[index]
            guard (0x30...0x39).contains(byte) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte &- 0x30))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }

    /// Hex digits without `0x` (`a0=10011`), or nil.
    static func hex64(_ text: UnsafeRawBufferPointer) -> UInt64? {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard let digit = AuditHex.digit(byte) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// The bytes of a string value: a quoted value as it is, an unquoted one decoded from the
    /// kernel's hex (kept as it is when it is not hex), nil for `(null)` and `?`.
    static func bytes(_ field: AuditField, in storage: UnsafeRawBufferPointer) -> [UInt8]? {
        appendBytes(field, in: storage, to: nil)
    }

    /// Like ``bytes(_:in:)``, appending to `existing` when given.
    static func appendBytes(_ field: AuditField, in storage: UnsafeRawBufferPointer, to existing: [UInt8]?) -> [UInt8]?
    {
        switch field.style {
        case .null, .unknown: return existing
        case .unquoted:
            var output = existing ?? []
            let text = UnsafeRawBufferPointer(rebasing: storage[field.value])
            do { try AuditHex.decode(text, into: &output) } catch { output.append(contentsOf: text) }
            return output
        default:
            var output = existing ?? []
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: storage[field.value]))
            return output
        }
    }

    /// The first outer field named `key` in `storage[range]`.
    static func field(_ key: String, in storage: UnsafeRawBufferPointer, range: Range<Int>) -> AuditField? {
        AuditFieldScanner.first(key, in: storage, range: range)
    }
}

/// The arguments of an event's EXECVE records, reassembled (`aN`, or `aN_len` with `aN[i]` parts,
/// across records, hex decoded) and cut to the caps: at most `maximumBytes` bytes in all and
/// `maximumCount` arguments.
struct ExecArguments {
    var arguments: [[UInt8]] = []
    var truncated = false

    init(_ event: AuditEvent, in storage: UnsafeRawBufferPointer, maximumBytes: Int, maximumCount: Int) {
        var total = 0
        var declared: Int?
        var open: [UInt8]?
        func close(_ self_: inout ExecArguments, _ part: [UInt8]?) {
            guard let part else { return }
            self_.add(part, total: &total, maximumBytes: maximumBytes, maximumCount: maximumCount)
        }
        // Once the caps are reached nothing more is kept, so the scan stops there: an execve of
        // thousands of arguments (a `find | xargs` line) costs the table its first few only.
        var full = false
        records: for span in event.spans where span.type == .execve {
            var scanner = AuditFieldScanner(storage, range: span.range)
            while let field = scanner.next() {
                let key = UnsafeRawBufferPointer(rebasing: storage[field.key])
                let kind = ExecveArgumentKey.classify(key)
                if kind == .whole || kind == .length {
                    close(&self, open)
                    open = nil
                    if arguments.count >= maximumCount || total >= maximumBytes {
                        full = true
                        break records
                    }
                }
                switch kind {
                case .whole:
                    let bytes = EventText.bytes(field, in: storage) ?? []
                    add(bytes, total: &total, maximumBytes: maximumBytes, maximumCount: maximumCount)
                case .length:
                    open = []
                case .part:
                    // Parts past the cap are not decoded: an argument can run to 128 KiB.
                    if (open?.count ?? 0) + total <= maximumBytes {
                        open = EventText.appendBytes(field, in: storage, to: open ?? [])
                    } else {
                        truncated = true
                    }
                case .argc:
                    declared = EventText.decimal(UnsafeRawBufferPointer(rebasing: storage[field.value])).map(Int.init)
                case .other:
                    continue
                }
            }
            if scanner.truncation != nil { truncated = true }
        }
        if full {
            truncated = true
        } else {
            close(&self, open)
        }
        if let declared, declared > arguments.count { truncated = true }
    }

    private mutating func add(_ argument: [UInt8], total: inout Int, maximumBytes: Int, maximumCount: Int) {
        guard arguments.count < maximumCount, total < maximumBytes else {
            truncated = true
            return
        }
        let room = maximumBytes - total
        if argument.count > room {
            arguments.append(Array(argument.prefix(room)))
            total = maximumBytes
            truncated = true
        } else {
            arguments.append(argument)
            total += argument.count
        }
    }
}

/// The syscalls the table follows, classified once per architecture from the generated tables.
enum SyscallKind: UInt8 {
    case other, exec, fork, clone, clone3, exit, exitGroup
}

/// A per-architecture array from syscall number to ``SyscallKind``, built on the first event of
/// each architecture (a few hundred name look-ups, once) and then indexed without hashing.
struct SyscallClassifier {
    private var tables: [UInt32: [SyscallKind]] = [:]
    private var lastArch: UInt32 = 0
    private var lastTable: [SyscallKind] = []

    /// The numbers looked up per architecture: every Linux syscall of interest is below it.
    static let span = 1024

    mutating func kind(arch: UInt32, number: Int) -> SyscallKind {
        if arch != lastArch || lastTable.isEmpty {
            if tables[arch] == nil { tables[arch] = Self.build(arch: arch) }
            lastArch = arch
            lastTable = tables[arch] ?? []
        }
        guard number >= 0, number < lastTable.count else { return .other }
        return lastTable[number]
    }

    static func build(arch: UInt32) -> [SyscallKind] {
        var table = [SyscallKind](repeating: .other, count: span)
        for number in 0..<span {
            switch ArchitectureNames.syscallName(arch: arch, number: number) {
            case "execve", "execveat": table[number] = .exec
            case "fork", "vfork": table[number] = .fork
            case "clone": table[number] = .clone
            case "clone3": table[number] = .clone3
            case "exit": table[number] = .exit
            case "exit_group": table[number] = .exitGroup
            default: break
            }
        }
        return table
    }
}

extension EventText {
    /// True when the string value `field` holds exactly `bytes` (hex compared digit pair by pair),
    /// without decoding it into a new array.
    static func equals(_ field: AuditField, in storage: UnsafeRawBufferPointer, _ bytes: [UInt8]?) -> Bool {
        switch field.style {
        case .null, .unknown: return bytes == nil
        case .unquoted:
            guard let bytes, field.value.count == bytes.count * 2 else { return false }
            var index = field.value.lowerBound
            for byte in bytes {
                guard let high = AuditHex.digit(storage[index]), let low = AuditHex.digit(storage[index + 1]),
                    high << 4 | low == byte
                else { return false }
                index += 2
            }
            return true
        default:
            guard let bytes else { return false }
            return bytes.elementsEqual(UnsafeRawBufferPointer(rebasing: storage[field.value]))
        }
    }
}
