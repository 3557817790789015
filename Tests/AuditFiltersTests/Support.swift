import AuditEvents
import AuditFilters
import AuditNetlink
import AuditTestSupport
import Testing

/// The events of a local capture (`exec` → `local/exec.unicast.bin`), reassembled as a replay does.
func corpusEvents(_ scenario: String) throws -> [AuditEvent] {
    var reassembler = Reassembler(configuration: .init(minType: AuditMessageType(1000), clock: .recordTimestamps))
    var reader = try CaptureReader(path: Corpus.path("local/\(scenario).unicast.bin"))
    var events: [AuditEvent] = []
    while let frame = try reader.next() {
        let message = try frame.datagram.withUnsafeBytes { try NetlinkMessage.decode($0) }
        guard message.type.isAuditRecord else { continue }
        frame.datagram.withUnsafeBytes { datagram in
            reassembler.push(
                type: message.type, payload: UnsafeRawBufferPointer(rebasing: datagram[message.payload]), now: 0
            ) { events.append($0) }
        }
    }
    reassembler.flushAll { events.append($0) }
    return events
}

/// One event from audit.log lines (`type=NAME msg=audit(…): body`), as the reassembler would
/// build it from the same records.
func event(_ text: String) -> AuditEvent {
    var event = AuditEvent(id: AuditEventID(seconds: 1, milliseconds: 0, serial: 1))
    for line in text.split(separator: "\n") {
        let trimmed = line.drop { $0 == " " }
        guard trimmed.hasPrefix("type=") else { continue }
        let name = trimmed.dropFirst(5).prefix { $0 != " " }
        guard let type = AuditMessageType(name: name), let close = trimmed.firstIndex(of: ")") else {
            Issue.record("not a record line: \(line)")
            continue
        }
        var body = trimmed[trimmed.index(after: close)...]
        if body.hasPrefix(":") { body = body.dropFirst() }
        if body.hasPrefix(" ") { body = body.dropFirst() }
        event.append(type: type, body: Array(body.utf8))
    }
    return event
}

/// A rule from `field = value` pairs.
func rule(
    _ name: String, _ action: FilterAction, _ conditions: [(FilterField, String)],
    users: [String: UInt32] = [:], sourceLocation: SourceLocation = #_sourceLocation
) -> FilterRule {
    var parsed: [FilterCondition] = []
    for (field, text) in conditions {
        do {
            parsed.append(try FilterCondition.parse(field, text) { users[$0] })
        } catch {
            Issue.record("\(field.rawValue) = \(text): \(error)", sourceLocation: sourceLocation)
        }
    }
    return FilterRule(name: name, action: action, conditions: parsed)
}

/// A filter with `rules` as the global list and one output without a list of its own.
func globalFilter(_ rules: [FilterRule]) throws -> EventFilter {
    try EventFilter(
        FilterPlan(rules: rules, global: rules.map(\.name), outputs: [OutputFilters(name: "out")]))
}

/// Whether a single rule (as a drop rule in the global list) matches `event`.
func matches(_ conditions: [(FilterField, String)], _ event: AuditEvent, users: [String: UInt32] = [:])
    throws -> Bool
{
    var filter = try globalFilter([rule("r", .drop, conditions, users: users)])
    filter.evaluate(event)
    return !filter.delivers(toOutput: 0)
}

/// The events (of `events`) that a single drop rule with `conditions` matches.
func matching(_ conditions: [(FilterField, String)], in events: [AuditEvent]) throws -> [AuditEvent] {
    var filter = try globalFilter([rule("r", .drop, conditions)])
    return events.filter { event in
        filter.evaluate(event)
        return !filter.delivers(toOutput: 0)
    }
}

/// The record bodies of `event` as text (for conditions checked against the records themselves).
func texts(_ event: AuditEvent) -> [String] {
    event.records.map { String(decoding: $0.body, as: UTF8.self) }
}

/// The value of the first outer `key=` in `event`'s records, as text (quotes kept).
func firstValue(_ key: String, in event: AuditEvent) -> String? {
    for text in texts(event) {
        for token in text.split(separator: " ") where token.hasPrefix(key + "=") {
            return String(token.dropFirst(key.count + 1))
        }
    }
    return nil
}
