import AuditEncoding
import AuditWriters
import Glibc
import Testing

/// The syslog writer's datagram decisions, driven step by step with made-up send results: the
/// layouts are the real formatter's, no socket is involved.
@Suite struct SyslogDatagramMachineTests {
    typealias Step = SyslogDatagramMachine.Step
    typealias Policy = SyslogWriter.Configuration.OversizePolicy

    static let target = "syslog udp 192.0.2.1:514"

    static func formatter() -> SyslogFormatter {
        SyslogFormatter(
            style: .rfc5424(structuredData: false), facility: 22, severity: 6, hostname: "web1",
            appName: "swift-audit", processID: 4321)
    }

    /// A line of exactly `bytes` bytes with a fixed time, so that every header is as long.
    static func line(_ number: Int, bytes: Int) -> [UInt8] {
        let head = "{\"sequence\":\(number),\"timestamp\":\"1700000000.500\",\"pad\":\""
        return Array((head + String(repeating: "x", count: bytes - head.utf8.count - 2) + "\"}").utf8)
    }

    /// The bytes of a message's header.
    static let headerBytes: Int = {
        var formatter = Self.formatter()
        _ = formatter.layOut(OutputItem(line: line(0, bytes: 100)), limit: 65000, overflow: .split)
        return formatter.messages.message(0).count - 100
    }()

    /// An item whose whole message, header included, is `message` bytes.
    static func item(_ number: Int, message: Int) -> OutputItem {
        OutputItem(line: line(number, bytes: message - headerBytes))
    }

    /// The error `SyslogWriter` builds for a failed send that may succeed later.
    static func sendError(_ code: Int32) -> WriterError {
        WriterError(code: code == EAGAIN ? .stalled : .write, target: target, errno: code)
    }

    /// A machine and a formatter that lays items out as the writer's does.
    struct Harness {
        var machine: SyslogDatagramMachine
        var formatter = SyslogDatagramMachineTests.formatter()
        let overflow: SyslogFormatter.Overflow

        init(limit: Int = 8096, oversize: Policy = .split) {
            machine = SyslogDatagramMachine(target: SyslogDatagramMachineTests.target, oversize: oversize, limit: limit)
            overflow =
                switch oversize {
                case .split: .split
                case .truncate: .truncate
                case .drop, .tcp: .refuse
                }
        }

        /// Performs `step` while it is a layout; returns the first step that is not.
        mutating func layOut(_ item: OutputItem, _ step: Step) -> Step {
            var step = step
            while case .layOut(let limit) = step {
                step = machine.laidOut(formatter.layOut(item, limit: limit, overflow: overflow))
            }
            return step
        }

        /// `start(item)` and its layouts.
        mutating func begin(_ item: OutputItem) -> Step { layOut(item, machine.start(item)) }

        /// The send of the current layout ended with `result`.
        mutating func sent(_ item: OutputItem, _ result: DatagramResult) -> Step {
            machine.sent(result, of: item, messages: formatter.messages)
        }

        /// The socket refused the first datagram of the current layout as too long.
        mutating func refused(_ item: OutputItem) -> Step {
            sent(item, .failed(index: 0, errno: EMSGSIZE, bytes: 0))
        }

        /// The bytes of the current layout's messages `parts`.
        func bytes(_ parts: Range<Int>) -> Int { parts.reduce(0) { $0 + formatter.messages.message($1).count } }
    }

    // MARK: An item that goes out

