internal import Glibc

/// A network and/or a port to compare with a `SOCKADDR` record's address.
///
/// Written `10.0.0.0/8`, `192.0.2.7` (a /32), `10.0.0.0/8:443`, `fe80::/10`, `[2001:db8::/32]:443`,
/// `[::1]:53`, or `:22` (the port alone, any inet or inet6 address). An IPv4 network also matches
/// the IPv4-mapped IPv6 form of its addresses (`::ffff:10.1.2.3`), as a dual-stack socket reports
/// them.
package struct AddressPattern: Hashable, Sendable, CustomStringConvertible {
    /// Which family the network belongs to; nil for a port alone.
    package var family: Family?
    /// The network's address bits, left-aligned in 128 bits (an IPv4 address in the top 32).
    package var network: UInt128
    /// The prefix length (0…32 for IPv4, 0…128 for IPv6).
    package var prefixLength: Int
    /// The port, or nil for any.
    package var port: UInt16?

    /// The two address families a pattern can name.
    package enum Family: Hashable, Sendable {
        /// AF_INET.
        case inet
        /// AF_INET6.
        case inet6
    }

    /// The text form, normalized (`10.0.0.0/8:443`).
    package var description: String {
        var text = ""
        if let family {
            let bits = family == .inet ? 32 : 128
            var address = family == .inet ? Self.formatInet(network) : Self.formatInet6(network)
            if prefixLength != bits { address += "/\(prefixLength)" }
            if family == .inet6, port != nil { address = "[\(address)]" }
            text = address
        }
        if let port { text += ":\(port)" }
        return text
    }

    /// Parses one pattern; nil when it is not one of the forms above.
    package init?(parsing text: String) {
        var rest = Substring(text)
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
            rest = rest[rest.index(after: rest.startIndex)..<close]
            guard rest.contains(":") else { return nil }  // brackets are for IPv6 only
        } else if rest.hasPrefix(":") && !rest.hasPrefix("::") {
            portText = rest.dropFirst()
            rest = ""
        } else if rest.filter({ $0 == ":" }).count == 1 {
            guard let colon = rest.firstIndex(of: ":") else { return nil }
            portText = rest[rest.index(after: colon)...]
            rest = rest[..<colon]
        }
        if let portText {
            guard let port = Self.decimal(portText), port <= 65535 else { return nil }
            self.port = UInt16(port)
        } else {
            self.port = nil
        }
        if rest.isEmpty {
            guard port != nil else { return nil }
            family = nil
            network = 0
            prefixLength = 0
            return
        }
        var addressText = rest
        var prefix: Int?
        if let slash = rest.firstIndex(of: "/") {
            guard let length = Self.decimal(rest[rest.index(after: slash)...]) else { return nil }
            prefix = length
            addressText = rest[..<slash]
        }
        if addressText.contains(":") {
            guard let address = Self.parseInet6(String(addressText)), (prefix ?? 128) <= 128 else { return nil }
            family = .inet6
            prefixLength = prefix ?? 128
            network = address
        } else {
            guard let address = Self.parseInet(String(addressText)), (prefix ?? 32) <= 32 else { return nil }
            family = .inet
            prefixLength = prefix ?? 32
            network = address
        }
        network &= Self.mask(prefixLength)
    }

    /// The address bits (`network`) with host bits set: refused as ambiguous by the caller.
    static func mask(_ prefixLength: Int) -> UInt128 {
        prefixLength == 0 ? 0 : ~UInt128(0) << (128 - prefixLength)
    }

    /// True when `address` (decoded from a record) is in this pattern.
    func matches(_ address: SocketAddress) -> Bool {
        if let port, address.port != port { return false }
        guard let family else { return address.family == .inet || address.family == .inet6 }
        let m = Self.mask(prefixLength)
        switch (family, address.family) {
        case (.inet, .inet), (.inet6, .inet6):
            return address.address & m == network
        case (.inet, .inet6):
            // ::ffff:a.b.c.d
            let mappedPrefix = UInt128(0xFFFF) << 32
            guard address.address >> 32 == mappedPrefix else { return false }
            return (address.address << 96) & m == network
        default:
            return false
        }
    }

    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return Int(text)
    }

    static func parseInet(_ text: String) -> UInt128? {
        var bytes: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &bytes) { inet_pton(AF_INET, text, $0.baseAddress) == 1 }
        guard ok else { return nil }
        return withUnsafeBytes(of: bytes) { bigEndian($0, count: 4) } << 96
    }

    static func parseInet6(_ text: String) -> UInt128? {
        var bytes = (UInt64(0), UInt64(0))
        let ok = withUnsafeMutableBytes(of: &bytes) { inet_pton(AF_INET6, text, $0.baseAddress) == 1 }
        guard ok else { return nil }
        return withUnsafeBytes(of: bytes) { bigEndian($0, count: 16) }
    }

    static func formatInet(_ bits: UInt128) -> String {
        let value = UInt32(truncatingIfNeeded: bits >> 96)
        return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    static func formatInet6(_ bits: UInt128) -> String {
        var bytes = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &bytes) { raw in
            for i in 0..<16 { raw[i] = UInt8(truncatingIfNeeded: bits >> (120 - 8 * i)) }
        }
        var buffer = [CChar](repeating: 0, count: 64)
        let ok = withUnsafeBytes(of: bytes) { raw in
            buffer.withUnsafeMutableBufferPointer {
                inet_ntop(AF_INET6, raw.baseAddress, $0.baseAddress, socklen_t($0.count)) != nil
            }
        }
        guard ok else { return "?" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// The value of the first `count` bytes read big-endian (network order).
@inline(__always)
func bigEndian(_ bytes: UnsafeRawBufferPointer, count: Int) -> UInt128 {
    var value: UInt128 = 0
    for i in 0..<count { value = value << 8 | UInt128(bytes[i]) }
    return value
}

/// A socket address decoded from a `SOCKADDR` record's `saddr=` hex (a `struct sockaddr`).
struct SocketAddress: Hashable, Sendable {
    enum Family: Hashable, Sendable {
        case inet, inet6, other
    }
    var family: Family
    var port: UInt16
    /// Left-aligned address bits (IPv4 in the top 32).
    var address: UInt128

    /// Decodes `saddr=` hex: `sa_family` (u16 in the host's order, so little-endian on x86-64 and
    /// aarch64; a big-endian `00 02` or `00 0A` is read as well, for records of ppc64 or s390x
    /// hosts), then for inet the port and 4 address bytes, for inet6 the port, 4 bytes of flow
    /// info and 16 address bytes, in network order. Nil for a value that is not hex or too short
    /// for its family; another family decodes as `.other`.
    static func decode(hex buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> SocketAddress? {
        let count = range.count / 2
        guard range.count % 2 == 0, count >= 2 else { return nil }
        func byte(_ i: Int) -> UInt8? {
            guard let high = hexDigit(buffer[range.lowerBound + 2 * i]),
                let low = hexDigit(buffer[range.lowerBound + 2 * i + 1])
            else { return nil }
            return high << 4 | low
        }
        guard let f0 = byte(0), let f1 = byte(1) else { return nil }
        // No family is 0x0200 or 0x0A00, so a zero first byte means big-endian.
        let family = f0 == 0 ? UInt16(f1) : UInt16(f0) | UInt16(f1) << 8
        switch family {
        case 2:  // AF_INET
            guard count >= 8 else { return nil }
            var value: UInt128 = 0
            var port: UInt16 = 0
            for i in 2..<4 {
                guard let b = byte(i) else { return nil }
                port = port << 8 | UInt16(b)
            }
            for i in 4..<8 {
                guard let b = byte(i) else { return nil }
                value = value << 8 | UInt128(b)
            }
            return SocketAddress(family: .inet, port: port, address: value << 96)
        case 10:  // AF_INET6
            guard count >= 24 else { return nil }
            var value: UInt128 = 0
            var port: UInt16 = 0
            for i in 2..<4 {
                guard let b = byte(i) else { return nil }
                port = port << 8 | UInt16(b)
            }
            for i in 8..<24 {
                guard let b = byte(i) else { return nil }
                value = value << 8 | UInt128(b)
            }
            return SocketAddress(family: .inet6, port: port, address: value)
        default:
            return SocketAddress(family: .other, port: 0, address: 0)
        }
    }
}

@inline(__always)
func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte &- 0x30
    case 0x41...0x46: byte &- 0x41 &+ 10
    case 0x61...0x66: byte &- 0x61 &+ 10
    default: nil
    }
}
