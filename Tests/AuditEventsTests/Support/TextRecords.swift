import AuditNetlink
import Testing

/// A record as a (type, netlink payload) pair, built from the corpus's text forms.
struct TextRecord: Equatable {
    var type: AuditMessageType
    var payload: [UInt8]
}

/// Parses one line of a corpus `.tsv`: `TYPE<TAB>PAYLOAD`, the payload escaped as `\\`, `\t`,
/// `\n`, `\r` and `\xHH` (see `corpus/local/README.md`).
func parseTSVLine(_ line: ArraySlice<UInt8>) -> TextRecord? {
    guard let tab = line.firstIndex(of: 0x09), let number = UInt16(String(decoding: line[..<tab], as: UTF8.self))
    else { return nil }
    var payload: [UInt8] = []
    var i = line.index(after: tab)
    while i < line.endIndex {
        let byte = line[i]
        guard byte == 0x5C, line.index(after: i) < line.endIndex else {
            payload.append(byte)
            i += 1
            continue
        }
        let next = line[i + 1]
        switch next {
        case 0x5C:
            payload.append(0x5C)
            i += 2
        case 0x74:
            payload.append(0x09)
            i += 2
        case 0x6E:
            payload.append(0x0A)
            i += 2
        case 0x72:
            payload.append(0x0D)
            i += 2
        case 0x78:
            guard i + 3 < line.endIndex,
                let value = UInt8(String(decoding: line[(i + 2)...(i + 3)], as: UTF8.self), radix: 16)
            else { return nil }
            payload.append(value)
            i += 4
        default:
            return nil
        }
    }
    return TextRecord(type: AuditMessageType(number), payload: payload)
}

/// Parses one auditd `audit.log` line into the record the kernel sent: the type from `type=NAME`
/// (or `UNKNOWN[n]`) and the payload from `audit(` up to the end of the RAW part.
///
/// Handles the forms found in the corpus: an optional `node=HOST ` prefix and the ENRICHED
/// format's `\x1d` separator (everything after it is auditd's translation, not kernel text).
/// Test-only and independent of the product's `AuditLogReader`, so that the two can be compared.
func parseLogLine(_ line: ArraySlice<UInt8>) -> TextRecord? {
    var raw = line
    if let separator = raw.firstIndex(of: 0x1D) { raw = raw[..<separator] }
    let text = Array(raw)
    let typeKey = Array("type=".utf8)
    guard let typeStart = find(typeKey, in: text) else { return nil }
    let nameStart = typeStart + typeKey.count
    guard let nameEnd = text[nameStart...].firstIndex(of: 0x20) else { return nil }
    let name = String(decoding: text[nameStart..<nameEnd], as: UTF8.self)
    guard let type = AuditMessageType(name: name) else { return nil }
    let msgKey = Array("msg=audit(".utf8)
    guard let msg = find(msgKey, in: text) else { return nil }
    return TextRecord(type: type, payload: Array(text[(msg + 4)...]))
}

private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for start in 0...(haystack.count - needle.count)
    where haystack[start..<(start + needle.count)].elementsEqual(needle) {
        return start
    }
    return nil
}

/// Groups text records by the `audit(…)` identity found in their payload, independently of the
/// product's parser (string splitting), so corpus tests compare two implementations.
struct ReferenceEvent: Equatable, CustomStringConvertible {
    var id: String  // "SECONDS.MILLIS:SERIAL"
    var types: [UInt16]
    var bodies: [[UInt8]]

    var description: String { "\(id) \(types)" }
}

/// The identity text and the body of a payload, parsed with plain string operations.
func referenceHeader(_ payload: [UInt8]) -> (id: String, body: [UInt8])? {
    let prefix = Array("audit(".utf8)
    guard payload.starts(with: prefix), let close = payload.firstIndex(of: 0x29) else { return nil }
    let id = String(decoding: payload[prefix.count..<close], as: UTF8.self)
    var bodyStart = close + 1
    guard bodyStart < payload.count, payload[bodyStart] == 0x3A else { return nil }
    bodyStart += 1
    if bodyStart < payload.count, payload[bodyStart] == 0x20 { bodyStart += 1 }
    return (id, Array(payload[bodyStart...]))
}

/// Events as a simple reference grouping sees them: records in arrival order, grouped by
/// identity, EOE dropped, non-record messages dropped; ordered by first appearance.
func referenceEvents(_ records: [TextRecord]) -> [ReferenceEvent] {
    var order: [String] = []
    var byID: [String: ReferenceEvent] = [:]
    for record in records where record.type.rawValue >= 1005 && record.type.rawValue != 1329 {
        guard let (id, body) = referenceHeader(record.payload) else { continue }
        if byID[id] == nil {
            order.append(id)
            byID[id] = ReferenceEvent(id: id, types: [], bodies: [])
        }
        if record.type.rawValue == 1320 { continue }
        byID[id]!.types.append(record.type.rawValue)
        byID[id]!.bodies.append(body)
    }
    return order.compactMap { byID[$0] }.filter { !$0.types.isEmpty }
}
