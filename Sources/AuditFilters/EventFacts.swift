internal import AuditEvents
internal import AuditNetlink

/// The record fields a rule set can look at, as bits.
struct FactSet: OptionSet, Hashable, Sendable {
    var rawValue: UInt16
    static let key = FactSet(rawValue: 1 << 0)
    static let syscall = FactSet(rawValue: 1 << 1)
    static let arch = FactSet(rawValue: 1 << 2)
    static let success = FactSet(rawValue: 1 << 3)
    static let uid = FactSet(rawValue: 1 << 4)
    static let auid = FactSet(rawValue: 1 << 5)
    static let euid = FactSet(rawValue: 1 << 6)
    static let exe = FactSet(rawValue: 1 << 7)
    static let comm = FactSet(rawValue: 1 << 8)
    /// `res=` of user-space records: stands in for `success` when no `SYSCALL` record gives one.
    static let res = FactSet(rawValue: 1 << 9)
    static let saddr = FactSet(rawValue: 1 << 10)

    /// Fields that may come from a nested `msg='…'` (user-space text) when the record has no
    /// outer one: auditd's user-space records carry `exe=`, `comm=` and `res=` only there. The
    /// ids and the key never do: a nested `uid=` is what a program claims, not who it is.
    static let nestable: FactSet = [.exe, .comm, .res]
}

/// A string value's place in the event buffer and how it is written.
struct ValueRef {
    var range: Range<Int> = 0..<0
    /// Upper-case hex without quotes (the kernel's form for a value with a space, quote or
    /// control byte): compared after decoding.
    var isHex = false
    /// `(null)`, `?` or an empty value: no value.
    var isAbsent = true

    /// The decoded length.
    var count: Int { isHex ? range.count / 2 : range.count }

    /// The decoded byte at `index` (0-based).
    @inline(__always)
    func byte(_ buffer: UnsafeRawBufferPointer, _ index: Int) -> UInt8 {
        if isHex {
            let at = range.lowerBound + 2 * index
            return (hexDigit(buffer[at]) ?? 0) << 4 | (hexDigit(buffer[at + 1]) ?? 0)
        }
        return buffer[range.lowerBound + index]
    }

    /// True when the decoded bytes `segment` (decoded positions) match `pattern`.
    @inline(__always)
    func matches(_ pattern: BytePattern, _ buffer: UnsafeRawBufferPointer, segment: Range<Int>) -> Bool {
        let length = pattern.bytes.count
        guard pattern.isPrefix ? segment.count >= length : segment.count == length else { return false }
        var i = 0
        while i < length {
            if byte(buffer, segment.lowerBound + i) != pattern.bytes[i] { return false }
            i += 1
        }
        return true
    }

    /// Classifies a string field (exe, comm, key): quoted as is, unquoted as hex when it is
    /// even-length upper- or lower-case hex digits, `(null)`, `?` and empty as absent.
    static func of(_ field: AuditField, in buffer: UnsafeRawBufferPointer) -> ValueRef {
        switch field.style {
        case .quoted, .braced, .container:
            return ValueRef(range: field.value, isHex: false, isAbsent: false)
        case .null, .unknown:
            return ValueRef(range: field.value, isHex: false, isAbsent: true)
        case .unquoted:
            if field.value.isEmpty { return ValueRef(range: field.value, isHex: false, isAbsent: true) }
            var hex = field.value.count % 2 == 0
            if hex {
                for i in field.value where hexDigit(buffer[i]) == nil {
                    hex = false
                    break
                }
            }
            return ValueRef(range: field.value, isHex: hex, isAbsent: false)
        }
    }
}

/// What the rules need from one event, collected in one pass over its records: each record's
/// fields are scanned at most once, and scanning stops when everything needed is found.
///
/// The first record that carries a field gives it (the `SYSCALL` record, first in a kernel
/// event, gives nearly all). Only outer fields count, except for ``FactSet/nestable`` ones.
/// Records that never carry these fields (`EXECVE`, `PATH`, `CWD`, `PROCTITLE`) are not scanned;
/// `saddr` comes from the first `SOCKADDR` record.
struct EventFacts {
    var found: FactSet = []
    var key = ValueRef()
    var exe = ValueRef()
    var comm = ValueRef()
    var syscall = 0
    var arch: UInt32 = 0
    var success = false
    var res = false
    var uid: UInt32 = 0
    var auid: UInt32 = 0
    var euid: UInt32 = 0
    var saddr = SocketAddress(family: .other, port: 0, address: 0)

    /// Collects `needs` from `event`, whose storage is `buffer`.
    mutating func collect(_ event: AuditEvent, _ buffer: UnsafeRawBufferPointer, needs: FactSet) {
        found = []
        var wanted = needs
        if wanted.contains(.success) { wanted.insert(.res) }
        let wantsSaddr = wanted.contains(.saddr)
        wanted.remove(.saddr)
        for span in event.spans {
            switch span.type {
            case .sockaddr:
                if wantsSaddr, !found.contains(.saddr) { collectAddress(buffer, span.range) }
            case .execve, .path, .cwd, .proctitle:
                continue
            default:
                if !isComplete(wanted) { collectFields(buffer, span.range, wanted: wanted) }
            }
            if isComplete(wanted), !wantsSaddr || found.contains(.saddr) { break }
        }
        if !found.contains(.success), found.contains(.res) {
            success = res
            found.insert(.success)
        }
    }

