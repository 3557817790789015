import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

/// Events built from the real kernel records in `../shared/corpus/local/*.unicast.tsv`.
@Suite struct CorpusTests {
    /// A record's event identity and body, split at the `audit(SECONDS.MILLIS:SERIAL): ` header.
    struct Record {
        var id: AuditEventID
        var type: UInt16
        var body: [UInt8]
    }

    static func splitHeader(_ message: Corpus.Message) -> Record? {
        let payload = message.payload
        let prefix = Array("audit(".utf8)
        guard payload.starts(with: prefix), let close = payload.firstIndex(of: UInt8(ascii: ")")),
            let dot = payload[..<close].firstIndex(of: UInt8(ascii: ".")),
            let colon = payload[..<close].firstIndex(of: UInt8(ascii: ":")),
            let seconds = UInt64(String(decoding: payload[prefix.count..<dot], as: UTF8.self)),
            let millis = UInt16(String(decoding: payload[(dot + 1)..<colon], as: UTF8.self)),
            let serial = UInt32(String(decoding: payload[(colon + 1)..<close], as: UTF8.self))
        else { return nil }
        // The body starts after "): "; an empty record (EOE) may stop after ":" or ": ".
        var start = close + 1
        if start < payload.count, payload[start] == UInt8(ascii: ":") { start += 1 }
        if start < payload.count, payload[start] == UInt8(ascii: " ") { start += 1 }
        return Record(
            id: AuditEventID(seconds: seconds, milliseconds: millis, serial: serial), type: message.type,
            body: Array(payload[start...]))
    }

    /// Groups records by their identity, in order of first appearance.
    static func events(_ records: [Record]) -> [(event: AuditEvent, records: [Record])] {
        var order: [AuditEventID] = []
        var groups: [AuditEventID: [Record]] = [:]
        for record in records {
            if groups[record.id] == nil { order.append(record.id) }
            groups[record.id, default: []].append(record)
        }
        return order.map { id in
            var event = AuditEvent(id: id)
            for record in groups[id] ?? [] {
                event.append(type: AuditMessageType(record.type), body: record.body)
            }
            return (event, groups[id] ?? [])
        }
    }

    /// The `*uid=N` fields a reader would pick out by eye: space-separated words, `msg='` opened.
    static func expectedUIDs(_ body: [UInt8]) -> Set<String> {
        var uids: Set<String> = []
        for word in String(decoding: body, as: UTF8.self).split(separator: " ") {
            var word = Substring(word)
            if word.hasPrefix("msg='") { word = word.dropFirst(5) }
            if word.hasSuffix("'") { word = word.dropLast() }
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = word[..<equals]
            let value = word[word.index(after: equals)...]
            if key.hasSuffix("uid"), !value.isEmpty, value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber),
                UInt32(value) != nil
            {
                uids.insert(String(value))
            }
        }
        return uids
    }

    @Test(.requires(.corpus))
    func everyCorpusEventDecodesBackToItsExactRecords() throws {
        let captures = Corpus.unicastCaptures()
        try #require(!captures.isEmpty, "no *.unicast.tsv in \(Corpus.path("local"))")
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        var encoder = EventEncoder(hostname: "corpus-host", users: fixture.users)
        var totalEvents = 0
        var totalRecords = 0

        for capture in captures {
            let path = "local/" + capture
            let messages = try Corpus.parseTSV(try Corpus.read(path), file: path)
            var records: [Record] = []
            for message in messages where message.type >= 1000 {
                let record = try #require(Self.splitHeader(message), "\(capture):\(message.line): no audit(…) header")
                records.append(record)
            }
            var writer = JSONWriter()
            let events = Self.events(records)
            for (event, _) in events {
                encoder.encode(event, into: &writer)
            }
            let lines = writer.bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            try #require(lines.count == events.count + 1, "\(capture): one line per event")

            for ((event, sourceRecords), line) in zip(events, lines) {
                let decoded = try JSON.decode(DecodedEvent.self, line)
                let context = "\(capture) event \(event.id)"
                #expect(decoded.sequence == UInt64(event.id.serial), "\(context)")
                let millis = String(event.id.milliseconds)
                #expect(
                    decoded.timestamp
                        == "\(event.id.seconds).\(String(repeating: "0", count: 3 - millis.count))\(millis)",
                    "\(context)")
                #expect(decoded.hostname == "corpus-host")
                let kept = sourceRecords.filter { $0.type != AuditMessageType.endOfEvent.rawValue }
                try #require(decoded.messages.count == kept.count, "\(context): EOE dropped, all else kept")
                var expectedUIDs: Set<String> = []
                for (message, record) in zip(decoded.messages, kept) {
                    #expect(message.type == Int(record.type), "\(context)")
                    #expect(try message.bytes() == record.body, "\(context): data bytes")
                    #expect(
                        (message.encoding == "percent") == (String(validating: record.body, as: UTF8.self) == nil),
                        "\(context): percent mode only for bodies that are not UTF-8")
                    expectedUIDs.formUnion(Self.expectedUIDs(record.body))
                }
                #expect(Set(decoded.uidMap.keys) == expectedUIDs, "\(context)")
                for (uid, name) in decoded.uidMap {
                    let expected = ["0": "root", "1000": "cloudsdk", "4294967295": "unset"][uid] ?? "UNKNOWN_USER"
                    #expect(name == expected, "\(context): uid \(uid)")
                }
                totalRecords += kept.count
            }
            totalEvents += events.count
        }
        // 1 113 unicast messages in seven scenarios (README): a few hundred events, most with several records.
        #expect(totalEvents > 200)
        #expect(totalRecords > totalEvents)
    }
}