    @Test(arguments: [
        (SyslogFormatter.Layout.whole, WriterActivity()),
        (.split(parts: 3), WriterActivity(oversizeSplit: 1)),
        (.truncated(kept: 200), WriterActivity(oversizeTruncated: 1)),
    ])
    func aLaidOutItemThatGoesOutIsDoneAndItsLayoutCounted(layout: SyslogFormatter.Layout, activity: WriterActivity) {
        var harness = Harness()
        let item = Self.item(1, message: 700)
        harness.machine.beginWrite()
        #expect(harness.machine.start(item) == .layOut(limit: 8096))
        _ = harness.formatter.layOut(item, limit: 8096, overflow: .split)
        #expect(harness.machine.laidOut(layout) == .send)
        #expect(harness.sent(item, .sent(bytes: 700)) == .done)
        var expected = activity
        expected.reconnects = 1
        let outcome = harness.machine.finish(linkActivity: WriterActivity(reconnects: 1))
        #expect(outcome == WriteOutcome(bytes: 700, activity: expected))
        #expect(harness.machine.done == 1)
        #expect(harness.machine.start(item) == .layOut(limit: 8096), "nothing is pending")
    }

    // MARK: EMSGSIZE

    /// The socket refuses the first datagram: the limit becomes max(480, min(limit / 2,
    /// refused − 1)) for good, the item is laid out again and a warning waits to be reported.
    @Test(arguments: [
        (8096, 1000, 999), (8096, 8096, 4048), (1000, 990, 500), (961, 961, 480), (600, 590, 480), (481, 481, 480),
    ])
    func emsgsizeAboveTheFloorLowersTheLimitAndLaysOutAgain(limit: Int, refused: Int, lowered: Int) {
        var harness = Harness(limit: limit)
        let item = Self.item(1, message: refused)
        harness.machine.beginWrite()
        #expect(harness.begin(item) == .send)
        #expect(harness.refused(item) == .layOut(limit: lowered))
        #expect(harness.machine.limit == lowered)
        #expect(
            harness.machine.warning
                == WriterError(
                    code: .write, target: Self.target, errno: EMSGSIZE,
                    detail: "the socket refused a \(refused)-byte datagram; max_message lowered from \(limit) to "
                        + "\(lowered) bytes"))
        #expect(harness.machine.outcome == WriteOutcome(), "the refused send counts nothing")
        // Laid out again within the new limit (split, since it no longer fits whole), it goes out.
        #expect(harness.layOut(item, .layOut(limit: lowered)) == .send)
        #expect(harness.formatter.messages.count > 1)
        #expect(harness.sent(item, .sent(bytes: 1234)) == .done)
        #expect(harness.machine.finish(linkActivity: WriterActivity()).activity == WriterActivity(oversizeSplit: 1))
        #expect(harness.machine.start(Self.item(2, message: 500)) == .layOut(limit: lowered), "for good")
    }

    /// At 480 bytes nothing is lowered any more: the item is rejected and counted as dropped.
    @Test(arguments: [(480, 0), (481, 1), (960, 1), (2000, 3)])
    func emsgsizeAtTheFloorRejectsTheItem(limit: Int, lowerings: Int) {
        var harness = Harness(limit: limit)
        let item = Self.item(1, message: 3000)
        harness.machine.beginWrite()
        var step = harness.begin(item)
        var refusals = 0
        while step == .send {
            refusals += 1
            step = harness.layOut(item, harness.refused(item))
        }
        #expect(refusals == lowerings + 1)
        #expect(harness.machine.limit == 480)
        let refused = harness.formatter.messages.message(0).count
        #expect(refused <= 480)
        let rejection = WriterError(
            code: .rejected, target: Self.target, errno: EMSGSIZE,
            detail: "the socket refuses even a \(refused)-byte datagram", isRetryable: false)
        #expect(step == .reject(rejection))
        let thrown = harness.machine.failure(rejection, linkActivity: WriterActivity())
        #expect(thrown.activity == WriterActivity(oversizeDropped: 1))
        #expect(!thrown.isRetryable)
    }

    /// The warning about a lowered limit is not lost with an item that can never go out: it
    /// rides on the next retryable error, once, or on the next write that goes through.
    @Test func theLoweringWarningRidesOnTheNextRetryableErrorOnly() throws {
        var harness = Harness(limit: 960)
        let refusedItem = Self.item(1, message: 900)
        harness.machine.beginWrite()
        #expect(harness.begin(refusedItem) == .send)
        #expect(harness.layOut(refusedItem, harness.refused(refusedItem)) == .send)
        #expect(harness.machine.limit == 480)
        guard case .reject(let rejection) = harness.refused(refusedItem)
        else {
            Issue.record("EMSGSIZE at 480 rejects")
            return
        }
        let warning = try #require(harness.machine.warning)
        #expect(!harness.machine.failure(rejection, linkActivity: WriterActivity()).detail.contains("lowered"))

        // Another item that can never go out: still not this one's place.
        harness.machine.beginWrite()
        var newline = Self.line(2, bytes: 200)
        newline[50] = UInt8(ascii: "\n")
        guard case .reject(let newlineRejection) = harness.begin(OutputItem(line: newline)) else {
            Issue.record("a newline rejects")
            return
        }
        #expect(
            harness.machine.failure(newlineRejection, linkActivity: WriterActivity()).detail == newlineRejection.detail)
        #expect(harness.machine.warning == warning)

        // The next retryable error carries it, and only that one.
        let stalled = Self.item(3, message: 300)
        for attempt in 1...2 {
            harness.machine.beginWrite()
            #expect(harness.begin(stalled) == .send)
            #expect(harness.sent(stalled, .failed(index: 0, errno: EAGAIN, bytes: 0)) == .fail(errno: EAGAIN))
            let thrown = harness.machine.failure(Self.sendError(EAGAIN), linkActivity: WriterActivity())
            #expect(thrown.isRetryable)
            #expect(thrown.detail == (attempt == 1 ? warning.description : ""))
            #expect(harness.machine.warning == nil)
        }
        #expect(harness.machine.takeWarning() == nil)
    }

    @Test func aWriteThatGoesThroughReportsTheLoweringWarningOnce() {
        var harness = Harness(limit: 8096)
        let item = Self.item(1, message: 1000)
        harness.machine.beginWrite()
        #expect(harness.begin(item) == .send)
        #expect(harness.layOut(item, harness.refused(item)) == .send)
        #expect(harness.sent(item, .sent(bytes: 1050)) == .done)
        #expect(harness.machine.limit == 999)
        #expect(harness.machine.takeWarning()?.errno == EMSGSIZE)
        #expect(harness.machine.takeWarning() == nil)
    }

    // MARK: Parts pending

    /// A send that fails after `part` parts keeps the rest pending; the same line, handed back,
    /// continues from there without counting the split again. Nothing sent, nothing kept.
    @Test(arguments: [0, 1, 2], [EAGAIN, ECONNREFUSED, ENOBUFS])
    func aFailureAfterSomePartsKeepsTheRestForTheSameLine(part: Int, code: Int32) {
        var harness = Harness(limit: 600)
        let line = Self.line(7, bytes: 1500)
        let item = OutputItem(line: line)
        harness.machine.beginWrite()
        #expect(harness.begin(item) == .send)
        let messages = harness.formatter.messages
        #expect(messages.count == 3)
        let sentBytes = harness.bytes(0..<part)
        #expect(harness.sent(item, .failed(index: part, errno: code, bytes: sentBytes)) == .fail(errno: code))
        let thrown = harness.machine.failure(Self.sendError(code), linkActivity: WriterActivity())
        #expect(thrown.completedItems == 0)
        #expect(thrown.completedBytes == sentBytes)
        #expect(thrown.activity == (part > 0 ? WriterActivity(oversizeSplit: 1) : WriterActivity()))

        // The worker hands the same line back (another item value, its line in a shared chunk).
        let again = OutputItem(sharing: [0x20] + line + [0x20], range: 1..<(line.count + 1))
        harness.machine.beginWrite()
        if part == 0 {
            #expect(harness.machine.start(again) == .layOut(limit: 600))
            return
        }
        #expect(harness.machine.start(again) == .resume(from: part))
        let kept = harness.machine.keptMessages
        #expect(kept.count == 3)
        #expect((0..<3).allSatisfy { kept.message($0) == messages.message($0) })
        let rest = harness.bytes(part..<3)
        #expect(harness.machine.resumed(.sent(bytes: rest)) == .done)
        #expect(harness.machine.finish(linkActivity: WriterActivity()) == WriteOutcome(bytes: rest))
        #expect(harness.machine.done == 1)
        #expect(harness.machine.start(again) == .layOut(limit: 600), "the parts are all out")
    }

    /// A resumed send that fails again keeps what is still left: from where it stopped.
    @Test(arguments: [1, 2])
    func aFailedResumeKeepsWhatIsStillLeft(stoppedAt: Int) {
        var harness = Harness(limit: 600)
        let item = OutputItem(line: Self.line(7, bytes: 1500))
        harness.machine.beginWrite()
        #expect(harness.begin(item) == .send)
        let first = harness.bytes(0..<1)
        #expect(harness.sent(item, .failed(index: 1, errno: EAGAIN, bytes: first)) == .fail(errno: EAGAIN))
        harness.machine.beginWrite()
        #expect(harness.machine.start(item) == .resume(from: 1))
        let more = harness.bytes(1..<stoppedAt)
        #expect(harness.machine.resumed(.failed(index: stoppedAt, errno: EAGAIN, bytes: more)) == .fail(errno: EAGAIN))
        let thrown = harness.machine.failure(Self.sendError(EAGAIN), linkActivity: WriterActivity())
        #expect(thrown.completedItems == 0)
        #expect(thrown.completedBytes == more)
        #expect(thrown.activity == WriterActivity(), "the split was counted with the first part")
        harness.machine.beginWrite()
        #expect(harness.machine.start(item) == .resume(from: stoppedAt))
    }

    /// Another line first: the item the parts belong to is gone, and its parts with it.
    @Test func aDifferentLineDiscardsThePendingParts() {
        var harness = Harness(limit: 600)
        let item = OutputItem(line: Self.line(7, bytes: 1500))
        harness.machine.beginWrite()
        #expect(harness.begin(item) == .send)
        #expect(
            harness.sent(item, .failed(index: 2, errno: EAGAIN, bytes: harness.bytes(0..<2))) == .fail(errno: EAGAIN))
        harness.machine.beginWrite()
        #expect(harness.machine.start(OutputItem(line: Self.line(8, bytes: 1500))) == .layOut(limit: 600))
        #expect(harness.machine.keptMessages.isEmpty)
        #expect(harness.machine.start(item) == .layOut(limit: 600), "not resumed after all")
    }

    // MARK: Too large, newline

    @Test(arguments: [Policy.tcp, .drop])
    func aTooLargeMessageIsReroutedOverTCPOrRejected(policy: Policy) {
        var machine = SyslogDatagramMachine(target: Self.target, oversize: policy, limit: 8096)
        machine.beginWrite()
        #expect(machine.start(Self.item(1, message: 9000)) == .layOut(limit: 8096))
        let step = machine.laidOut(.tooLarge(size: 9000))
        if policy == .tcp {
            #expect(step == .reroute)
            #expect(machine.rerouted(bytes: 9005) == .done)
            #expect(machine.done == 1)
            #expect(
                machine.finish(linkActivity: WriterActivity())
                    == WriteOutcome(bytes: 9005, activity: WriterActivity(oversizeRerouted: 1)))
            return
        }
        let rejection = WriterError(
            code: .rejected, target: Self.target,
            detail: "a 9000-byte message exceeds max_message (8096); oversize = drop",
            isRetryable: false)
        #expect(step == .reject(rejection))
        let thrown = machine.failure(rejection, linkActivity: WriterActivity())
        #expect(thrown.activity == WriterActivity(oversizeDropped: 1))
        #expect(thrown.completedItems == 0)
    }

    @Test(arguments: Policy.allCases)
    func aRawNewlineIsRejectedUnderEveryPolicy(policy: Policy) {
        var harness = Harness(oversize: policy)
        var line = Self.line(1, bytes: 300)
        line[17] = UInt8(ascii: "\n")
        harness.machine.beginWrite()
        let rejection = WriterError(
            code: .rejected, target: Self.target,
            detail: "the line has a raw newline at byte 17; a syslog message must be one line", isRetryable: false)
        #expect(harness.begin(OutputItem(line: line)) == .reject(rejection))
        #expect(harness.machine.failure(rejection, linkActivity: WriterActivity()).activity == WriterActivity())
    }

    // MARK: Accounting

    /// A thrown error carries the items done before it, their bytes plus what went out of the
    /// failing item, and all the activity: the layouts', the link's.
    @Test func aThrownErrorCarriesTheProgressOfTheWrite() {
        var harness = Harness(limit: 600, oversize: .tcp)
        // A write that went through before: its progress does not leak into the next.
        harness.machine.beginWrite()
        let earlier = Self.item(1, message: 400)
        #expect(harness.begin(earlier) == .send)
        #expect(harness.sent(earlier, .sent(bytes: 400)) == .done)
        _ = harness.machine.finish(linkActivity: WriterActivity(reconnects: 5))

        harness.machine.beginWrite()
        let whole = Self.item(2, message: 500)
        #expect(harness.begin(whole) == .send)
        #expect(harness.sent(whole, .sent(bytes: 500)) == .done)
        let split = OutputItem(line: Self.line(3, bytes: 1500))
        #expect(harness.machine.start(split) == .layOut(limit: 600))
        _ = harness.formatter.layOut(split, limit: 600, overflow: .split)
        #expect(harness.machine.laidOut(.split(parts: 3)) == .send)
        #expect(harness.sent(split, .sent(bytes: harness.bytes(0..<3))) == .done)
        let splitBytes = harness.bytes(0..<3)
        let large = Self.item(4, message: 5000)
        #expect(harness.begin(large) == .reroute)
        #expect(harness.machine.rerouted(bytes: 5004) == .done)
        let failing = OutputItem(line: Self.line(5, bytes: 1500))
        #expect(harness.machine.start(failing) == .layOut(limit: 600))
        _ = harness.formatter.layOut(failing, limit: 600, overflow: .split)
        #expect(harness.machine.laidOut(.split(parts: 3)) == .send)
        let partial = harness.bytes(0..<1)
        #expect(harness.sent(failing, .failed(index: 1, errno: ENOBUFS, bytes: partial)) == .fail(errno: ENOBUFS))
        #expect(harness.machine.done == 3)
        let thrown = harness.machine.failure(
            Self.sendError(ENOBUFS), linkActivity: WriterActivity(reconnects: 1, refusedDatagrams: 2))
        #expect(thrown.completedItems == 3)
        #expect(thrown.completedBytes == 500 + splitBytes + 5004 + partial)
        #expect(
            thrown.activity
                == WriterActivity(reconnects: 1, oversizeSplit: 2, oversizeRerouted: 1, refusedDatagrams: 2))
        #expect(thrown.errno == ENOBUFS)
    }

    /// A rejection in the middle of a write: the items before it are done, the worker drops the
    /// rejected one.
    @Test func aRejectionCountsTheItemsBeforeIt() {
        var harness = Harness(limit: 8096, oversize: .drop)
        harness.machine.beginWrite()
        for number in 1...2 {
            let item = Self.item(number, message: 300)
            #expect(harness.begin(item) == .send)
            #expect(harness.sent(item, .sent(bytes: 300)) == .done)
        }
        guard case .reject(let rejection) = harness.begin(Self.item(3, message: 9000)) else {
            Issue.record("a message over the limit with oversize = drop is rejected")
            return
        }
        let thrown = harness.machine.failure(rejection, linkActivity: WriterActivity(connectFailures: 1))
        #expect(thrown.completedItems == 2)
        #expect(thrown.completedBytes == 600)
        #expect(thrown.activity == WriterActivity(connectFailures: 1, oversizeDropped: 1))
        #expect(!thrown.isRetryable)
    }
}
