/// The client side of RELP, the Reliable Event Logging Protocol that rsyslog's imrelp speaks:
/// framing, the incremental response parser, offers and the window, bytes only.
import AuditRELP
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func number(_ value: UInt32) -> RELPTransactionNumber { RELPTransactionNumber(value)! }

@Suite struct RELPFrameTests {
    @Test func aSyslogFrameIsTxnrCommandLengthDataAndTrailer() {
        var buffer: [UInt8] = []
        RELPFrame.append(transaction: number(7), command: RELPFrame.syslog, data: bytes("<190>1 - x"), to: &buffer)
        #expect(buffer == bytes("7 syslog 10 <190>1 - x\n"))
    }

    @Test func aFrameWithoutDataHasNoSpaceBeforeItsTrailer() {
        var buffer: [UInt8] = []
        RELPFrame.append(transaction: number(3), command: RELPFrame.close, data: [UInt8](), to: &buffer)
        #expect(buffer == bytes("3 close 0\n"))
    }

    @Test func framesAppendToTheSameBufferAndTheOverheadIsExact() {
        var buffer: [UInt8] = []
        let data = bytes("hello")
        RELPFrame.append(transaction: number(9), command: RELPFrame.syslog, data: data, to: &buffer)
        let first = buffer.count
        RELPFrame.append(transaction: number(10), command: RELPFrame.syslog, data: data, to: &buffer)
        #expect(buffer == bytes("9 syslog 5 hello\n10 syslog 5 hello\n"))
        #expect(first == data.count + RELPFrame.overhead(transaction: number(9), commandLength: 6, dataLength: 5))
        #expect(
            buffer.count - first
                == data.count + RELPFrame.overhead(transaction: number(10), commandLength: 6, dataLength: 5))
        #expect(RELPFrame.overhead(transaction: number(3), commandLength: 5, dataLength: 0) == 10)
    }

    @Test func transactionNumbersWrapFrom999999999ToOne() {
        #expect(RELPTransactionNumber(0) == nil)
        #expect(RELPTransactionNumber(1_000_000_000) == nil)
        let last = number(RELPTransactionNumber.maximum)
        #expect(last.next == number(1))
        #expect(last.distance(to: number(1)) == 1)
        #expect(last.distance(to: number(5)) == 5)
        #expect(number(5).distance(to: number(5)) == 0)
        #expect(number(5).distance(to: number(8)) == 3)
    }

    @Test func theClientOffersVersionZeroSoftwareAndSyslog() {
        let open = RELPOffers.clientOpen(software: ["swift-audit", "1,2", "https://example.org"])
        #expect(open == bytes("relp_version=0\nrelp_software=swift-audit,12,https://example.org\ncommands=syslog"))
    }
}

@Suite struct RELPResponseParserTests {
    /// Every frame `parser` has now, as (txnr, command, data).
    private func frames(_ parser: inout RELPResponseParser) throws -> [(UInt32, RELPIncomingFrame.Command, String)] {
        var found: [(UInt32, RELPIncomingFrame.Command, String)] = []
        while let frame = try parser.next() {
            found.append((frame.transaction, frame.command, String(decoding: parser.data, as: UTF8.self)))
        }
        return found
    }

    @Test func twoFramesInOneReadAreBothReturned() throws {
        var parser = RELPResponseParser()
        parser.append(bytes("2 rsp 6 200 OK\n3 rsp 6 200 OK\n"))
        let found = try frames(&parser)
        #expect(found.count == 2)
        #expect(found[0].0 == 2 && found[0].1 == .response(status: 200) && found[0].2 == "200 OK")
        #expect(found[1].0 == 3 && found[1].1 == .response(status: 200))
        #expect(parser.bufferedBytes == 0)
    }

