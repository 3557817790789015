import AuditNetlink
import AuditTestSupport
import Testing

/// Every structure the client exchanges with the kernel, checked byte by byte without a kernel.
@Suite struct WireFormatTests {
    /// Little-endian bytes of UInt32 fields, as the kernel lays out `struct audit_status`.
    static func words(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    }

    @Test func statusEncodesEveryFieldInKernelOrder() {
        let status = AuditStatus(
            mask: [.enabled, .backlogLimit], enabled: .enabled, failure: .printk, pid: 4242, rateLimit: 5,
            backlogLimit: 8192, lost: 7, backlog: 3, featureBitmap: 0x7f, backlogWaitTime: 15000,
            backlogWaitTimeActual: 9)
        #expect(status.encoded() == Self.words([0x11, 1, 1, 4242, 5, 8192, 7, 3, 0x7f, 15000, 9]))
        #expect(AuditStatus.wireSize == 44)
    }

    @Test(arguments: [
        (AuditEnabledState.disabled, UInt32(0)), (.enabled, 1), (.locked, 2),
    ])
    func enabledStatesEncodeToTheKernelValues(state: AuditEnabledState, value: UInt32) {
        // enabled=2 is encoded and checked here; it is never sent to a test kernel.
        let bytes = AuditStatus(mask: .enabled, enabled: state).encoded()
        #expect(Array(bytes[0..<8]) == Self.words([AuditStatusMask.enabled.rawValue, value]))
    }

    @Test(arguments: [
        (AuditFailureMode.silent, UInt32(0)), (.printk, 1), (.panic, 2),
    ])
    func failureModesEncodeToTheKernelValues(mode: AuditFailureMode, value: UInt32) {
        // failure=2 (panic) is encoded and checked here; it is never sent to a test kernel.
        let bytes = AuditStatus(mask: .failure, failure: mode).encoded()
        #expect(Array(bytes[0..<12]) == Self.words([AuditStatusMask.failure.rawValue, 0, value]))
    }

    @Test func failureModeNamesParseLikeAuditctl() {
        #expect(AuditFailureMode(name: "silent") == .silent)
        #expect(AuditFailureMode(name: "PRINTK") == .printk)
        #expect(AuditFailureMode(name: "2") == .panic)
        #expect(AuditFailureMode(name: "3") == nil)
        #expect(AuditFailureMode(name: "") == nil)
    }

    @Test func statusMasksMatchTheKernelBits() {
        #expect(AuditStatusMask.enabled.rawValue == 0x1)
        #expect(AuditStatusMask.failure.rawValue == 0x2)
        #expect(AuditStatusMask.pid.rawValue == 0x4)
        #expect(AuditStatusMask.rateLimit.rawValue == 0x8)
        #expect(AuditStatusMask.backlogLimit.rawValue == 0x10)
        #expect(AuditStatusMask.backlogWaitTime.rawValue == 0x20)
        #expect(AuditStatusMask.lost.rawValue == 0x40)
        #expect(AuditStatusMask.backlogWaitTimeActual.rawValue == 0x80)
    }

