import AuditNetlink
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The client against this machine's real kernel. Serialised, and every test restores the state
/// it found (settings, rules, registration) through `withKernelAudit`.
@Suite(.serialized, .requires(.kernel))
struct KernelClientTests {
    @Test func statusRoundTripReadsSaneValues() throws {
        try withKernelAudit { client in
            let status = try client.status()
            #expect(status.pid == 0)
            #expect(status.featureBitmap != 0, "a kernel from this decade reports feature bits")
            let again = try client.status()
            #expect(again.backlogLimit == status.backlogLimit)
            #expect(again.enabled == status.enabled)
        }
    }

    @Test func backlogLimitIsSetAndRestored() throws {
        var original: UInt32 = 0
        try withKernelAudit { client in
            original = try client.status().backlogLimit
            let wanted: UInt32 = original == 8191 ? 8190 : 8191
            try client.setBacklogLimit(wanted)
            #expect(try client.status().backlogLimit == wanted)
        }
        let after = try AuditClient().status().backlogLimit
        #expect(after == original, "withKernelAudit must put the backlog limit back")
    }

    @Test func backlogWaitTimeAndRateLimitAreSet() throws {
        try withKernelAudit { client in
            let before = try client.status()
            try client.setBacklogWaitTime(before.backlogWaitTime == 1234 ? 1235 : 1234)
            try client.setRateLimit(before.rateLimit == 777 ? 778 : 777)
            let after = try client.status()
            #expect(after.backlogWaitTime == (before.backlogWaitTime == 1234 ? 1235 : 1234))
            #expect(after.rateLimit == (before.rateLimit == 777 ? 778 : 777))
        }
    }

    @Test func failureModeIsSetToSilentAndBack() throws {
        // Only silent and printk are ever sent: panic could halt the machine.
        try withKernelAudit { client in
            let before = try client.status().failure
            let other: AuditFailureMode = before == .silent ? .printk : .silent
            try client.setFailureMode(other)
            #expect(try client.status().failure == other)
        }
    }

    @Test func resetLostReturnsTheOldCounterAndZeroesIt() throws {
        try withKernelAudit { client in
            _ = try client.resetLostCounter()
            #expect(try client.status().lost == 0)
            #expect(try client.resetLostCounter() == 0)
        }
    }

    @Test func registerShowsThisProcessAndUnregisterClearsIt() throws {
        try withKernelAudit { client in
            try client.register()
            #expect(try client.status().pid == UInt32(getpid()))
            try client.unregister()
            #expect(try client.status().pid == 0)
        }
    }

    @Test func registeringWhileAnotherProcessOwnsThePidNamesTheOwner() throws {
        try withKernelAudit { client in
            let owner = try RegisteredHelper.start()
            defer { owner.stop() }
            #expect(try client.status().pid == owner.pid)
            do {
                try client.register()
                Issue.record("register succeeded although pid \(owner.pid) owns the audit socket")
            } catch let error as AuditNetlinkError {
                guard case .alreadyRegistered(let pid, let command, _) = error.kind else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(pid == owner.pid)
                #expect(command == "python3")
                #expect(error.description.contains("\(owner.pid) (python3: "))
                #expect(!error.description.contains("journald"))
            }
            owner.stop()
            #expect(try client.status().pid == 0)
        }
    }

    @Test func featuresAreReadAndSetWithoutLocking() throws {
        try withKernelAudit { client in
            let features = try client.features()
            #expect(features.version >= 1)
            let current = features.enabled.contains(.loginUIDImmutable)
            // Writing the value it already has exercises the request without changing the machine;
            // never with `lock`, which would hold until reboot.
            if !features.locked.contains(.loginUIDImmutable) {
                try client.setFeature(.loginUIDImmutable, enabled: current)
                #expect(try client.features().enabled.contains(.loginUIDImmutable) == current)
            }
        }
    }

    /// A unicast socket is connected to the kernel: a datagram from any other netlink socket is
    /// refused at the sender (the helper runs as root, with CAP_NET_ADMIN, which may send to any
    /// port), while the same datagram to a plain, unconnected NETLINK_AUDIT socket of the helper's
    /// own is delivered.
    /// What the reader's nap buffer reads (`SO_MEMINFO`): the limit is the doubled buffer size, and
    /// a queued reply takes room until it is received.
    @Test func receiveBufferUsageShowsTheLimitAndWhatIsQueued() throws {
        let socket = try AuditSocket.open(mode: .unicast)
        defer { socket.close() }
        try socket.setReceiveBufferSize(64 << 10)
        let empty = try #require(socket.receiveBufferUsage)
        #expect(empty.limit == 2 * (64 << 10))
        #expect(empty.limit == socket.receiveBufferSize)
        #expect(empty.queued == 0)
        try socket.setReceiveBufferSize(1 << 20)
        #expect(socket.receiveBufferUsage?.limit == 2 << 20)

        // An AUDIT_GET reply, not received yet.
        try withUnsafeBytes(of: UInt32(0)) { none in
            try socket.send(type: .get, flags: 0, sequence: 1, payload: UnsafeRawBufferPointer(rebasing: none[0..<0]))
        }
        #expect(try socket.waitReadable(timeoutMilliseconds: 2000))
        let waiting = try #require(socket.receiveBufferUsage)
        #expect(waiting.queued > 0)
        #expect(waiting.queued < waiting.limit)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 9 << 10, alignment: 4)
        defer { buffer.deallocate() }
        guard case .message = try socket.receive(into: buffer, timeoutMilliseconds: 1000) else {
            Issue.record("no reply to AUDIT_GET")
            return
        }
        #expect(socket.receiveBufferUsage?.queued == 0)
    }

