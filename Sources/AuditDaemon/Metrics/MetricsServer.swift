package import AuditConfig
package import AuditSystem
package import AuditThreads
internal import Glibc
package import Logging
import Synchronization

/// Why the metrics listener could not start: the address and the system's reason.
package struct MetricsListenError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `metrics_listen` as configured.
    package var address: String
    /// What failed (`bind`, `listen`, …) and the errno's text.
    package var reason: String

    package var description: String { "metrics_listen = \(address): \(reason)" }
}

/// The metrics thread: serves `GET /metrics` on `metrics_listen` and writes `metrics_textfile`
/// every `metrics_interval`, from what the control thread last put on the ``MetricsBoard``.
///
/// One plain thread with one `poll` loop over a non-blocking listener and at most
/// ``maximumConnections`` connections, so no client can block it or anything else: each
/// connection has a deadline for its request head (``headTimeoutMilliseconds``, however slowly the
/// bytes trickle in), a bounded head (``MetricsHTTP/maximumHeadBytes``, then 431), garbage is
/// answered 400 as soon as it is seen, a connection beyond the cap is closed at once, and a
/// response that the client does not read is abandoned at its own deadline. The pipeline's threads
/// never wait for this one: they do not know it exists.
package final class MetricsServer: Sendable {
    /// Connections served at once; more are closed as soon as they are accepted.
    package static let maximumConnections = 8
    /// Time from accept to the end of the request head.
    package static let headTimeoutMilliseconds: UInt64 = 2000
    /// Time to hand the response to the kernel.
    package static let writeTimeoutMilliseconds: UInt64 = 5000
    /// Time to wait for the client to close after the response (a lingering close, so that bytes
    /// it still sends do not turn our close into a reset that destroys the response).
    package static let lingerMilliseconds: UInt64 = 1000

    private let listener: Int32
    private let address: MetricsListenAddress?
    private let textfile: String?
    private let intervalMilliseconds: UInt64
    private let board: MetricsBoard
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<SystemThread?>(nil)

    /// Binds `settings.listen` (when set); the thread starts with ``start()``.
    package init(_ settings: MetricsSettings, board: MetricsBoard, logger: Logger) throws(MetricsListenError) {
        address = settings.listen
        textfile = settings.textfile
        intervalMilliseconds = UInt64(max(1, settings.interval.clampedMilliseconds))
        self.board = board
        self.logger = logger
        if let address = settings.listen {
            listener = try Self.listen(on: address)
        } else {
            listener = -1
        }
    }

    /// The port the listener got (for tests that bind port 0); nil for a unix socket or none.
    package var boundPort: UInt16? {
        guard listener >= 0, case .tcp = address else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) == 0 }
        }
        guard ok else { return nil }
        return withUnsafeBytes(of: storage) { raw in
            // sin_port and sin6_port sit at the same offset, in network order.
            UInt16(raw[2]) << 8 | UInt16(raw[3])
        }
    }

    /// Starts the thread.
    package func start() throws(SystemThread.SpawnError) {
        let spawned = try SystemThread.spawn(name: "audit-metrics") { [self] in run() }
        thread.withLock { $0 = spawned }
    }

    /// Stops the thread (within about ``pollMilliseconds``), closes the listener, removes the unix
    /// socket and the textfile: a daemon that stopped has no current metrics, and a stale file
    /// would look like one that is alive.
    package func stop() {
        stopping.store(true, ordering: .releasing)
        if let running = thread.withLock({ $0.take() }) { running.join() }
        if listener >= 0 { SystemCall.close(listener) }
        if case .unix(let path) = address { _ = unlink(path) }
        if let textfile { _ = unlink(textfile) }
    }

    /// The longest the loop sleeps between looks at the stop flag.
    static let pollMilliseconds: UInt64 = 200

    // MARK: The loop

    private struct Connection {
        enum State { case reading, writing, lingering }
        let descriptor: Int32
        var state = State.reading
        var head: [UInt8] = []
        var response: [UInt8] = []
        var sent = 0
        var deadline: UInt64
    }

    private func run() {
        SystemCall.blockBrokenPipeSignal()
        var connections: [Connection] = []
        var counters = MetricsServerCounters()
        var nextTextfile = SystemClock.monotonicMilliseconds()
        var textfileFailing = false
        var descriptors: [pollfd] = []
        var scratch = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .acquiring) {
            var now = SystemClock.monotonicMilliseconds()
            if let textfile, now >= nextTextfile {
                writeTextfile(textfile, counters: &counters, failing: &textfileFailing)
                nextTextfile = now + intervalMilliseconds
            }
            var wake = now + Self.pollMilliseconds
            if textfile != nil { wake = min(wake, nextTextfile) }
            for connection in connections { wake = min(wake, connection.deadline) }
            descriptors.removeAll(keepingCapacity: true)
            if listener >= 0 { descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            for connection in connections {
                let events = connection.state == .writing ? POLLOUT : POLLIN
                descriptors.append(pollfd(fd: connection.descriptor, events: Int16(events), revents: 0))
            }
            let timeout = Int32(clamping: wake > now ? wake - now : 0)
            let ready = descriptors.withUnsafeMutableBufferPointer { buffer in
                (try? SystemCall.poll(buffer.baseAddress!, count: buffer.count, milliseconds: timeout)) ?? 0
            }
            now = SystemClock.monotonicMilliseconds()
            let offset = listener >= 0 ? 1 : 0
            if ready > 0 {
                for index in connections.indices where descriptors[index + offset].revents != 0 {
                    service(&connections[index], now: now, scratch: &scratch, counters: &counters)
                }
            }
            for index in connections.indices where connections[index].deadline <= now {
                expire(&connections[index], now: now, counters: &counters)
            }
            connections.removeAll { connection in
                if connection.descriptor < 0 { return true }
                return false
            }
            if ready > 0, listener >= 0, descriptors[0].revents != 0 {
                accept(into: &connections, now: now, counters: &counters)
            }
        }
        for connection in connections where connection.descriptor >= 0 { SystemCall.close(connection.descriptor) }
    }

    /// Takes every pending connection; those beyond the cap are closed at once.
    private func accept(into connections: inout [Connection], now: UInt64, counters: inout MetricsServerCounters) {
        // Bounded, so that a flood of connections cannot keep the loop here.
        for _ in 0..<64 {
            // accept4 is a GNU extension Glibc's module does not export; every recv and send on
            // the connection passes MSG_DONTWAIT, so its blocking mode never matters.
            let descriptor = Glibc.accept(listener, nil, nil)
            if descriptor < 0 { return }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            if connections.count >= Self.maximumConnections {
                SystemCall.close(descriptor)
                counters.refusedConnections += 1
                continue
            }
            connections.append(Connection(descriptor: descriptor, deadline: now + Self.headTimeoutMilliseconds))
        }
    }

    /// Reads, answers, writes or drains, as the connection's state asks; a connection that is done
    /// gets descriptor -1 (closed) and is removed by the loop.
    private func service(
        _ connection: inout Connection, now: UInt64, scratch: inout [UInt8], counters: inout MetricsServerCounters
    ) {
        switch connection.state {
        case .reading:
            let room = min(MetricsHTTP.maximumHeadBytes - connection.head.count, scratch.count)
            guard let count = receive(connection.descriptor, into: &scratch, limit: room) else { return }
            if count == 0 {
                close(&connection)
                return
            }
            connection.head += scratch[..<count]
            let request = MetricsHTTP.examine(connection.head)
            if request == .incomplete { return }
            respond(&connection, request, now: now, counters: &counters)
        case .writing:
            send(&connection, now: now)
        case .lingering:
            if receive(connection.descriptor, into: &scratch, limit: scratch.count) == 0 { close(&connection) }
        }
    }

    /// `recv` without waiting: the byte count, 0 when the peer closed or the connection failed,
    /// nil when nothing is there yet.
    private func receive(_ descriptor: Int32, into scratch: inout [UInt8], limit: Int) -> Int? {
        while true {
            let count = scratch.withUnsafeMutableBytes {
                Glibc.recv(descriptor, $0.baseAddress, limit, Int32(MSG_DONTWAIT))
            }
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN: return nil
            default: return 0
            }
        }
    }

    private func respond(
        _ connection: inout Connection, _ request: MetricsHTTP.Request, now: UInt64,
        counters: inout MetricsServerCounters
    ) {
        let board = board
        let snapshotCounters = counters
        let (status, bytes) = MetricsHTTP.response(to: request) {
            MetricsText.render(board.snapshot, server: snapshotCounters)
        }
        counters.responses[status, default: 0] += 1
        connection.response = bytes
        connection.sent = 0
        connection.state = .writing
        connection.deadline = now + Self.writeTimeoutMilliseconds
        connection.head = []
        send(&connection, now: now)
    }

    private func send(_ connection: inout Connection, now: UInt64) {
        while connection.sent < connection.response.count {
            let sent = connection.sent
            let count = connection.response.withUnsafeBytes { buffer in
                Glibc.send(
                    connection.descriptor, buffer.baseAddress! + sent, buffer.count - sent,
                    Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN { close(&connection) }
                return
            }
            connection.sent += count
        }
        // All handed over: no more from us; read what the client still sends until it closes.
        _ = shutdown(connection.descriptor, Int32(SHUT_WR))
        connection.response = []
        connection.state = .lingering
        connection.deadline = now + Self.lingerMilliseconds
    }

    /// A deadline passed: a head that did not arrive gets 408, anything else is closed.
    private func expire(_ connection: inout Connection, now: UInt64, counters: inout MetricsServerCounters) {
        guard connection.descriptor >= 0 else { return }
        if connection.state == .reading {
            respond(&connection, .incomplete, now: now, counters: &counters)
            // A client too slow for its head gets one try at reading the 408, no more.
            connection.deadline = min(connection.deadline, now + Self.lingerMilliseconds)
        } else {
            close(&connection)
        }
    }

    private func close(_ connection: inout Connection) {
        SystemCall.close(connection.descriptor)
        connection = Connection(descriptor: -1, deadline: .max)
    }

    // MARK: The textfile

    /// Writes the exposition to a temporary file beside `path` and renames it over `path`, so
    /// node_exporter reads either the previous file or this one whole. The temporary name ends in
    /// `.tmp`, which the textfile collector does not read. A failure is logged when it starts and
    /// when it ends, not every interval.
    private func writeTextfile(_ path: String, counters: inout MetricsServerCounters, failing: inout Bool) {
        let bytes = MetricsText.render(board.snapshot, server: counters)
        do {
            try MetricsTextfile.write(bytes, to: path)
            if failing {
                logger.info("metrics_textfile is written again", metadata: ["path": "\(path)"])
                failing = false
            }
        } catch {
            counters.textfileErrors += 1
            if !failing {
                logger.error("cannot write metrics_textfile", metadata: ["path": "\(path)", "error": "\(error)"])
                failing = true
            }
        }
    }

    // MARK: The listener

    /// A non-blocking listening socket on `address`.
    static func listen(on address: MetricsListenAddress) throws(MetricsListenError) -> Int32 {
        func failure(_ call: String, _ code: Int32 = errno) -> MetricsListenError {
            MetricsListenError(address: "\(address)", reason: "\(call): \(Errno(rawValue: code))")
        }
        let flags = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let descriptor: Int32
        switch address {
        case .tcp(let host, _):
            let v6 = host.contains(":")
            descriptor = socket(v6 ? AF_INET6 : AF_INET, flags, 0)
            guard descriptor >= 0 else { throw failure("socket") }
            // A restart binds again while the last run's connections sit in TIME_WAIT.
            var one: Int32 = 1
            _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if v6 {
                _ = setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            let bound = address.withSocketAddress { bind(descriptor, $0, $1) }
            if bound != 0 {
                let code = errno
                SystemCall.close(descriptor)
                throw failure("bind", code)
            }
        case .unix(let path):
            // A socket left by a daemon that was killed is replaced; anything else is not ours.
            if let existing = try? SystemCall.status(ofPath: path) {
                guard existing.st_mode & S_IFMT == S_IFSOCK else {
                    throw MetricsListenError(
                        address: "\(address)", reason: "the path exists and is not a socket; not replacing it")
                }
                _ = unlink(path)
            }
            descriptor = socket(AF_UNIX, flags, 0)
            guard descriptor >= 0 else { throw failure("socket") }
            let bound = address.withSocketAddress { bind(descriptor, $0, $1) }
            if bound != 0 {
                let code = errno
                SystemCall.close(descriptor)
                throw failure("bind", code)
            }
            // Root only: the counters are not for every local user (systemd's RuntimeDirectory is
            // 0700 too).
            _ = chmod(path, 0o600)
        }
        guard Glibc.listen(descriptor, 16) == 0 else {
            let code = errno
            SystemCall.close(descriptor)
            throw failure("listen", code)
        }
        return descriptor
    }
}

/// The node_exporter textfile: written whole, then renamed into place.
package enum MetricsTextfile {
    /// Writes `bytes` to `path` atomically (temporary file in the same directory, then `rename`),
    /// readable by everyone (node_exporter runs as its own user).
    package static func write(_ bytes: [UInt8], to path: String) throws(Errno) {
        let temporary = path + ".tmp"
        _ = unlink(temporary)
        let descriptor = try SystemCall.open(
            temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode: 0o644)
        // The daemon's umask (UMask=0077 in the unit) would leave it unreadable to node_exporter.
        _ = fchmod(descriptor, 0o644)
        let (_, error) = bytes.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
        SystemCall.close(descriptor)
        if let error {
            _ = unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let error = Errno.current
            _ = unlink(temporary)
            throw error
        }
    }
}
