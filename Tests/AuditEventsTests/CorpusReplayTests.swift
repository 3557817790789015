import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

/// Replays the kernel captures of `corpus/local/` through CaptureReader → NetlinkMessage.decode →
/// Reassembler and compares the events with what the other forms of the same data say.
@Suite(.requires(.corpus))
struct CorpusReplayTests {
    struct Replay {
        var messages: [TextRecord] = []
        var portIDs: [UInt32] = []
        var events: [AuditEvent] = []
        var statistics = ReassemblerStatistics()
    }

    /// Reads a capture, decodes every datagram and reassembles the records, replay style (the
    /// records' own timestamps drive the clock).
    static func replay(_ path: String, configuration: Reassembler.Configuration = .init(clock: .recordTimestamps))
        throws -> Replay
    {
        var result = Replay()
        var reassembler = Reassembler(configuration: configuration)
        var reader = try CaptureReader(path: path)
        var events: [AuditEvent] = []
        while let frame = try reader.next() {
            let message = try frame.datagram.withUnsafeBytes { try NetlinkMessage.decode($0) }
            let payload = Array(
                frame.datagram[
                    (frame.datagram.startIndex + message.payload.lowerBound)..<(frame.datagram.startIndex
                        + message.payload.upperBound)])
            result.messages.append(TextRecord(type: message.type, payload: payload))
            result.portIDs.append(message.portID)
            frame.datagram.withUnsafeBytes { datagram in
                reassembler.push(
                    type: message.type, payload: UnsafeRawBufferPointer(rebasing: datagram[message.payload]), now: 0
                ) { events.append($0) }
            }
        }
        reassembler.flushAll { events.append($0) }
        result.events = events
        result.statistics = reassembler.statistics
        return result
    }

    static func tsv(_ path: String) -> [TextRecord]? {
        guard let bytes = readFile(path) else { return nil }
        var records: [TextRecord] = []
        for (number, line) in lines(bytes).enumerated() {
            guard let record = parseTSVLine(line) else {
                Issue.record("\(path):\(number + 1): not a TSV record")
                return nil
            }
            records.append(record)
        }
        return records
    }

    static func simplified(_ event: AuditEvent) -> ReferenceEvent {
        ReferenceEvent(id: event.id.description, types: event.typeNumbers, bodies: event.records.map { Array($0.body) })
    }

