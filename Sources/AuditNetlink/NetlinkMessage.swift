/// One netlink message as it arrived: the header's fields and where its payload lies.
///
/// Decoding copies nothing: `payload` is a range into the datagram the caller owns, so the socket
/// reader and the capture replayer can hand records on without allocating.
public struct NetlinkMessage: Hashable, Sendable {
    /// `nlmsg_len` as the sender wrote it (for audit records on the unicast socket: the payload
    /// length, not payload + 16).
    public var declaredLength: UInt32
    /// `nlmsg_type`.
    public var type: AuditMessageType
    /// `nlmsg_flags`.
    public var flags: UInt16
    /// `nlmsg_seq`: echoes the request's sequence number in replies.
    public var sequence: UInt32
    /// `nlmsg_pid` as written in the header. For records unicast to the daemon the kernel puts the
    /// daemon's own port here; it does not say who sent the datagram (the socket address does, and
    /// `AuditSocket.receive` checks that).
    public var portID: UInt32
    /// The payload's byte range within the datagram.
    public var payload: Range<Int>

    /// The size of `struct nlmsghdr`.
    public static let headerSize = 16

    /// Netlink's alignment for consecutive messages in one datagram.
    static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    /// Writes a 16-byte `struct nlmsghdr` at the start of `buffer` (which must hold 16 bytes): the
    /// one place that frames netlink headers, for requests to the kernel and for the datagrams
    /// the daemon builds itself (a cut datagram's `NLMSG_NOOP` stand-in, records that arrived on a
    /// control socket).
    @inline(__always)
    package static func storeHeader(
        into buffer: UnsafeMutableRawBufferPointer, length: UInt32, type: AuditMessageType, flags: UInt16 = 0,
        sequence: UInt32 = 0, portID: UInt32 = 0
    ) {
        buffer.storeBytes(of: length, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: type.rawValue, toByteOffset: 4, as: UInt16.self)
        buffer.storeBytes(of: flags, toByteOffset: 6, as: UInt16.self)
        buffer.storeBytes(of: sequence, toByteOffset: 8, as: UInt32.self)
        buffer.storeBytes(of: portID, toByteOffset: 12, as: UInt32.self)
    }

    /// Decodes the first message of a datagram.
    ///
    /// Audit records (types ≥ 1000) are exactly one per datagram and their payload is the rest of
    /// the datagram, whatever `nlmsg_len` says: kauditd writes the payload length there on the
    /// unicast socket and the full length on the multicast one (docs/design.md, "The kernel
    /// interface"). A trailing NUL is not part of the payload. Control messages (`NLMSG_ERROR`,
    /// `NLMSG_DONE`, replies to `AUDIT_GET`…) use the standard length, which must fit the datagram.
    ///
    /// - Throws: `NetlinkDecodeError` when the datagram is shorter than a header or the standard
    ///   length does not fit.
    public static func decode(_ datagram: UnsafeRawBufferPointer) throws(NetlinkDecodeError) -> NetlinkMessage {
        try decode(datagram, at: 0)
    }

    /// Decodes the message that starts at `offset`; see `decode(_:)`.
    public static func decode(_ datagram: UnsafeRawBufferPointer, at offset: Int) throws(NetlinkDecodeError)
        -> NetlinkMessage
    {
        let available = datagram.count - offset
        guard available >= headerSize else {
            throw NetlinkDecodeError(kind: .truncatedHeader, byteCount: available, declaredLength: nil)
        }
        let declared = datagram.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        let type = AuditMessageType(datagram.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self))
        let flags = datagram.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self)
        let sequence = datagram.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        let portID = datagram.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
        let start = offset + headerSize
        var end: Int
        if type.rawValue >= 1000 && !isStructuredReply(type) {
            end = datagram.count
            if end > start, datagram[end - 1] == 0 { end -= 1 }
        } else {
            guard declared >= UInt32(headerSize), Int(declared) <= available else {
                throw NetlinkDecodeError(kind: .lengthMismatch, byteCount: available, declaredLength: declared)
            }
            end = offset + Int(declared)
        }
        return NetlinkMessage(
            declaredLength: declared, type: type, flags: flags, sequence: sequence, portID: portID,
            payload: start..<end)
    }

    /// Replies whose payload is a C structure (not text) and that follow the standard length rule.
    private static func isStructuredReply(_ type: AuditMessageType) -> Bool {
        type == .get || type == .listRules || type == .signalInfo || type == .getFeature
    }
}

/// A datagram that cannot be a netlink message.
public struct NetlinkDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with it.
    public enum Kind: Hashable, Sendable {
        /// Fewer than 16 bytes where a header should start.
        case truncatedHeader
        /// `nlmsg_len` is below 16 or runs past the end of the datagram.
        case lengthMismatch
        /// The payload is shorter than the structure its type carries.
        case truncatedPayload
    }

    /// What is wrong.
    public var kind: Kind
    /// The bytes available from where the message starts.
    public var byteCount: Int
    /// `nlmsg_len`, when a header could be read.
    public var declaredLength: UInt32?

    public var description: String {
        switch kind {
        case .truncatedHeader:
            "netlink datagram of \(byteCount) bytes is shorter than a 16-byte header"
        case .lengthMismatch:
            "netlink message declares length \(declaredLength ?? 0) but \(byteCount) bytes are available"
        case .truncatedPayload:
            "netlink payload of \(byteCount) bytes is shorter than its structure"
        }
    }
}