    /// Everything wanted is found; `success` counts as found once `res` is.
    private func isComplete(_ wanted: FactSet) -> Bool {
        var missing = wanted.subtracting(found)
        if found.contains(.success) || found.contains(.res) { missing.subtract([.success, .res]) }
        return missing.isEmpty
    }

    private mutating func collectFields(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, wanted: FactSet) {
        var scanner = AuditFieldScanner(buffer, range: range)
        while let field = scanner.next() {
            let slot = Self.slot(buffer, field.key)
            guard !slot.isEmpty, wanted.contains(slot), !found.contains(slot) else { continue }
            if field.isNested, !FactSet.nestable.contains(slot) { continue }
            switch slot {
            case .key: key = ValueRef.of(field, in: buffer)
            case .exe: exe = ValueRef.of(field, in: buffer)
            case .comm: comm = ValueRef.of(field, in: buffer)
            case .syscall:
                guard let value = Self.decimal(buffer, field.value) else { continue }
                syscall = Int(value)
            case .arch:
                guard let value = Self.hex32(buffer, field.value) else { continue }
                arch = value
            case .success:
                guard let value = Self.yesNo(buffer, field.value) else { continue }
                success = value
            case .res:
                guard let value = Self.yesNo(buffer, field.value) else { continue }
                res = value
            case .uid, .auid, .euid:
                guard let value = Self.decimal(buffer, field.value), value <= UInt64(UInt32.max) else { continue }
                if slot == .uid {
                    uid = UInt32(value)
                } else if slot == .auid {
                    auid = UInt32(value)
                } else {
                    euid = UInt32(value)
                }
            default: continue
            }
            found.insert(slot)
        }
    }

    private mutating func collectAddress(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
        var scanner = AuditFieldScanner(buffer, range: range)
        while let field = scanner.next() {
            guard !field.isNested, field.key.count == 5, Self.slot(buffer, field.key) == .saddr else { continue }
            if let address = SocketAddress.decode(hex: buffer, field.value) {
                saddr = address
                found.insert(.saddr)
            }
            return
        }
    }

    // MARK: Field names and values

    /// Which fact a key names, or `[]`: a switch on the length and bytes, no hashing.
    @inline(__always)
    static func slot(_ b: UnsafeRawBufferPointer, _ key: Range<Int>) -> FactSet {
        let s = key.lowerBound
        switch key.count {
        case 3:
            switch (b[s], b[s + 1], b[s + 2]) {
            case (0x6B, 0x65, 0x79): return .key  // key
            case (0x75, 0x69, 0x64): return .uid  // uid
            case (0x65, 0x78, 0x65): return .exe  // exe
            case (0x72, 0x65, 0x73): return .res  // res
            default: return []
            }
        case 4:
            switch (b[s], b[s + 1], b[s + 2], b[s + 3]) {
            case (0x61, 0x72, 0x63, 0x68): return .arch  // arch
            case (0x61, 0x75, 0x69, 0x64): return .auid  // auid
            case (0x65, 0x75, 0x69, 0x64): return .euid  // euid
            case (0x63, 0x6F, 0x6D, 0x6D): return .comm  // comm
            default: return []
            }
        case 5:
            return matches(b, s, "saddr") ? .saddr : []
        case 7:
            if matches(b, s, "syscall") { return .syscall }
            if matches(b, s, "success") { return .success }
            return []
        default:
            return []
        }
    }

    @inline(__always)
    private static func matches(_ b: UnsafeRawBufferPointer, _ start: Int, _ text: StaticString) -> Bool {
        let literal = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount where b[start + i] != literal[i] { return false }
        return true
    }

    static func decimal(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64? {
        guard !range.isEmpty, range.count <= 19 else { return nil }
        var value: UInt64 = 0
        for i in range {
            let digit = b[i] &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ UInt64(digit)
        }
        return value
    }

    static func hex32(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt32? {
        guard !range.isEmpty, range.count <= 8 else { return nil }
        var value: UInt32 = 0
        for i in range {
            guard let digit = hexDigit(b[i]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// `yes`, `success`, `1` → true; `no`, `failed`, `0` → false (SYSCALL's `success=`, user-space
    /// `res=`).
    static func yesNo(_ b: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool? {
        let s = range.lowerBound
        switch range.count {
        case 1: return b[s] == 0x31 ? true : b[s] == 0x30 ? false : nil
        case 2: return matches(b, s, "no") ? false : nil
        case 3: return matches(b, s, "yes") ? true : nil
        case 6: return matches(b, s, "failed") ? false : nil
        case 7: return matches(b, s, "success") ? true : nil
        default: return nil
        }
    }
}
