internal import AuditSystem
internal import CAuditNetlink
internal import Glibc

/// A record that arrived on a control socket while the client waited for a reply.
///
/// Replies and records share the unicast socket: records are kept for the caller, never dropped.
public struct AuditRawRecord: Hashable, Sendable {
    /// The record type.
    public var type: AuditMessageType
    /// The payload (`audit(…): …`), without trailing NUL.
    public var payload: [UInt8]

    /// Makes a record.
    public init(type: AuditMessageType, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }
}

/// A typed client for the kernel's audit control interface: status, settings, registration,
/// features and raw rules.
///
/// Each request carries its own sequence number and asks for an ACK; replies are matched by that
/// number, stale replies are ignored, and records that arrive in between are kept in
/// `pendingRecords`. One client is used by one thread at a time.
public final class AuditClient {
    /// The socket this client owns (closed when the client goes away, unless it was handed over
    /// with ``relinquishSocket()``).
    public let socket: AuditSocket
    /// How long to wait for each reply.
    public var replyTimeoutMilliseconds: Int
    /// Records that arrived while waiting for replies, oldest first (at most `pendingLimit`).
    public private(set) var pendingRecords: [AuditRawRecord] = []
    /// How many records are kept in `pendingRecords` before further ones are counted and dropped.
    public var pendingLimit = 65_536
    /// Counters of what the client saw besides replies: these are loss and must be reported.
    public private(set) var counters = Counters()

    /// What a client saw besides replies.
    public struct Counters: Hashable, Sendable {
        /// `ENOBUFS` on this socket: the kernel dropped datagrams meant for us.
        public var overflows = 0
        /// Datagrams whose sender was not the kernel.
        public var rejectedDatagrams = 0
        /// Datagrams that did not decode.
        public var malformedDatagrams = 0
        /// Records dropped because `pendingRecords` was full.
        public var droppedPendingRecords = 0
    }

    private var lastSequence: UInt32
    private let buffer: UnsafeMutableRawBufferPointer
    /// False once the socket was handed over: the client then neither closes nor uses it.
    private var ownsSocket = true

    /// The largest reply we accept: a rule with 64 path-sized strings, plus headers.
    private static let bufferSize = 1040 + 64 * 4096 + 64

    /// Opens a socket of the given mode and wraps it.
    public convenience init(mode: AuditSocket.Mode = .unicast, replyTimeoutMilliseconds: Int = 5000)
        throws(AuditNetlinkError)
    {
        self.init(socket: try AuditSocket.open(mode: mode), replyTimeoutMilliseconds: replyTimeoutMilliseconds)
    }

    /// Wraps an open socket; the client closes it when it goes away.
    public init(socket: AuditSocket, replyTimeoutMilliseconds: Int = 5000) {
        self.socket = socket
        self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
        self.buffer = .allocate(byteCount: Self.bufferSize, alignment: 8)
        // Start from a value unlikely to collide with another process's requests on stale replies.
        self.lastSequence = UInt32(truncatingIfNeeded: Glibc.getpid()) &* 2_654_435_761
    }

    deinit {
        buffer.deallocate()
        if ownsSocket { socket.close() }
    }

    /// Hands the socket over to the caller, who owns it from now on (and closes it); the client
    /// must not be used afterwards. Records that arrived while it waited for replies are
    /// returned with it, oldest first.
    ///
    /// For the daemon's registration: the client registers the socket (`register()`), then a
    /// reader that owns the socket takes it, so exactly one owner closes it, after the reader
    /// is done with it.
    public func relinquishSocket() -> (socket: AuditSocket, pendingRecords: [AuditRawRecord]) {
        precondition(ownsSocket, "the client already handed its socket over")
        ownsSocket = false
        defer { pendingRecords = [] }
        return (socket, pendingRecords)
    }

    // MARK: Status and settings

    /// Reads the kernel's audit status (`AUDIT_GET`).
    public func status() throws(AuditNetlinkError) -> AuditStatus {
        let replies = try query(.get, payload: [], expecting: .data(.get), describe: "AUDIT_GET")
        guard let reply = replies.first else {
            throw AuditNetlinkError(
                .malformedReply(.init(kind: .truncatedPayload, byteCount: 0)), operation: "AUDIT_GET")
        }
        let decoded = reply.withUnsafeBytes { bytes in
            Result { () throws(NetlinkDecodeError) in try AuditStatus(decoding: bytes) }
        }
        switch decoded {
        case .success(let status): return status
        case .failure(let error): throw AuditNetlinkError(.malformedReply(error), operation: "AUDIT_GET")
        }
    }

