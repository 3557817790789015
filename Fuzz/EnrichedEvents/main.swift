// libFuzzer target: events of arbitrary records through the enriched (laurel-style) encoder.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). The input is lines:
// the first names the record types, one byte per record, in turn (S SYSCALL, E EXECVE, P PATH,
// T PROCTITLE, A SOCKADDR, C CWD, U USER, L LOGIN, Z EOE; any other byte an unknown type, 1399
// when even, 2999 when odd; an `N` anywhere in it: the encoder writes a NODE); each further line
// is one record body. The encoded event must be exactly one line of strict JSON (checked by the
// small validator below: RFC 8259 grammar, valid UTF-8, no control bytes), an object whose first
// member is `ID`; and when the EXECVE records hold only `aN=`, `aN_len=` and `aN[i]=` arguments
// (quoted or bare, plus `argc=`), `EXECVE.ARGV`, percent-decoded, is exactly the arguments
// decoded from the records (parts joined, hex decoded). A Swift trap is a crash to libFuzzer.
// The same event also goes through the ECS encoder (with `include_raw` and a process context when
// the type line has an `R`), which must write one line of strict JSON, an object.
// Seeds (Fuzz/EnrichedEvents/seeds.sh) are the events of the corpus's logs in this layout.
import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditProcesses

/// The encoders live across inputs, as the daemon's does across events (scratch reuse).
nonisolated(unsafe) var plainEncoder = EnrichedEventEncoder(
    users: UserDirectory(path: "/etc/passwd", refreshInterval: .seconds(3600)),
    groups: UserDirectory(path: "/etc/group", refreshInterval: .seconds(3600)))
nonisolated(unsafe) var nodeEncoder = EnrichedEventEncoder(
    hostname: "fuzz%host\u{1}\u{202E}", users: UserDirectory(path: "/nonexistent"),
    groups: UserDirectory(path: "/nonexistent"))
nonisolated(unsafe) var writer = JSONWriter()
/// The ECS encoder on the same events (with the records and a process context when the type line
/// has an `R`): one line of strict JSON that is an object.
nonisolated(unsafe) var ecsEncoder = EcsEventEncoder(
    hostname: "fuzz-host", users: UserDirectory(path: "/etc/passwd", refreshInterval: .seconds(3600)),
    groups: UserDirectory(path: "/etc/group", refreshInterval: .seconds(3600)))
nonisolated(unsafe) var ecsRawEncoder = EcsEventEncoder(
    users: UserDirectory(path: "/nonexistent"), groups: UserDirectory(path: "/nonexistent"),
    options: EcsEventEncoder.Options(includeRaw: true))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnrichedEvents(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let lines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
    guard let typeLine = lines.first, lines.count > 1 else { return 0 }
    let letters = Array(typeLine)

    var event = AuditEvent(
        id: AuditEventID(seconds: 1_700_000_000, milliseconds: UInt16(size % 1200), serial: UInt32(size)))
    for (index, body) in lines.dropFirst().enumerated() {
        let letter = letters.isEmpty ? 0 : letters[index % letters.count]
        event.append(type: recordType(letter), body: UnsafeRawBufferPointer(rebasing: body))
    }

    writer.removeAll()
    if letters.contains(UInt8(ascii: "N")) {
        nodeEncoder.encode(event, into: &writer)
    } else {
        plainEncoder.encode(event, into: &writer)
    }
    let line = Array(writer.bytes)
    precondition(line.last == 0x0A, "the line does not end in a newline")
    precondition(line.firstIndex(of: 0x0A) == line.count - 1, "more than one line")
    let parsed = line.withUnsafeBytes { bytes in
        Result { () throws(JSONError) in
            try JSONValidator.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 1)]))
        }
    }
    let json: JSON
    switch parsed {
    case .success(let value): json = value
    case .failure(let error): preconditionFailure("invalid JSON at byte \(error.offset): \(error.reason)")
    }
    guard case .object(let members) = json, members.first?.0 == Array("ID".utf8) else {
        preconditionFailure("not an object that starts with ID")
    }

    writer.removeAll()
    if letters.contains(UInt8(ascii: "R")) {
        let context = ProcessContext(
            process: ProcessInfo(pid: 7, ppid: 1, executable: Array(typeLine), containerID: "c"),
            parent: ProcessInfo(pid: 1, command: Array(typeLine)))
        ecsRawEncoder.encode(event, context: context, into: &writer)
    } else {
        ecsEncoder.encode(event, into: &writer)
    }
    let ecsLine = Array(writer.bytes)
    precondition(ecsLine.last == 0x0A && ecsLine.firstIndex(of: 0x0A) == ecsLine.count - 1, "ECS: not one line")
    let ecsParsed = ecsLine.withUnsafeBytes { bytes in
        Result { () throws(JSONError) in
            try JSONValidator.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 1)]))
        }
    }
    switch ecsParsed {
    case .success(.object): break
    case .success: preconditionFailure("ECS: not an object")
    case .failure(let error): preconditionFailure("ECS: invalid JSON at byte \(error.offset): \(error.reason)")
    }

    if let expected = expectedArguments(event) {
        let execve = members.first { $0.0 == Array("EXECVE".utf8) }?.1
        let argv: [JSON]
        if case .object(let execveMembers)? = execve,
            let value = execveMembers.first(where: { $0.0 == Array("ARGV".utf8) })?.1
        {
            guard case .array(let elements) = value else { preconditionFailure("EXECVE.ARGV is not an array") }
            argv = elements
        } else {
            argv = []
        }
        let decoded = argv.map { element -> [UInt8] in
            guard case .string(let bytes) = element, let plain = percentDecoded(bytes) else {
                preconditionFailure("an ARGV element that is not a percent-encoded string")
            }
            return plain
        }
        precondition(decoded == expected, "EXECVE.ARGV differs from the arguments of the records")
    }
    return 0
}

