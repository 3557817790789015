import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import AuditWriters
import CZlib
import FoundationEssentials
import Glibc
import Synchronization
import Testing

// Helpers for the network writer tests. Every socket here is on a loopback address (127.0.0.1,
// ::1) or a unix socket in a temporary directory: nothing leaves the machine.

// MARK: Ports and sockets

/// A port on 127.0.0.1 (or ::1) that is free for both TCP and UDP right now.
func freePort(ipv6: Bool = false) throws -> UInt16 {
    for _ in 0..<50 {
        let tcp = try BoundSocket(type: SOCK_STREAM, port: 0, ipv6: ipv6)
        let port = tcp.port
        if let udp = try? BoundSocket(type: SOCK_DGRAM, port: port, ipv6: ipv6) {
            udp.close()
            tcp.close()
            return port
        }
        tcp.close()
    }
    throw TestFailure("no port free for both TCP and UDP")
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A socket bound to a loopback address.
struct BoundSocket: Sendable {
    let descriptor: Int32
    let port: UInt16

    init(type: __socket_type, port: UInt16, ipv6: Bool = false, reuse: Bool = true) throws {
        let family = ipv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var one: Int32 = 1
        if reuse { setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if type == SOCK_DGRAM {
            // Room for a whole test's datagrams, read after the writer is done (root may force it).
            var size: Int32 = 16 << 20
            if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        var result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw TestFailure("bind port \(port): errno \(code)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let bound: UInt16 =
            ipv6
            ? withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            : withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
        self.descriptor = descriptor
        self.port = bound
    }

    func close() { Glibc.close(descriptor) }

    /// One datagram, or nil after `milliseconds` without one.
    func receive(milliseconds: Int32) -> [UInt8]? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 70000)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? Array(buffer[0..<count]) : nil
    }

    /// Every datagram until none came for `quietMilliseconds` (or `limitMilliseconds` passed).
    func receiveAll(quietMilliseconds: Int32 = 300, limitMilliseconds: UInt64 = 10_000) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        let deadline = monotonicMilliseconds() + limitMilliseconds
        while monotonicMilliseconds() < deadline, let datagram = receive(milliseconds: quietMilliseconds) {
            datagrams.append(datagram)
        }
        return datagrams
    }
}

/// A TCP server on a loopback port that reads on its own thread, for GELF and syslog streams; it
/// can be told not to read (a stalled collector), stopped and started again on the same port.
final class TCPCollector: Sendable {
    let port: UInt16
    let ipv6: Bool
    private let state = Mutex<State>(State())
    private struct State {
        var listener: Int32 = -1
        var received: [UInt8] = []
        var connections = 0
        var reading = true
        var running = false
        var threadDone = true
    }

    init(port: UInt16 = 0, ipv6: Bool = false) throws {
        let socket = try BoundSocket(type: SOCK_STREAM, port: port, ipv6: ipv6)
        self.port = socket.port
        self.ipv6 = ipv6
        socket.close()
    }

    var bytes: [UInt8] { state.withLock { $0.received } }
    var connections: Int { state.withLock { $0.connections } }

    /// Starts listening (again) on the port; `reading: false` accepts connections but never reads.
    func start(reading: Bool = true) throws {
        let socket = try BoundSocket(type: SOCK_STREAM, port: port, ipv6: ipv6)
        if !reading {
            // A small window from the start (accepted sockets inherit it), so a writer stalls soon.
            var small: Int32 = 4096
            setsockopt(socket.descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        }
        guard listen(socket.descriptor, 16) == 0 else { throw TestFailure("listen: errno \(errno)") }
        state.withLock {
            $0.listener = socket.descriptor
            $0.reading = reading
            $0.running = true
            $0.threadDone = false
        }
        let thread = TestThread { [self] in self.serve(listener: socket.descriptor) }
        thread.start()
    }

    /// Stops accepting and closes every connection (the writer sees EOF or a reset).
    func stop() {
        state.withLock { $0.running = false }
        _ = waitUntil(seconds: 5) { state.withLock { $0.threadDone } }
    }

    private func serve(listener: Int32) {
        var clients: [Int32] = []
        defer {
            for client in clients { Glibc.close(client) }
            Glibc.close(listener)
            state.withLock { $0.threadDone = true }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while state.withLock({ $0.running }) {
            let reading = state.withLock { $0.reading }
            var entries = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if reading { entries += clients.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) } }
            guard poll(&entries, nfds_t(entries.count), 20) > 0 else { continue }
            if entries[0].revents != 0 {
                let client = accept(listener, nil, nil)
                if client >= 0 {
                    clients.append(client)
                    state.withLock { $0.connections += 1 }
                }
            }
            for entry in entries.dropFirst() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    state.withLock { $0.received.append(contentsOf: buffer[0..<count]) }
                } else {
                    Glibc.close(entry.fd)
                    clients.removeAll { $0 == entry.fd }
                }
            }
        }
    }
}

