public import AuditNetlink
import AuditThreads
import Synchronization

/// The first stage: moves datagrams from the registered audit socket into the ring, and nothing else.
///
/// It receives straight into ring slots (no copy, no allocation), publishes once per batch, and
/// blocks only in two places: `poll` when the socket is empty, and the ring when it is full. A
/// full ring is a stall that the ring counts; the kernel's backlog and the socket buffer absorb it,
/// and a socket that overflows anyway reports `ENOBUFS`, counted here as loss. It never waits on an
/// output: outputs are three stages away, behind their own queues.
public final class KernelReader: Sendable {
    /// What the reader has seen, for `STATUS=` and loss events.
    public struct Counters: Hashable, Sendable {
        /// Datagrams moved into the ring.
        public var datagrams: Int
        /// `ENOBUFS` from `recv`: the socket buffer overflowed and the kernel dropped records.
        public var overflows: Int
        /// Datagrams from a sender other than the kernel, dropped.
        public var rejected: Int
        /// Datagrams that did not decode as netlink, dropped.
        public var malformed: Int
        /// `recv`/`poll` failures other than the above.
        public var receiveErrors: Int
        /// Loop turns; advances at least every `idleWakeMilliseconds` while the reader is healthy.
        public var heartbeat: Int
    }

    private let socket: AuditSocket
    private let ring: RecordRing
    private let idleWakeMilliseconds: Int
    private let stopWhenDrained = Atomic<Bool>(false)
    private let datagrams = Atomic<Int>(0)
    private let overflows = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let malformed = Atomic<Int>(0)
    private let receiveErrors = Atomic<Int>(0)
    private let heartbeat = Atomic<Int>(0)
    private let lastError = Mutex<AuditNetlinkError?>(nil)

    /// The most datagrams received before the batch is published to the consumer.
    static let batchSize = 64

    /// A reader for `socket` (already registered, buffer sized) feeding `ring`.
    public init(socket: AuditSocket, ring: RecordRing, idleWakeMilliseconds: Int = 100) {
        self.socket = socket
        self.ring = ring
        self.idleWakeMilliseconds = idleWakeMilliseconds
    }

    /// A snapshot of the counters; any thread.
    public var counters: Counters {
        Counters(
            datagrams: datagrams.load(ordering: .relaxed), overflows: overflows.load(ordering: .relaxed),
            rejected: rejected.load(ordering: .relaxed), malformed: malformed.load(ordering: .relaxed),
            receiveErrors: receiveErrors.load(ordering: .relaxed), heartbeat: heartbeat.load(ordering: .relaxed))
    }

    /// The last unexpected receive error, for the log.
    public var lastReceiveError: AuditNetlinkError? { lastError.withLock { $0 } }

    /// Asks the reader to return once the socket is empty. Call it after the daemon unregistered,
    /// so the kernel sends nothing new and everything it already queued for us is still read.
    public func finishWhenDrained() {
        stopWhenDrained.store(true, ordering: .releasing)
    }

    /// Runs the loop on the calling thread until `finishWhenDrained()` and an empty socket.
    public func run() {
        while true {
            var drained = false
            for _ in 0..<Self.batchSize {
                var outcome = AuditSocket.ReceiveResult.timedOut
                var failure: AuditNetlinkError?
                ring.withNextFreeSlot { slot in
                    let received = Result { () throws(AuditNetlinkError) in
                        try socket.receive(into: slot, timeoutMilliseconds: 0)
                    }
                    switch received {
                    case .success(let result):
                        outcome = result
                        if case .message(_, let length) = result { return length }
                        return 0
                    case .failure(let error):
                        failure = error
                        return 0
                    }
                }
                if let failure {
                    receiveErrors.add(1, ordering: .relaxed)
                    lastError.withLock { $0 = failure }
                    drained = true
                    break
                }
                switch outcome {
                case .message: datagrams.add(1, ordering: .relaxed)
                case .overflow: overflows.add(1, ordering: .relaxed)
                case .rejected: rejected.add(1, ordering: .relaxed)
                case .malformed: malformed.add(1, ordering: .relaxed)
                case .timedOut: drained = true
                }
                if drained { break }
            }
            ring.publish()
            heartbeat.add(1, ordering: .relaxed)
            guard drained else { continue }
            if stopWhenDrained.load(ordering: .acquiring) {
                // One last look: records may have arrived between the empty read and the flag.
                if (try? socket.waitReadable(timeoutMilliseconds: 0)) == true { continue }
                return
            }
            do {
                _ = try socket.waitReadable(timeoutMilliseconds: idleWakeMilliseconds)
            } catch {
                receiveErrors.add(1, ordering: .relaxed)
                lastError.withLock { $0 = error }
                // A broken socket must not turn into a busy loop.
                _ = try? socket.waitReadable(timeoutMilliseconds: idleWakeMilliseconds)
            }
        }
    }
}