func recordType(_ letter: UInt8) -> AuditMessageType {
    switch letter {
    case UInt8(ascii: "S"): .syscall
    case UInt8(ascii: "E"): .execve
    case UInt8(ascii: "P"): .path
    case UInt8(ascii: "T"): .proctitle
    case UInt8(ascii: "A"): .sockaddr
    case UInt8(ascii: "C"): .cwd
    case UInt8(ascii: "U"): .user
    case UInt8(ascii: "L"): .login
    case UInt8(ascii: "Z"): .endOfEvent
    default: AuditMessageType(letter % 2 == 0 ? 1399 : 2999)
    }
}

// MARK: - EXECVE reference

/// The arguments of the event's EXECVE records, decoded by the simplest reading of the kernel's
/// format, or nil when a record holds anything but arguments and `argc` (then there is no claim).
func expectedArguments(_ event: AuditEvent) -> [[UInt8]]? {
    var arguments: [[UInt8]] = []
    var parts: [UInt8]?
    var sawExecve = false
    for span in event.spans where span.type == .execve {
        sawExecve = true
        let ok = event.storage.withUnsafeBytes { storage -> Bool in
            var end = span.range.lowerBound
            while end < span.range.upperBound, storage[end] != 0x1D { end += 1 }
            var scanner = AuditFieldScanner(storage, range: span.range.lowerBound..<end)
            while let field = scanner.next() {
                guard !field.isNested else { return false }
                let key = Array(storage[field.key])
                let value = Array(storage[field.value])
                if key == Array("argc".utf8) { continue }
                guard field.style == .quoted || field.style == .unquoted, let kind = argumentKind(key) else {
                    return false
                }
                let bytes = field.style == .unquoted ? (hexDecoded(value) ?? value) : value
                switch kind {
                case .plain:
                    if let open = parts { arguments.append(open) }
                    parts = nil
                    arguments.append(bytes)
                case .length:
                    if let open = parts { arguments.append(open) }
                    parts = []
                case .part:
                    parts = (parts ?? []) + bytes
                }
            }
            return scanner.truncation == nil
        }
        guard ok else { return nil }
    }
    guard sawExecve else { return nil }
    if let open = parts { arguments.append(open) }
    return arguments
}

enum ArgumentKind { case plain, length, part }

/// `a7` plain, `a7_len` a length, `a7[0]` a part; nil for anything else.
func argumentKind(_ key: [UInt8]) -> ArgumentKind? {
    guard key.first == UInt8(ascii: "a") else { return nil }
    var index = 1
    while index < key.count, (0x30...0x39).contains(key[index]) { index += 1 }
    guard index > 1 else { return nil }
    let rest = key[index...]
    if rest.isEmpty { return .plain }
    if rest.elementsEqual("_len".utf8) { return .length }
    if rest.first == UInt8(ascii: "["), rest.last == UInt8(ascii: "]"), rest.count > 2,
        rest.dropFirst().dropLast().allSatisfy({ (0x30...0x39).contains($0) })
    {
        return .part
    }
    return nil
}

