// libFuzzer target: one audit.log line, or one netlink record payload, through the record parser.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). Each input is used
// twice: as an audit.log line (AuditLogLine, then the body and translation scanners) and as a
// netlink payload (AuditRecordHeader, then the body scanner); every field found is checked to lie
// inside the scanned range, and the hex decoder is run on every unquoted value. A Swift trap
// (bounds, overflow, precondition) is a crash to libFuzzer.
import AuditEvents

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordFields(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if let line = try? AuditLogLine.parse(input) {
        exercise(input, line.body)
        if let translations = line.translations { exercise(input, translations) }
    }
    if let header = try? AuditRecordHeader.parse(input) {
        exercise(input, header.body)
    }
    exercise(input, 0..<size)
    return 0
}

/// Scans a range to the end and checks what the scanner promises.
func exercise(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
    var scanner = AuditFieldScanner(buffer, range: range)
    var count = 0
    var decoded: [UInt8] = []
    while let field = scanner.next() {
        count += 1
        precondition(count <= range.count, "more fields than bytes")
        precondition(!field.key.isEmpty && range.contains(field.key.lowerBound), "key outside the range")
        precondition(field.key.upperBound <= field.value.lowerBound, "value before its key")
        precondition(field.value.upperBound <= range.upperBound, "value outside the range")
        if field.style == .unquoted {
            decoded.removeAll(keepingCapacity: true)
            try? AuditHex.decode(UnsafeRawBufferPointer(rebasing: buffer[field.value]), into: &decoded)
        }
    }
    _ = AuditFieldScanner.first("uid", in: buffer, range: range, includingNested: count % 2 == 0)
}
