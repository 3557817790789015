public import AuditNetlink

/// One line of auditd's audit.log: `[node=NAME ]type=TYPE msg=audit(SEC.MS:SERIAL): BODY[\x1dTRANSLATIONS]`.
///
/// Every part is a byte range into the line, so parsing allocates nothing; the body and the
/// translations are then taken apart with ``AuditFieldScanner``, the same scanner as for a live
/// record, which is the same text without the `type=… msg=` prefix (the kernel sends the type in
/// the netlink header).
///
/// - `node=NAME ` is what auditd adds with `name_format`; the name runs to the first space.
/// - `type=` is auditd's name for the type (`SYSCALL`), or `UNKNOWN[1334]` for a number it has no
///   name for. A name this build does not know leaves ``type`` nil and is still parsed: a newer
///   auditd must not make its lines unreadable.
/// - `msg=audit(…): ` is the kernel header, parsed by ``AuditRecordHeader/parse(_:)``; the `:` may
///   be missing, as in the `DAEMON_CONFIG` records of auditd 2.x.
/// - With `log_format = ENRICHED`, auditd appends `\x1d` (ASCII group separator) and its
///   translations (`AUID="alice" SYSCALL=openat`). The first `\x1d` ends the body: the kernel writes
///   control bytes in untrusted values as hex, so a raw `\x1d` in the body is not expected.
public struct AuditLogLine: Hashable, Sendable {
    /// The node name's byte range (`node=` excluded), nil without a `node=` prefix.
    public var node: Range<Int>?
    /// The type name's byte range (`SYSCALL`, `UNKNOWN[1334]`).
    public var typeName: Range<Int>
    /// The message type, nil when this build does not know the name.
    public var type: AuditMessageType?
    /// The event identity from the `audit(…)` header.
    public var id: AuditEventID
    /// The body's byte range: after `): ` up to the `\x1d` or the end of the line (a trailing
    /// `\n`, `\r` or NUL excluded). Empty for `EOE`.
    public var body: Range<Int>
    /// The ENRICHED translations' byte range (after the `\x1d`), nil in a raw-format line.
    public var translations: Range<Int>?

    /// Creates a line value (normally obtained from ``parse(_:)``).
    public init(
        node: Range<Int>?, typeName: Range<Int>, type: AuditMessageType?, id: AuditEventID, body: Range<Int>,
        translations: Range<Int>?
    ) {
        self.node = node
        self.typeName = typeName
        self.type = type
        self.id = id
        self.body = body
        self.translations = translations
    }

    /// Parses one audit.log line (with or without its line terminator).
    ///
    /// - Throws: ``AuditLogLineError`` naming the problem, the byte offset and the line's first
    ///   bytes. Only the prefix and the header can fail: the body is scanned later, and a cut-short
    ///   body is reported by the scanner, not here.
    public static func parse(_ line: UnsafeRawBufferPointer) throws(AuditLogLineError) -> AuditLogLine {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D || line[end - 1] == 0 { end -= 1 }

        func fail(_ kind: AuditLogLineError.Kind, at offset: Int) -> AuditLogLineError {
            AuditLogLineError(kind: kind, offset: offset, line: line)
        }

        var bodyEnd = end
        var translations: Range<Int>?
        var i = firstIndex(of: 0x1D, in: line, 0..<end)
        if i < end {
            bodyEnd = i
            translations = (i + 1)..<end
        }

        i = 0
        var node: Range<Int>?
        if hasPrefix(line, at: 0, end: bodyEnd, "node=") {
            var space = 5
            while space < bodyEnd, line[space] != 0x20 { space += 1 }
            guard space < bodyEnd else { throw fail(.missingType, at: space) }
            node = 5..<space
            i = space + 1
        }

        guard hasPrefix(line, at: i, end: bodyEnd, "type=") else { throw fail(.missingType, at: i) }
        i += 5
        let nameStart = i
        while i < bodyEnd, line[i] > 0x20 { i += 1 }
        guard i > nameStart else { throw fail(.missingType, at: i) }
        let typeName = nameStart..<i

        while i < bodyEnd, line[i] == 0x20 { i += 1 }
        guard hasPrefix(line, at: i, end: bodyEnd, "msg=") else { throw fail(.missingMessage, at: i) }
        i += 4

        let header: AuditRecordHeader
        do {
            header = try AuditRecordHeader.parse(
                UnsafeRawBufferPointer(rebasing: line[i..<bodyEnd]), colonOptional: true)
        } catch {
            throw fail(.header(error.kind), at: i + error.offset)
        }
        return AuditLogLine(
            node: node, typeName: typeName, type: messageType(line, typeName), id: header.id,
            body: (i + header.body.lowerBound)..<(i + header.body.upperBound), translations: translations)
    }

