import AuditConfig
import AuditNetlink
import Testing

/// `socket = multicast`: the read-only mode changes no kernel setting and loads no rule unless
/// told to, so every key that would is refused with its line, and `--check-config` renders a
/// configuration that parses back.
@Suite struct MulticastConfigTests {
    @Test func socketIsUnicastByDefaultAndAcceptsMulticast() throws {
        #expect(parseOK(stdoutOutput)?.configuration.audit.socket == .unicast)
        let parsed = parseOK("socket = multicast\n" + stdoutOutput)
        #expect(parsed?.configuration.audit.socket == .multicast)
        let refused = parseFailing("socket = broadcast\n" + stdoutOutput)
        #expect(refused.first?.message.contains("unicast or multicast") == true, "\(refused)")
    }

    @Test(arguments: [
        "enabled = 1", "failure = silent", "rate_limit = 0", "backlog_limit = 8192", "backlog_wait_time = 0",
        "takeover = yes", "nap_socket_buffer = 64K",
    ])
    func kernelSettingsAreRefusedInMulticastModeWithTheirLine(line: String) {
        let diagnostics = parseFailing("socket = multicast\n\(line)\n" + stdoutOutput)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.line == 2)
        #expect(diagnostics.first?.message.contains("socket = multicast (line 1)") == true, "\(diagnostics)")
    }

    @Test func rulesNeedAnExplicitYesInMulticastMode() {
        let refused = parseFailing("socket = multicast\nrules_file = /etc/audit/audit.rules\n" + stdoutOutput)
        #expect(refused.map(\.line) == [2])
        #expect(refused.first?.message.contains("multicast_load_rules = yes") == true, "\(refused)")
        let clear = parseFailing("socket = multicast\nrules_at_exit = clear\n" + stdoutOutput)
        #expect(clear.map(\.line) == [2])
        let allowed = parseOK(
            "socket = multicast\nmulticast_load_rules = yes\nrules_dir = /etc/audit/rules.d\n" + stdoutOutput)
        #expect(allowed?.configuration.rules.directory == "/etc/audit/rules.d")
        #expect(allowed?.configuration.rules.loadInMulticast == true)
    }

    @Test func theRenderedMulticastConfigurationParsesBackEqual() throws {
        let parsed = try #require(parseOK("socket = multicast\nsocket_buffer = 8M\n" + stdoutOutput))
        let text = parsed.configuration.render()
        #expect(text.contains("socket = multicast"))
        #expect(!text.contains("\nbacklog_limit = "), "kernel settings are not written in multicast mode")
        let again = try #require(parseOK(text))
        #expect(again.configuration == parsed.configuration)
    }
}
