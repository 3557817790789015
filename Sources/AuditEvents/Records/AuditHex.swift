/// The hex form the kernel uses for strings it does not trust.
///
/// `audit_log_untrustedstring` writes a string in double quotes when it can, and as hex without
/// quotes when it holds a `"`, a space, a control byte or a byte from 0x7F up (`proctitle=`,
/// EXECVE `a0=`, and `comm=`, `exe=`, `name=`, `cwd=`… when they hold such bytes). The field
/// scanner reports such a value as ``AuditFieldStyle/unquoted``; whether an unquoted value of a
/// given key is hex is known by the key's name, so decoding is left to whoever knows it.
public enum AuditHex {
    /// Appends the bytes that `hex` encodes to `output`.
    ///
    /// Digits may be upper or lower case (the kernel writes upper case). Nothing is appended when
    /// the input is rejected.
    ///
    /// - Throws: ``AuditHexError`` for an odd number of digits or a byte that is not a digit.
    public static func decode(_ hex: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(AuditHexError) {
        guard hex.count % 2 == 0 else { throw AuditHexError(kind: .oddLength, offset: hex.count, input: hex) }
        let start = output.count
        output.reserveCapacity(start + hex.count / 2)
        var i = 0
        while i < hex.count {
            guard let high = digit(hex[i]) else {
                output.removeSubrange(start...)
                throw AuditHexError(kind: .notHex, offset: i, input: hex)
            }
            guard let low = digit(hex[i + 1]) else {
                output.removeSubrange(start...)
                throw AuditHexError(kind: .notHex, offset: i + 1, input: hex)
            }
            output.append(high << 4 | low)
            i += 2
        }
    }

    /// The bytes that `hex` encodes; see ``decode(_:into:)``.
    public static func decode(_ hex: UnsafeRawBufferPointer) throws(AuditHexError) -> [UInt8] {
        var output: [UInt8] = []
        try decode(hex, into: &output)
        return output
    }

    /// Appends `bytes` as upper-case hex digits, the kernel's form.
    public static func encode(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        for byte in bytes {
            output.append(upperDigits[Int(byte >> 4)])
            output.append(upperDigits[Int(byte & 0xF)])
        }
    }

    private static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// The value of one hex digit, either case, or nil.
    @inlinable @inline(__always)
    public static func digit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte &- 0x30
        case 0x41...0x46: byte &- 0x41 &+ 10
        case 0x61...0x66: byte &- 0x61 &+ 10
        default: nil
        }
    }
}

/// A value that is not valid hex. Carries the input's first bytes so that a diagnostic shows it.
public struct AuditHexError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// The number of digits is odd (the offset is the input's length).
        case oddLength
        /// The byte at the offset is not a hex digit.
        case notHex
    }

    /// What is wrong.
    public var kind: Kind
    /// The byte offset in the input.
    public var offset: Int
    /// The input's length in bytes.
    public var inputLength: Int
    /// The input's first bytes (at most ``AuditRecordHeaderError/prefixLimit``).
    public var prefix: [UInt8]

    /// Creates an error, keeping at most ``AuditRecordHeaderError/prefixLimit`` bytes of the input.
    public init(kind: Kind, offset: Int, input: UnsafeRawBufferPointer) {
        self.kind = kind
        self.offset = offset
        self.inputLength = input.count
        self.prefix = Array(input.prefix(AuditRecordHeaderError.prefixLimit))
    }

    public var description: String {
        let what = kind == .oddLength ? "has an odd number of digits" : "has a non-hex byte"
        return "hex value \(what) \(located(offset, of: inputLength, prefix))"
    }
}