    /// Checks one capture against its TSV and returns the replay.
    static func checkCapture(_ bin: String, tsv tsvPath: String) throws -> Replay? {
        let replay = try replay(bin)
        guard let expected = tsv(tsvPath) else { return nil }
        #expect(replay.messages == expected, "\(bin): decoded datagrams differ from \(tsvPath)")
        for (message, portID) in zip(replay.messages, replay.portIDs) where message.type.isAuditRecord {
            #expect(portID == 0, "\(bin): kernel records come from port 0")
        }

        let reference = referenceEvents(expected).sorted { serial(of: $0) < serial(of: $1) }
        #expect(replay.events.map(simplified) == reference, "\(bin): events differ from the TSV grouping")

        let s = replay.statistics
        #expect(s.messages == UInt64(expected.count))
        #expect(s.ignoredMessages == UInt64(expected.filter { !$0.type.isAuditRecord }.count))
        #expect(s.endOfEventRecords == UInt64(expected.filter { $0.type == .endOfEvent }.count))
        #expect(s.eventsEmitted == UInt64(reference.count))
        #expect(
            [
                s.gaps, s.lostSerials, s.lateRecords, s.duplicateRecords, s.evictedEvents, s.timedOutEvents,
                s.flushedEvents, s.malformedRecords, s.filteredRecords, s.emptyEvents,
            ] == Array(repeating: 0, count: 10),
            "\(bin): \(s)")
        for event in replay.events {
            #expect(event.flags.isEmpty)
            switch event.completion {
            case .endOfEvent: #expect(!event.spans.contains { $0.type.isStandalone })
            case .standalone: #expect(event.count == 1 && event.spans[0].type.isStandalone)
            default: Issue.record("\(bin): \(event.id) ended by \(event.completion)")
            }
        }
        return replay
    }

    static func serial(of event: ReferenceEvent) -> UInt32 {
        UInt32(event.id.split(separator: ":").last ?? "") ?? 0
    }

    @Test(arguments: Corpus.localScenarios)
    func unicastCaptureReassemblesLikeItsTSV(scenario: String) throws {
        let root = Corpus.directory
        let replay = try Self.checkCapture(
            "\(root)/local/\(scenario).unicast.bin", tsv: "\(root)/local/\(scenario).unicast.tsv")
        // Unicast captures start with the ack of the registering AUDIT_SET: control, ignored.
        #expect(replay?.statistics.ignoredMessages == 1)
    }

    @Test(arguments: Corpus.localScenarios)
    func multicastCaptureReassemblesLikeItsTSVAndLikeAuditd(scenario: String) throws {
        let root = Corpus.directory
        let replay = try #require(
            try Self.checkCapture(
                "\(root)/local/\(scenario).netlink.bin", tsv: "\(root)/local/\(scenario).netlink.tsv"))
        let logBytes = try #require(readFile("\(root)/local/\(scenario).audit.log"))

        var logRecords: [TextRecord] = []
        for (number, line) in lines(logBytes).enumerated() {
            guard let record = parseLogLine(line) else {
                Issue.record("\(scenario).audit.log:\(number + 1): unreadable")
                continue
            }
            logRecords.append(record)
        }
        // DAEMON_START/DAEMON_END are auditd's own; they never cross netlink.
        let daemonTypes: Set<UInt16> = [1200, 1201]
        #expect(logRecords.filter { daemonTypes.contains($0.type.rawValue) }.count == 2)
        let fromLog = referenceEvents(logRecords.filter { !daemonTypes.contains($0.type.rawValue) })
        let logIDs = Set(fromLog.map(\.id))

        // The multicast listener also saw auditd register and unregister: the CONFIG_CHANGE
        // `audit_pid=` records, which auditd does not log, and auditd's exit event (see the
        // corpus README). Remove exactly those, and nothing else.
        var adjusted: [ReferenceEvent] = []
        var registrations = 0
        var skippedExit = 0
        for event in replay.events.map(Self.simplified) {
            let isRegistration: (Int) -> Bool = { index in
                event.types[index] == AuditMessageType.configChange.rawValue
                    && String(decoding: event.bodies[index], as: UTF8.self).contains("audit_pid=")
            }
            guard event.types.indices.contains(where: isRegistration) else {
                adjusted.append(event)
                continue
            }
            if logIDs.contains(event.id) {
                registrations += 1
                var trimmed = event
                for index in event.types.indices.reversed() where isRegistration(index) {
                    trimmed.types.remove(at: index)
                    trimmed.bodies.remove(at: index)
                }
                adjusted.append(trimmed)
            } else {
                skippedExit += 1
            }
        }
        #expect(registrations == 1 && skippedExit == 1)
        #expect(adjusted == fromLog, "\(scenario): events differ from auditd's audit.log")
        #expect(adjusted.count == fromLog.count)
    }

    @Test(arguments: Corpus.localScenarios)
    func aTypeWindowLikeGoAuditsDefaultKeepsOnlyKernelRecords(scenario: String) throws {
        let root = Corpus.directory
        let replay = try Self.replay(
            "\(root)/local/\(scenario).unicast.bin",
            configuration: .init(minType: .syscall, maxType: AuditMessageType(1399), clock: .recordTimestamps))
        #expect(replay.events.allSatisfy { $0.spans.allSatisfy { (1300...1399).contains($0.type.rawValue) } })
        let s = replay.statistics
        #expect(s.lostSerials == 0, "filtered events must not look like lost ones")
        let outside = replay.messages.filter {
            $0.type.isAuditRecord && $0.type != .endOfEvent && !(1300...1399).contains($0.type.rawValue)
        }
        #expect(s.filteredRecords == UInt64(outside.count))
    }
}
