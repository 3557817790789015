import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

@Suite struct SyslogFormatterTests {
    static func formatter(_ style: SyslogFormatter.Style, hostname: String = "web1", tag: String = "swift-audit")
        -> SyslogFormatter
    {
        SyslogFormatter(style: style, facility: 22, severity: 6, hostname: hostname, appName: tag, processID: 4321)
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func rfc5424HeaderCarriesTheEventTimeAndTheLineUnchanged() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var encoder = EventEncoder(users: testUserDirectory(directory))
        let item = encodedItem(execveEvent(serial: 77), encoder: &encoder)
        var formatter = Self.formatter(.rfc5424(structuredData: false))
        #expect(formatter.layOut(item, limit: 65000, overflow: .split) == .whole)
        let message = Self.text(formatter.messages.message(0))
        // 1_700_000_077 s = 2023-11-14T22:14:37Z; local6.info = 22 * 8 + 6 = 182.
        let header = "<182>1 2023-11-14T22:14:37.123Z web1 swift-audit 4321 SYSCALL - "
        #expect(message.hasPrefix(header))
        #expect(Array(formatter.messages.message(0).dropFirst(header.utf8.count)) == item.line)
    }

    @Test func structuredDataNamesTheSequenceAndTheRecordTypes() {
        let event = execveEvent(serial: 9)
        let item = OutputItem(line: Array("{\"sequence\":9}".utf8), event: event)
        var formatter = Self.formatter(.rfc5424(structuredData: true))
        _ = formatter.layOut(item, limit: 65000, overflow: .split)
        let message = Self.text(formatter.messages.message(0))
        #expect(
            message.contains(" SYSCALL [swift-audit@32473 seq=\"9\" types=\"SYSCALL,EXECVE,CWD,PATH,PROCTITLE\"] {"))
    }

    @Test(arguments: [
        ("plain", "plain"), ("a\"b", "a\\\"b"), ("back\\slash", "back\\\\slash"), ("close]", "close\\]"),
        ("new\nline", "new_line"),
    ])
    func structuredDataValuesAreEscapedPerRFC5424(raw: String, escaped: String) {
        var output: [UInt8] = []
        SyslogFormatter.appendParameterValue(raw.utf8, to: &output)
        #expect(String(decoding: output, as: UTF8.self) == escaped)
    }

    @Test func rfc3164HeaderUsesLocalTimeAndOmitsTheHostnameOnALocalSocket() {
        let item = OutputItem(line: Array("{\"sequence\":5,\"timestamp\":\"1700000000.500\",\"messages\":[]}".utf8))
        var remote = Self.formatter(.rfc3164(hostname: true))
        _ = remote.layOut(item, limit: 8096, overflow: .split)
        var local = Self.formatter(.rfc3164(hostname: false))
        _ = local.layOut(item, limit: 8096, overflow: .split)
        var time = time_t(1_700_000_000)
        var parts = tm()
        localtime_r(&time, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = parts.tm_mday < 10 ? " \(parts.tm_mday)" : "\(parts.tm_mday)"
        let stamp =
            "\(months[Int(parts.tm_mon)]) \(day) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        #expect(
            Self.text(remote.messages.message(0)) == "<182>\(stamp) web1 swift-audit[4321]: "
                + Self.text(item.line[...]))
        #expect(Self.text(local.messages.message(0)) == "<182>\(stamp) swift-audit[4321]: " + Self.text(item.line[...]))
    }

    @Test func daemonLinesAreDatedFromTheirTimestampAndNamedByTheirType() {
        let item = OutputItem(
            line: Array("{\"type\":\"swift-audit.loss\",\"timestamp\":\"1700000000.042\",\"count\":3}".utf8))
        var formatter = Self.formatter(.rfc5424(structuredData: true))
        _ = formatter.layOut(item, limit: 8096, overflow: .split)
        #expect(
            Self.text(formatter.messages.message(0))
                == "<182>1 2023-11-14T22:13:20.042Z web1 swift-audit 4321 swift-audit.loss - "
                + Self.text(item.line[...]))
    }

    @Test func headerFieldsCannotCarrySpacesNewlinesOrEscapes() {
        let formatter = Self.formatter(.rfc3164(hostname: true), hostname: "evil host\n\u{1B}[2J", tag: "tag: [x]\n")
        var copy = formatter
        _ = copy.layOut(OutputItem(line: Array("{}".utf8)), limit: 8096, overflow: .split)
        let message = Self.text(copy.messages.message(0))
        #expect(message.hasSuffix(" evil_host__[2J tag___x__[4321]: {}"))
        #expect(!message.utf8.contains(0x0A) && !message.utf8.contains(0x1B))
        #expect(SyslogFormatter.sanitised("", limit: 10, forbidding: [], fallback: "-") == [UInt8(ascii: "-")])
        #expect(
            SyslogFormatter.sanitised(String(repeating: "h", count: 300), limit: 255, forbidding: [], fallback: "-")
                .count == 255)
    }

    @Test func aLineWithARawNewlineIsRefusedNotSent() {
        var formatter = Self.formatter(.rfc5424(structuredData: false))
        let layout = formatter.layOut(OutputItem(line: Array("{\"a\":\"x\ny\"}".utf8)), limit: 8096, overflow: .split)
        #expect(layout == .newline(offset: 7))
        #expect(formatter.messages.isEmpty)
    }

    /// Splits a line with multi-byte characters at many limits; the parts must be marked, fit,
    /// start on character boundaries and concatenate to the line.
    @Test(arguments: [480, 512, 700, 1000, 4096])
    func splitPartsFitAreMarkedAndReassemble(limit: Int) throws {
        var line = Array("{\"sequence\":31337,\"timestamp\":\"1700000000.001\",\"data\":\"".utf8)
        for index in 0..<3000 { line += Array((index % 7 == 0 ? "é😀\\\"" : "abc ").utf8) }
        line += Array("\"}".utf8)
        var formatter = Self.formatter(.rfc5424(structuredData: true))
        guard case .split(let parts) = formatter.layOut(OutputItem(line: line), limit: limit, overflow: .split) else {
            Issue.record("not split")
            return
        }
        #expect(parts == formatter.messages.count)
        var joined: [UInt8] = []
        for index in 0..<parts {
            let message = formatter.messages.message(index)
            #expect(message.count <= limit, "part \(index + 1) has \(message.count) bytes")
            let text = Self.text(message)
            let marker = "[swift-audit part \(index + 1)/\(parts) seq=31337] "
            let range = try #require(text.firstRange(of: marker))
            #expect(text[..<range.lowerBound].hasSuffix("] "), "the marker starts the MSG")
            let piece = Array(text[range.upperBound...].utf8)
            #expect(String(validating: piece, as: UTF8.self) != nil, "part \(index + 1) cuts a character")
            joined += piece
        }
        #expect(joined == line)
    }

    @Test func truncationKeepsTheStartWithAMarkerThatSaysHowMuch() throws {
        let line = Array(("{\"sequence\":8,\"pad\":\"" + String(repeating: "ü", count: 5000) + "\"}").utf8)
        var formatter = Self.formatter(.rfc5424(structuredData: false))
        guard case .truncated(let kept) = formatter.layOut(OutputItem(line: line), limit: 1000, overflow: .truncate)
        else {
            Issue.record("not truncated")
            return
        }
        #expect(formatter.messages.count == 1)
        let message = formatter.messages.message(0)
        #expect(message.count <= 1000)
        let text = Self.text(message)
        let marker = "[swift-audit truncated \(kept)/\(line.count) seq=8] "
        let range = try #require(text.firstRange(of: marker))
        #expect(Array(text[range.upperBound...].utf8) == Array(line[0..<kept]))
        #expect(kept > 800 && kept % 2 == 1, "cut on a character boundary after the 21-byte ASCII head")
    }

    @Test func refusedOversizeReportsTheSize() {
        var formatter = Self.formatter(.rfc5424(structuredData: false))
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 2000)
        guard case .tooLarge(let size) = formatter.layOut(OutputItem(line: line), limit: 1000, overflow: .refuse) else {
            Issue.record("not refused")
            return
        }
        #expect(size > 2000)
        #expect(formatter.messages.isEmpty)
    }
}
