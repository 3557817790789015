internal import AuditSystem
import Glibc

/// One address from `getaddrinfo`, copied out of its list so that it can be kept.
struct ResolvedAddress: Sendable {
    var family: Int32
    var socketType: Int32
    var protocolNumber: Int32
    /// The `sockaddr` bytes.
    var bytes: [UInt8]
}

/// Socket system calls for the network writers, with EINTR and non-blocking connects handled here.
enum SocketCalls {
    /// The socket type constants as `Int32`.
    static let datagram = Int32(SOCK_DGRAM.rawValue)
    static let stream = Int32(SOCK_STREAM.rawValue)
    private static let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)

    /// Resolves `host` (a name, an IPv4 or an IPv6 address without brackets) and `port` for
    /// `socketType`; IPv4 and IPv6 results in the resolver's order. On failure returns the
    /// resolver's message.
    static func resolve(
        host: String, port: UInt16, socketType: Int32
    ) -> (addresses: [ResolvedAddress], failure: String?) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        // EAI_AGAIN (a temporary DNS failure) is retried by the caller's reconnect backoff.
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let message = status == EAI_SYSTEM ? Errno.current.message : String(cString: gai_strerror(status))
            return ([], "getaddrinfo \(host): \(message)")
        }
        defer { freeaddrinfo(list) }
        var addresses: [ResolvedAddress] = []
        var entry = list
        while let current = entry {
            let info = current.pointee
            if let address = info.ai_addr, info.ai_addrlen > 0 {
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen)))
                addresses.append(
                    ResolvedAddress(
                        family: info.ai_family, socketType: info.ai_socktype, protocolNumber: info.ai_protocol,
                        bytes: bytes))
            }
            entry = info.ai_next
        }
        if addresses.isEmpty { return ([], "getaddrinfo \(host): no address") }
        return (addresses, nil)
    }

    /// Opens a non-blocking socket to `address` and connects it, waiting at most `timeout`
    /// milliseconds. Returns the descriptor, or -1 and the errno.
    static func connect(_ address: ResolvedAddress, timeout: Int32) -> (descriptor: Int32, errno: Int32) {
        let descriptor = socket(address.family, address.socketType | flags, address.protocolNumber)
        guard descriptor >= 0 else { return (-1, errno) }
        let code = address.bytes.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress, raw.count >= MemoryLayout<sa_family_t>.size else { return EINVAL }
            return finishConnect(
                descriptor, base.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count), timeout: timeout)
        }
        if code != 0 {
            SystemCall.close(descriptor)
            return (-1, code)
        }
        return (descriptor, 0)
    }

    /// Connects a unix socket of `socketType` to `path`. Returns the descriptor, or -1 and the
    /// errno (EPROTOTYPE when the socket at `path` is of the other type; ENAMETOOLONG when the
    /// path does not fit `sun_path`).
    static func connectUnix(path: String, socketType: Int32, timeout: Int32) -> (descriptor: Int32, errno: Int32) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else {
            return (-1, ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + 1)
        let descriptor = socket(AF_UNIX, socketType | flags, 0)
        guard descriptor >= 0 else { return (-1, errno) }
        let code = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                finishConnect(descriptor, $0, length, timeout: timeout)
            }
        }
        if code != 0 {
            SystemCall.close(descriptor)
            return (-1, code)
        }
        return (descriptor, 0)
    }

    /// `connect(2)` on a non-blocking socket, then waits for the outcome. Returns 0 or the errno
    /// (ETIMEDOUT when nothing happened within `timeout` milliseconds).
    private static func finishConnect(
        _ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t, timeout: Int32
    ) -> Int32 {
        var result = Glibc.connect(descriptor, address, length)
        if result == 0 { return 0 }
        var code = errno
        if code == EINTR { code = EINPROGRESS }  // the connection continues asynchronously
        guard code == EINPROGRESS else { return code }
        guard SystemCall.waitUntilWritable(descriptor, milliseconds: timeout) else { return ETIMEDOUT }
        var pending: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        result = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &size)
        if result != 0 { return errno }
        return pending
    }

    /// Sets an integer socket option, ignoring failure (options here are tuning, not correctness).
    static func setOption(_ descriptor: Int32, level: Int32, name: Int32, value: Int32) {
        var value = value
        _ = setsockopt(descriptor, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// An integer socket option, or nil.
    static func option(_ descriptor: Int32, level: Int32, name: Int32) -> Int32? {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(descriptor, level, name, &value, &size) == 0 ? value : nil
    }

    /// Reads and discards whatever the peer sent, without blocking. Returns false when the peer
    /// closed the stream (EOF) or it is in error, true while it is still open.
    ///
    /// Syslog and GELF receivers never send anything; a readable socket means they closed it (or
    /// reset it). Writing into such a socket "succeeds" once and loses the data, so the writers
    /// check before each batch.
    static func streamIsOpen(_ descriptor: Int32) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 512)
        for _ in 0..<64 {
            let received = scratch.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) in try SystemCall.recv(descriptor, into: buffer, flags: Int32(MSG_DONTWAIT)) }
            }
            switch received {
            case .success(let count): if count == 0 { return false }
            case .failure(let error): return error.rawValue == EAGAIN || error.rawValue == EWOULDBLOCK
            }
        }
        return true
    }
}