/// The bytes of a non-empty, even run of hex digits; nil for anything else.
func hexDecoded(_ text: [UInt8]) -> [UInt8]? {
    guard !text.isEmpty, text.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    var index = 0
    while index < text.count {
        guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else { return nil }
        bytes.append(high << 4 | low)
        index += 2
    }
    return bytes
}

func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}

/// `%xx` decoded; nil when a `%` is not followed by two hex digits.
func percentDecoded(_ text: [UInt8]) -> [UInt8]? {
    var bytes: [UInt8] = []
    var index = 0
    while index < text.count {
        if text[index] == UInt8(ascii: "%") {
            guard index + 2 < text.count, let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2])
            else { return nil }
            bytes.append(high << 4 | low)
            index += 3
        } else {
            bytes.append(text[index])
            index += 1
        }
    }
    return bytes
}

// MARK: - A strict JSON reader

indirect enum JSON {
    case object([([UInt8], JSON)])
    case array([JSON])
    /// The string's bytes, escapes resolved (UTF-8).
    case string([UInt8])
    case number
    case literal
}

struct JSONError: Error {
    var offset: Int
    var reason: String
}

/// RFC 8259, strictly: one value with optional white space around it, strings of valid UTF-8
/// without raw control bytes, `\u` escapes with paired surrogates, numbers by the grammar.
struct JSONValidator {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    var depth = 0

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSON {
        var parser = JSONValidator(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.fail("bytes after the value") }
        return value
    }

    func fail(_ reason: String) -> JSONError { JSONError(offset: index, reason: reason) }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard peek == byte else { throw fail("expected \(Character(Unicode.Scalar(byte)))") }
        index += 1
    }

    mutating func value() throws(JSONError) -> JSON {
        guard let byte = peek else { throw fail("a value is missing") }
        switch byte {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth < 64 else { throw fail("nested too deep") }
            defer { depth -= 1 }
            index += 1
            var members: [([UInt8], JSON)] = []
            skipSpace()
            if peek == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw fail("a member name must be a string") }
                let name = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                members.append((name, try value()))
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return .object(members)
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth < 64 else { throw fail("nested too deep") }
            defer { depth -= 1 }
            index += 1
            var elements: [JSON] = []
            skipSpace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipSpace()
                elements.append(try value())
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        case UInt8(ascii: "-"), 0x30...0x39:
            try number()
            return .number
        default:
            throw fail("not the start of a value")
        }
        return .literal
    }

    mutating func word(_ text: StaticString) throws(JSONError) {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("a cut literal") }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] {
            throw fail("not a literal")
        }
        index += count
    }

    mutating func digits() throws(JSONError) {
        guard let byte = peek, (0x30...0x39).contains(byte) else { throw fail("a digit is missing") }
        while let byte = peek, (0x30...0x39).contains(byte) { index += 1 }
    }

    mutating func number() throws(JSONError) {
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            try digits()
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            try digits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("a cut \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = hexValue(bytes[index]) else { throw fail("a \\u escape without 4 hex digits") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func string() throws(JSONError) -> [UInt8] {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw fail("an unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return out
            case 0..<0x20:
                throw fail("a control byte in a string")
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = peek else { throw fail("a cut escape") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                        else { throw fail("a high surrogate without its low half") }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw fail("a high surrogate without its low half")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("a lone low surrogate")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    throw fail("an unknown escape")
                }
            case 0x20..<0x80:
                out.append(byte)
                index += 1
            default:
                let length = utf8Length(at: index)
                guard length > 0 else { throw fail("a string that is not valid UTF-8") }
                out.append(contentsOf: bytes[index..<(index + length)])
                index += length
            }
        }
    }

    /// The length of the valid UTF-8 sequence (of 2 to 4 bytes) at `start`, or 0 (Unicode's
    /// table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
    func utf8Length(at start: Int) -> Int {
        let lead = bytes[start]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 0
        }
        guard start + length <= bytes.count else { return 0 }
        guard (low...high).contains(bytes[start + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[start + offset]) { return 0 }
        return length
    }
}
