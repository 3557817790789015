import AuditConfig
import AuditTLS
import AuditTestSupport
import AuditWriters
import FoundationEssentials
import Glibc
import Testing

/// The TLS keys: what they require of each other, and the certificate files checked when a
/// configuration is loaded (start, reload, `--check-config`).
@Suite struct TLSConfigTests {
    @Test func aTLSTargetWithoutACAFileIsRefusedAndSaysThereIsNoTrustEverythingMode() {
        let diagnostics = parseFailing(
            "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = logs:6514\n")
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.key == "output.s.tls_ca")
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.message.contains("no mode that trusts any certificate") == true)

        let gelf = parseFailing("output.g.type = gelf\noutput.g.transport = tls\noutput.g.address = g:12201\n")
        #expect(gelf.map(\.key) == ["output.g.tls_ca"])
    }

    @Test func aClientCertificateNeedsItsKeyAndTheKeyItsCertificate() {
        let base = "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = logs\noutput.s.tls_ca = /c.pem\n"
        #expect(parseFailing(base + "output.s.tls_cert = /x.pem\n").map(\.key) == ["output.s.tls_key"])
        #expect(parseFailing(base + "output.s.tls_key = /x.key\n").map(\.key) == ["output.s.tls_cert"])
    }

    @Test func aTLSAddressWithoutAPortUses6514AndTheCheckedConfigurationRendersBack() throws {
        let text = """
            output.s.type = syslog
            output.s.target = tls
            output.s.address = logs.example.com
            output.s.tls_ca = /etc/swift-audit/ca.pem
            output.s.tls_server_name = 10.0.0.5

            """
        let parsed = try #require(parseOK(text))
        let expected = SyslogWriter.Configuration.Target.tls(
            host: "logs.example.com", port: 6514,
            tls: TLSConfiguration(caFile: "/etc/swift-audit/ca.pem", serverName: "10.0.0.5"))
        guard case .syslog(let syslog) = parsed.configuration.outputs.first?.kind else {
            Issue.record("not a syslog output")
            return
        }
        #expect(syslog.target == expected)
        let rendered = parsed.configuration.render()
        #expect(rendered.contains("output.s.address = logs.example.com:6514"))
        #expect(rendered.contains("output.s.tls_ca = /etc/swift-audit/ca.pem"))
        let again = try DaemonConfiguration.parse(rendered, file: "rendered")
        #expect(again.configuration == parsed.configuration)
    }

    /// `load` (what start, reload and --check-config use) reads the files: a missing CA, a CA file
    /// without a certificate, a key that is not the certificate's, each reported on its line.
    @Test(.requires(.openssl)) func loadingChecksTheCertificateFilesWithFileAndLine() throws {
        let certificates = try TestCertificates()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let policy = ConfigFilePolicy(allowedOwners: [getuid(), geteuid(), 0])
        func load(_ text: String) -> [ConfigDiagnostic] {
            let path = directory.file("swift-audit.conf")
            _ = try? directory.write(text, to: "swift-audit.conf")
            do {
                _ = try DaemonConfiguration.load(path: path, policy: policy)
                return []
            } catch {
                return error.diagnostics
            }
        }
        let head = "output.s.type = syslog\noutput.s.target = tls\noutput.s.address = 127.0.0.1:6514\n"
        #expect(load(head + "output.s.tls_ca = \(certificates.caFile)\n") == [])
        #expect(
            load(
                head
                    + "output.s.tls_ca = \(certificates.caFile)\noutput.s.tls_cert = \(certificates.clientCertificate)\n"
                    + "output.s.tls_key = \(certificates.clientKey)\n") == [])

        let missing = load(head + "output.s.tls_ca = \(directory.file("none.pem"))\n")
        #expect(missing.count == 1)
        #expect(missing.first?.line == 4)
        #expect(missing.first?.key == "output.s.tls_ca")
        #expect(missing.first?.message == "No such file or directory")

        let notPEM = try directory.write("text.pem", "not a certificate\n")
        let empty = load(head + "output.s.tls_ca = \(notPEM)\n")
        #expect(empty.first?.message.hasPrefix("no certificates found") == true, "\(empty)")

        let mismatch = load(
            head + "output.s.tls_ca = \(certificates.caFile)\noutput.s.tls_cert = \(certificates.clientCertificate)\n"
                + "output.s.tls_key = \(certificates.serverKey)\n")
        #expect(mismatch.first?.key == "output.s.tls_key")
        #expect(mismatch.first?.line == 6)
        #expect(mismatch.first?.message.contains("is not the key of tls_cert") == true, "\(mismatch)")

        // A disabled output is parsed and checked for syntax, but its files are not read.
        #expect(
            load(head + "output.s.enabled = no\noutput.s.tls_ca = /nonexistent.pem\noutput.f.type = stdout\n") == [])
    }
}
