/// A `struct sockaddr` as the kernel logs it in a SOCKADDR record's `saddr=` (hex of the bytes the
/// program passed to `connect`, `bind`, `sendto`…), decoded for the families auditd decodes.
///
/// The family is in the byte order of the architecture that made the call (a big-endian ppc64
/// host logs `0002…` for inet); ports and IPv4/IPv6 addresses are in network order everywhere.
package enum SocketAddress: Hashable, Sendable {
    /// `AF_LOCAL`/`AF_UNIX`: a path, or an abstract name (`abstract` true; the leading NUL is not
    /// part of `path`).
    case local(path: [UInt8], abstract: Bool)
    /// `AF_INET`: address bytes and port.
    case inet(address: [UInt8], port: UInt16)
    /// `AF_INET6`: address bytes and port.
    case inet6(address: [UInt8], port: UInt16)
    /// `AF_NETLINK`: the family field as auditd prints it (`nlnk-fam`) and the peer's `nl_pid`.
    case netlink(protocolFamily: UInt32, pid: UInt32)
    /// A family auditd names but does not decode, or a structure too short for its family.
    case other(family: UInt16, tooShort: Bool)

    /// Decodes `bytes`; nil when there are fewer than two bytes (no family).
    package init?(_ bytes: some Collection<UInt8>, littleEndian: Bool = true) {
        let b = Array(bytes)
        guard b.count >= 2 else { return nil }
        let family = littleEndian ? UInt16(b[0]) | UInt16(b[1]) << 8 : UInt16(b[0]) << 8 | UInt16(b[1])
        func hostU32(_ at: Int) -> UInt32 {
            let v = (0..<4).map { UInt32(b[at + $0]) }
            return littleEndian
                ? v[0] | v[1] << 8 | v[2] << 16 | v[3] << 24 : v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]
        }
        switch family {
        case 1:
            guard b.count >= 3 else {
                self = .other(family: family, tooShort: true)
                return
            }
            let abstract = b[2] == 0
            let name = b[(abstract ? 3 : 2)...]
            // A path ends at its NUL (the kernel logs the length the program gave, padding included).
            let end = abstract ? name.endIndex : (name.firstIndex(of: 0) ?? name.endIndex)
            self = .local(path: Array(name[..<end].prefix(108)), abstract: abstract)
        case 2:
            guard b.count >= 16 else {
                self = .other(family: family, tooShort: true)
                return
            }
            self = .inet(address: Array(b[4..<8]), port: UInt16(b[2]) << 8 | UInt16(b[3]))
        case 10:
            guard b.count >= 24 else {
                self = .other(family: family, tooShort: true)
                return
            }
            self = .inet6(address: Array(b[8..<24]), port: UInt16(b[2]) << 8 | UInt16(b[3]))
        case 16:
            guard b.count >= 12 else {
                self = .other(family: family, tooShort: true)
                return
            }
            // sockaddr_nl: family, padding, nl_pid at 4, nl_groups at 8. auditd's `nlnk-fam` is
            // the family field itself (always 16), `nlnk-pid` is nl_pid.
            self = .netlink(protocolFamily: UInt32(family), pid: hostU32(4))
        default:
            self = .other(family: family, tooShort: false)
        }
    }

    /// The family's number.
    package var family: UInt16 {
        switch self {
        case .local: 1
        case .inet: 2
        case .inet6: 10
        case .netlink: 16
        case .other(let family, _): family
        }
    }

    /// auditd's text, as in an ENRICHED log's `SADDR={ … }` but without the spaces inside the
    /// braces, the way laurel writes it: `{saddr_fam=inet laddr=127.0.0.1 lport=53}`.
    package var auditdText: String {
        guard let name = Self.familyNames[Int(family)] else { return "{saddr_fam=unknown-family(\(family))}" }
        switch self {
        case .local(let path, _):
            return "{saddr_fam=\(name) path=\(String(decoding: path, as: UTF8.self))}"
        case .inet(let address, let port):
            return "{saddr_fam=\(name) laddr=\(Self.ipv4Text(address)) lport=\(port)}"
        case .inet6(let address, let port):
            return "{saddr_fam=\(name) laddr=\(Self.ipv6Text(address)) lport=\(port)}"
        case .netlink(let protocolFamily, let pid):
            return "{saddr_fam=\(name) nlnk-fam=\(protocolFamily) nlnk-pid=\(pid)}"
        case .other(_, let tooShort):
            return tooShort ? "{saddr_fam=\(name) sockaddr len too short}" : "{saddr_fam=\(name) (unsupported)}"
        }
    }

    /// The dotted quad.
    package static func ipv4Text(_ address: [UInt8]) -> String {
        address.map { String($0) }.joined(separator: ".")
    }

    /// RFC 5952 text (`inet_ntop`'s): lower-case, the longest run of two or more zero groups as
    /// `::` (the first of equal runs), and `::ffff:a.b.c.d` for IPv4-mapped addresses.
    package static func ipv6Text(_ address: [UInt8]) -> String {
        guard address.count == 16 else { return "" }
        let groups = (0..<8).map { UInt16(address[2 * $0]) << 8 | UInt16(address[2 * $0 + 1]) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return "::ffff:" + ipv4Text(Array(address[12..<16]))
        }
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            let start = index
            while index < 8, groups[index] == 0 { index += 1 }
            if index - start > bestLength {
                bestStart = start
                bestLength = index - start
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// auditd's family names (`saddr_fam=`), by `AF_*` number.
    static let familyNames: [Int: String] = [
        1: "local", 2: "inet", 3: "ax25", 4: "ipx", 5: "appletalk", 6: "netrom", 7: "bridge", 8: "atmpvc",
        9: "x25", 10: "inet6", 11: "rose", 12: "decnet", 13: "netbeui", 14: "security", 15: "key",
        16: "netlink", 17: "packet", 18: "ash", 19: "econet", 20: "atmsvc", 21: "rds", 22: "sna", 23: "irda",
        24: "pppox", 25: "wanpipe", 26: "llc", 27: "ib", 28: "mpls", 29: "can", 30: "tipc", 31: "bluetooth",
        32: "iucv", 33: "rxrpc", 34: "isdn", 35: "phonet", 36: "ieee802154", 37: "caif", 38: "alg", 39: "nfc",
        40: "vsock", 41: "kcm", 42: "qipcrtr", 43: "smc", 44: "xdp", 45: "mctp",
    ]
}
