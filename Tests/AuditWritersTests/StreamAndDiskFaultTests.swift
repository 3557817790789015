import AuditEncoding
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

@Suite struct StdoutWriterTests {
    @Test func aLineCutShortByAFullPipeIsFinishedBeforeAnythingElse() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        var writer = try StdoutWriter(fileDescriptor: ends[1], name: "pipe", stallTimeout: .milliseconds(20))
        let batch = items(0..<100, size: 1000)  // 100 KB: more than the 64 KiB pipe buffer
        let error = #expect(throws: WriterError.self) { _ = try writer.write(batch[...]) }
        #expect(error?.code == .stalled)
        #expect(error?.errno == EAGAIN)
        let taken = try #require(error?.completedItems)
        #expect(taken > 0 && taken < 100)

        var received: [UInt8] = []
        func drainPipe() {
            let reader = ends[0]
            _ = fcntl(reader, F_SETFL, O_NONBLOCK)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                received += buffer[0..<count]
            }
        }
        var next = taken
        while next < 100 {
            drainPipe()
            do {
                _ = try writer.write(batch[next...])
                next = 100
            } catch {
                #expect(error.code == .stalled)
                next += error.completedItems
            }
        }
        drainPipe()
        try writer.close()
        let (lines, torn) = splitLines(received)
        #expect(torn.isEmpty)
        #expect(lines.map { eventNumber($0) } == Array(0..<100))
    }

    @Test func aReaderThatWentAwayIsEPIPENotADeadProcess() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[1]) }
        close(ends[0])
        let worker = try OutputWorker(
            StdoutWriter(fileDescriptor: ends[1], name: "pipe"),
            configuration: .init(retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(10)))
        for item in items(0..<5) { worker.enqueue(item) }
        #expect(waitUntil { worker.counters.writeErrors >= 2 })
        #expect(worker.counters.lastError?.errno == EPIPE)
        let report = worker.close(drainTimeout: .milliseconds(20))
        #expect(report.counters.droppedAtShutdown == 5)
    }
}

/// Real disk faults on a small tmpfs (root only: it mounts one on a temporary directory).
@Suite(.requires(.root))  // mounting a tmpfs needs root
struct DiskFaultTests {
    @Test func aFullDiskIsCountedNeverTearsALineAndRecoversWhenSpaceReturns() throws {
        let filesystem = try SmallFilesystem(kilobytes: 64)
        defer { filesystem.unmount() }
        let path = filesystem.directory.file("events.json")
        let notices = NoticeLog()
        let worker = try OutputWorker(
            FileWriter(configuration: .init(path: path)),
            configuration: .init(
                capacity: 10_000, maxItemsPerWrite: 64,
                retryInitialDelay: .milliseconds(5), retryMaximumDelay: .milliseconds(50)),
            onNotice: notices.handler)
        let total = 3_000  // about 300 KB of lines of 37…137 bytes, for a 64 KiB filesystem
        var offered: [OutputItem] = []
        for number in 0..<total { offered.append(OutputItem(line: eventLine(number, size: 37 + number * 7 % 101))) }
        for item in offered { worker.enqueue(item) }
        #expect(waitUntil { worker.counters.isFailing })
        #expect(waitUntil { worker.counters.writeErrors >= 2 })
        let failing = worker.counters
        #expect(failing.lastError?.errno == ENOSPC)
        #expect(failing.written > 0 && failing.written < total)

        // While full: the file ends on a line boundary and holds a prefix of the events.
        let during = try #require(eventNumbers(inFile: path))
        #expect(during.torn == 0)
        #expect(isExactly(during.numbers, 0..<during.numbers.count))

        #expect(filesystem.resize(kilobytes: 1024))
        #expect(waitUntil { worker.counters.written == total })
        let report = worker.close(drainTimeout: .seconds(5))
        #expect(report.counters.recoveries == 1)
        #expect(report.counters.dropped == 0)
        expectBalanced(report.counters, offered: total)
        #expect(notices.failures.first?.errno == ENOSPC)
        #expect(notices.recoveries.count == 1)
        let after = try #require(eventNumbers(inFile: path))
        #expect(after.torn == 0)
        #expect(after.foreign == 0)
        #expect(isExactly(after.numbers, 0..<total), "every event exactly once, in order")
    }
}