    @Test func aFrameSplitAtEveryByteIsReturnedOnceComplete() throws {
        let stream =
            bytes("1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\n")
            + bytes("commands=syslog\n12 rsp 6 200 OK\n0 serverclose 0\n")
        var parser = RELPResponseParser()
        var found: [(UInt32, RELPIncomingFrame.Command, String)] = []
        for byte in stream {
            parser.append([byte])
            found += try frames(&parser)
        }
        #expect(found.map(\.0) == [1, 12, 0])
        #expect(found.map(\.1) == [.response(status: 200), .response(status: 200), .serverClose])
        #expect(found[0].2.hasSuffix("commands=syslog"))
    }

    @Test func theOpenAnswersOffersAreParsedAndValidated() throws {
        var parser = RELPResponseParser()
        parser.append(
            bytes("1 rsp 93 200 OK\nrelp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\n")
                + bytes("commands=syslog\n"))
        _ = try parser.next()
        let offers = try RELPOffers(parsing: parser.responseData)
        #expect(offers.values(of: "relp_version") == ["0"])
        #expect(offers.values(of: "relp_software") == ["librelp", "1.11.0", "http://librelp.adiscon.com"])
        #expect(offers.values(of: "commands") == ["syslog"])
        try offers.validateServerAnswer(excerpt: parser.data)
    }

    @Test func aServerWithoutSyslogOrVersionIsRefused() throws {
        let noSyslog = try RELPOffers(parsing: bytes("relp_version=0\ncommands=eventlog"))
        #expect(throws: RELPProtocolError.self) { try noSyslog.validateServerAnswer(excerpt: [UInt8]()) }
        let noVersion = try RELPOffers(parsing: bytes("commands=syslog"))
        #expect(throws: RELPProtocolError.self) { try noVersion.validateServerAnswer(excerpt: [UInt8]()) }
        #expect(throws: RELPProtocolError.self) { try RELPOffers(parsing: bytes("=x")) }
    }

    @Test func anEmptyResponseAndAnErrorStatusAreReported() throws {
        var parser = RELPResponseParser()
        parser.append(bytes("4 rsp 0\n1 rsp 20 500 command disabled\n5 rsp 0 \n"))
        let found = try frames(&parser)
        #expect(found.map(\.1) == [.response(status: nil), .response(status: 500), .response(status: nil)])
        #expect(found[1].2 == "500 command disabled")
    }

    @Test(arguments: [
        ("x rsp 6 200 OK\n", "bad TXNR"),
        ("1234567890 rsp 6 200 OK\n", "bad TXNR"),
        ("1 r5p 6 200 OK\n", "bad COMMAND"),
        ("1  rsp 6 200 OK\n", "bad COMMAND"),
        ("1 rsp x 200 OK\n", "bad DATALEN"),
        ("1 rsp 6x200 OK\n", "bad DATALEN"),
        ("1 rsp 6 200 OKX", "no LF after DATA"),
        ("1 rsp 2 OK\n", "rsp without a 3-digit status"),
        ("1 rsp 6 20x OK\n", "rsp without a 3-digit status"),
        ("1 rsp 6 2000OK\n", "rsp without a 3-digit status"),
        ("1 rsp 999999 200 OK\n", "exceeds the limit"),
        ("1 " + String(repeating: "a", count: 33) + " 0\n", "bad COMMAND"),
    ])
    func malformedFramesAreTypedErrorsWithTheInput(input: String, message: String) throws {
        var parser = RELPResponseParser(maximumDataLength: 1000)
        parser.append(bytes(input))
        let error = #expect(throws: RELPProtocolError.self) { try parser.next() }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.excerpt == Array(bytes(input).prefix(64)))
        // The stream cannot be resynchronised: the error stays.
        parser.append(bytes("2 rsp 6 200 OK\n"))
        #expect(throws: RELPProtocolError.self) { try parser.next() }
    }

    @Test func aTooLongDataLengthFailsBeforeItsDataArrives() {
        var parser = RELPResponseParser(maximumDataLength: 100)
        parser.append(bytes("1 rsp 101 "))
        #expect(throws: RELPProtocolError.self) { try parser.next() }
    }

