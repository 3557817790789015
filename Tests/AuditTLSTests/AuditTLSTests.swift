import AuditTLS
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The TLS client against a Python `ssl` server and certificates made by `openssl`: what it
/// accepts, what it refuses and why, and that data crosses intact both ways.
@Suite(.requires(.openssl, .python3)) struct AuditTLSTests {
    /// A TCP connection to 127.0.0.1:`port`, non-blocking, as the network link makes them.
    static func connect(port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw TLSTestFailure("connect to \(port): errno \(errno)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        return descriptor
    }

    struct TLSTestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Connects and runs the handshake; the caller closes the session and the descriptor.
    static func handshake(
        _ context: TLSClientContext, port: UInt16, serverName: String = "127.0.0.1"
    ) throws -> (TLSSession, Int32) {
        let descriptor = try connect(port: port)
        do {
            let session = try context.session(descriptor: descriptor, serverName: serverName)
            try session.handshake(timeoutMilliseconds: 3000)
            return (session, descriptor)
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// The TLSError a handshake throws, or nil when it succeeds.
    static func refusal(
        _ context: TLSClientContext, port: UInt16, serverName: String = "127.0.0.1"
    ) throws -> TLSError? {
        do {
            let (session, descriptor) = try handshake(context, port: port, serverName: serverName)
            session.close()
            close(descriptor)
            return nil
        } catch let error as TLSError {
            return error
        }
    }

    @Test func dataCrossesIntactBothWaysInLargeWrites() throws {
        let certificates = try TestCertificates()
        let server = try TLSTestServer(
            certificate: certificates.serverCertificate, key: certificates.serverKey, mode: .echo)
        defer { server.stop() }
        let context = try TLSClientContext(configuration: TLSConfiguration(caFile: certificates.caFile))
        let (session, descriptor) = try Self.handshake(context, port: server.port)
        defer {
            session.close()
            close(descriptor)
        }
        #expect(session.protocolVersion == "TLSv1.3")
        var generator = SplitMix64(seed: 7)
        let message = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        var echoed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset = 0
        // Send in slices while reading the echo, so neither side's buffers fill up.
        while offset < message.count || echoed.count < message.count {
            if offset < message.count {
                let end = min(message.count, offset + 50_000)
                let (sent, code) = message[offset..<end].withUnsafeBytes { session.send($0, stallMilliseconds: 2000) }
                #expect(code == 0 || code == EAGAIN, "send: errno \(code) \(session.lastFailure)")
                offset += sent
            }
            let (count, code) = buffer.withUnsafeMutableBytes { session.receive(into: $0, timeoutMilliseconds: 200) }
            if code != 0 && code != EAGAIN {
                Issue.record("receive: errno \(code) \(session.lastFailure)")
                break
            }
            echoed += buffer[0..<count]
        }
        #expect(echoed == message)
        #expect(!session.peerClosed(), "session tickets and echoes are not a close")
        server.stop()
        #expect(waitUntil(seconds: 5) { session.peerClosed() }, "a server that went away is noticed")
    }

    @Test func aServerWithAValidCertificateIsAcceptedByIPAddressAndByName() throws {
        let certificates = try TestCertificates()
        let server = try TLSTestServer(certificate: certificates.serverCertificate, key: certificates.serverKey)
        defer { server.stop() }
        let context = try TLSClientContext(configuration: TLSConfiguration(caFile: certificates.caFile))
        #expect(try Self.refusal(context, port: server.port, serverName: "127.0.0.1") == nil)
        #expect(try Self.refusal(context, port: server.port, serverName: "localhost") == nil)
    }

    enum BadServer: String, CaseIterable, CustomTestStringConvertible {
        case expired, anotherCA, wrongName, wrongAddress, tls11
        var testDescription: String { rawValue }
    }

    /// Each certificate a client must refuse, refused during the handshake with the reason; the
    /// server never decrypts a byte.
    @Test(arguments: BadServer.allCases)
    func aServerThatCannotProveItsIdentityIsRefusedWithTheReason(_ bad: BadServer) throws {
        let certificates = try TestCertificates()
        let (certificate, key, name, reason): (String, String, String, String) =
            switch bad {
            case .expired:
                (certificates.expiredCertificate, certificates.expiredKey, "127.0.0.1", "certificate has expired")
            case .anotherCA:
                (
                    certificates.strangerCertificate, certificates.strangerKey, "127.0.0.1",
                    "unable to get local issuer certificate"
                )
            case .wrongName:
                (certificates.wrongNameCertificate, certificates.wrongNameKey, "localhost", "hostname mismatch")
            case .wrongAddress:
                (certificates.wrongNameCertificate, certificates.wrongNameKey, "127.0.0.1", "IP address mismatch")
            case .tls11:
                (certificates.serverCertificate, certificates.serverKey, "127.0.0.1", "")
            }
        let server = try TLSTestServer(
            certificate: certificate, key: key, maximumVersion: bad == .tls11 ? "TLSv1_1" : nil)
        defer { server.stop() }
        let context = try TLSClientContext(configuration: TLSConfiguration(caFile: certificates.caFile))
        let error = try #require(try Self.refusal(context, port: server.port, serverName: name))
        if bad == .tls11 {
            #expect(error.kind == .handshake, "\(error)")
            #expect(error.description.contains("protocol"), "\(error)")
        } else {
            #expect(error.kind == .verification)
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.contains(name), "\(error)")
        }
        #expect(waitUntil(seconds: 3) { !server.log.isEmpty })
        #expect(server.log.allSatisfy { $0.hasPrefix("refused") }, "\(server.log)")
        #expect(server.received.isEmpty)
    }

    /// Mutual TLS: a server that requires a client certificate takes ours, and refuses a client
    /// without one; under TLS 1.3 the refusal comes after the client's handshake, and is still
    /// reported by the handshake.
    @Test func aServerRequiringAClientCertificateAcceptsOursAndRefusesNone() throws {
        let certificates = try TestCertificates()
        let server = try TLSTestServer(
            certificate: certificates.serverCertificate, key: certificates.serverKey, clientCA: certificates.caFile)
        defer { server.stop() }
        let mutual = try TLSClientContext(
            configuration: TLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                keyFile: certificates.clientKey))
        let (session, descriptor) = try Self.handshake(mutual, port: server.port)
        let (sent, code) = Array("hello".utf8).withUnsafeBytes { session.send($0, stallMilliseconds: 1000) }
        #expect(sent == 5 && code == 0)
        #expect(waitUntil(seconds: 3) { server.received == Array("hello".utf8) })
        session.close()
        close(descriptor)

        let anonymous = try TLSClientContext(configuration: TLSConfiguration(caFile: certificates.caFile))
        let error = try #require(try Self.refusal(anonymous, port: server.port))
        #expect(error.kind == .handshake)
        #expect(error.description.contains("tls_cert"), "\(error)")
        #expect(waitUntil(seconds: 3) { server.log.last?.hasPrefix("refused") == true }, "\(server.log)")
    }

    @Test func contextErrorsNameTheFileAndTheReason() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let notPEM = try directory.write("not.pem", "hello\n")

        func failure(_ configuration: TLSConfiguration) -> TLSError? {
            do {
                _ = try TLSClientContext(configuration: configuration)
                return nil
            } catch {
                return error
            }
        }
        let missing = failure(TLSConfiguration(caFile: directory.file("missing.pem")))
        #expect(missing?.kind == .caFile)
        #expect(missing?.description == "tls_ca \(directory.file("missing.pem")): No such file or directory")

        let empty = failure(TLSConfiguration(caFile: notPEM))
        #expect(empty?.kind == .caFile)
        #expect(
            empty?.description.hasPrefix("tls_ca \(notPEM): no certificates found") == true,
            "\(String(describing: empty))")

        let directoryCA = failure(TLSConfiguration(caFile: directory.path))
        #expect(directoryCA?.description == "tls_ca \(directory.path): not a regular file")

        let badCertificate = failure(
            TLSConfiguration(caFile: certificates.caFile, certificateFile: notPEM, keyFile: certificates.clientKey))
        #expect(badCertificate?.kind == .certificateFile, "\(String(describing: badCertificate))")

        let badKey = failure(
            TLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificate, keyFile: notPEM))
        #expect(badKey?.kind == .keyFile, "\(String(describing: badKey))")

        let mismatch = failure(
            TLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                keyFile: certificates.serverKey))
        #expect(mismatch?.kind == .keyMismatch)
        #expect(
            mismatch?.description.contains("is not the key of tls_cert \(certificates.clientCertificate)") == true,
            "\(String(describing: mismatch))")

        let half = failure(
            TLSConfiguration(caFile: certificates.caFile, certificateFile: certificates.clientCertificate))
        #expect(half?.kind == .incomplete)

        // A key protected by a passphrase fails to load; nothing prompts on the terminal.
        let encrypted = directory.file("encrypted.key")
        let output = try runProcess(
            TestCertificates.openssl ?? "openssl",
            ["ec", "-in", certificates.clientKey, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        #expect(output.status == 0)
        let locked = failure(
            TLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificate, keyFile: encrypted))
        #expect(locked?.kind == .keyFile)
        #expect(locked?.description.contains("passphrase") == true)
    }
}