    @Test func unicastSocketsRefuseDatagramsFromAnyoneButTheKernel() throws {
        let unicast = try AuditSocket.open(mode: .unicast)
        defer { unicast.close() }
        #expect(unicast.portID != 0)
        let forge = try runPython(
            """
            import errno, socket, struct, sys
            def plain():
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
                s.bind((0, 0))
                s.settimeout(2)
                return s
            sender, control = plain(), plain()
            body = b"forged!\\0"
            datagram = struct.pack("=IHHII", 16 + len(body), 1101, 0, 1, 0) + body
            for port in (int(sys.argv[1]), control.getsockname()[0]):
                try:
                    sender.sendto(datagram, socket.MSG_DONTWAIT, (port, 0))
                    print("sent")
                except OSError as e:
                    print(errno.errorcode[e.errno])
            received, sender_address = control.recvfrom(256)
            print(received == datagram and sender_address[0] == sender.getsockname()[0])
            """, [String(unicast.portID)])
        #expect(forge.status == 0, "\(forge.standardError)")
        #expect(forge.standardOutput.split(separator: "\n") == ["ECONNREFUSED", "sent", "True"])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 9 << 10, alignment: 4)
        defer { buffer.deallocate() }
        #expect(try unicast.receive(into: buffer, timeoutMilliseconds: 50) == .timedOut)
    }

    @Test func ruleDeliversSyscallRecordsToTheDaemonAndTheMulticastGroup() throws {
        let arch = try #require(HostArch.current)
        try withKernelAudit { client in
            try client.setEnabled(.enabled)
            try client.register()
            let multicast = try AuditClient(mode: .multicast)
            let token = UInt32.random(in: 0x1000_0000...0x7fff_ffff)
            let rule = RawRule.syscallExit(
                arch: arch, syscall: arch.getppid, a0: RawRule.magic, key: "swift-audit-test")
            try client.addRule(rule)
            #expect(try client.listRules().contains(rule))
            do {
                try client.addRule(rule)
                Issue.record("adding the same rule twice succeeded")
            } catch let error as AuditNetlinkError {
                #expect(error.kind == .kernelRejected && error.errno == EEXIST)
            }

            let trigger = try runPython(
                "import ctypes,sys; ctypes.CDLL(None).syscall(\(arch.getppid), 0x7e57b00c, int(sys.argv[1]), 0, 0)",
                [String(token)])
            #expect(trigger.status == 0, "\(trigger.standardError)")

            let tokenField = "a1=\(String(token, radix: 16))"
            let unicastEvent = try Self.collectEvent(from: client, containing: tokenField)
            let multicastEvent = try Self.collectEvent(from: multicast, containing: tokenField)
            #expect(unicastEvent.first?.type == .syscall)
            #expect(unicastEvent.last?.type == .endOfEvent)
            #expect(unicastEvent.contains { $0.type == .proctitle })
            let syscall = String(decoding: unicastEvent[0].payload, as: UTF8.self)
            #expect(syscall.contains("syscall=\(arch.getppid)"))
            #expect(syscall.contains("a0=7e57b00c"))
            #expect(syscall.contains("key=\"swift-audit-test\""))
            #expect(unicastEvent.map(\.type) == multicastEvent.map(\.type))
            #expect(unicastEvent.map(\.payload) == multicastEvent.map(\.payload))

            try client.deleteRule(rule)
            #expect(try !client.listRules().contains(rule))
            do {
                try client.deleteRule(rule)
                Issue.record("deleting a missing rule succeeded")
            } catch let error as AuditNetlinkError {
                #expect(error.kind == .kernelRejected && error.errno == ENOENT)
            }
            try client.unregister()
        }
    }

    @Test func deleteAllRulesRemovesEveryRule() throws {
        let arch = try #require(HostArch.current)
        try withKernelAudit { client in
            let before = try client.listRules()
            try #require(before.isEmpty, "the kernel must have no rules before this test")
            let first = RawRule.syscallExit(arch: arch, syscall: arch.getppid, a0: 1, key: "swift-audit-test-1")
            let second = RawRule.syscallExit(arch: arch, syscall: arch.getppid, a0: 2, key: "swift-audit-test-2")
            try client.addRule(first)
            try client.addRule(second)
            #expect(try client.listRules().count == 2)
            #expect(try client.deleteAllRules() == 2)
            #expect(try client.listRules().isEmpty)
        }
    }

