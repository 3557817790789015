import Foundation
import Glibc

/// Certificates for TLS tests, made by the `openssl` command line in a temporary directory: a CA,
/// server certificates that verify or fail in each way a client must refuse, and a client
/// certificate for mutual TLS. Every file is PEM; keys are unencrypted EC P-256.
///
/// Each server certificate names `localhost`, `127.0.0.1` and `::1` (subjectAltName) unless it is
/// the wrong-name one.
public final class TestCertificates: @unchecked Sendable {  // read-only after init
    /// The directory holding the files (removed with this value).
    public let directory: TemporaryDirectory

    /// The CA the client trusts.
    public var caFile: String { directory.file("ca.pem") }
    /// The CA's key (to sign more certificates).
    public var caKeyFile: String { directory.file("ca.key") }
    /// A valid server certificate from the CA, and its key.
    public var serverCertificate: String { directory.file("server.pem") }
    public var serverKey: String { directory.file("server.key") }
    /// From the CA, valid January 2020 only.
    public var expiredCertificate: String { directory.file("expired.pem") }
    public var expiredKey: String { directory.file("expired.key") }
    /// From another CA (`otherCAFile`), valid now, the right names.
    public var strangerCertificate: String { directory.file("stranger.pem") }
    public var strangerKey: String { directory.file("stranger.key") }
    public var otherCAFile: String { directory.file("other-ca.pem") }
    /// From the CA, valid now, for `elsewhere.example` only.
    public var wrongNameCertificate: String { directory.file("wrongname.pem") }
    public var wrongNameKey: String { directory.file("wrongname.key") }
    /// A client certificate from the CA (clientAuth), and its key.
    public var clientCertificate: String { directory.file("client.pem") }
    public var clientKey: String { directory.file("client.key") }

    /// The `openssl` executable, when installed.
    public static let openssl: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Makes every certificate (a second or so).
    public init() throws {
        directory = try TemporaryDirectory(prefix: "swift-audit-tls")
        try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", caKeyFile])
        try makeCA(key: caKeyFile, certificate: caFile, name: "swift-audit test CA")
        try makeCA(key: directory.file("other-ca.key"), certificate: otherCAFile, name: "another CA", newKey: true)
        let serverNames = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n"
        try issue("server", names: serverNames, ca: (caFile, caKeyFile))
        try issue("stranger", names: serverNames, ca: (otherCAFile, directory.file("other-ca.key")))
        try issue(
            "wrongname", names: "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n",
            ca: (caFile, caKeyFile))
        try issue("client", names: "extendedKeyUsage=clientAuth\n", ca: (caFile, caKeyFile))
        try issueExpired()
    }

    private func makeCA(key: String, certificate: String, name: String, newKey: Bool = false) throws {
        if newKey { try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]) }
        try run([
            "req", "-x509", "-new", "-key", key, "-sha256", "-days", "30", "-subj", "/CN=\(name)", "-out",
            certificate, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    /// One more certificate from the CA, valid for 30 days: `NAME.pem` and `NAME.key` with the
    /// extensions `extensions` (OpenSSL's `-extfile` lines, e.g. `subjectAltName=DNS:central.test`
    /// and `extendedKeyUsage=serverAuth`, or `extendedKeyUsage=clientAuth` for a host of its own).
    public func issue(_ name: String, extensions: [String]) throws -> (certificate: String, key: String) {
        try issue(name, names: extensions.map { $0 + "\n" }.joined(), ca: (caFile, caKeyFile))
        return (directory.file("\(name).pem"), directory.file("\(name).key"))
    }

    /// `NAME.key` and `NAME.pem`, signed by `ca` with the extensions `names`, valid for 30 days.
    private func issue(_ name: String, names: String, ca: (certificate: String, key: String)) throws {
        let key = directory.file("\(name).key")
        let request = directory.file("\(name).csr")
        let extensions = try directory.write("\(name).ext", names)
        try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
        try run(["req", "-new", "-key", key, "-subj", "/CN=\(name)", "-out", request])
        try run([
            "x509", "-req", "-in", request, "-CA", ca.certificate, "-CAkey", ca.key, "-CAcreateserial", "-days", "30",
            "-sha256", "-extfile", extensions, "-out", directory.file("\(name).pem"),
        ])
    }

    /// `openssl x509` cannot date a certificate in the past; `openssl ca` can (-startdate, -enddate).
    private func issueExpired() throws {
        let key = expiredKey
        let request = directory.file("expired.csr")
        try run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
        try run(["req", "-new", "-key", key, "-subj", "/CN=expired", "-out", request])
        let database = try directory.write("index.txt", "")
        let serial = try directory.write("serial", "1000\n")
        try FileManager.default.createDirectory(atPath: directory.file("issued"), withIntermediateDirectories: true)
        let configuration = try directory.write(
            "ca.cnf",
            """
            [ca]
            default_ca = test
            [test]
            database = \(database)
            serial = \(serial)
            new_certs_dir = \(directory.file("issued"))
            default_md = sha256
            policy = any
            unique_subject = no
            [any]
            commonName = supplied
            [server]
            subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
            extendedKeyUsage = serverAuth

            """)
        try run([
            "ca", "-batch", "-notext", "-config", configuration, "-cert", caFile, "-keyfile", caKeyFile, "-in",
            request, "-out", expiredCertificate, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
            "-extensions", "server",
        ])
    }

    private func run(_ arguments: [String]) throws {
        guard let openssl = Self.openssl else { throw TestRequirement.Missing(description: "openssl is not installed") }
        let output = try runProcess(openssl, arguments)
        guard output.status == 0 else {
            throw TestRequirement.Missing(
                description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(output.standardError)")
        }
    }
}

extension TestRequirement {
    /// The `openssl` command line, to make test certificates.
    public static let openssl = TestRequirement(
        "openssl (apt-get install openssl)", isAvailable: TestCertificates.openssl != nil)
}