/// A plain thread for test servers.
final class TestThread: Sendable {
    private let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let me = Unmanaged<TestThread>.fromOpaque(raw!).takeRetainedValue()
                me.body()
                return nil
            }, box.toOpaque())
        if result == 0 { pthread_detach(thread) } else { box.release() }
    }
}

// MARK: Child processes

/// A child process started with `posix_spawn`, its output in a file.
struct ChildProcess {
    let pid: pid_t

    init(_ path: String, _ arguments: [String], outputPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child starts with no blocked signal and default dispositions: the test process
        // may block some (SIGTERM would then never reach rsyslogd).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw TestFailure("posix_spawn \(path): \(result)") }
        self.pid = pid
    }

    /// SIGTERM, then waits (SIGKILL after `seconds`).
    func terminate(seconds: Double = 5) {
        kill(pid, SIGTERM)
        if !waitUntil(seconds: seconds, { !isRunning }) {
            kill(pid, SIGKILL)
            _ = waitUntil(seconds: seconds) { !isRunning }
        }
    }

    /// False once the child exited (reaped here, or by the system when SIGCHLD is ignored).
    var isRunning: Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return false }
        if result < 0 { return kill(pid, 0) == 0 }  // ECHILD: not ours to reap; is it still there?
        return true
    }
}

