import AuditEncoding
import AuditPipeline
import AuditTestSupport
import AuditThreads
import AuditWriters
import Glibc
import Synchronization
import Testing

/// Collects what the processing stage hands an output: each line and the size of the buffer
/// that queueing it keeps allocated.
struct CollectingWriter: EventWriter {
    final class Seen: Sendable {
        let items = Mutex<[(line: [UInt8], bufferCapacity: Int)]>([])
    }
    let seen: Seen
    var name: String { "collect" }

    mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        seen.items.withLock { $0.append(contentsOf: items.map { ($0.line, $0.bufferCapacity) }) }
        return WriteOutcome(bytes: items.reduce(0) { $0 + $1.lineCount })
    }
    mutating func flush() throws(WriterError) {}
    mutating func close() throws(WriterError) {}
}

/// One netlink datagram carrying an audit record of `type` for event `serial`.
func datagram(type: UInt16, serial: Int, body: String) -> [UInt8] {
    let payload = Array("audit(1700000000.123:\(serial)): \(body)".utf8)
    var bytes: [UInt8] = []
    func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    put(UInt32(16 + payload.count))
    put(type)
    put(UInt16(0))
    put(UInt32(0))
    put(UInt32(0))
    return bytes + payload
}

@Suite struct EventProcessorBatchTests {
    /// One 4 MiB event (any user can make one with a long argv under an execve rule) must not
    /// leave its line buffers allocated for the daemon's life.
    @Test func aHugeEventDoesNotLeaveItsBuffersBehind() throws {
        let ring = try RecordRing(capacity: 1 << 22)
        let seen = CollectingWriter.Seen()
        let worker = try OutputWorker(CollectingWriter(seen: seen))
        let control = ProcessorControl(
            ring: ring, outputs: OutputSet([Output(name: "collect", worker: worker, wantsEvent: false)]))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5)).run(control: control)
        }
        let argument = String(repeating: "41", count: 4000)
        var records = [datagram(type: 1300, serial: 1, body: "arch=c000003e syscall=59 success=yes exit=0")]
        for index in 0..<512 { records.append(datagram(type: 1309, serial: 1, body: "a\(index)=\(argument)")) }
        records.append(datagram(type: 1320, serial: 1, body: ""))
        for record in records { record.withUnsafeBytes { ring.append($0) } }
        ring.publish()
        #expect(waitUntil(seconds: 10) { seen.items.withLock { $0.count } == 1 })
        for record in [
            datagram(type: 1300, serial: 2, body: "arch=c000003e syscall=59 success=yes exit=0"),
            datagram(type: 1320, serial: 2, body: ""),
        ] {
            record.withUnsafeBytes { ring.append($0) }
        }
        ring.publish()
        #expect(waitUntil(seconds: 10) { seen.items.withLock { $0.count } == 2 })
        let retained = control.statistics.retainedBufferBytes
        control.finish()
        stage.join()
        _ = worker.close(drainTimeout: .seconds(5))
        let hugeLine = seen.items.withLock { $0.first?.line.count ?? 0 }
        #expect(hugeLine > 4_000_000)
        #expect(retained > 0 && retained <= 1 << 20, "\(retained) bytes kept after the huge event")
    }

    /// File and stdout lines of a busy batch share one chunk; a quiet batch's line gets a buffer of
    /// its own size, so a stalled output's queue never pins a mostly empty chunk per line.
    @Test func busyBatchesShareAChunkAndQuietOnesDoNotPinIt() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let seen = CollectingWriter.Seen()
        let worker = try OutputWorker(CollectingWriter(seen: seen))
        let control = ProcessorControl(
            ring: ring, outputs: OutputSet([Output(name: "collect", worker: worker, wantsEvent: false)]))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5)).run(control: control)
        }
        let body = "arch=c000003e syscall=110 success=yes exit=1 " + String(repeating: "x", count: 300)
        func send(_ serials: Range<Int>) {
            for serial in serials {
                let records = [
                    datagram(type: 1300, serial: serial, body: body), datagram(type: 1320, serial: serial, body: ""),
                ]
                for record in records { record.withUnsafeBytes { ring.append($0) } }
            }
            ring.publish()
        }
        // Quiet: one event per wake-up of the stage.
        for serial in 1...5 {
            send(serial..<serial + 1)
            usleep(30_000)
        }
        // Busy: hundreds of events waiting at once.
        send(6..<406)
        control.finish()
        stage.join()
        _ = worker.close(drainTimeout: .seconds(5))

        let items = seen.items.withLock { $0 }
        #expect(items.count == 405)
        let serials = items.map { item in
            String(decoding: item.line, as: UTF8.self).split(separator: ",").first.map(String.init) ?? ""
        }
        #expect(serials == (1...405).map { "{\"sequence\":\($0)" }, "every event once, in order")
        #expect(items.prefix(5).allSatisfy { $0.bufferCapacity < 4096 }, "\(items.prefix(5).map(\.bufferCapacity))")
        let shared = items.dropFirst(5).filter { $0.bufferCapacity >= 16 << 10 }.count
        #expect(shared >= 300, "most busy lines share a chunk: \(shared) of 400")
    }
}

