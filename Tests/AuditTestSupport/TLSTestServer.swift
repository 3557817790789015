import Foundation
import Glibc

/// A TLS server on 127.0.0.1 for tests, in Python's `ssl` module (an implementation other than
/// the client's code): it presents a given certificate, optionally requires a client certificate
/// from a CA, and either stores every byte it decrypts (`received`) or sends each chunk back
/// (`echo`). What each connection came to (`accepted TLSv1.3`, `refused <reason>`) is in `log`.
public final class TLSTestServer: @unchecked Sendable {  // driven by one test
    /// What the server does with the bytes it receives.
    public enum Mode: String, Sendable {
        /// Appends them to the `received` file.
        case sink
        /// Sends them back.
        case echo
    }

    public let port: UInt16
    private let directory: TemporaryDirectory
    private let process: Process

    /// Starts the server and waits until it listens.
    ///
    /// - Parameters:
    ///   - clientCA: when set, a client certificate from this CA is required.
    ///   - maximumVersion: `TLSv1_1` to offer nothing newer (a server the client must refuse).
    public init(
        certificate: String, key: String, mode: Mode = .sink, clientCA: String? = nil, maximumVersion: String? = nil
    ) throws {
        try TestRequirement.python3.check()
        directory = try TemporaryDirectory(prefix: "swift-audit-tls-server")
        let portFile = directory.file("port")
        process = Process()
        process.executableURL = URL(fileURLWithPath: HostTools.python3 ?? "/usr/bin/python3")
        process.arguments = [
            "-c", Self.script, portFile, certificate, key, directory.file("received"), mode.rawValue, clientCA ?? "-",
            maximumVersion ?? "-",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var found: UInt16?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = UInt16(text) {
                found = value
                break
            }
            usleep(25_000)
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw TestRequirement.Missing(description: "the Python TLS server did not start")
        }
        port = found
    }

    /// Every byte decrypted so far (`sink` mode).
    public var received: [UInt8] {
        (FileManager.default.contents(atPath: directory.file("received")).map { Array($0) }) ?? []
    }

    /// One line per connection: `accepted TLSv1.3` or `refused REASON`.
    public var log: [String] {
        let text = (try? String(contentsOfFile: directory.file("received") + ".log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Stops the server. SIGKILL: the child inherits the test process's blocked signals, and
    /// SIGTERM may be among them.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    private static let script = """
        import os, socket, ssl, sys, threading
        port_file, cert, key, out, mode, client_ca, maximum = sys.argv[1:8]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        if client_ca != "-":
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        if maximum != "-":
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = getattr(ssl.TLSVersion, maximum)
            context.set_ciphers("ALL:@SECLEVEL=0")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        sink = open(out, "ab", buffering=0)
        log = open(out + ".log", "a", buffering=1)
        lock = threading.Lock()
        with open(port_file + ".tmp", "w") as f:
            f.write(str(listener.getsockname()[1]))
        os.rename(port_file + ".tmp", port_file)
        def serve(connection):
            try:
                session = context.wrap_socket(connection, server_side=True)
            except Exception as error:
                with lock:
                    log.write("refused %s\\n" % error)
                connection.close()
                return
            with lock:
                log.write("accepted %s\\n" % session.version())
            try:
                while True:
                    data = session.recv(65536)
                    if not data:
                        break
                    if mode == "echo":
                        session.sendall(data)
                    else:
                        with lock:
                            sink.write(data)
            except Exception as error:
                with lock:
                    log.write("ended %s\\n" % error)
            session.close()
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=serve, args=(connection,), daemon=True).start()
        """
}
