import AuditEvents
import AuditNetlink
import Testing

/// A record payload as the kernel formats it: `audit(SECONDS.MILLIS:SERIAL): body`.
func payload(_ serial: UInt32, seconds: UInt64 = 1_700_000_000, milliseconds: UInt16 = 123, _ body: String = "")
    -> [UInt8]
{
    let ms = String(milliseconds)
    let padded = String(repeating: "0", count: max(0, 3 - ms.count)) + ms
    return Array("audit(\(seconds).\(padded):\(serial)): \(body)".utf8)
}

/// Drives a reassembler and collects what it emits, checking the accounting invariant on the way.
struct Harness {
    var reassembler: Reassembler
    var emitted: [AuditEvent] = []

    init(_ configuration: Reassembler.Configuration = .init()) {
        reassembler = Reassembler(configuration: configuration)
    }

    mutating func push(_ type: AuditMessageType, _ payload: [UInt8], now: UInt64 = 0) {
        var out: [AuditEvent] = []
        reassembler.push(type: type, payload: payload, now: now) { out.append($0) }
        emitted += out
    }

    mutating func push(
        _ type: AuditMessageType, serial: UInt32, _ body: String = "", now: UInt64 = 0, seconds: UInt64 = 1_700_000_000,
        milliseconds: UInt16 = 123
    ) {
        push(type, payload(serial, seconds: seconds, milliseconds: milliseconds, body), now: now)
    }

    mutating func tick(_ now: UInt64) {
        var out: [AuditEvent] = []
        reassembler.tick(now: now) { out.append($0) }
        emitted += out
    }

    mutating func flush() {
        var out: [AuditEvent] = []
        reassembler.flushAll { out.append($0) }
        emitted += out
    }

    /// Takes the events emitted so far.
    mutating func take() -> [AuditEvent] {
        defer { emitted = [] }
        return emitted
    }

    var statistics: ReassemblerStatistics { reassembler.statistics }

    /// Every message is accounted for once nothing is in flight.
    func checkAccounting(sourceLocation: SourceLocation = #_sourceLocation) {
        let s = reassembler.statistics
        #expect(
            reassembler.inFlightCount == 0, "accounting is only exact when nothing is in flight",
            sourceLocation: sourceLocation)
        #expect(
            s.messages == s.ignoredMessages + s.recordsEmitted + s.filteredRecords + s.endOfEventRecords
                + s.truncatedRecords,
            "messages \(s.messages) = ignored \(s.ignoredMessages) + emitted \(s.recordsEmitted) + filtered \(s.filteredRecords) + EOE \(s.endOfEventRecords) + truncated \(s.truncatedRecords)",
            sourceLocation: sourceLocation)
    }
}

extension AuditEvent {
    /// The record types, as raw numbers.
    var typeNumbers: [UInt16] { spans.map(\.type.rawValue) }
    /// The record bodies as text (tests only).
    var bodyTexts: [String] { records.map { String(decoding: $0.body, as: UTF8.self) } }
}
