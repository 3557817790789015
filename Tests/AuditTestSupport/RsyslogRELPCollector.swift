import Foundation
import Glibc

/// A private rsyslogd with an imrelp input on a free loopback port, writing every message it
/// receives, exactly as received (`%rawmsg%`), one per line to `messagesPath`. Its own
/// configuration, pid file and work directory live in a temporary directory; the system's rsyslog
/// is never touched. It can be SIGKILLed and started again on the same port.
///
/// Its main queue is Direct: a message is written to the file before imrelp acknowledges it, so
/// what was acknowledged survives a SIGKILL of the collector (with rsyslog's default in-memory
/// queue, acknowledged messages still queued would die with the process: an acknowledgement
/// means "accepted", not "written").
public final class RsyslogRELPCollector: @unchecked Sendable {  // used by one test at a time
    public let directory: TemporaryDirectory
    /// The imrelp port on 127.0.0.1.
    public let port: UInt16
    /// The file of received messages.
    public var messagesPath: String { directory.file("messages.log") }
    private var process: Process?

    /// imrelp's TLS: the server's certificate and key, and for mutual TLS the CA its clients'
    /// certificates must chain to (`tls.authmode="certvalid"`).
    public struct TLS: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?
        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// Writes the configuration; `maxMessageSize` sets rsyslog's (and so imrelp's) message limit;
    /// with `tls` the input speaks RELP over TLS only (librelp's default TLS library, GnuTLS).
    public init(maxMessageSize: Int? = nil, tls: TLS? = nil) throws {
        directory = try TemporaryDirectory(prefix: "swift-audit-relp")
        port = try Self.freeTCPPort()
        var global = "global(workDirectory=\"\(directory.path)\""
        if let maxMessageSize { global += " maxMessageSize=\"\(maxMessageSize)\"" }
        global += ")\n"
        let configuration =
            global + """
                main_queue(queue.type="Direct")
                module(load="imrelp")
                input(type="imrelp" address="127.0.0.1" port="\(port)" ruleset="relp"\(Self.tlsParameters(tls)))
                template(name="raw" type="string" string="%rawmsg%\\n")
                ruleset(name="relp" queue.type="Direct") {
                    action(type="omfile" file="\(messagesPath)" template="raw" fileCreateMode="0600")
                    stop
                }

                """
        try directory.write("rsyslog.conf", configuration)
    }

    private static func tlsParameters(_ tls: TLS?) -> String {
        guard let tls else { return "" }
        var text = " tls=\"on\" tls.mycert=\"\(tls.certificate)\" tls.myprivkey=\"\(tls.key)\""
        if let clientCA = tls.clientCA {
            text += " tls.cacert=\"\(clientCA)\" tls.authmode=\"certvalid\""
        }
        return text
    }

    deinit {
        stop()
    }

    /// Whether rsyslogd and its imrelp module are installed.
    public static var isAvailable: Bool {
        HostTools.rsyslogd != nil
            && [
                "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so", "/usr/lib/aarch64-linux-gnu/rsyslog/imrelp.so",
                "/usr/lib/rsyslog/imrelp.so",
            ].contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// Starts rsyslogd and waits until the port accepts connections.
    public func start() throws {
        try TestRequirement.rsyslogRELP.check()
        unlink(directory.file("rsyslog.pid"))
        let child = Process()
        child.executableURL = URL(fileURLWithPath: HostTools.rsyslogd ?? "/usr/sbin/rsyslogd")
        child.arguments = ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("rsyslog.pid")]
        _ = FileManager.default.createFile(atPath: directory.file("rsyslog.out"), contents: nil)
        let output = FileHandle(forWritingAtPath: directory.file("rsyslog.out"))
        output?.seekToEndOfFile()
        child.standardOutput = output
        child.standardError = output
        child.standardInput = FileHandle.nullDevice
        try child.run()
        process = child
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.accepts(port: port) { return }
            if !child.isRunning { break }
            usleep(20_000)
        }
        stop()
        throw TestRequirement.Missing(description: "rsyslogd with imrelp did not come up: \(self.output)")
    }

    /// SIGTERM, then SIGKILL after 5 s.
    public func stop() {
        guard let child = process else { return }
        process = nil
        if child.isRunning {
            kill(child.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while child.isRunning, Date() < deadline { usleep(10_000) }
            if child.isRunning { kill(child.processIdentifier, SIGKILL) }
        }
        child.waitUntilExit()
    }

    /// SIGKILL: no `serverclose`, no flush, connections reset by the kernel.
    public func kill9() {
        guard let child = process else { return }
        process = nil
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
    }

    /// What rsyslogd printed.
    public var output: String {
        (try? String(contentsOfFile: directory.file("rsyslog.out"), encoding: .utf8)) ?? ""
    }

    /// The complete lines of the messages file (without their newline).
    public func messages() -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: messagesPath) else { return [] }
        var lines = Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        lines.removeLast()  // after the last newline: empty, or a line still being written
        return lines
    }

    /// The lines once there are at least `count`, or whatever is there after `seconds`.
    public func messages(atLeast count: Int, seconds: Double = 20) -> [[UInt8]] {
        let deadline = Date().addingTimeInterval(seconds)
        var lines = messages()
        while lines.count < count, Date() < deadline {
            usleep(50_000)
            lines = messages()
        }
        return lines
    }

    /// A TCP port on 127.0.0.1 that is free right now.
    private static func freeTCPPort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestRequirement.Missing(description: "socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw TestRequirement.Missing(description: "bind: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds now.
    private static func accepts(port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension TestRequirement {
    /// rsyslogd with its RELP input (`apt-get install rsyslog rsyslog-relp`, or `make test-deps`).
    public static let rsyslogRELP = TestRequirement(
        "rsyslogd with imrelp (apt-get install rsyslog rsyslog-relp)", isAvailable: RsyslogRELPCollector.isAvailable)
}
