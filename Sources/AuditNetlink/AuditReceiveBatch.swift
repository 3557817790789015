internal import AuditSystem
internal import CAuditNetlink
internal import Glibc

/// Receives many datagrams with one system call (`recvmmsg`), into buffers the caller owns.
///
/// The daemon's reader fills ring slots with it: at 100k records a second, one call per record is
/// most of a reader's cost. The headers and vectors are allocated once, here.
///
/// By default it does not ask for the senders' addresses (the kernel would copy one out per
/// datagram): enough on a socket that only the kernel can send to, a unicast `AuditSocket`, which
/// is connected to the kernel. A multicast socket is not connected, so any process allowed to
/// send netlink messages can reach it: made with `senders: true`, the batch keeps each datagram's
/// sender port (`senderPortID(at:)`; the kernel's is 0).
public struct AuditReceiveBatch: ~Copyable {
    /// How many datagrams one call receives at most.
    public let capacity: Int
    private let headers: UnsafeMutablePointer<caudit_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    /// One sender address per datagram, or nil when not asked for.
    private let senders: UnsafeMutablePointer<sockaddr_nl>?

    /// What one call produced.
    public enum Outcome: Hashable, Sendable {
        /// This many datagrams (at least one) are in the first buffers; see `length(at:)` and
        /// `isTruncated(at:)`.
        case received(Int)
        /// The socket buffer overflowed (`ENOBUFS`): datagrams were lost before we read them.
        case overflow
        /// Nothing is queued.
        case empty
    }

    /// Space for `capacity` datagrams per call; with `senders`, and for their senders' addresses.
    public init(capacity: Int = 64, senders: Bool = false) {
        self.capacity = max(1, capacity)
        headers = .allocate(capacity: self.capacity)
        vectors = .allocate(capacity: 2 * self.capacity)
        self.senders = senders ? .allocate(capacity: self.capacity) : nil
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        senders?.deallocate()
    }

    /// Receives up to `count` datagrams from `socket` without waiting, the `i`-th into `head(i)`
    /// and, for the bytes that do not fit there, on into `spill(i)`: `length(at:)` is the bytes
    /// received (the whole datagram unless `isTruncated(at:)`), of which the first
    /// `head(i).count` are in `head(i)`.
    ///
    /// Why two buffers: a datagram may be up to 9 KiB, but almost all audit records are under
    /// 1 KiB. With one 9 KiB buffer per datagram, each received datagram makes another page of
    /// the reader resident (one per buffer of the largest batch); small heads side by side take a
    /// few pages for the whole batch, and a spill buffer's pages become resident only when a long
    /// record actually reaches them. A caller that wants one buffer passes empty spills.
    public mutating func receive(
        from socket: AuditSocket, count: Int, into head: (Int) -> UnsafeMutableRawBufferPointer,
        spillingInto spill: (Int) -> UnsafeMutableRawBufferPointer
    ) throws(AuditNetlinkError) -> Outcome {
        let count = min(count, capacity)
        guard count > 0 else { return .empty }
        for index in 0..<count {
            let first = head(index)
            let rest = spill(index)
            let vector = vectors + 2 * index
            vector[0] = iovec(iov_base: first.baseAddress, iov_len: first.count)
            vector[1] = iovec(iov_base: rest.baseAddress, iov_len: rest.count)
            var header = msghdr()
            header.msg_iov = vector
            header.msg_iovlen = 2
            if let senders {
                senders[index] = sockaddr_nl()
                header.msg_name = UnsafeMutableRawPointer(senders + index)
                header.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
            }
            headers[index] = caudit_mmsghdr(msg_hdr: header, msg_len: 0)
        }
        let received: Int32
        do {
            received = try SystemCall.retryingOnInterrupt {
                caudit_recvmmsg(socket.fileDescriptor, headers, UInt32(count), Int32(MSG_DONTWAIT), nil)
            }
        } catch {
            switch error.rawValue {
            case ENOBUFS: return .overflow
            case EAGAIN: return .empty
            default: throw AuditNetlinkError(.system, errno: error.rawValue, operation: "recvmmsg")
            }
        }
        return received == 0 ? .empty : .received(Int(received))
    }

    /// The bytes received of the `index`-th datagram of the last call: its length, or what fit
    /// when `isTruncated(at:)`.
    public func length(at index: Int) -> Int { Int(headers[index].msg_len) }

    /// The netlink port of the `index`-th datagram's sender (0: the kernel), or nil when the
    /// batch was made without `senders`.
    public func senderPortID(at index: Int) -> UInt32? { senders.map { $0[index].nl_pid } }

    /// True when the `index`-th datagram did not fit its buffer.
    public func isTruncated(at index: Int) -> Bool { headers[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 }
}
