internal import CAuditNetlink

// Encodings of the C structures the audit interface exchanges. They are `package` so the tests can
// check every byte without a kernel; the public API never shows a C type.

extension AuditStatus {
    /// The size of `struct audit_status` in the headers this was built with (44 bytes since 4.17).
    package static let wireSize = MemoryLayout<audit_status>.size

    /// Decodes `struct audit_status`, accepting the shorter structure of old kernels: fields the
    /// reply does not reach stay zero. Longer replies (newer kernels) are cut to what we know.
    package init(decoding bytes: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
        // mask, enabled, failure, pid, rate_limit, backlog_limit, lost, backlog: the 3.x core.
        guard bytes.count >= 32 else {
            throw NetlinkDecodeError(kind: .truncatedPayload, byteCount: bytes.count, declaredLength: nil)
        }
        func field(_ index: Int) -> UInt32 {
            let offset = index * 4
            return offset + 4 <= bytes.count ? bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) : 0
        }
        self.init(
            mask: AuditStatusMask(rawValue: field(0)),
            // The kernel only stores 0, 1 or 2 in both; anything else would be a newer kernel's
            // meaning we cannot name, so keep the closest safe reading rather than fail the status.
            enabled: AuditEnabledState(rawValue: field(1)) ?? .enabled,
            failure: AuditFailureMode(rawValue: field(2)) ?? .printk,
            pid: field(3),
            rateLimit: field(4),
            backlogLimit: field(5),
            lost: field(6),
            backlog: field(7),
            featureBitmap: field(8),
            backlogWaitTime: field(9),
            backlogWaitTimeActual: field(10))
    }

    /// Encodes `struct audit_status` for an `AUDIT_SET` request.
    package func encoded() -> [UInt8] {
        let fields: [UInt32] = [
            mask.rawValue, enabled.rawValue, failure.rawValue, pid, rateLimit, backlogLimit, lost, backlog,
            featureBitmap, backlogWaitTime, backlogWaitTimeActual,
        ]
        var bytes = [UInt8](repeating: 0, count: Self.wireSize)
        bytes.withUnsafeMutableBytes { buffer in
            for (index, value) in fields.enumerated() where (index + 1) * 4 <= buffer.count {
                buffer.storeBytes(of: value, toByteOffset: index * 4, as: UInt32.self)
            }
        }
        return bytes
    }
}

/// `struct audit_features`: the kernel's switchable behaviours and their locks.
public struct AuditFeatures: Hashable, Sendable {
    /// One switchable behaviour.
    public struct Feature: OptionSet, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `AUDIT_FEATURE_ONLY_UNSET_LOGINUID`: a process may set its loginuid only while unset.
        public static let onlyUnsetLoginUID = Self(rawValue: 1 << 0)
        /// `AUDIT_FEATURE_LOGINUID_IMMUTABLE`: once set, a loginuid can never change.
        public static let loginUIDImmutable = Self(rawValue: 1 << 1)
    }

    /// Structure version (`AUDIT_FEATURE_VERSION`, 1).
    public var version: UInt32
    /// Which features a set request changes; in replies, which ones the kernel knows.
    public var mask: Feature
    /// Which features are on.
    public var enabled: Feature
    /// Which features are locked until reboot.
    public var locked: Feature

    /// Makes a features value.
    public init(version: UInt32 = 1, mask: Feature = [], enabled: Feature = [], locked: Feature = []) {
        self.version = version
        self.mask = mask
        self.enabled = enabled
        self.locked = locked
    }

    /// The size of `struct audit_features`.
    package static let wireSize = MemoryLayout<audit_features>.size

    /// Decodes `struct audit_features`.
    package init(decoding bytes: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
        guard bytes.count >= Self.wireSize else {
            throw NetlinkDecodeError(kind: .truncatedPayload, byteCount: bytes.count, declaredLength: nil)
        }
        self.init(
            version: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self),
            mask: Feature(rawValue: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
            enabled: Feature(rawValue: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
            locked: Feature(rawValue: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
    }

    /// Encodes `struct audit_features` for `AUDIT_SET_FEATURE`.
    package func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.wireSize)
        bytes.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: version, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: mask.rawValue, toByteOffset: 4, as: UInt32.self)
            buffer.storeBytes(of: enabled.rawValue, toByteOffset: 8, as: UInt32.self)
            buffer.storeBytes(of: locked.rawValue, toByteOffset: 12, as: UInt32.self)
        }
        return bytes
    }
}

/// The payload of `NLMSG_ERROR`: the kernel's answer to a request (`struct nlmsgerr`).
package struct NetlinkAcknowledgement: Hashable, Sendable {
    /// 0 for an ACK, a negative errno for a refusal; `AUDIT_SET` of the lost counter puts the old
    /// (positive) value here.
    package var error: Int32
    /// The sequence number of the request this answers (from the echoed header).
    package var requestSequence: UInt32
    /// The type of the request this answers.
    package var requestType: AuditMessageType

    /// Decodes `struct nlmsgerr`: an `int` then the request's 16-byte header.
    package init(decoding bytes: UnsafeRawBufferPointer) throws(NetlinkDecodeError) {
        guard bytes.count >= 4 + NetlinkMessage.headerSize else {
            throw NetlinkDecodeError(kind: .truncatedPayload, byteCount: bytes.count, declaredLength: nil)
        }
        error = bytes.loadUnaligned(fromByteOffset: 0, as: Int32.self)
        requestType = AuditMessageType(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        requestSequence = bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
    }
}

/// Netlink header flags used in requests and replies.
package enum NetlinkFlags {
    /// `NLM_F_REQUEST`.
    package static let request = UInt16(NLM_F_REQUEST)
    /// `NLM_F_ACK`.
    package static let acknowledge = UInt16(NLM_F_ACK)
    /// `NLM_F_MULTI`.
    package static let multipart = UInt16(NLM_F_MULTI)
}
