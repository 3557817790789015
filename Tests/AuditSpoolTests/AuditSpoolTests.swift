import AuditSpool
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// `count` distinct payloads of varying length (some longer than a small segment).
func payloads(_ range: Range<Int>, longEvery: Int = 0) -> [[UInt8]] {
    range.map { number in
        var text = "{\"sequence\":\(number),\"pad\":\"" + String(repeating: "x", count: number % 97) + "\"}"
        if longEvery > 0, number % longEvery == 0 { text += String(repeating: "L", count: 70_000) }
        return Array(text.utf8)
    }
}

/// Reads the spool to the end in batches of `batch`, consuming as it goes.
func drain(_ spool: inout Spool, batch: Int = 7) throws -> [[UInt8]] {
    var all: [[UInt8]] = []
    while true {
        let entries = try spool.peek(maxEntries: batch, maxBytes: 1000)
        if entries.isEmpty { return all }
        all += entries.map(\.payload)
        try spool.consume(entries.count)
    }
}

func segmentFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
}

func fileSize(_ path: String) -> Int {
    var status = stat()
    return stat(path, &status) == 0 ? Int(status.st_size) : -1
}

@Suite struct SpoolFormatTests {
    @Test func crc32cMatchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let long = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        // Slicing by 8 and byte by byte agree, whatever the split.
        let whole = CRC32C.checksum(long)
        let split = long.withUnsafeBytes { raw in
            CRC32C.checksum(
                UnsafeRawBufferPointer(rebasing: raw[333...]),
                continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[..<333])))
        }
        #expect(whole == split)
    }

    @Test func segmentNamesRoundTripAndOthersAreIgnored() {
        #expect(SpoolFormat.segmentName(42) == "0000000000000042.seg")
        #expect(SpoolFormat.segmentSequence("0000000000000042.seg") == 42)
        #expect(SpoolFormat.segmentSequence("000000000000042.seg") == nil)
        #expect(SpoolFormat.segmentSequence("position") == nil)
        #expect(SpoolFormat.segmentSequence("00000000000000a2.seg") == nil)
    }

    @Test func parsingStopsAtEveryKindOfDamage() {
        var bytes: [UInt8] = []
        for payload in payloads(0..<3) { payload.withUnsafeBytes { SpoolFormat.appendEntry($0, time: 7, to: &bytes) } }
        let whole = bytes.withUnsafeBytes { SpoolFormat.parse($0) }
        #expect(whole.entries.count == 3 && whole.damage == nil && whole.end == bytes.count)
        let second = whole.entries[1].offset
        func damage(_ change: (inout [UInt8]) -> Void) -> SpoolFormat.Parsed {
            var copy = bytes
            change(&copy)
            return copy.withUnsafeBytes { SpoolFormat.parse($0) }
        }
        #expect(damage { $0[second] ^= 1 }.damage == .badMagic)
        #expect(damage { $0[second + 5] ^= 1 }.damage == .badHeaderChecksum)
        #expect(damage { $0[second + 30] ^= 1 }.damage == .badPayloadChecksum)
        #expect(damage { $0.removeLast() }.damage == .truncatedPayload)
        #expect(damage { $0.removeLast($0.count - second - 10) }.damage == .truncatedHeader)
        #expect(damage { $0[second + 30] ^= 1 }.end == second)
    }
}

