// libFuzzer target: arbitrary bytes, cut into arbitrary chunks, through the audit.log reader.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). The input is
// `[control][sizes…][data]`:
// - control bits 0–2: how many size bytes follow (0–7; none: the data is one chunk);
// - bit 3: cut the ENRICHED translations off the bodies (`keepsTranslations = false`);
// - bit 4: a 48-byte line limit (overlong lines, in one chunk and carried across chunks);
// - bit 5: the data is two sources (rotated files), cut at its middle;
// - bit 6: at most 2 events in flight per node (eviction);
// - bit 7: a 0 ms end-of-event timeout (every new time closes the events before it).
// The data is fed in chunks of the sizes given, in turn (a 0 is an empty chunk), then the
// source ends and the reader finishes. Every event handed on must hold at least one record and
// every record's body must be bytes of the data, the counters must add up, and nothing may trap
// (a Swift trap is a crash to libFuzzer). Seeds (Fuzz/AuditLogLines/seeds.sh) are runs of a few
// lines of the corpus's logs behind a 0 control byte.
import AuditEvents
import AuditNetlink
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAuditLogLines(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let control = input.first else { return 0 }
    let sizeCount = min(Int(control & 7), input.count - 1)
    let sizes = Array(input[1..<(1 + sizeCount)]).map(Int.init)
    let payload = UnsafeRawBufferPointer(rebasing: input[(1 + sizeCount)...])

    var reassembly = AuditLogReader.Configuration.defaultReassembly
    if control & 0x40 != 0 { reassembly.maxInFlight = 2 }
    if control & 0x80 != 0 { reassembly.endOfEventTimeout = 0 }
    var reader = AuditLogReader(
        configuration: AuditLogReader.Configuration(
            reassembly: reassembly, keepsTranslations: control & 0x08 == 0,
            maximumLineLength: control & 0x10 != 0 ? 48 : 1 << 20))

    var events: UInt64 = 0
    var records = 0
    var highestNode = -1
    let emit: (AuditLogReader.Node, consuming AuditEvent) -> Void = { node, event in
        events += 1
        records += event.count
        precondition(event.count > 0, "an event without records")
        highestNode = max(highestNode, node.index)
        for record in event.records {
            precondition(contains(payload, record.body), "a record body that is not in the input")
        }
    }

    let middle = payload.count / 2
    let sources = control & 0x20 != 0 ? [0..<middle, middle..<payload.count] : [0..<payload.count]
    for (number, source) in sources.enumerated() {
        reader.beginSource("source-\(number)")
        var start = source.lowerBound
        var turn = 0
        while start < source.upperBound {
            // All sizes 0 (or none): the rest in one chunk.
            let chunk = sizes.allSatisfy({ $0 == 0 }) ? source.count : sizes[turn % sizes.count]
            turn += 1
            let end = min(start + chunk, source.upperBound)
            reader.consume(UnsafeRawBufferPointer(rebasing: payload[start..<end]), emit: emit)
            start = end
        }
        reader.endSource(emit: emit)
    }
    reader.finish(emit: emit)

    let statistics = reader.statistics
    precondition(statistics.bytes == UInt64(payload.count), "bytes miscounted")
    precondition(statistics.events == events, "events miscounted")
    precondition(
        statistics.lines == statistics.records + statistics.blankLines + statistics.skippedLines,
        "lines miscounted")
    precondition(records <= Int(statistics.records), "more records out than lines read as records")
    precondition(reader.problems.count <= reader.problemCount, "problems miscounted")
    precondition(highestNode < reader.nodes.count, "an event of an unknown node")
    return 0
}

/// Whether `needle`'s bytes occur in `haystack` (an empty needle always does).
func contains(_ haystack: UnsafeRawBufferPointer, _ needle: ArraySlice<UInt8>) -> Bool {
    guard let first = needle.first else { return true }
    guard let base = haystack.baseAddress, needle.count <= haystack.count else { return false }
    return needle.withUnsafeBytes { bytes in
        var start = 0
        let last = haystack.count - needle.count
        while start <= last, let hit = memchr(base + start, Int32(first), last - start + 1) {
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + offset, bytes.baseAddress!, bytes.count) == 0 { return true }
            start = offset + 1
        }
        return false
    }
}
