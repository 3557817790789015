internal import AuditSystem
internal import CAuditNetlink
internal import Glibc

/// A NETLINK_AUDIT socket: the raw transport under `AuditClient` and the daemon's reader.
///
/// A plain value holding a file descriptor, like swift-system's `FileDescriptor`: copying it does
/// not duplicate the socket, and `close()` must be called exactly once by whoever owns it.
public struct AuditSocket: Hashable, Sendable {
    /// How the socket is bound.
    public enum Mode: Hashable, Sendable {
        /// Bound with no groups: control requests, and the records the kernel unicasts to the
        /// registered audit daemon once this socket registered.
        case unicast
        /// Joined to `AUDIT_NLGRP_READLOG`: a read-only copy of every record the kernel sends to the
        /// daemon. Needs `CAP_AUDIT_READ`; cannot send control requests.
        case multicast
    }

    /// The file descriptor.
    public let fileDescriptor: Int32
    /// How the socket was bound.
    public let mode: Mode

    /// Opens and binds a NETLINK_AUDIT socket.
    ///
    /// - Throws: `AuditNetlinkError` naming the failed call; EPERM on a multicast bind names
    ///   `CAP_AUDIT_READ`.
    public static func open(mode: Mode = .unicast) throws(AuditNetlinkError) -> AuditSocket {
        let fd = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_AUDIT)
        guard fd >= 0 else {
            let error = Errno.current.rawValue
            if error == EPROTONOSUPPORT || error == EAFNOSUPPORT {
                throw AuditNetlinkError(.auditUnsupported, errno: error, operation: "socket(AF_NETLINK, NETLINK_AUDIT)")
            }
            throw AuditNetlinkError(.system, errno: error, operation: "socket(AF_NETLINK, NETLINK_AUDIT)")
        }
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_pid = 0
        address.nl_groups = mode == .multicast ? caudit_readlog_group_mask() : 0
        let bound = withSocketAddress(address) { Glibc.bind(fd, $0, $1) }
        if bound != 0 {
            let error = Errno.current.rawValue
            SystemCall.close(fd)
            let operation = mode == .multicast ? "bind(AUDIT_NLGRP_READLOG)" : "bind(NETLINK_AUDIT)"
            if error == EPERM || error == EACCES {
                throw AuditNetlinkError(
                    .permissionDenied(capability: "CAP_AUDIT_READ"), errno: error, operation: operation)
            }
            throw AuditNetlinkError(.system, errno: error, operation: operation)
        }
        if mode == .unicast {
            // Connected to the kernel (port 0), the socket accepts datagrams from the kernel only:
            // the kernel refuses any other sender's with ECONNREFUSED. So a forged record (a
            // process with CAP_NET_ADMIN may send to any port) never reaches the daemon nor takes
            // room in its receive buffer, and receiving needs no sender address to check.
            if withSocketAddress(kernelAddress, { Glibc.connect(fd, $0, $1) }) != 0 {
                let error = Errno.current.rawValue
                SystemCall.close(fd)
                throw AuditNetlinkError(.system, errno: error, operation: "connect(NETLINK_AUDIT, kernel)")
            }
        }
        return AuditSocket(fileDescriptor: fd, mode: mode)
    }

    /// The kernel's netlink address (port 0, no groups).
    private static let kernelAddress: sockaddr_nl = {
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        return address
    }()

    /// Calls `body` with `address` as the `sockaddr` pointer and length that `bind`, `connect` and
    /// `sendto` take.
    private static func withSocketAddress<Result>(
        _ address: sockaddr_nl, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
    }

    /// Closes the socket.
    public func close() {
        SystemCall.close(fileDescriptor)
    }

    /// Waits at most `milliseconds` for the socket to become readable; true when it is.
    private func poll(milliseconds: Int) throws(AuditNetlinkError) -> Bool {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        do {
            return try SystemCall.poll(&descriptor, count: 1, milliseconds: Int32(clamping: milliseconds)) > 0
        } catch {
            throw AuditNetlinkError(.system, errno: error.rawValue, operation: "poll")
        }
    }

    /// The netlink port id the kernel assigned to this socket (its `nl_pid`).
    public var portID: UInt32 {
        var address = sockaddr_nl()
        var length = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fileDescriptor, $0, &length) }
        }
        return result == 0 ? address.nl_pid : 0
    }

    /// Sets the receive buffer and returns the size the kernel reports afterwards.
    ///
    /// With `force` (the default) it uses `SO_RCVBUFFORCE`, which needs `CAP_NET_ADMIN` and ignores
    /// `net.core.rmem_max`; plain `SO_RCVBUF` is silently capped by that sysctl (go-audit's trap).
    /// The kernel doubles the value it stores, to account for its bookkeeping.
    @discardableResult
    public func setReceiveBufferSize(_ bytes: Int, force: Bool = true) throws(AuditNetlinkError) -> Int {
        var value = Int32(clamping: bytes)
        let option = force ? SO_RCVBUFFORCE : SO_RCVBUF
        if setsockopt(fileDescriptor, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            let error = Errno.current.rawValue
            let operation = force ? "setsockopt(SO_RCVBUFFORCE, \(bytes))" : "setsockopt(SO_RCVBUF, \(bytes))"
            if error == EPERM {
                throw AuditNetlinkError(
                    .permissionDenied(capability: "CAP_NET_ADMIN"), errno: error, operation: operation)
            }
            throw AuditNetlinkError(.system, errno: error, operation: operation)
        }
        return receiveBufferSize
    }

    /// The receive buffer size the kernel reports (`SO_RCVBUF`), or 0 if it cannot be read.
    public var receiveBufferSize: Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 else { return 0 }
        return Int(value)
    }

    /// How much of the receive buffer the queued datagrams take, and the limit (`SO_MEMINFO`), or nil
    /// if it cannot be read. Both count the kernel's bookkeeping, not payload only: about 2.3 KiB
    /// per audit record, and the limit is twice the size set with `setReceiveBufferSize(_:force:)`.
    /// A sender that waits for room (kauditd does) waits while `queued` exceeds `limit`.
    public var receiveBufferUsage: (queued: Int, limit: Int)? {
        // SK_MEMINFO_RMEM_ALLOC and SK_MEMINFO_RCVBUF are the first two of the kernel's array.
        var values = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt32(0))
        var length = socklen_t(MemoryLayout.size(ofValue: values))
        guard getsockopt(fileDescriptor, SOL_SOCKET, SO_MEMINFO, &values, &length) == 0,
            length >= socklen_t(2 * MemoryLayout<UInt32>.size)
        else { return nil }
        return (Int(values.0), Int(values.1))
    }

    /// Sends one netlink message to the kernel.
    ///
    /// - Parameters:
    ///   - type: the message type (`AUDIT_GET`…).
    ///   - flags: `nlmsg_flags` (`NLM_F_REQUEST` is always added).
    ///   - sequence: `nlmsg_seq`, echoed by the kernel's replies.
    ///   - payload: the request structure, copied after the 16-byte header.
    public func send(
        type: AuditMessageType, flags: UInt16, sequence: UInt32, payload: UnsafeRawBufferPointer
    ) throws(AuditNetlinkError) {
        let length = NetlinkMessage.headerSize + payload.count
        let total = NetlinkMessage.align(length)
        let failure: Errno? = withUnsafeTemporaryAllocation(byteCount: total, alignment: 4) { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            NetlinkMessage.storeHeader(
                into: buffer, length: UInt32(length), type: type, flags: flags | UInt16(NLM_F_REQUEST),
                sequence: sequence)
            if let base = payload.baseAddress, payload.count > 0 {
                (buffer.baseAddress! + NetlinkMessage.headerSize).copyMemory(from: base, byteCount: payload.count)
            }
            return Self.withSocketAddress(Self.kernelAddress) { address, addressLength -> Errno? in
                do throws(Errno) {
                    _ = try SystemCall.sendto(
                        fileDescriptor, UnsafeRawBufferPointer(buffer), flags: Int32(MSG_NOSIGNAL),
                        address: address, addressLength: addressLength)
                    return nil
                } catch {
                    return error
                }
            }
        }
        if let failure {
            if failure.rawValue == EPERM {
                throw AuditNetlinkError(
                    .permissionDenied(capability: "CAP_AUDIT_CONTROL"), errno: failure.rawValue,
                    operation: "send \(type)")
            }
            throw AuditNetlinkError(.system, errno: failure.rawValue, operation: "send \(type)")
        }
    }

    /// Waits until a datagram (or an error such as `ENOBUFS`) is ready to be received, at most
    /// `timeoutMilliseconds`; true when one is.
    public func waitReadable(timeoutMilliseconds: Int) throws(AuditNetlinkError) -> Bool {
        try poll(milliseconds: timeoutMilliseconds)
    }

    /// What one receive call produced.
    public enum ReceiveResult: Hashable, Sendable {
        /// A datagram from the kernel: its first message, decoded, and the datagram's length.
        case message(NetlinkMessage, length: Int)
        /// The socket's receive buffer overflowed (`ENOBUFS`): the kernel dropped datagrams for us.
        /// Nothing was read; keep reading. Count it: it is loss.
        case overflow
        /// Nothing arrived within the timeout, or nothing was queued for a non-blocking read.
        case timedOut
        /// A datagram from a sender other than the kernel (`nl_pid` ≠ 0): spoofed, ignore it. (A
        /// unicast socket is connected to the kernel, which refuses such datagrams before they
        /// arrive; a multicast socket may still see one.)
        case rejected(senderPortID: UInt32, length: Int)
        /// A datagram that does not decode as netlink (or did not fit the buffer).
        case malformed(NetlinkDecodeError, length: Int)
    }

    /// Receives one datagram into `buffer`, which the caller owns and reuses: nothing is allocated.
    ///
    /// - Parameter timeoutMilliseconds: `nil` blocks; 0 does not wait; a positive value waits at
    ///   most that long (`poll`), so a reader can check a stop flag and a timer between datagrams.
    public func receive(
        into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int? = nil
    ) throws(AuditNetlinkError) -> ReceiveResult {
        var flags = Int32(MSG_TRUNC)
        if let timeout = timeoutMilliseconds {
            if timeout == 0 {
                flags |= Int32(MSG_DONTWAIT)
            } else {
                if try !poll(milliseconds: timeout) { return .timedOut }
                flags |= Int32(MSG_DONTWAIT)
            }
        }
        var sender = sockaddr_nl()
        var senderLength = socklen_t(MemoryLayout<sockaddr_nl>.size)
        let received = withUnsafeMutablePointer(to: &sender) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                Result { () throws(Errno) in
                    try SystemCall.recvfrom(
                        fileDescriptor, into: buffer, flags: flags, address: address, addressLength: &senderLength)
                }
            }
        }
        let length: Int
        switch received {
        case .success(let count): length = count
        case .failure(let error):
            switch error.rawValue {
            case ENOBUFS: return .overflow
            case EAGAIN: return .timedOut
            default: throw AuditNetlinkError(.system, errno: error.rawValue, operation: "recvfrom")
            }
        }
        if sender.nl_pid != 0 { return .rejected(senderPortID: sender.nl_pid, length: length) }
        if length > buffer.count {
            return .malformed(
                NetlinkDecodeError(
                    kind: .lengthMismatch, byteCount: buffer.count, declaredLength: UInt32(clamping: length)),
                length: length)
        }
        do {
            let message = try NetlinkMessage.decode(UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
            return .message(message, length: length)
        } catch {
            return .malformed(error, length: length)
        }
    }
}
