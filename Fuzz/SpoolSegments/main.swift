// libFuzzer target: the spool's segment files as a crash, a full disk or bit rot leaves them, read
// back at start (docs/design.md, "Disk spool").
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). The first byte picks:
// - even: the rest parsed as segment bytes (`SpoolFormat.parse`), checked: entries lie in order
//   within the bytes, each payload's checksum holds, `end` is the last entry's end, and damage is
//   reported exactly when bytes are left over;
// - odd: the rest split at its second byte into two segment files and a position file of a spool
//   directory, opened and read to the end with `Spool` (repair, position, skipping), then checked:
//   every entry read has a valid checksum, the counts add up, and nothing is left on disk.
// Errors are values; a Swift trap is a crash to libFuzzer.
import AuditSpool
import Glibc

nonisolated(unsafe) var directory: String = {
    var template = Array("/tmp/swift-audit-fuzz-spool-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: made!)
}()

func writeFile(_ name: String, _ bytes: ArraySlice<UInt8>) {
    let descriptor = open(directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard descriptor >= 0 else { fatalError("cannot create \(name)") }
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
}

func clean() {
    for name in ["0000000000000001.seg", "0000000000000002.seg", "0000000000000003.seg", "position", "position.tmp"] {
        unlink(directory + "/" + name)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpoolSegments(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else { return 0 }
    let rest = input.dropFirst()
    if mode % 2 == 0 {
        let bytes = Array(rest)
        let parsed = bytes.withUnsafeBytes { SpoolFormat.parse($0) }
        var position = 0
        for entry in parsed.entries {
            if entry.offset != position || entry.end > bytes.count { fatalError("entry out of place") }
            let payload = bytes[entry.payloadOffset..<entry.end]
            if CRC32C.checksum(payload) != entry.header.payloadChecksum { fatalError("bad checksum accepted") }
            position = entry.end
        }
        if parsed.end != position { fatalError("end \(parsed.end) is not the last entry's end \(position)") }
        if (parsed.damage == nil) != (parsed.end == bytes.count) { fatalError("damage not reported") }
        return 0
    }
    clean()
    let split = rest.count > 1 ? min(rest.count, Int(rest[rest.startIndex + 1]) * 8) : rest.count
    let body = rest.dropFirst(min(2, rest.count))
    let cut = body.startIndex + min(body.count, split)
    writeFile("0000000000000001.seg", body[..<cut])
    let second = body[cut...]
    if second.count > 28 {
        writeFile("0000000000000002.seg", second.dropLast(28))
        writeFile("position", second.suffix(28))
    } else {
        writeFile("0000000000000002.seg", second)
    }
    guard var spool = try? Spool.open(directory: directory, options: .init(maxSize: 1 << 20, sync: .never)) else {
        return 0
    }
    let initial = spool.statistics.entries
    var read = 0
    while let entries = try? spool.peek(maxEntries: 5, maxBytes: 300), !entries.isEmpty {
        read += entries.count
        if (try? spool.consume(entries.count)) == nil { break }
    }
    if read + spool.statistics.corruptEntries != initial {
        fatalError("read \(read) + lost \(spool.statistics.corruptEntries) of \(initial)")
    }
    if !spool.isEmpty { fatalError("entries left after reading to the end") }
    if (try? spool.append([[1, 2, 3]])) != 1 { fatalError("cannot append after recovery") }
    let again = try? spool.peek(maxEntries: 5)
    if again?.map(\.payload) != [[1, 2, 3]] { fatalError("the new entry does not read back") }
    try? spool.close()
    return 0
}