    /// Reads records until the event that contains `marker` is complete (its EOE), and returns its
    /// records, SYSCALL first.
    static func collectEvent(from client: AuditClient, containing marker: String) throws -> [AuditRawRecord] {
        var byEvent: [String: [AuditRawRecord]] = [:]
        var wanted: String?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard let record = try client.nextRecord(timeoutMilliseconds: 500) else { continue }
            let text = String(decoding: record.payload, as: UTF8.self)
            guard let open = text.range(of: "audit("), let close = text.range(of: "): ") else { continue }
            let id = String(text[open.upperBound..<close.lowerBound])
            byEvent[id, default: []].append(record)
            if record.type == .syscall, text.contains(marker) { wanted = id }
            if let wanted, record.type == .endOfEvent, id == wanted { return byEvent[id] ?? [] }
        }
        Issue.record("no complete event containing \(marker) within 10 s")
        return []
    }
}

/// The architecture values a hand-built rule needs.
struct HostArch: Sendable {
    /// `AUDIT_ARCH_*`.
    var auditArch: UInt32
    /// The getppid syscall number.
    var getppid: Int

    static let current: HostArch? = {
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch machine {
        case "x86_64": return HostArch(auditArch: 0xC000_003E, getppid: 110)
        case "aarch64": return HostArch(auditArch: 0xC000_00B7, getppid: 173)
        default: return nil
        }
    }()
}

/// What the kernel tests assume about the machine, checked without the kernel.
@Suite struct HostArchTests {
    @Test func hostArchitectureIsKnown() {
        #expect(HostArch.current != nil, "kernel tests know x86_64 and aarch64")
    }
}

/// `struct audit_rule_data` built by hand, so the client is tested without the rule compiler.
enum RawRule {
    static let magic: UInt32 = 0x7e57_b00c

    /// `-a always,exit -F arch=… -S <syscall> -F a0=<a0> -F key=<key>`.
    static func syscallExit(arch: HostArch, syscall: Int, a0: UInt32, key: String) -> [UInt8] {
        let keyBytes = Array(key.utf8)
        var blob = [UInt8](repeating: 0, count: 1040 + keyBytes.count)
        func put(_ value: UInt32, at offset: Int) {
            for index in 0..<4 { blob[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
        put(4, at: 0)  // flags: AUDIT_FILTER_EXIT
        put(2, at: 4)  // action: AUDIT_ALWAYS
        put(3, at: 8)  // field_count
        put(1 << UInt32(syscall % 32), at: 12 + 4 * (syscall / 32))  // mask[64]
        let fields: UInt32 = 12 + 256, values = fields + 256, operators = values + 256
        let equal: UInt32 = 0x4000_0000
        put(11, at: Int(fields)); put(arch.auditArch, at: Int(values)); put(equal, at: Int(operators))  // AUDIT_ARCH
        put(200, at: Int(fields) + 4); put(a0, at: Int(values) + 4); put(equal, at: Int(operators) + 4)  // AUDIT_ARG0
        put(210, at: Int(fields) + 8); put(UInt32(keyBytes.count), at: Int(values) + 8);
        put(equal, at: Int(operators) + 8)  // AUDIT_FILTERKEY
        put(UInt32(keyBytes.count), at: 1036)  // buflen
        blob.replaceSubrange(1040..<1040 + keyBytes.count, with: keyBytes)
        return blob
    }
}

/// A python3 child registered as the audit daemon, to test what a second daemon sees.
final class RegisteredHelper: @unchecked Sendable {  // used by one test thread only
    let process: Process
    let input: Pipe
    let pid: UInt32
    private var stopped = false

    private init(process: Process, input: Pipe) {
        self.process = process
        self.input = input
        self.pid = UInt32(process.processIdentifier)
    }

    static let script = """
        import os, socket, struct, sys
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
        s.bind((0, 0))
        def set_pid(pid, seq):
            body = struct.pack("=11I", 4, 0, 0, pid, 0, 0, 0, 0, 0, 0, 0)
            s.send(struct.pack("=IHHII", 16 + len(body), 1001, 5, seq, 0) + body)
            while True:
                d = s.recv(65536)
                t, = struct.unpack_from("=H", d, 4)
                if t == 2 and struct.unpack_from("=I", d, 8)[0] == seq:
                    return struct.unpack_from("=i", d, 16)[0]
        err = set_pid(os.getpid(), 1)
        print("registered" if err == 0 else "error %d" % err, flush=True)
        sys.stdin.read()
        set_pid(0, 2)
        """

    static func start() throws -> RegisteredHelper {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let helper = RegisteredHelper(process: process, input: input)
        let line = output.fileHandleForReading.availableData
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("registered") else {
            helper.stop()
            throw HelperError(message: "helper did not register: \(text)")
        }
        return helper
    }

    /// Closes the helper's stdin so it unregisters and exits; waits for it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    struct HelperError: Error { var message: String }
}
