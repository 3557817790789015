import AuditEncoding
import AuditPipeline
import AuditThreads
import Synchronization
import Testing

/// An output queue of the test's own, without a writer or a thread: what the processing stage
/// hands over, in order, and how it woke the queue.
private final class RecordingQueue: OutputQueue {
    let lines = Mutex<[String]>([])
    let events = Mutex<Int>(0)
    let wakes = Atomic<Int>(0)
    let deferred = Atomic<Int>(0)

    func enqueue(_ item: OutputItem, deferringWake: Bool) -> Bool {
        if deferringWake { deferred.add(1, ordering: .relaxed) }
        lines.withLock { $0.append(String(decoding: item.line, as: UTF8.self)) }
        if item.event != nil { events.withLock { $0 += 1 } }
        return true
    }

    func enqueue(batch items: [OutputItem], deferringWake: Bool) -> Int {
        for item in items { _ = enqueue(item, deferringWake: deferringWake) }
        return items.count
    }

    func wakeIfWaiting() { wakes.add(1, ordering: .relaxed) }

    var progress: OutputQueueProgress { OutputQueueProgress(queued: 0, completed: 0, isFailing: false) }
}

@Suite struct OutputQueueSeamTests {
    /// The stage knows its outputs only through `OutputQueue`: a queue that is not the writers'
    /// gets every event once, in order, with the structured event only where it asked for it,
    /// and is woken once per batch rather than per event.
    @Test(arguments: [false, true])
    func theProcessingStageFeedsAnyOutputQueueEveryEventInOrder(wantsEvent: Bool) throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let queue = RecordingQueue()
        let control = ProcessorControl(
            ring: ring, outputs: OutputSet([Output(name: "recording", worker: queue, wantsEvent: wantsEvent)]))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5)).run(control: control)
        }
        for serial in 1...200 {
            for record in [
                datagram(type: 1300, serial: serial, body: "arch=c000003e syscall=59 success=yes exit=0"),
                datagram(type: 1320, serial: serial, body: ""),
            ] {
                record.withUnsafeBytes { ring.append($0) }
            }
        }
        ring.publish()
        control.finish()
        stage.join()

        let lines = queue.lines.withLock { $0 }
        #expect(
            lines.map { $0.split(separator: ",").first.map(String.init) ?? "" }
                == (1...200).map { "{\"sequence\":\($0)" })
        #expect(queue.events.withLock { $0 } == (wantsEvent ? 200 : 0))
        #expect(queue.deferred.load(ordering: .relaxed) == 200, "every item defers its wake-up to the batch's end")
        let wakes = queue.wakes.load(ordering: .relaxed)
        #expect(wakes >= 1 && wakes < 200, "woken per batch, not per event: \(wakes)")
    }
}