    @Test func errorOffsetsCountBytesAlreadyConsumed() throws {
        var parser = RELPResponseParser()
        parser.append(bytes("2 rsp 6 200 OK\n"))
        _ = try frames(&parser)
        parser.append(bytes("3 rsp ?\n"))
        let error = #expect(throws: RELPProtocolError.self) { try parser.next() }
        #expect(error?.offset == 15)
    }

    @Test func resetForgetsAnErrorAndBufferedBytes() throws {
        var parser = RELPResponseParser()
        parser.append(bytes("garbage"))
        #expect(throws: RELPProtocolError.self) { try parser.next() }
        parser.reset()
        parser.append(bytes("1 rsp 6 200 OK\n"))
        #expect(try parser.next()?.transaction == 1)
    }
}

@Suite struct RELPWindowTests {
    @Test func acknowledgementsMoveTheFrontToTheFirstUnansweredItem() throws {
        var window = RELPWindow(limit: 4)
        window.reset(next: number(2))
        #expect(window.record(item: 0) == number(2))
        #expect(window.record(item: 1) == number(3))
        #expect(window.record(item: 1) == number(4))  // item 1 split in two messages
        #expect(window.record(item: 2) == number(5))
        #expect(!window.hasRoom)
        #expect(window.oldestPendingItem == 0)
        try window.acknowledge(2)
        #expect(window.oldestPendingItem == 1)
        try window.acknowledge(4)  // out of order: item 1 still waits for txnr 3
        #expect(window.oldestPendingItem == 1)
        try window.acknowledge(3)
        #expect(window.oldestPendingItem == 2)
        try window.acknowledge(5)
        #expect(window.isEmpty && window.oldestPendingItem == nil)
        #expect(window.next == number(6))
    }

    @Test func unknownAndRepeatedTransactionsAreRefused() throws {
        var window = RELPWindow(limit: 2)
        window.reset(next: number(2))
        #expect(throws: RELPProtocolError.self) { try window.acknowledge(2) }
        _ = window.record(item: 0)
        _ = window.record(item: 1)
        #expect(throws: RELPProtocolError.self) { try window.acknowledge(0) }
        #expect(throws: RELPProtocolError.self) { try window.acknowledge(1) }
        #expect(throws: RELPProtocolError.self) { try window.acknowledge(4) }
        try window.acknowledge(3)
        #expect(throws: RELPProtocolError.self) { try window.acknowledge(3) }
    }

    @Test func theWindowFollowsTransactionNumbersAcrossTheWrap() throws {
        var window = RELPWindow(limit: 8)
        window.reset(next: number(RELPTransactionNumber.maximum - 1))
        var numbers: [UInt32] = []
        for item in 0..<4 { numbers.append(window.record(item: item).value) }
        #expect(numbers == [999_999_998, 999_999_999, 1, 2])
        try window.acknowledge(999_999_998)
        try window.acknowledge(999_999_999)
        #expect(window.oldestPendingItem == 2)
        try window.acknowledge(1)
        try window.acknowledge(2)
        #expect(window.isEmpty)
    }

    @Test func anItemWithMoreMessagesThanTheLimitStillFits() throws {
        var window = RELPWindow(limit: 2)
        window.reset(next: number(2))
        for _ in 0..<5 { _ = window.record(item: 0) }
        #expect(window.count == 5 && !window.hasRoom)
        for transaction in 2...6 { try window.acknowledge(UInt32(transaction)) }
        #expect(window.isEmpty)
    }

    @Test func openAndCloseTakeNumbersOutsideTheWindow() {
        var window = RELPWindow(limit: 2)
        window.reset(next: .first)
        #expect(window.takeUntracked() == number(1))
        #expect(window.record(item: 0) == number(2))
        #expect(throws: Never.self) { try window.acknowledge(2) }
        #expect(window.takeUntracked() == number(3))
    }
}
