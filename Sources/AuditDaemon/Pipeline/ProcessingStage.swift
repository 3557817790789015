import AuditEvents
package import AuditPipeline
import AuditThreads
package import AuditWriters
import Synchronization

/// The ring and the processing thread as a component: started after the outputs it feeds and
/// before the reader (or the replay) that fills its ring.
package final class ProcessingStage: Component {
    package let name = "processing"
    private let ringBytes: Int
    private let configuration: ProcessorConfiguration
    private let outputs: DaemonOutputSet
    private let capturePath: String?
    private var started: (control: ProcessorControl<OutputWorker>, thread: SystemThread)?
    private var joined = false

    /// - Parameters:
    ///   - ringBytes: the ring's byte budget (`ring_size`); see ``ringCapacity(forBytes:)``.
    ///   - capturePath: where to record every datagram (`run --record`), truncated at start.
    package init(ringBytes: Int, configuration: ProcessorConfiguration, outputs: DaemonOutputSet, capturePath: String?)
    {
        self.ringBytes = ringBytes
        self.configuration = configuration
        self.outputs = outputs
        self.capturePath = capturePath
    }

    /// The handle on the running stage (its ring, counters, reconfiguration).
    package var control: ProcessorControl<OutputWorker> {
        guard let started else { preconditionFailure("the processing stage has not started") }
        return started.control
    }

    package func start() throws(DaemonError) {
        var capture: CaptureWriter?
        if let capturePath {
            do { capture = try CaptureWriter(path: capturePath, disposition: .truncate) } catch {
                throw DaemonError("--record \(capturePath): \(error)")
            }
        }
        let ring: RecordRing
        do { ring = try RecordRing(capacity: ringCapacity(forBytes: ringBytes)) } catch {
            throw DaemonError("cannot allocate the ring: \(error)")
        }
        let control = ProcessorControl(ring: ring, outputs: outputs)
        let configuration = configuration
        let box = SendableBox(capture.take())
        do {
            let thread = try SystemThread.spawn(name: "audit-process") {
                EventProcessor(configuration: configuration, capture: box.take()).run(control: control)
            }
            started = (control, thread)
        } catch {
            throw DaemonError("\(error)")
        }
    }

    /// Processes everything in the ring, flushes the events in flight, and ends the thread.
    package func drain() { finish() }

    package func stop() { finish() }

    private func finish() {
        guard let started, !joined else { return }
        started.control.finish()
        started.thread.join()
        joined = true
    }
}

/// The ring's capacity for a byte budget: the largest power of two that fits (the ring masks
/// offsets), at least 64 KiB (room for several of the largest datagrams) and at most 1 GiB.
package func ringCapacity(forBytes bytes: Int) -> Int {
    var capacity = 64 << 10
    while capacity * 2 <= bytes && capacity < 1 << 30 { capacity *= 2 }
    return capacity
}

/// Moves a non-copyable value (the `--record` capture writer) into a thread's closure, once.
final class SendableBox<Value: ~Copyable>: Sendable {
    private let value: Mutex<Value?>
    init(_ value: consuming sending Value?) { self.value = Mutex(value) }
    func take() -> sending Value? { value.withLock { $0.take() } }
}