@Suite struct SpoolTests {
    @Test func entriesComeBackInOrderAcrossSegments() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        var spool = try Spool.open(directory: path, options: .init(maxSize: 1 << 30, segmentSize: 4096))
        let items = payloads(0..<500, longEvery: 100)
        var appended = 0
        for chunk in stride(from: 0, to: items.count, by: 37) {
            appended += try spool.append(items[chunk..<min(items.count, chunk + 37)])
        }
        #expect(appended == 500)
        #expect(spool.statistics.entries == 500)
        #expect(segmentFiles(path).count > 10)
        // Interleaved: read some, append more, read the rest.
        var read: [[UInt8]] = []
        for _ in 0..<10 {
            let entries = try spool.peek(maxEntries: 13)
            read += entries.map(\.payload)
            try spool.consume(entries.count)
        }
        let more = payloads(500..<600)
        #expect(try spool.append(more) == 100)
        read += try drain(&spool)
        let expected = items + more
        #expect(read == expected)
        #expect(spool.isEmpty)
        #expect(spool.statistics.bytes == 0 && spool.statistics.diskBytes == 0)
        #expect(segmentFiles(path).isEmpty, "an empty spool leaves no segment")
        #expect(spool.statistics.oldestTime == nil)
        try spool.close()
    }

    @Test(arguments: [Spool.SyncPolicy.never, .interval, .always])
    func aRestartResumesAtThePosition(sync: Spool.SyncPolicy) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        let options = Spool.Options(maxSize: 1 << 30, segmentSize: 2048, sync: sync)
        let items = payloads(0..<300)
        var spool = try Spool.open(directory: path, options: options)
        #expect(try spool.append(items) == 300)
        // Consume 123 entries, some of them half way into a peek.
        var consumed = 0
        while consumed < 123 {
            let entries = try spool.peek(maxEntries: 10)
            let take = min(entries.count, 123 - consumed, 6)
            try spool.consume(take)
            consumed += take
        }
        #expect(spool.statistics.oldestTime != nil)
        try spool.close()

        var reopened = try Spool.open(directory: path, options: options)
        #expect(reopened.statistics.entries == 177)
        #expect(reopened.statistics.positionResets == 0)
        #expect(reopened.statistics.tornTails == 0)
        #expect(try drain(&reopened) == Array(items[123...]), "nothing consumed is read again, nothing skipped")
        try reopened.close()

        // Not closed at all (a SIGKILL): the files as they are then, copied, are enough.
        var killed = try Spool.open(directory: path, options: options)
        #expect(try killed.append(items[0..<50]) == 50)
        _ = try killed.peek(maxEntries: 20)
        try killed.consume(20)
        let copy = directory.file("copy")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        chmod(copy, 0o700)
        var after = try Spool.open(directory: copy, options: options)
        #expect(try drain(&after) == Array(items[20..<50]))
        try after.close()
        try killed.close()
    }

    @Test func aTornTailIsCutAndCountedWhereverTheCutFalls() throws {
        let directory = try TemporaryDirectory()
        let items = payloads(0..<5)
        // The reference: five entries in one segment; the last entry's bytes.
        let reference = directory.file("reference")
        var spool = try Spool.open(directory: reference, options: .init(sync: .never))
        #expect(try spool.append(items) == 5)
        try spool.close()
        let segment = try #require(segmentFiles(reference).first)
        let bytes = try #require(FileManager.default.contents(atPath: reference + "/" + segment))
        let lastStart = bytes.count - SpoolFormat.headerSize - items[4].count

        for cut in lastStart..<bytes.count {
            let path = directory.file("cut-\(cut)")
            mkdir(path, 0o700)
            _ = FileManager.default.createFile(
                atPath: path + "/" + segment, contents: bytes.prefix(cut), attributes: [.posixPermissions: 0o600])
            var spool = try Spool.open(directory: path, options: .init(sync: .never))
            let torn = cut > lastStart
            #expect(spool.statistics.tornTails == (torn ? 1 : 0), "cut at \(cut)")
            #expect(spool.statistics.tornBytes == cut - lastStart)
            #expect(spool.statistics.entries == 4)
            #expect(fileSize(path + "/" + segment) == lastStart, "the torn tail is truncated")
            // New entries go after the four intact ones.
            #expect(try spool.append([Array("new".utf8)]) == 1)
            #expect(try drain(&spool) == Array(items[0..<4]) + [Array("new".utf8)])
            try spool.close()
            // Counted once: the next open finds nothing torn.
            let again = try Spool.open(directory: path, options: .init(sync: .never))
            #expect(again.statistics.tornTails == 0)
        }
    }

    @Test func corruptionInTheMiddleSkipsToTheNextSegment() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        let options = Spool.Options(maxSize: 1 << 30, segmentSize: 1024, sync: .never)
        let items = payloads(0..<60)
        var spool = try Spool.open(directory: path, options: options)
        #expect(try spool.append(items) == 60)
        try spool.close()
        let files = segmentFiles(path)
        #expect(files.count >= 4)
        // Flip a byte in the middle of the second segment.
        let victim = path + "/" + files[1]
        var bytes = try #require(FileManager.default.contents(atPath: victim))
        let middle = bytes.count / 2
        bytes[middle] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: victim))

        var reopened = try Spool.open(directory: path, options: options)
        #expect(reopened.statistics.corruptRegions == 1)
        #expect(reopened.statistics.corruptBytes > 0)
        #expect(reopened.statistics.tornTails == 0)
        let read = try drain(&reopened)
        // Everything outside the damaged region arrives, in order, and nothing twice.
        #expect(read.count < 60 && read.count >= 60 - 20)
        var expected = items.makeIterator()
        for entry in read {
            var found = false
            while let next = expected.next() {
                if next == entry {
                    found = true
                    break
                }
            }
            #expect(found, "in order")
        }
        #expect(read.last == items.last)
        try reopened.close()
    }

    @Test func damageFoundWhileReadingSkipsToTheNextSegment() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        let options = Spool.Options(maxSize: 1 << 30, segmentSize: 1024, sync: .never)
        let items = payloads(0..<60)
        var spool = try Spool.open(directory: path, options: options)
        #expect(try spool.append(items) == 60)
        let first = path + "/" + segmentFiles(path)[0]
        let handle = open(first, O_WRONLY)
        var junk: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
        #expect(pwrite(handle, &junk, 4, 0) == 4)
        close(handle)
        let read = try drain(&spool)
        #expect(spool.statistics.corruptRegions == 1)
        #expect(spool.statistics.corruptEntries + read.count == 60)
        #expect(read.last == items.last)
        #expect(spool.isEmpty)
        try spool.close()
    }

    @Test func aFullSpoolRefusesWhatDoesNotFitAndTakesMoreOnceDrained() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        let options = Spool.Options(maxSize: 64 << 10, segmentSize: 8 << 10, sync: .never)
        var spool = try Spool.open(directory: path, options: options)
        let items = payloads(0..<2000)
        let taken = try spool.append(items)
        #expect(taken > 100 && taken < 2000)
        #expect(spool.statistics.diskBytes <= 64 << 10)
        #expect(try spool.append(items[taken...]) == 0, "full: nothing more")
        #expect(!spool.fits(payloadSize: 200))
        // Drain a segment's worth, and there is room again.
        var read: [[UInt8]] = []
        while spool.statistics.diskBytes > 40 << 10 {
            let entries = try spool.peek(maxEntries: 50)
            read += entries.map(\.payload)
            try spool.consume(entries.count)
        }
        let more = try spool.append(items[taken...])
        #expect(more > 0)
        read += try drain(&spool)
        #expect(read == Array(items[0..<(taken + more)]))
        try spool.close()
    }

    @Test func aDamagedPositionRereadsFromTheOldestEntry() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("spool")
        let items = payloads(0..<20)
        var spool = try Spool.open(directory: path, options: .init(sync: .never))
        #expect(try spool.append(items) == 20)
        _ = try spool.peek(maxEntries: 5)
        try spool.consume(5)
        try spool.close()
        let position = path + "/position"
        var bytes = try #require(FileManager.default.contents(atPath: position))
        bytes[12] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: position))
        var reopened = try Spool.open(directory: path, options: .init(sync: .never))
        #expect(reopened.statistics.positionResets == 1)
        #expect(try drain(&reopened) == items, "duplicates, never loss")
        try reopened.close()
    }

    @Test func anUnsafeDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        let open = directory.file("open")
        mkdir(open, 0o777)
        chmod(open, 0o777)
        #expect(throws: SpoolError.self) { try Spool.open(directory: open) }
        #expect(Spool.checkUsable(open)?.contains("writable by group or others") == true)
        let link = directory.file("link")
        mkdir(directory.file("target"), 0o700)
        symlink(directory.file("target"), link)
        do {
            _ = try Spool.open(directory: link)
            Issue.record("a symbolic link was accepted")
        } catch {
            #expect(error.code == .unsafeDirectory)
        }
        if geteuid() == 0 {
            let foreign = directory.file("foreign")
            mkdir(foreign, 0o700)
            chown(foreign, 65534, 65534)
            #expect(throws: SpoolError.self) { try Spool.open(directory: foreign) }
            #expect(Spool.checkUsable(foreign)?.contains("owned by uid 65534") == true)
        }
        // A missing directory is created 0700; checkUsable creates nothing.
        let fresh = directory.file("fresh")
        #expect(Spool.checkUsable(fresh) == nil)
        #expect(!FileManager.default.fileExists(atPath: fresh))
        #expect(Spool.checkUsable(directory.file("no/such/parent")) != nil)
        var spool = try Spool.open(directory: fresh)
        #expect(throws: SpoolError.self, "one spool per directory") { try Spool.open(directory: fresh) }
        var status = stat()
        stat(fresh, &status)
        #expect(status.st_mode & 0o777 == 0o700)
        try spool.close()
    }
}