    @Test func statusDecodesAFullReply() throws {
        let bytes = Self.words([0, 1, 1, 99, 0, 64, 12, 2, 0x7f, 15000, 4])
        let status = try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) }
        #expect(status.enabled == .enabled)
        #expect(status.failure == .printk)
        #expect(status.pid == 99)
        #expect(status.backlogLimit == 64)
        #expect(status.lost == 12)
        #expect(status.backlog == 2)
        #expect(status.featureBitmap == 0x7f)
        #expect(status.backlogWaitTime == 15000)
        #expect(status.backlogWaitTimeActual == 4)
    }

    @Test func statusFromAnOldKernelLeavesMissingFieldsZero() throws {
        // A 3.x kernel sends only the first eight fields (32 bytes).
        let bytes = Self.words([0, 1, 0, 7, 10, 320, 5, 1])
        let status = try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) }
        #expect(status.pid == 7)
        #expect(status.backlogLimit == 320)
        #expect(status.featureBitmap == 0)
        #expect(status.backlogWaitTime == 0)
        #expect(status.backlogWaitTimeActual == 0)
    }

    @Test func statusFromANewerKernelIgnoresUnknownTrailingFields() throws {
        let bytes = Self.words([0, 1, 1, 7, 0, 64, 0, 0, 0x7f, 15000, 0, 0xdead, 0xbeef])
        let status = try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) }
        #expect(status.backlogWaitTime == 15000)
    }

    @Test(arguments: [0, 1, 4, 31])
    func truncatedStatusIsAnErrorNotACrash(length: Int) {
        let bytes = [UInt8](repeating: 0xff, count: length)
        #expect(throws: NetlinkDecodeError.self) {
            _ = try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) }
        }
    }

    @Test func unknownEnabledOrFailureValuesDoNotCrashDecoding() throws {
        let bytes = Self.words([0, 9, 9, 0, 0, 0, 0, 0])
        let status = try bytes.withUnsafeBytes { try AuditStatus(decoding: $0) }
        #expect(status.enabled == .enabled)
        #expect(status.failure == .printk)
    }

    @Test func featuresRoundTrip() throws {
        let features = AuditFeatures(version: 1, mask: .loginUIDImmutable, enabled: .loginUIDImmutable, locked: [])
        let bytes = features.encoded()
        #expect(bytes == Self.words([1, 2, 2, 0]))
        #expect(try bytes.withUnsafeBytes { try AuditFeatures(decoding: $0) } == features)
        #expect(throws: NetlinkDecodeError.self) {
            _ = try Array(bytes.prefix(15)).withUnsafeBytes { try AuditFeatures(decoding: $0) }
        }
    }

    @Test func acknowledgementCarriesErrnoAndTheRequestItAnswers() throws {
        // struct nlmsgerr: int error; struct nlmsghdr msg (len, type, flags, seq, pid).
        var bytes = Self.words([UInt32(bitPattern: -17), 60])
        bytes += [0xe9, 0x03, 0x05, 0x00]  // type 1001 (AUDIT_SET), flags REQUEST|ACK
        bytes += Self.words([77, 0])
        let ack = try bytes.withUnsafeBytes { try NetlinkAcknowledgement(decoding: $0) }
        #expect(ack.error == -17)
        #expect(ack.requestType == .set)
        #expect(ack.requestSequence == 77)
        #expect(throws: NetlinkDecodeError.self) {
            _ = try Array(bytes.prefix(19)).withUnsafeBytes { try NetlinkAcknowledgement(decoding: $0) }
        }
    }
}

/// Decoding whole datagrams: the unicast length quirk, control messages and broken input.
@Suite struct NetlinkMessageTests {
    static func datagram(
        length: UInt32, type: UInt16, flags: UInt16 = 0, seq: UInt32 = 0, pid: UInt32 = 0, payload: [UInt8]
    )
        -> [UInt8]
    {
        var bytes = WireFormatTests.words([length])
        bytes += [UInt8(type & 0xff), UInt8(type >> 8), UInt8(flags & 0xff), UInt8(flags >> 8)]
        bytes += WireFormatTests.words([seq, pid])
        return bytes + payload
    }

    static let record = Array("audit(1700000000.123:42): arch=c000003e syscall=110".utf8)

    @Test func unicastRecordUsesTheRestOfTheDatagramDespiteItsLength() throws {
        // The registered daemon's socket: nlmsg_len is the payload length, not payload + 16.
        let bytes = Self.datagram(length: UInt32(Self.record.count), type: 1300, payload: Self.record)
        let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
        #expect(message.type == .syscall)
        #expect(Array(bytes[message.payload]) == Self.record)
    }

