package import AuditConfig
import AuditNetlink
package import AuditPipeline
import AuditRules
import AuditSystem
import AuditThreads
package import Logging

/// What the stop sequence needs of a running reader: finish once the socket is quiet, and end.
package protocol DrainableReader {
    /// Asks the reader to stop once the socket stays empty.
    func finishWhenDrained()
    /// Waits for the reader's thread to end.
    func join()
}

/// The registered audit socket (or, with `socket = multicast`, one joined to the multicast group)
/// and its reader thread as a component: started last (the kernel sends records from the moment it
/// is registered, and everything downstream must be running by then), stopped first.
package final class ReaderStage: Component {
    package let name = "reader"
    private let kernel: any DaemonKernel
    private let settings: AuditSettings
    private let processing: ProcessingStage
    private let logger: Logger
    private var running: Running?
    private var stopped = false
    /// The reader's counters when it stopped: the stop event reports them after the socket closed.
    private var finalCounters = KernelReader.Counters()

    /// The reader (which owns the registered socket and closes it when released, after its
    /// thread was joined) and its thread.
    private struct Running: DrainableReader {
        var reader: KernelReader
        var thread: SystemThread
        func finishWhenDrained() { reader.finishWhenDrained() }
        func join() { thread.join() }
    }

    /// - Parameters:
    ///   - kernel: the control connection, through which the stop sequence unregisters.
    ///   - processing: the stage whose ring the reader fills (started before this one).
    package init(kernel: any DaemonKernel, settings: AuditSettings, processing: ProcessingStage, logger: Logger) {
        self.kernel = kernel
        self.settings = settings
        self.processing = processing
        self.logger = logger
    }

    /// The reader's counters: live while it runs, its last ones once stopped.
    package var counters: KernelReader.Counters { running?.reader.counters ?? finalCounters }

    /// Lets the reader make kauditd wait while it naps (only while the kernel's
    /// `backlog_wait_time` is above 0; see ``KernelReader``).
    package func allowKernelPauses(_ allowed: Bool) { running?.reader.allowKernelPauses(allowed) }

    /// Opens the socket the reader will own, registers through it, and starts reading.
    package func start() throws(DaemonError) {
        let multicast = settings.socket == .multicast
        let registration =
            multicast
            ? (
                socket: try KernelSetup.openMulticastSocket(bufferSize: settings.socketBufferSize, logger: logger),
                pendingRecords: []
            )
            : try KernelSetup.registerReaderSocket(bufferSize: settings.socketBufferSize, logger: logger)
        let ring = processing.control.ring
        // Records that arrived while registering (our own CONFIG_CHANGE) go first; the consumer
        // runs already, so a full ring only waits for it.
        for record in registration.pendingRecords {
            ring.write { slot in Self.frame(record, into: slot) }
        }
        ring.publish()
        let reader = KernelReader(
            socket: registration.socket, ring: ring, socketBufferBytes: settings.socketBufferSize,
            napBufferBytes: settings.napSocketBufferSize)
        // Corrected from the kernel's own value (a rules file may set it) at every status poll.
        reader.allowKernelPauses(settings.backlogWaitTime > 0)
        do {
            let thread = try SystemThread.spawn(name: "audit-read") {
                // Like auditd's priority_boost: the reader only moves records from the socket into
                // the ring, and during a burst it must get the CPU before the audited programs do.
                SystemThread.setCurrentPriority(nice: -4)
                reader.run()
            }
            running = Running(reader: reader, thread: thread)
        } catch {
            // Through the control socket: nothing reads the registered one, and the kernel's
            // AUDIT_REPLACE to it must never wait on a full buffer (audit-userspace #203).
            if multicast { throw DaemonError("\(error)") }
            do { try kernel.unregister() } catch {
                logger.error("cannot unregister as the audit daemon", metadata: ["error": "\(error)"])
            }
            throw DaemonError("\(error)")
        }
    }

    /// Unregisters, reads what the kernel still sends, and ends the reader.
    package func drain() {
        guard let running, !stopped else { return }
        if settings.socket == .multicast {
            // Nothing to unregister: the kernel keeps sending copies, so "drained" means the
            // socket stayed quiet for a moment (what arrived until then is still read).
            running.finishWhenDrained()
            running.join()
        } else {
            Self.stopReading(kernel: kernel, reader: running, logger: logger)
        }
        stopped = true
        if let error = running.reader.lastReceiveError {
            logger.error("last receive error", metadata: ["error": "\(error)"])
        }
    }

    /// Releases the reader, which closes the registered socket. The reader starts last, so the
    /// stack always drains it first; `drain()` here only makes sure a running thread never
    /// outlives the socket.
    package func stop() {
        drain()
        if let running { finalCounters = running.reader.counters }
        running = nil
    }

    /// The stop sequence. Unregisters through the control socket while the reader keeps reading
    /// the registered one, so the kernel can never block on a full buffer meanwhile
    /// (audit-userspace #203); then waits (up to 3 s) until the kernel's backlog is empty, since
    /// kauditd may still be sending records it dequeued before; then lets the reader stop once
    /// the socket stays quiet.
    package static func stopReading(
        kernel: some DaemonKernel, reader: some DrainableReader, logger: Logger,
        sleep: (Int) -> Void = { SystemClock.sleep(milliseconds: $0) }
    ) {
        do { try kernel.unregister() } catch {
            logger.error("cannot unregister as the audit daemon", metadata: ["error": "\(error)"])
        }
        for _ in 0..<60 {
            guard let status = try? kernel.status(), status.backlog > 0 else { break }
            sleep(50)
        }
        reader.finishWhenDrained()
        reader.join()
    }

    /// A kernel datagram (header + payload) for a record received by a control client.
    static func frame(_ record: AuditRawRecord, into slot: UnsafeMutableRawBufferPointer) -> Int {
        let total = NetlinkMessage.headerSize + record.payload.count
        guard total <= slot.count else { return 0 }
        // The payload's length, as kauditd writes it on the unicast socket (see NetlinkMessage).
        NetlinkMessage.storeHeader(into: slot, length: UInt32(record.payload.count), type: record.type)
        record.payload.withUnsafeBytes { payload in
            UnsafeMutableRawBufferPointer(rebasing: slot[NetlinkMessage.headerSize..<total]).copyMemory(from: payload)
        }
        return total
    }
}