    /// Applies the fields of `status` named by its `mask` (`AUDIT_SET`) and returns the ACK's value
    /// (the old counter for the reset masks, 0 otherwise).
    @discardableResult
    public func set(_ status: AuditStatus) throws(AuditNetlinkError) -> Int32 {
        try command(.set, payload: status.encoded(), expecting: .acknowledgement, describe: Self.describe(status))
    }

    /// Turns auditing off (0), on (1), or on and locked until reboot (2).
    public func setEnabled(_ state: AuditEnabledState) throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .enabled, enabled: state))
    }

    /// Sets what the kernel does when it must drop a record.
    public func setFailureMode(_ mode: AuditFailureMode) throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .failure, failure: mode))
    }

    /// Sets the maximum records per second (0 = unlimited).
    public func setRateLimit(_ limit: UInt32) throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .rateLimit, rateLimit: limit))
    }

    /// Sets how many records the kernel queues for the daemon.
    public func setBacklogLimit(_ limit: UInt32) throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .backlogLimit, backlogLimit: limit))
    }

    /// Sets how long (jiffies) an audited task waits for room in a full backlog.
    public func setBacklogWaitTime(_ jiffies: UInt32) throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .backlogWaitTime, backlogWaitTime: jiffies))
    }

    /// Resets the kernel's lost-record counter and returns the value it had.
    public func resetLostCounter() throws(AuditNetlinkError) -> UInt32 {
        UInt32(bitPattern: try set(AuditStatus(mask: .lost)))
    }

    /// Resets the accumulated backlog wait time and returns the value it had.
    public func resetBacklogWaitTimeActual() throws(AuditNetlinkError) -> UInt32 {
        UInt32(bitPattern: try set(AuditStatus(mask: .backlogWaitTimeActual)))
    }

    // MARK: Registration

    /// Registers this process, through this socket, as the audit daemon: from now on the kernel
    /// sends every record to this socket.
    ///
    /// - Throws: `.alreadyRegistered` naming the owner when another process holds the audit pid.
    public func register() throws(AuditNetlinkError) {
        let pid = UInt32(Glibc.getpid())
        do {
            try set(AuditStatus(mask: .pid, pid: pid))
        } catch let error where error.kind == .kernelRejected && error.errno == EEXIST {
            let owner = RegisteredAuditDaemon.lookup((try? status())?.pid ?? 0)
            throw AuditNetlinkError(
                .alreadyRegistered(pid: owner.pid, command: owner.command, commandLine: owner.commandLine),
                errno: EEXIST,
                operation: "AUDIT_SET pid=\(pid)")
        }
    }

    /// Unregisters the audit daemon (`AUDIT_SET pid=0`); the kernel only allows the owner to do it.
    ///
    /// Records that arrive while waiting for the ACK are kept in `pendingRecords`: the socket is
    /// read all along, so the kernel never blocks on a full buffer here (audit-userspace #203).
    public func unregister() throws(AuditNetlinkError) {
        try set(AuditStatus(mask: .pid, pid: 0))
    }

    // MARK: Features

    /// Reads the kernel's feature switches (`AUDIT_GET_FEATURE`).
    public func features() throws(AuditNetlinkError) -> AuditFeatures {
        let replies = try query(.getFeature, payload: [], expecting: .data(.getFeature), describe: "AUDIT_GET_FEATURE")
        guard let reply = replies.first else {
            throw AuditNetlinkError(
                .malformedReply(.init(kind: .truncatedPayload, byteCount: 0)), operation: "AUDIT_GET_FEATURE")
        }
        let decoded = reply.withUnsafeBytes { bytes in
            Result { () throws(NetlinkDecodeError) in try AuditFeatures(decoding: bytes) }
        }
        switch decoded {
        case .success(let features): return features
        case .failure(let error): throw AuditNetlinkError(.malformedReply(error), operation: "AUDIT_GET_FEATURE")
        }
    }

    /// Switches one feature on or off (`AUDIT_SET_FEATURE`); with `lock`, it stays so until reboot.
    public func setFeature(_ feature: AuditFeatures.Feature, enabled: Bool, lock: Bool = false)
        throws(AuditNetlinkError)
    {
        let request = AuditFeatures(
            version: 1, mask: feature, enabled: enabled ? feature : [], locked: lock ? feature : [])
        try command(
            .setFeature, payload: request.encoded(), expecting: .acknowledgement,
            describe: "AUDIT_SET_FEATURE mask=\(feature.rawValue) enabled=\(enabled) lock=\(lock)")
    }

    // MARK: Rules

    /// Lists the loaded rules (`AUDIT_LIST_RULES`), each as the kernel's `audit_rule_data` blob.
    public func listRules() throws(AuditNetlinkError) -> [[UInt8]] {
        try query(.listRules, payload: [], expecting: .multipart(.listRules), describe: "AUDIT_LIST_RULES")
    }

    /// Adds a rule given as an `audit_rule_data` blob; the kernel answers EEXIST for a duplicate.
    public func addRule(_ rule: [UInt8]) throws(AuditNetlinkError) {
        try command(
            .addRule, payload: rule, expecting: .acknowledgement, describe: "AUDIT_ADD_RULE (\(rule.count) bytes)")
    }

    /// Deletes the rule with exactly this blob; the kernel answers ENOENT when there is none.
    public func deleteRule(_ rule: [UInt8]) throws(AuditNetlinkError) {
        try command(
            .deleteRule, payload: rule, expecting: .acknowledgement, describe: "AUDIT_DEL_RULE (\(rule.count) bytes)")
    }

    /// Deletes every rule, as `auditctl -D` does (list, then delete each); returns how many.
    @discardableResult
    public func deleteAllRules() throws(AuditNetlinkError) -> Int {
        let rules = try listRules()
        for rule in rules { try deleteRule(rule) }
        return rules.count
    }

    // MARK: Records

    /// Removes and returns the records that arrived while waiting for replies.
    public func takePendingRecords() -> [AuditRawRecord] {
        defer { pendingRecords.removeAll(keepingCapacity: true) }
        return pendingRecords
    }

    /// The next record: a pending one first, then one from the socket, waiting at most the timeout.
    ///
    /// Allocates a copy of the payload: meant for tools and tests. The daemon's reader uses
    /// `AuditSocket.receive(into:)` on its own buffers instead.
    public func nextRecord(timeoutMilliseconds: Int) throws(AuditNetlinkError) -> AuditRawRecord? {
        if !pendingRecords.isEmpty { return pendingRecords.removeFirst() }
        precondition(ownsSocket, "the client handed its socket over (relinquishSocket)")
        let deadline = Int(SystemClock.monotonicMilliseconds()) + timeoutMilliseconds
        while true {
            let remaining = max(0, deadline - Int(SystemClock.monotonicMilliseconds()))
            switch try socket.receive(into: buffer, timeoutMilliseconds: remaining == 0 ? 0 : remaining) {
            case .message(let message, _):
                if Self.isRecord(message.type) {
                    return AuditRawRecord(type: message.type, payload: Array(buffer[message.payload]))
                }
            case .overflow: counters.overflows += 1
            case .rejected: counters.rejectedDatagrams += 1
            case .malformed: counters.malformedDatagrams += 1
            case .timedOut: if remaining == 0 { return nil }
            }
            if Int(SystemClock.monotonicMilliseconds()) >= deadline { return nil }
        }
    }

    // MARK: Request and reply

    private enum Expectation {
        case acknowledgement
        case data(AuditMessageType)
        case multipart(AuditMessageType)
    }

    /// True for messages that are audit records rather than replies to requests.
    static func isRecord(_ type: AuditMessageType) -> Bool {
        !type.isNetlinkControl && type != .get && type != .listRules && type != .getFeature && type != .signalInfo
            && type.rawValue >= 1000
    }

    private func nextSequence() -> UInt32 {
        lastSequence &+= 1
        if lastSequence == 0 { lastSequence = 1 }  // records carry sequence 0
        return lastSequence
    }

    @discardableResult
    private func command(
        _ type: AuditMessageType, payload: [UInt8], expecting expectation: Expectation, describe: String
    ) throws(AuditNetlinkError) -> Int32 {
        var ignored: [[UInt8]] = []
        return try exchange(type, payload: payload, expecting: expectation, describe: describe, into: &ignored)
    }

    private func query(
        _ type: AuditMessageType, payload: [UInt8], expecting expectation: Expectation, describe: String
    ) throws(AuditNetlinkError) -> [[UInt8]] {
        var replies: [[UInt8]] = []
        try exchange(type, payload: payload, expecting: expectation, describe: describe, into: &replies)
        return replies
    }

    @discardableResult
    private func exchange(
        _ type: AuditMessageType, payload: [UInt8], expecting expectation: Expectation, describe: String,
        into replies: inout [[UInt8]]
    ) throws(AuditNetlinkError) -> Int32 {
        precondition(ownsSocket, "the client handed its socket over (relinquishSocket)")
        let sequence = nextSequence()
        let sent = payload.withUnsafeBytes { bytes in
            Result { () throws(AuditNetlinkError) in
                try socket.send(type: type, flags: NetlinkFlags.acknowledge, sequence: sequence, payload: bytes)
            }
        }
        if case .failure(let error) = sent { throw refine(error, operation: describe) }
        let deadline = Int(SystemClock.monotonicMilliseconds()) + replyTimeoutMilliseconds
        while true {
            let remaining = deadline - Int(SystemClock.monotonicMilliseconds())
            if remaining <= 0 { throw AuditNetlinkError(.timedOut, operation: describe) }
            let result = try socket.receive(into: buffer, timeoutMilliseconds: remaining)
            guard case .message(let message, _) = result else {
                switch result {
                case .overflow: counters.overflows += 1
                case .rejected: counters.rejectedDatagrams += 1
                case .malformed: counters.malformedDatagrams += 1
                default: break
                }
                continue
            }
            let body = UnsafeRawBufferPointer(rebasing: buffer[message.payload])
            if Self.isRecord(message.type) {
                keep(AuditRawRecord(type: message.type, payload: Array(body)))
                continue
            }
            guard message.sequence == sequence else { continue }  // a stale reply to an earlier request
            switch message.type {
            case .netlinkError:
                let acknowledgement: NetlinkAcknowledgement
                do {
                    acknowledgement = try NetlinkAcknowledgement(decoding: body)
                } catch {
                    throw AuditNetlinkError(.malformedReply(error), operation: describe)
                }
                if acknowledgement.error < 0 {
                    throw refine(
                        AuditNetlinkError(.kernelRejected, errno: -acknowledgement.error, operation: describe),
                        operation: describe)
                }
                if case .acknowledgement = expectation { return acknowledgement.error }
            // A zero ACK before the data: the kernel sends data from a worker thread, so the ACK
            // may come first. Keep waiting for the data.
            case .netlinkDone:
                if case .multipart = expectation { return 0 }
            default:
                switch expectation {
                case .data(let expected) where message.type == expected:
                    replies.append(Array(body))
                    return 0
                case .multipart(let expected) where message.type == expected:
                    replies.append(Array(body))
                default:
                    continue
                }
            }
        }
    }

    private func keep(_ record: AuditRawRecord) {
        if pendingRecords.count < pendingLimit {
            pendingRecords.append(record)
        } else {
            counters.droppedPendingRecords += 1
        }
    }

    /// Turns a bare EPERM into the missing capability when this process lacks it; with the
    /// capability, EPERM means the configuration is locked, which the generic message says.
    private func refine(_ error: AuditNetlinkError, operation: String) -> AuditNetlinkError {
        guard error.errno == EPERM, !Capability.auditControl.isEffective else { return error }
        return AuditNetlinkError(.permissionDenied(capability: "CAP_AUDIT_CONTROL"), errno: EPERM, operation: operation)
    }

    private static func describe(_ status: AuditStatus) -> String {
        var parts: [String] = []
        let mask = status.mask
        if mask.contains(.enabled) { parts.append("enabled=\(status.enabled.rawValue)") }
        if mask.contains(.failure) { parts.append("failure=\(status.failure.rawValue)") }
        if mask.contains(.pid) { parts.append("pid=\(status.pid)") }
        if mask.contains(.rateLimit) { parts.append("rate_limit=\(status.rateLimit)") }
        if mask.contains(.backlogLimit) { parts.append("backlog_limit=\(status.backlogLimit)") }
        if mask.contains(.backlogWaitTime) { parts.append("backlog_wait_time=\(status.backlogWaitTime)") }
        if mask.contains(.lost) { parts.append("reset lost") }
        if mask.contains(.backlogWaitTimeActual) { parts.append("reset backlog_wait_time_actual") }
        return "AUDIT_SET " + parts.joined(separator: " ")
    }
}

/// The name of a running process (`/proc/PID/comm`), or nil when there is none.
///
/// Public for the command line and the daemon; it is AuditSystem's `ProcFS.processName`, which
/// the package's own modules call directly.
public func processName(_ pid: UInt32) -> String? { ProcFS.processName(pid) }
