import AuditConfig
import Glibc

extension MetricsListenAddress {
    /// The socket family: AF_INET, AF_INET6 (a host with a `:`) or AF_UNIX.
    var family: Int32 {
        switch self {
        case .tcp(let host, _): host.contains(":") ? AF_INET6 : AF_INET
        case .unix: AF_UNIX
        }
    }

    /// Runs `body` with the address as a `sockaddr` and its length: the one construction for the
    /// listener's `bind` and `swift-audit stats`' `connect`. The host is numeric (the
    /// configuration accepts only loopback addresses), the path at most `sun_path` long.
    func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        func call<Address>(_ address: inout Address) -> R {
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<Address>.size))
                }
            }
        }
        switch self {
        case .tcp(let host, let port) where host.contains(":"):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, host, &address.sin6_addr)
            return call(&address)
        case .tcp(let host, let port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            _ = inet_pton(AF_INET, host, &address.sin_addr)
            return call(&address)
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
            }
            return call(&address)
        }
    }
}
