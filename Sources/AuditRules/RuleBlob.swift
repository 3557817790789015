/// Why a rule could not be encoded into `struct audit_rule_data`.
public struct RuleEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// The index of the offending condition, when one is at fault.
    public var fieldIndex: Int?

    /// Makes an encoding error.
    public init(_ message: String, fieldIndex: Int? = nil) {
        self.message = message
        self.fieldIndex = fieldIndex
    }

    /// The message, with the field index when there is one.
    public var description: String {
        if let fieldIndex { return "field \(fieldIndex): \(message)" }
        return message
    }
}

/// Why a kernel rule blob could not be decoded.
public struct RuleDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the blob.
    public var message: String
    /// The blob's length in bytes.
    public var length: Int

    /// Makes a decoding error.
    public init(_ message: String, length: Int) {
        self.message = message
        self.length = length
    }

    /// The message and the blob length.
    public var description: String { "\(message) (blob of \(length) bytes)" }
}

extension AuditRule {
    /// The rule as the payload of `AUDIT_ADD_RULE` / `AUDIT_DEL_RULE`: the 1040-byte fixed part of
    /// `struct audit_rule_data` in host (little-endian) order, then `buf` with the string values in
    /// field order.
    ///
    /// The bytes are exactly what auditctl sends for the same rule. The corresponding kernel
    /// structure is `struct audit_rule_data`.
    public func encoded() throws(RuleEncodingError) -> [UInt8] {
        guard fields.count <= RuleLimits.maxKernelFields else {
            throw RuleEncodingError("\(fields.count) fields; the kernel takes at most \(RuleLimits.maxKernelFields)")
        }
        var stringBytes: [UInt8] = []
        var values: [UInt32] = []
        values.reserveCapacity(fields.count)
        for (index, condition) in fields.enumerated() {
            switch condition.value {
            case .number(let number):
                guard !condition.field.isString else {
                    throw RuleEncodingError("\(condition.field) needs a string value", fieldIndex: index)
                }
                values.append(number)
            case .string(let bytes):
                guard condition.field.isString else {
                    throw RuleEncodingError("\(condition.field) needs a numeric value", fieldIndex: index)
                }
                guard bytes.count <= RuleLimits.maxStringLength else {
                    throw RuleEncodingError(
                        "string of \(bytes.count) bytes; at most \(RuleLimits.maxStringLength)", fieldIndex: index)
                }
                values.append(UInt32(bytes.count))
                stringBytes.append(contentsOf: bytes)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(RuleLimits.fixedSize + stringBytes.count)
        out.appendLittleEndian(list.rawValue | (prepend ? 0x10 : 0))
        out.appendLittleEndian(action.rawValue)
        out.appendLittleEndian(UInt32(fields.count))
        for word in syscalls.words { out.appendLittleEndian(word) }
        for index in 0..<RuleLimits.maxKernelFields {
            out.appendLittleEndian(index < fields.count ? fields[index].field.rawValue : 0)
        }
        for index in 0..<RuleLimits.maxKernelFields {
            out.appendLittleEndian(index < values.count ? values[index] : 0)
        }
        for index in 0..<RuleLimits.maxKernelFields {
            out.appendLittleEndian(index < fields.count ? fields[index].op.rawValue : 0)
        }
        out.appendLittleEndian(UInt32(stringBytes.count))
        out.append(contentsOf: stringBytes)
        return out
    }

    /// Decodes a rule blob as the kernel returns it for `AUDIT_LIST_RULES` (or as auditctl sends it).
    ///
    /// Every length is checked against the blob: a short, truncated or inconsistent blob gives a
    /// ``RuleDecodingError``, never a crash. Bytes after `buf` (netlink alignment padding) are ignored.
    public init(kernelBlob blob: some Collection<UInt8>) throws(RuleDecodingError) {
        let bytes = Array(blob)
        let length = bytes.count
        guard length >= RuleLimits.fixedSize else {
            throw RuleDecodingError(
                "shorter than the \(RuleLimits.fixedSize)-byte audit_rule_data header", length: length)
        }
        func word(_ index: Int) -> UInt32 {
            let offset = index * 4
            return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }
        let flags = word(0)
        let action = word(1)
        let fieldCount = Int(word(2))
        guard fieldCount <= RuleLimits.maxKernelFields else {
            throw RuleDecodingError("field_count \(fieldCount) exceeds \(RuleLimits.maxKernelFields)", length: length)
        }
        let masks = (0..<64).map { word(3 + $0) }
        let bufferLength = Int(word(259))
        guard bufferLength <= length - RuleLimits.fixedSize else {
            throw RuleDecodingError(
                "buflen \(bufferLength) exceeds the \(length - RuleLimits.fixedSize) bytes after the header",
                length: length)
        }
        var conditions: [RuleCondition] = []
        conditions.reserveCapacity(fieldCount)
        var offset = RuleLimits.fixedSize
        let end = RuleLimits.fixedSize + bufferLength
        for index in 0..<fieldCount {
            let field = RuleField(rawValue: word(67 + index))
            let value = word(131 + index)
            let op = RuleOperator(rawValue: word(195 + index))
            if field.isString {
                let count = Int(value)
                guard count <= end - offset else {
                    throw RuleDecodingError(
                        "field \(index) (\(field)) claims \(count) string bytes, only \(end - offset) left in buf",
                        length: length)
                }
                conditions.append(
                    RuleCondition(field: field, op: op, value: .string(Array(bytes[offset..<(offset + count)]))))
                offset += count
            } else {
                conditions.append(RuleCondition(field: field, op: op, value: .number(value)))
            }
        }
        self.init(
            list: RuleList(rawValue: flags & ~UInt32(0x10)), action: RuleAction(rawValue: action),
            prepend: flags & 0x10 != 0,
            syscalls: SyscallMask(words: masks), fields: conditions)
    }
}

extension [UInt8] {
    mutating func appendLittleEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }
}
