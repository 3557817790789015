import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

/// go-libaudit's reassembler fixtures (`corpus/go-libaudit/reassembler-testdata`): audit.log
/// lines without EOE records, edited to show a gap, records out of order and the 2^32 wrap. The
/// expected results are those of go-libaudit's own test (maxInFlight 5, timeout 2 s, wall clock:
/// everything arrives at once), except that loss is never reported as ~2^32 here.
@Suite(.requires(.corpus))
struct GoLibauditReassemblerTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var file: String
        var serials: [UInt32]
        var recordCounts: [Int]
        var lost: UInt64
        var description: String { file }
    }

    static let expectations: [Expectation] = [
        Expectation(file: "normal.log", serials: [58, 59, 60, 61, 62], recordCounts: [2, 5, 5, 4, 1], lost: 0),
        Expectation(file: "lost_messages.log", serials: [49, 59, 60, 61, 62], recordCounts: [2, 5, 5, 4, 1], lost: 9),
        Expectation(file: "out_of_order.log", serials: [58, 59, 60, 61, 62], recordCounts: [2, 5, 5, 4, 1], lost: 0),
        Expectation(
            file: "rollover.log", serials: [4_294_967_294, 4_294_967_295, 0, 1, 2], recordCounts: [1, 1, 1, 1, 1],
            lost: 0),
    ]

    static func records(_ file: String) throws -> [TextRecord] {
        let bytes = try Corpus.read("go-libaudit/reassembler-testdata/\(file)")
        var records: [TextRecord] = []
        for (number, line) in lines(bytes).enumerated() {
            records.append(try #require(parseLogLine(line), "\(file):\(number + 1): unreadable"))
        }
        return records
    }

    static func run(
        _ records: [TextRecord], configuration: Reassembler.Configuration, now: (TextRecord) -> UInt64 = { _ in 0 }
    )
        -> (events: [AuditEvent], statistics: ReassemblerStatistics)
    {
        var reassembler = Reassembler(configuration: configuration)
        var events: [AuditEvent] = []
        for record in records {
            reassembler.push(type: record.type, payload: record.payload, now: now(record)) { events.append($0) }
        }
        reassembler.flushAll { events.append($0) }
        return (events, reassembler.statistics)
    }

    @Test(arguments: expectations)
    func matchesGoLibauditsExpectations(_ expected: Expectation) throws {
        let records = try Self.records(expected.file)
        let (events, s) = Self.run(records, configuration: .init(endOfEventTimeout: 2000, maxInFlight: 5))
        #expect(events.map(\.id.serial) == expected.serials)
        #expect(events.map(\.count) == expected.recordCounts)
        #expect(s.lostSerials == expected.lost)
        #expect(s.gaps == (expected.lost > 0 ? 1 : 0))
        #expect(s.lateRecords == 0 && s.duplicateRecords == 0 && s.evictedEvents == 0)
        #expect(events.allSatisfy { $0.completion == .shutdown && $0.flags.isEmpty }, "no EOE in these logs")
        #expect(s.recordsEmitted == UInt64(records.count))
    }

    @Test func withFewerEventsInFlightTheOldestAreEvictedInOrder() throws {
        let records = try Self.records("normal.log")
        let (events, s) = Self.run(records, configuration: .init(maxInFlight: 2))
        #expect(events.map(\.id.serial) == [58, 59, 60, 61, 62])
        #expect(events.map(\.count) == [2, 5, 5, 4, 1])
        #expect(s.evictedEvents == 3)
    }

    /// Replayed on the records' own clock, the PATH of event 60 arrives 7.8 s after the event
    /// began, when event 60 has long timed out: it is a late record, emitted apart and flagged,
    /// and there is no loss (go-libaudit reports 4294967295 lost serials in this situation).
    @Test func aLateRecordOnTheRecordClockIsFlaggedNotLost() throws {
        let records = try Self.records("out_of_order.log")
        let (events, s) = Self.run(records, configuration: .init(endOfEventTimeout: 2000, clock: .recordTimestamps))
        #expect(s.lostSerials == 0 && s.gaps == 0)
        #expect(s.lateRecords == 1)
        let late = events.filter { $0.flags.contains(.late) }
        #expect(late.map(\.id.serial) == [60])
        #expect(late.first?.typeNumbers == [AuditMessageType.path.rawValue])
        let inOrder = events.filter { $0.flags.isEmpty }
        #expect(inOrder.map(\.id.serial) == [58, 59, 60, 61, 62])
        #expect(inOrder.map(\.count) == [2, 5, 4, 4, 1])
        #expect(s.recordsEmitted == UInt64(records.count))
    }
}
