import AuditEvents
import Glibc
import Testing

@Suite struct CaptureTests {
    /// Frames of assorted sizes, including empty and larger than the reader's buffer.
    static let datagrams: [[UInt8]] = [
        [],
        Array(0..<16),
        [UInt8](repeating: 0xAB, count: 9_000),
        Array("hello".utf8),
        [UInt8](repeating: 0x01, count: 70_000),
        [0],
    ]

    static func framed(_ datagrams: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for datagram in datagrams {
            let n = UInt32(datagram.count)
            bytes += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
            bytes += datagram
        }
        return bytes
    }

    static func readAll(_ reader: inout CaptureReader) throws(CaptureError) -> [(UInt64, [UInt8])] {
        var frames: [(UInt64, [UInt8])] = []
        while let frame = try reader.next() { frames.append((frame.offset, Array(frame.datagram))) }
        return frames
    }

    @Test func readsFramesFromMemoryWithOffsets() throws {
        var reader = CaptureReader(bytes: Self.framed(Self.datagrams))
        let frames = try Self.readAll(&reader)
        #expect(frames.map(\.1) == Self.datagrams)
        var offset: UInt64 = 0
        for (frame, datagram) in zip(frames, Self.datagrams) {
            #expect(frame.0 == offset)
            offset += 4 + UInt64(datagram.count)
        }
        #expect(try reader.next() == nil, "the end stays the end")
    }

    @Test(arguments: [4096, 5000, 1 << 16])
    func writerAndStreamingReaderRoundTrip(bufferSize: Int) throws {
        let path = temporaryPath("capture")
        defer { unlink(path) }
        var writer = try CaptureWriter(path: path, bufferSize: bufferSize)
        for datagram in Self.datagrams { try writer.append(datagram) }
        #expect(writer.framesAppended == UInt64(Self.datagrams.count))
        try writer.close()

        let bytes = try #require(readFile(path))
        #expect(bytes == Self.framed(Self.datagrams))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)

        var reader = try CaptureReader(path: path, bufferSize: bufferSize)
        #expect(try Self.readAll(&reader).map(\.1) == Self.datagrams)
    }

    @Test func appendingAddsFramesAfterExistingOnes() throws {
        let path = temporaryPath("append")
        defer { unlink(path) }
        do {
            var writer = try CaptureWriter(path: path)
            try writer.append([1, 2, 3])
            try writer.close()
        }
        do {
            var writer = try CaptureWriter(path: path, disposition: .append, bufferSize: 0)
            try writer.append([4])
            #expect(writer.bytesWritten == 5, "unbuffered: written at once")
            try writer.close()
        }
        var reader = try CaptureReader(path: path)
        #expect(try Self.readAll(&reader).map(\.1) == [[1, 2, 3], [4]])
        #expect(throws: CaptureError.self) { _ = try CaptureWriter(path: path, disposition: .createNew) }
    }

    @Test func droppingAWriterFlushesItsBuffer() throws {
        let path = temporaryPath("drop")
        defer { unlink(path) }
        do {
            var writer = try CaptureWriter(path: path)
            try writer.append([9, 9])
            #expect(writer.bytesWritten == 0, "still buffered")
        }
        #expect(readFile(path) == [2, 0, 0, 0, 9, 9])
    }

    @Test func aFailingWriteKeepsFramesUntilTheBufferLimitAndReportsOnFlush() throws {
        var writer = try CaptureWriter(path: "/dev/full", disposition: .append, bufferSize: 0)
        let datagram = [UInt8](repeating: 0x5A, count: 9_000)
        try writer.append(datagram)  // kept: the failure is counted, not thrown
        #expect(writer.failedWrites == 1)
        #expect(writer.bufferedBytes == 9_004)
        #expect(throws: CaptureError(kind: .write(errno: ENOSPC), path: "/dev/full", offset: 0)) { try writer.flush() }
        #expect(writer.bufferedBytes == 9_004, "still there for the next attempt")

        var kept = 1
        var refused: CaptureError?
        while refused == nil, kept < 1_000 {
            do {
                try writer.append(datagram)
                kept += 1
            } catch {
                refused = error
            }
        }
        #expect(refused?.kind == .write(errno: ENOSPC))
        #expect(kept == CaptureWriter.maximumBufferedBytes / 9_004)
        #expect(writer.framesAppended == UInt64(kept))
        do {
            try writer.close()
            Issue.record("closing with unwritable data must report it")
        } catch {
            #expect(error.kind == .write(errno: ENOSPC))
        }
    }

    @Test func writesToACallerOwnedDescriptor() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        do {
            var writer = CaptureWriter(fileDescriptor: fds[1], name: "pipe")
            try writer.append([7, 8])
            try writer.flush()
        }
        close(fds[1])
        var reader = CaptureReader(fileDescriptor: fds[0], name: "pipe")
        #expect(try Self.readAll(&reader).map(\.1) == [[7, 8]])
    }

    @Test(arguments: 1...3)
    func aTruncatedLengthIsATypedErrorWithItsOffset(kept: Int) {
        let good = Self.framed([[1, 2, 3]])
        var reader = CaptureReader(bytes: good + [5, 0, 0, 0].prefix(kept), name: "t.bin")
        #expect(try! reader.next()?.datagram == [1, 2, 3])
        #expect(throws: CaptureError(kind: .truncatedLength(available: kept), path: "t.bin", offset: 7)) {
            try reader.next()
        }
    }

    @Test(arguments: [4096, 1 << 16])
    func aTruncatedDatagramIsATypedErrorWithItsOffset(bufferSize: Int) throws {
        let bytes = Self.framed([[1], [UInt8](repeating: 2, count: 6000)]).dropLast(10)
        let path = temporaryPath("trunc")
        defer { unlink(path) }
        #expect(writeFile(path, Array(bytes)))

        var reader = try CaptureReader(path: path, bufferSize: bufferSize)
        #expect(try reader.next()?.datagram == [1])
        do {
            _ = try reader.next()
            Issue.record("truncated frame accepted")
        } catch {
            #expect(error.kind == .truncatedDatagram(declared: 6000, available: 5990))
            #expect(error.offset == 5)
            #expect(error.path == path)
            #expect(error.description.contains("byte offset 5"))
        }
    }

    @Test func anImplausibleLengthIsRejectedWithoutAllocatingIt() {
        var reader = CaptureReader(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], name: "junk")
        #expect(throws: CaptureError(kind: .oversizedFrame(declared: .max), path: "junk", offset: 0)) {
            try reader.next()
        }
    }

    @Test func aMissingFileIsAnOpenError() {
        #expect(throws: CaptureError(kind: .open(errno: ENOENT), path: "/nonexistent/x.bin", offset: 0)) {
            _ = try CaptureReader(path: "/nonexistent/x.bin")
        }
    }

    @Test func randomTruncationsOfAValidCaptureNeverCrash() {
        let full = Self.framed([[1, 2, 3], Array(repeating: 4, count: 100), [], [5]])
        for length in 0...full.count {
            var reader = CaptureReader(bytes: Array(full[0..<length]))
            var count = 0
            do {
                while try reader.next() != nil { count += 1 }
            } catch {
                #expect(error.offset <= UInt64(length))
            }
            #expect(count <= 4)
        }
    }
}