    /// Parses a line held in an array; see ``parse(_:)-(UnsafeRawBufferPointer)``.
    public static func parse(_ line: [UInt8]) throws(AuditLogLineError) -> AuditLogLine {
        let result: Result<AuditLogLine, AuditLogLineError> = line.withUnsafeBytes { raw in
            do throws(AuditLogLineError) {
                return .success(try parse(raw))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// A scanner over the body's fields; `line` is the buffer this value was parsed from.
    public func fields(in line: UnsafeRawBufferPointer) -> AuditFieldScanner {
        AuditFieldScanner(line, range: body)
    }

    /// A scanner over the ENRICHED translations (empty for a raw-format line).
    public func translationFields(in line: UnsafeRawBufferPointer) -> AuditFieldScanner {
        AuditFieldScanner(line, range: translations ?? body.upperBound..<body.upperBound)
    }

    private static func hasPrefix(_ line: UnsafeRawBufferPointer, at offset: Int, end: Int, _ text: StaticString)
        -> Bool
    {
        let count = text.utf8CodeUnitCount
        return offset + count <= end && equalBytes(line, offset..<(offset + count), text)
    }

    /// The type for a name, without building a String: `UNKNOWN[n]` by its number, a known name
    /// through a table keyed by a hash of the name and checked byte for byte.
    static func messageType(_ line: UnsafeRawBufferPointer, _ name: Range<Int>) -> AuditMessageType? {
        if name.count > 9, hasPrefix(line, at: name.lowerBound, end: name.upperBound, "UNKNOWN["),
            line[name.upperBound - 1] == 0x5D
        {
            var value: UInt32 = 0
            for i in (name.lowerBound + 8)..<(name.upperBound - 1) {
                let digit = line[i] &- 0x30
                guard digit < 10, value <= UInt32(UInt16.max) else { return nil }
                value = value * 10 + UInt32(digit)
            }
            return value <= UInt32(UInt16.max) ? AuditMessageType(UInt16(value)) : nil
        }
        guard let entry = typesByHash[nameHash(line, name)], equalBytes(line, name, entry.name) else { return nil }
        return AuditMessageType(entry.value)
    }

    /// FNV-1a over the name's bytes.
    private static func nameHash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    private static func nameHash(_ line: UnsafeRawBufferPointer, _ name: Range<Int>) -> UInt64 {
        nameHash(UnsafeRawBufferPointer(rebasing: line[name]))
    }

    /// Known names by hash, as auditd writes them (upper case). The first value of a name wins,
    /// as in ``AuditMessageType/init(name:)``. Two names with the same hash would both be left out
    /// (and read as unknown); a unit test rules that out for the names of this build.
    static let typesByHash: [UInt64: (value: UInt16, name: String)] = {
        var table: [UInt64: (value: UInt16, name: String)] = [:]
        var collided: Set<UInt64> = []
        for (value, name) in AuditMessageType.names {
            let hash = nameHash(name.utf8)
            if let other = table[hash] {
                if other.name != name { collided.insert(hash) }
                continue
            }
            table[hash] = (value, name)
        }
        for hash in collided { table[hash] = nil }
        return table
    }()
}

/// An audit.log line whose prefix or `audit(…)` header cannot be read.
///
/// Carries the first bytes of the line so that a diagnostic shows what was there.
public struct AuditLogLineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which part of the line is wrong.
    public enum Kind: Hashable, Sendable {
        /// No `type=NAME` at the start (after an optional `node=NAME `).
        case missingType
        /// No `msg=` after the type.
        case missingMessage
        /// The `audit(…)` header after `msg=` is malformed (go-libaudit's test logs hold one such
        /// line on purpose: `type=UNKNOWN[1329] msg=?`).
        case header(AuditRecordHeaderError.Kind)
    }

    /// Which part of the line is wrong.
    public var kind: Kind
    /// The byte offset in the line where parsing stopped.
    public var offset: Int
    /// The line's length in bytes.
    public var lineLength: Int
    /// The line's first bytes (at most ``AuditRecordHeaderError/prefixLimit``).
    public var prefix: [UInt8]

    /// Creates an error, keeping at most ``AuditRecordHeaderError/prefixLimit`` bytes of the line.
    public init(kind: Kind, offset: Int, line: UnsafeRawBufferPointer) {
        self.kind = kind
        self.offset = offset
        self.lineLength = line.count
        self.prefix = Array(line.prefix(AuditRecordHeaderError.prefixLimit))
    }

    public var description: String {
        let what: String
        switch kind {
        case .missingType: what = "lacks \"type=NAME\""
        case .missingMessage: what = "lacks \"msg=\" after the type"
        case .header(let header):
            what = "has a bad audit(…) header (\(AuditRecordHeaderError.describe(header)))"
        }
        return "audit.log line \(what) \(located(offset, of: lineLength, prefix))"
    }
}
