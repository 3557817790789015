import AuditConfig
import AuditTestSupport
import AuditWriters
import Testing

/// `spool_dir`, `spool_max_size` and `spool_sync` of the network outputs.
@Suite struct SpoolConfigTests {
    @Test func aNetworkOutputTakesASpoolWithItsDefaults() throws {
        let parsed = try #require(parseOK(Base.syslogTCP + "output.s.spool_dir = /var/spool/swift-audit/s\n"))
        let spool = try #require(parsed.configuration.outputs.first?.spool)
        #expect(spool == SpoolConfiguration(directory: "/var/spool/swift-audit/s", maxSize: 256 << 20, sync: .interval))
        let gelf = try #require(
            parseOK(
                Base.gelfTCP
                    + "output.g.spool_dir = /var/spool/g\noutput.g.spool_max_size = 2G\noutput.g.spool_sync = always\n")
        )
        #expect(
            gelf.configuration.outputs.first?.spool
                == SpoolConfiguration(directory: "/var/spool/g", maxSize: 2 << 30, sync: .always))
        #expect(parseOK(Base.syslogTCP)?.configuration.outputs.first?.spool == nil)
    }

    @Test func theSpoolIsRenderedAndReadBack() throws {
        let text =
            Base.syslogTCP
            + "output.s.spool_dir = /var/spool/s\noutput.s.spool_max_size = 64M\noutput.s.spool_sync = never\n"
        let parsed = try #require(parseOK(text))
        let rendered = parsed.configuration.render()
        #expect(rendered.contains("output.s.spool_dir = /var/spool/s\n"))
        #expect(rendered.contains("output.s.spool_sync = never\n"))
        let again = try #require(parseOK(rendered))
        #expect(again.configuration.outputs == parsed.configuration.outputs)
    }

    @Test(arguments: [
        (
            Base.file, "output.f.spool_dir = /var/spool/f", 3,
            "applies only to outputs of type = syslog, type = gelf or type = relp"
        ),
        ("output.o.type = stdout\n", "output.o.spool_dir = /var/spool/o", 2, "applies only to outputs of"),
        (Base.syslogTCP, "output.s.spool_dir = spool", 4, "absolute path"),
        (Base.syslogTCP, "output.s.spool_dir = /", 4, "absolute path"),
        (Base.syslogTCP, "output.s.spool_max_size = 64M", 4, "applies only with spool_dir"),
        (Base.syslogTCP, "output.s.spool_sync = always", 4, "applies only with spool_dir"),
        (Base.syslogTCP + "output.s.spool_dir = /s\n", "output.s.spool_max_size = 512K", 5, "1M"),
        (
            Base.syslogTCP + "output.s.spool_dir = /s\n", "output.s.spool_sync = sometimes", 5,
            "never, interval or always"
        ),
    ])
    func badSpoolKeysNameTheirLine(base: String, line: String, at: Int, expected: String) {
        let diagnostics = parseFailing(base + line + "\n")
        #expect(diagnostics.count == 1, "\(diagnostics)")
        #expect(diagnostics.first?.line == at, "\(diagnostics)")
        #expect(diagnostics.first?.description.contains(expected) == true, "\(diagnostics)")
    }

    @Test func twoOutputsCannotShareASpoolDirectory() {
        let text =
            Base.syslogTCP + "output.s.spool_dir = /var/spool/x\n" + Base.gelfTCP
            + "output.g.spool_dir = /var/spool//x/\n"
        let diagnostics = parseFailing(text)
        #expect(diagnostics.map(\.kind) == [.conflict], "\(diagnostics)")
        #expect(diagnostics.first?.line == 8)
        #expect(diagnostics.first?.relatedLines == [4])
        #expect(diagnostics.first?.description.contains("already spools in this directory") == true)
    }

    @Test func checkingTheDirectoryChangesNothing() throws {
        let directory = try TemporaryDirectory()
        let missing = OutputConfiguration(
            name: "s", kind: Base.tcpOutput.kind, spool: SpoolConfiguration(directory: directory.file("new")))
        #expect(missing.spoolDirectoryProblem == nil)
        let orphan = OutputConfiguration(
            name: "s", kind: Base.tcpOutput.kind, spool: SpoolConfiguration(directory: directory.file("a/b")))
        #expect(orphan.spoolDirectoryProblem?.problem.contains("does not exist") == true)
        try directory.write("plain", "x")
        let file = OutputConfiguration(
            name: "s", kind: Base.tcpOutput.kind, spool: SpoolConfiguration(directory: directory.file("plain")))
        #expect(file.spoolDirectoryProblem?.problem.contains("not a directory") == true)
    }
}