/// Whether `port` is bound on 127.0.0.1 in `/proc/net/udp` (or listening in `/proc/net/tcp`).
func portIsBound(_ port: UInt16, tcp: Bool) -> Bool {
    guard let table = readFile(tcp ? "/proc/net/tcp" : "/proc/net/udp") else { return false }
    let needle = ":" + String(port, radix: 16, uppercase: true).leftPadded(to: 4)
    for line in String(decoding: table, as: UTF8.self).split(separator: "\n").dropFirst() {
        let columns = line.split(separator: " ")
        guard columns.count > 3 else { continue }
        if columns[1].hasSuffix(needle), !tcp || columns[3] == "0A" { return true }
    }
    return false
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

// MARK: rsyslog

/// A private rsyslogd running `contrib/rsyslog-swift-audit.conf`, with its port and paths
/// replaced by free loopback ports and files in a temporary directory.
final class Rsyslog {
    let directory: TemporaryDirectory
    let port: UInt16
    var socketPath: String { directory.file("log.sock") }
    var eventsPath: String { directory.file("events.json") }
    var partsPath: String { directory.file("parts.log") }
    private var process: ChildProcess?

    init(maxMessageSize: Int? = nil) throws {
        directory = try TemporaryDirectory()
        port = try freePort()
        guard let snippet = readFile(TestEnvironment.repositoryRoot.path + "/contrib/rsyslog-swift-audit.conf") else {
            throw TestFailure("cannot read contrib/rsyslog-swift-audit.conf")
        }
        var text = String(decoding: snippet, as: UTF8.self)
        let replacements = [
            ("port=\"514\"", "port=\"\(port)\""),
            ("/run/swift-audit-syslog.sock", socketPath),
            ("/var/log/swift-audit/syslog-events.json", eventsPath),
            ("/var/log/swift-audit/syslog-parts.log", partsPath),
        ]
        for (old, new) in replacements {
            guard text.contains(old) else { throw TestFailure("the snippet no longer contains \(old)") }
            text = text.replacing(old, with: new)
        }
        // What /etc/rsyslog.conf provides around the snippet: the global settings and imuxsock,
        // with the system socket left alone.
        var global = "global(workDirectory=\"\(directory.path)\""
        if let maxMessageSize { global += " maxMessageSize=\"\(maxMessageSize)\"" }
        global += ")\nmodule(load=\"imuxsock\" SysSock.Use=\"off\")\n"
        let configuration = global + text
        let path = directory.file("rsyslog.conf")
        try #require(writeText(configuration, to: path))
    }

    /// Starts rsyslogd and waits until its three inputs are ready.
    func start() throws {
        try TestRequirement.rsyslogd.check()
        let binary = HostTools.rsyslogd ?? "rsyslogd"
        process = try ChildProcess(
            binary, ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("rsyslog.pid")],
            outputPath: directory.file("rsyslog.out"))
        let ready = waitUntil(seconds: 10) {
            exists(socketPath) && portIsBound(port, tcp: true) && portIsBound(port, tcp: false)
        }
        if !ready {
            let output = readFile(directory.file("rsyslog.out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            stop()
            throw TestFailure("rsyslogd did not come up: \(output)")
        }
    }

    func stop() {
        process?.terminate()
        process = nil
        unlink(socketPath)
    }

    var output: String {
        readFile(directory.file("rsyslog.out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The lines of `path` once there are at least `count` (or after `seconds`).
    func lines(_ path: String, atLeast count: Int, seconds: Double = 10) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        _ = waitUntil(seconds: seconds) {
            lines = splitLines(readFile(path) ?? []).lines
            return lines.count >= count
        }
        return lines
    }

    deinit {
        stop()
        directory.remove()
    }
}

func writeText(_ text: String, to path: String) -> Bool {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count
}

// MARK: Events

/// A small passwd file for uid names.
func testUserDirectory(_ directory: TemporaryDirectory) -> UserDirectory {
    let path = directory.file("passwd")
    _ = writeText("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n", to: path)
    return UserDirectory(path: path)
}

/// An execve event with serial `serial`; `argumentBytes` pads its EXECVE record (a long event).
func execveEvent(serial: UInt32, argumentBytes: Int = 0, key: String = "exec", exeHex: Bool = false) -> AuditEvent {
    var event = AuditEvent(id: AuditEventID(seconds: 1_700_000_000 + UInt64(serial), milliseconds: 123, serial: serial))
    let exe = exeHex ? "2F746D702F6D7920746F6F6C" : "\"/usr/bin/ls\""  // "/tmp/my tool" as hex
    event.append(
        type: AuditMessageType(1300),
        body: Array(
            ("arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1 pid=4242 "
                + "auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 "
                + "tty=pts0 ses=3 comm=\"ls\" exe=\(exe) subj=unconfined key=\"\(key)\"").utf8))
    var arguments = "argc=2 a0=\"ls\" a1=\"-l é \\\" x\""
    if argumentBytes > 0 { arguments += " a2=\"" + String(repeating: "y", count: argumentBytes) + "\"" }
    event.append(type: AuditMessageType(1309), body: Array(arguments.utf8))
    event.append(type: AuditMessageType(1307), body: Array("cwd=\"/home/alice\"".utf8))
    event.append(type: AuditMessageType(1302), body: Array("item=0 name=\"/usr/bin/ls\" inode=1 nametype=NORMAL".utf8))
    event.append(type: AuditMessageType(1327), body: Array("proctitle=6C73002D6C".utf8))
    return event
}

/// An item for `event`, its line encoded by the project's encoder (without the newline).
func encodedItem(_ event: AuditEvent, encoder: inout EventEncoder) -> OutputItem {
    var line: [UInt8] = []
    encoder.encode(event, into: &line)
    if line.last == UInt8(ascii: "\n") { line.removeLast() }
    return OutputItem(line: line, event: event)
}

// MARK: JSON

/// Any JSON value, for validating documents with FoundationEssentials' decoder.
enum JSONValue: Decodable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ bytes: some Collection<UInt8>) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
    subscript(key: String) -> JSONValue? { object?[key] }
}

// MARK: GELF receiving

/// Reassembles chunked GELF datagrams, as a GELF input does: chunks may come in any order, a
/// message is complete when all `count` sequence numbers of its id arrived.
struct GELFChunkAssembler {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var partial: [[UInt8]: (count: Int, pieces: [Int: [UInt8]])] = [:]
    /// Complete payloads (still compressed, if they were), in completion order.
    private(set) var messages: [[UInt8]] = []
    /// Chunk headers seen: (id, sequence, count).
    private(set) var chunkCount = 0

    /// Adds one datagram: a plain payload, or a chunk (magic 0x1e 0x0f).
    mutating func add(_ datagram: [UInt8]) throws {
        guard datagram.count >= 2, datagram[0] == 0x1E, datagram[1] == 0x0F else {
            messages.append(datagram)
            return
        }
        guard datagram.count > 12 else { throw Failure(description: "chunk of \(datagram.count) bytes") }
        chunkCount += 1
        let id = Array(datagram[2..<10])
        let sequence = Int(datagram[10])
        let count = Int(datagram[11])
        guard count >= 1, count <= 128 else { throw Failure(description: "chunk count \(count) not in 1…128") }
        guard sequence < count else { throw Failure(description: "sequence \(sequence) ≥ count \(count)") }
        var entry = partial[id] ?? (count, [:])
        guard entry.count == count else { throw Failure(description: "count changed within one message") }
        guard entry.pieces[sequence] == nil else { throw Failure(description: "sequence \(sequence) twice") }
        entry.pieces[sequence] = Array(datagram[12...])
        if entry.pieces.count == count {
            messages.append((0..<count).flatMap { entry.pieces[$0]! })
            partial[id] = nil
        } else {
            partial[id] = entry
        }
    }

    var incomplete: Int { partial.count }
}

/// Decompresses a GELF payload: gzip (1f 8b), zlib (78 xx) or plain JSON ({).
func decompressGELF(_ payload: [UInt8]) throws -> [UInt8] {
    guard let first = payload.first else { throw TestFailure("empty payload") }
    if first == UInt8(ascii: "{") { return payload }
    guard payload.count > 2, (first == 0x1F && payload[1] == 0x8B) || first == 0x78 else {
        throw TestFailure("unknown payload start \(first)")
    }
    var stream = z_stream()
    // 15 + 32: detect gzip or zlib from the header.
    guard inflateInit2_(&stream, 47, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw TestFailure("inflateInit2 failed")
    }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    var input = payload
    var status: Int32 = Z_OK
    input.withUnsafeMutableBufferPointer { source in
        stream.next_in = source.baseAddress
        stream.avail_in = uInt(source.count)
        repeat {
            let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return target.count - Int(stream.avail_out)
            }
            output.append(contentsOf: chunk[0..<produced])
        } while status == Z_OK
    }
    guard status == Z_STREAM_END else { throw TestFailure("inflate: \(status)") }
    return output
}

/// Checks a decoded document against the GELF 1.1 rules; returns the problems.
func gelfProblems(_ document: JSONValue) -> [String] {
    guard let object = document.object else { return ["not an object"] }
    var problems: [String] = []
    if object["version"]?.string != "1.1" { problems.append("version is not \"1.1\"") }
    if (object["host"]?.string ?? "").isEmpty { problems.append("host missing or empty") }
    if (object["short_message"]?.string ?? "").isEmpty { problems.append("short_message missing or empty") }
    if let short = object["short_message"]?.string, short.contains("\n") {
        problems.append("short_message has a newline")
    }
    if object["timestamp"]?.number == nil { problems.append("timestamp is not a number") }
    if let level = object["level"]?.number, !(0...7).contains(level) { problems.append("level \(level) not 0…7") }
    if object["level"] != nil, object["level"]?.number == nil { problems.append("level is not a number") }
    if object["_id"] != nil { problems.append("has _id") }
    for (key, value) in object where key.hasPrefix("_") {
        let valid = key.unicodeScalars.allSatisfy {
            $0 == "_" || $0 == "." || $0 == "-"
                || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
        if !valid { problems.append("field name \(key) breaks ^[\\w\\.\\-]*$") }
        switch value {
        case .string, .number: break
        default: problems.append("field \(key) is neither a string nor a number")
        }
    }
    for key in object.keys where !key.hasPrefix("_") {
        if !["version", "host", "short_message", "full_message", "timestamp", "level", "facility", "line", "file"]
            .contains(key)
        {
            problems.append("unknown top-level field \(key)")
        }
    }
    return problems
}