@Suite struct EventProcessorFormatTests {
    /// Outputs of different formats each get every event in their own layout, in order; outputs
    /// of one format share the encoding.
    @Test func eachOutputGetsEveryEventInItsOwnFormat() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let formats: [EventFormat] = [.enriched, .raw, .enriched]
        let seen = formats.map { _ in CollectingWriter.Seen() }
        let workers = try seen.map { try OutputWorker(CollectingWriter(seen: $0)) }
        let outputs = zip(formats, workers).enumerated().map { index, pair in
            Output(name: "out\(index)", worker: pair.1, wantsEvent: false, format: pair.0)
        }
        let control = ProcessorControl(ring: ring, outputs: OutputSet(outputs))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5)).run(control: control)
        }
        for serial in 1...50 {
            let records = [
                datagram(type: 1300, serial: serial, body: "arch=c000003e syscall=59 success=yes exit=0"),
                datagram(type: 1320, serial: serial, body: ""),
            ]
            for record in records { record.withUnsafeBytes { ring.append($0) } }
        }
        ring.publish()
        control.finish()
        stage.join()
        for worker in workers { _ = worker.close(drainTimeout: .seconds(5)) }

        for (format, output) in zip(formats, seen) {
            let lines = output.items.withLock { $0 }.map { String(decoding: $0.line, as: UTF8.self) }
            let expected =
                format == .raw
                ? (1...50).map { "{\"sequence\":\($0)," }
                : (1...50).map { "{\"ID\":\"1700000000.123:\($0)\"," }
            #expect(lines.count == 50)
            #expect(zip(lines, expected).allSatisfy { $0.hasPrefix($1) }, "\(format): \(lines.first ?? "")")
        }
    }
}

@Suite struct EventProcessorIncludeRawTests {
    /// Two ECS outputs, one with `include_raw`: each gets every event, only one with the records.
    @Test func includeRawIsPerOutput() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let seen = [CollectingWriter.Seen(), CollectingWriter.Seen()]
        let workers = try seen.map { try OutputWorker(CollectingWriter(seen: $0)) }
        let control = ProcessorControl(
            ring: ring,
            outputs: OutputSet([
                Output(name: "plain", worker: workers[0], wantsEvent: false, format: .ecs),
                Output(name: "withraw", worker: workers[1], wantsEvent: false, format: .ecs, includeRaw: true),
            ]))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5)).run(control: control)
        }
        for serial in 1...20 {
            let records = [
                datagram(type: 1300, serial: serial, body: "arch=c000003e syscall=59 success=yes exit=0 pid=7"),
                datagram(type: 1320, serial: serial, body: ""),
            ]
            for record in records { record.withUnsafeBytes { ring.append($0) } }
        }
        ring.publish()
        control.finish()
        stage.join()
        for worker in workers { _ = worker.close(drainTimeout: .seconds(5)) }
        let plain = seen[0].items.withLock { $0 }.map { String(decoding: $0.line, as: UTF8.self) }
        let withRaw = seen[1].items.withLock { $0 }.map { String(decoding: $0.line, as: UTF8.self) }
        #expect(plain.count == 20 && withRaw.count == 20)
        #expect(plain.allSatisfy { !$0.contains("\"original\"") })
        #expect(
            withRaw.allSatisfy { $0.contains("\"original\"") && $0.contains("syscall=59") }, "\(withRaw.first ?? "")")
    }
}