    @Test func multicastRecordWithTheStandardLengthGivesTheSamePayload() throws {
        let bytes = Self.datagram(length: UInt32(Self.record.count + 16), type: 1300, payload: Self.record)
        let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
        #expect(Array(bytes[message.payload]) == Self.record)
    }

    @Test func trailingNulIsNotPartOfTheRecord() throws {
        let bytes = Self.datagram(length: UInt32(Self.record.count + 17), type: 1300, payload: Self.record + [0])
        let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
        #expect(Array(bytes[message.payload]) == Self.record)
    }

    @Test func controlMessageUsesItsDeclaredLength() throws {
        // An ACK followed by padding bytes that are not part of it.
        let payload = WireFormatTests.words([0, 16, 0x0005_03e9, 1, 0]) + [0xaa, 0xbb, 0xcc, 0xdd]
        let bytes = Self.datagram(length: 36, type: 2, seq: 1, payload: payload)
        let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
        #expect(message.type == .netlinkError)
        #expect(message.payload == 16..<36)
        #expect(message.sequence == 1)
    }

    @Test func senderPortIsReported() throws {
        let bytes = Self.datagram(length: 0, type: 1300, pid: 555, payload: Self.record)
        let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
        #expect(message.portID == 555)
    }

    @Test(arguments: [0, 1, 8, 15])
    func datagramShorterThanAHeaderIsAnError(length: Int) {
        let bytes = [UInt8](repeating: 0x41, count: length)
        #expect(throws: NetlinkDecodeError.self) { _ = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) } }
    }

    @Test(arguments: [UInt32(0), 15, 37, 0xffff_ffff])
    func controlMessageWhoseLengthDoesNotFitIsAnError(length: UInt32) {
        let bytes = Self.datagram(length: length, type: 2, payload: [UInt8](repeating: 0, count: 20))
        #expect(throws: NetlinkDecodeError.self) { _ = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) } }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SplitMix64(seed: 0x5eed)
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let result = bytes.withUnsafeBytes { buffer in
                Result { () throws(NetlinkDecodeError) in try NetlinkMessage.decode(buffer) }
            }
            if case .success(let message) = result {
                #expect(message.payload.lowerBound == 16)
                #expect(message.payload.upperBound <= bytes.count)
            }
        }
    }
}

/// Message type names, as auditd prints them.
@Suite struct MessageTypeTests {
    @Test(arguments: [
        (UInt16(1300), "SYSCALL"), (1320, "EOE"), (1327, "PROCTITLE"), (1112, "USER_LOGIN"), (1006, "LOGIN"),
        (1305, "CONFIG_CHANGE"), (1700, "ANOM_PROMISCUOUS"), (2100, "ANOM_LOGIN_FAILURES"),
    ])
    func knownTypesHaveTheirAuditdNames(value: UInt16, name: String) {
        #expect(AuditMessageType(value).description == name)
        #expect(AuditMessageType(name: name) == AuditMessageType(value))
        #expect(AuditMessageType(name: name.lowercased()) == AuditMessageType(value))
    }

    @Test func unknownTypesRoundTripAsUnknownN() {
        let type = AuditMessageType(1999)
        #expect(type.description == "UNKNOWN[1999]")
        #expect(AuditMessageType(name: "UNKNOWN[1999]") == type)
        #expect(AuditMessageType(name: "NOT_A_TYPE") == nil)
        #expect(AuditMessageType(name: "UNKNOWN[99999]") == nil)
    }

    @Test func onlyUserSpaceRecordsStandAlone() {
        #expect(AuditMessageType(1112).isStandalone)
        #expect(AuditMessageType(2100).isStandalone)
        #expect(AuditMessageType.user.isStandalone)
        #expect(!AuditMessageType.syscall.isStandalone)
        #expect(!AuditMessageType.configChange.isStandalone)
        #expect(!AuditMessageType.login.isStandalone)
    }
}
