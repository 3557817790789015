package import AuditConfig
import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditPipeline
import AuditThreads
import AuditWriters
internal import Glibc
package import Logging
import Synchronization

/// How to run the daemon.
package struct DaemonOptions: Sendable {
    /// The configuration to start with.
    package var configuration: DaemonConfiguration
    /// The file it came from, re-read on SIGHUP; nil for the built-in quick-start configuration.
    package var configurationPath: String?
    /// Where to record every received datagram (`run --record`), for `swift-audit replay`.
    package var recordPath: String?
    /// The daemon's own log.
    package var logger: Logger

    /// Options for `run`.
    package init(configuration: DaemonConfiguration, configurationPath: String?, recordPath: String?, logger: Logger) {
        self.configuration = configuration
        self.configurationPath = configurationPath
        self.recordPath = recordPath
        self.logger = logger
    }
}

/// The daemon's exit codes; auditd's where they overlap, so units treat both alike.
package enum DaemonExitCode {
    /// Clean stop.
    package static let success: Int32 = 0
    /// Could not start or keep running (kernel refused, output could not open…).
    package static let failure: Int32 = 1
    /// A privilege is missing.
    package static let privilege: Int32 = 4
    /// The configuration is invalid.
    package static let configuration: Int32 = 6
}

/// The audit daemon: registers with the kernel, runs the pipeline, answers signals, and stops
/// without losing what it already received.
package enum Daemon {
    /// Runs until SIGTERM or SIGINT; returns the exit code.
    ///
    /// Must be called from the main thread before any other thread exists: it blocks the
    /// daemon's signals so that every thread inherits the mask and only the main thread takes
    /// them, synchronously.
    package static func run(_ options: DaemonOptions) -> Int32 {
        SignalWaiter.blockDaemonSignals()
        let logger = options.logger
        do {
            var daemon = try RunningDaemon.start(options)
            return daemon.serve()
        } catch {
            logger.critical("\(error.message)")
            return error.exitCode
        }
    }
}

/// A start-up failure with its exit code.
struct StartError: Error {
    var message: String
    var exitCode: Int32
}

/// The ring's capacity for a byte budget: the largest power of two that fits (the ring masks
/// offsets), at least 64 KiB (room for several of the largest datagrams) and at most 1 GiB.
func ringCapacity(forBytes bytes: Int) -> Int {
    var capacity = 64 << 10
    while capacity * 2 <= bytes && capacity < 1 << 30 { capacity *= 2 }
    return capacity
}

/// The reassembly part of a configuration, as the processing stage takes it.
func processorConfiguration(_ configuration: DaemonConfiguration, replay: Bool) -> ProcessorConfiguration {
    let reassembly = configuration.reassembly
    func milliseconds(_ duration: Duration) -> UInt64 {
        let parts = duration.components
        return UInt64(max(0, parts.seconds)) * 1000 + UInt64(max(0, parts.attoseconds) / 1_000_000_000_000_000)
    }
    return ProcessorConfiguration(
        reassembler: Reassembler.Configuration(
            endOfEventTimeout: milliseconds(reassembly.endOfEventTimeout), maxInFlight: reassembly.maxInFlight,
            minType: reassembly.minType, maxType: reassembly.maxType,
            reorderWindow: milliseconds(reassembly.reorderWindow), clock: replay ? .recordTimestamps : .external),
        hostname: resolveHostname(configuration.hostname))
}

func resolveHostname(_ source: HostnameSource) -> String? {
    switch source {
    case .none: nil
    case .hostname: HostnameFormat.hostname.resolve()
    case .fqdn: HostnameFormat.fqdn.resolve()
    case .user(let name): name
    }
}

/// The live daemon's state, owned by the main (control) thread.
struct RunningDaemon {
    var configuration: DaemonConfiguration
    let configurationPath: String?
    let logger: Logger
    let control: AuditClient
    let registration: AuditClient
    let ring: RecordRing
    let reader: KernelReader
    let readerThread: SystemThread
    let processor: ProcessorControl
    let processorThread: SystemThread
    let outputs: OutputSet
    var outputConfigurations: [String: OutputConfiguration]
    let notifier = ServiceNotifier()
    var statusEncoder: EventEncoder
    var lossMonitor = LossMonitor()
    var kernelLostTotal = 0
    var lastKernelBacklog: UInt32 = 0
    var lastStatusPoll: UInt64 = 0
    var lastHeartbeats = (reader: -1, processor: -1)
    var lastProgress = (reader: MonotonicClock.milliseconds(), processor: MonotonicClock.milliseconds())
    var lastWatchdogPing: UInt64 = 0
    /// Final counters of outputs retired by reloads, by name, so an output whose worker was
    /// replaced keeps counting from where it was.
    var retiredDrops: [String: Int] = [:]

    static func start(_ options: DaemonOptions) throws(StartError) -> RunningDaemon {
        let logger = options.logger
        let configuration = options.configuration
        do { try KernelSetup.checkPrivileges() } catch {
            throw StartError(message: error.message, exitCode: error.exitCode)
        }
        // Rules are read and checked before anything touches the kernel.
        let rules = try DaemonRules.prepare(configuration.rules, logger: logger)

        let control: AuditClient
        do { control = try AuditClient() } catch {
            throw StartError(
                message: "\(error)", exitCode: error.kind == .permissionDenied(capability: "CAP_AUDIT_CONTROL") ? 4 : 1)
        }
        do {
            try KernelSetup.claimOwnership(control, takeover: configuration.audit.takeover, logger: logger)
        } catch { throw StartError(message: error.message, exitCode: error.exitCode) }

        // Outputs open before registration: a path that cannot be written is an error to report
        // now, before the kernel starts sending us records.
        let started: [Output]
        do { started = try OutputFactory.start(configuration.outputs, logger: logger) } catch {
            throw StartError(message: "\(error)", exitCode: 1)
        }
        let outputs = OutputSet(started)
        var capture: CaptureWriter?
        if let path = options.recordPath {
            do { capture = try CaptureWriter(path: path, disposition: .truncate) } catch {
                closeAll(started)
                throw StartError(message: "--record \(path): \(error)", exitCode: 1)
            }
        }

        KernelSetup.apply(configuration.audit, client: control, logger: logger)

        let ring: RecordRing
        do { ring = try RecordRing(capacity: ringCapacity(forBytes: configuration.pipeline.ringSize)) } catch {
            closeAll(started)
            throw StartError(message: "cannot allocate the ring: \(error)", exitCode: 1)
        }
        let registration: AuditClient
        do {
            registration = try KernelSetup.registerReaderSocket(
                bufferSize: configuration.audit.socketBufferSize, logger: logger)
        } catch {
            closeAll(started)
            throw StartError(message: error.message, exitCode: error.exitCode)
        }
        let processor = ProcessorControl(ring: ring, outputs: outputs)
        let processing = processorConfiguration(configuration, replay: false)
        let recordingCapture = SendableBox(capture.take())
        let processorThread: SystemThread
        do {
            processorThread = try SystemThread.spawn(name: "audit-process") {
                EventProcessor(configuration: processing, capture: recordingCapture.take()).run(control: processor)
            }
        } catch {
            // Through the control socket: nothing reads the registered one yet, and the kernel's
            // AUDIT_REPLACE to it must never wait on a full buffer (audit-userspace #203).
            _ = try? control.unregister()
            closeAll(started)
            throw StartError(message: "\(error)", exitCode: 1)
        }
        // Records that arrived while registering (our own CONFIG_CHANGE) go first; the consumer
        // runs already, so a full ring only waits for it.
        for record in registration.takePendingRecords() {
            ring.write { slot in Self.frame(record, into: slot) }
        }
        ring.publish()
        let reader = KernelReader(
            socket: registration.socket, ring: ring, socketBufferBytes: configuration.audit.socketBufferSize,
            napBufferBytes: configuration.audit.napSocketBufferSize)
        // Corrected from the kernel's own value (a rules file may set it) at every status poll.
        reader.allowKernelPauses(configuration.audit.backlogWaitTime > 0)
        let readerThread: SystemThread
        do {
            readerThread = try SystemThread.spawn(name: "audit-read") {
                // Like auditd's priority_boost: the reader only moves records from the socket into
                // the ring, and during a burst it must get the CPU before the audited programs do.
                SystemThread.setCurrentPriority(nice: -4)
                reader.run()
            }
        } catch {
            _ = try? control.unregister()
            processor.finish()
            processorThread.join()
            closeAll(started)
            throw StartError(message: "\(error)", exitCode: 1)
        }

        var daemon = RunningDaemon(
            configuration: configuration, configurationPath: options.configurationPath, logger: logger,
            control: control, registration: registration, ring: ring, reader: reader, readerThread: readerThread,
            processor: processor, processorThread: processorThread, outputs: outputs,
            outputConfigurations: Dictionary(configuration.outputs.map { ($0.name, $0) }) { first, _ in first },
            statusEncoder: EventEncoder(hostname: processing.hostname, users: UserDirectory(path: "/dev/null")))
        daemon.pollKernel(force: true)
        // Rules after registration, so the events they produce from the first moment are ours.
        let rulesEvent = rules.map { DaemonRules.apply($0, client: control, logger: logger) }
        daemon.broadcast(
            StatusEvent(
                type: "swift-audit.start",
                fields: [
                    ("pid", .integer(Int64(getpid()))),
                    ("config", .string(options.configurationPath ?? "(built-in quick start)")),
                    ("outputs", .string(started.map(\.name).joined(separator: ","))),
                    ("record", .string(options.recordPath ?? "")),
                ]))
        if let rulesEvent { daemon.broadcast(rulesEvent) }
        daemon.notifier.ready(status: daemon.statusLine())
        // Start-up code (configuration, rule compiler, kernel set-up) is done with: let its pages
        // leave the resident set; the pipeline maps back what it runs (see ProgramPages).
        ProgramPages.releaseResidentCode()
        logger.info(
            "swift-audit started: registered as the audit daemon",
            metadata: ["pid": "\(getpid())", "outputs": "\(started.map(\.name).joined(separator: ","))"])
        return daemon
    }

    /// A kernel datagram (header + payload) for a record received by a control client.
    static func frame(_ record: AuditRawRecord, into slot: UnsafeMutableRawBufferPointer) -> Int {
        let total = 16 + record.payload.count
        guard total <= slot.count else { return 0 }
        slot.storeBytes(of: UInt32(record.payload.count), toByteOffset: 0, as: UInt32.self)
        slot.storeBytes(of: record.type.rawValue, toByteOffset: 4, as: UInt16.self)
        for offset in stride(from: 6, to: 16, by: 2) {
            slot.storeBytes(of: UInt16(0), toByteOffset: offset, as: UInt16.self)
        }
        record.payload.withUnsafeBytes { payload in
            UnsafeMutableRawBufferPointer(rebasing: slot[16..<total]).copyMemory(from: payload)
        }
        return total
    }

    static func closeAll(_ outputs: [Output]) {
        _ = OutputWorker.closeAll(outputs.map(\.worker), drainTimeout: .seconds(2))
    }

    // MARK: The control loop

    /// Waits for signals and timers until told to stop; returns the exit code.
    mutating func serve() -> Int32 {
        let watchdog = notifier.watchdogInterval.map { Self.milliseconds($0) }
        while true {
            var tick = Self.milliseconds(configuration.pipeline.lossReportInterval)
            if let watchdog { tick = min(tick, max(50, watchdog / 4)) }
            if let signal = SignalWaiter.wait(timeoutMilliseconds: tick) {
                switch signal.action {
                case .stop:
                    return stop(signal)
                case .reload:
                    reload(signal)
                case .reopen:
                    logger.info("reopening file outputs", metadata: ["signal": "\(signal)"])
                    for output in outputs.snapshot() { output.worker.requestReopen() }
                }
            }
            pollKernel(force: false)
            reportLoss()
            notifier.status(statusLine())
            if let watchdog { pingWatchdogIfAlive(interval: watchdog) }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let parts = duration.components
        return Int(parts.seconds) * 1000 + Int(parts.attoseconds / 1_000_000_000_000_000)
    }

    /// Pings the watchdog when both pipeline threads went round their loop (each does at least
    /// every 100 ms, idle or not) within the last half interval; a thread stuck for longer stops
    /// the pings and systemd restarts the daemon. Judged by time, not by loop turns, so a burst of
    /// signals or a long reload cannot starve the pings of a healthy pipeline.
    mutating func pingWatchdogIfAlive(interval: Int) {
        let now = MonotonicClock.milliseconds()
        let beats = (reader: reader.counters.heartbeat, processor: processor.statistics.heartbeat)
        if beats.reader != lastHeartbeats.reader { lastProgress.reader = now }
        if beats.processor != lastHeartbeats.processor { lastProgress.processor = now }
        lastHeartbeats = beats
        let window = UInt64(max(1, interval / 2))
        let alive = now &- lastProgress.reader < window && now &- lastProgress.processor < window
        guard alive, now &- lastWatchdogPing >= UInt64(max(1, interval / 4)) else { return }
        lastWatchdogPing = now
        notifier.watchdog()
    }

    /// Reads AUDIT_GET on the control socket every `status_interval` (never AUDIT_SET: each SET
    /// writes a CONFIG_CHANGE record).
    mutating func pollKernel(force: Bool, registered: Bool = true) {
        let now = MonotonicClock.milliseconds()
        guard force || now &- lastStatusPoll >= UInt64(Self.milliseconds(configuration.pipeline.statusInterval)) else {
            return
        }
        lastStatusPoll = now
        do {
            let status = try control.status()
            lossMonitor.kernelLostTotal(reading: status.lost, total: &kernelLostTotal)
            lastKernelBacklog = status.backlog
            reader.allowKernelPauses(status.backlogWaitTime > 0)
            if registered && status.pid != UInt32(getpid()) {
                logger.error(
                    "the kernel no longer names this process as the audit daemon",
                    metadata: ["registered_pid": "\(status.pid)"])
            }
        } catch {
            logger.error("cannot read the kernel audit status", metadata: ["error": "\(error)"])
        }
        // Records that reached the control socket are not ours to route (they are multicast-free
        // unicast replies only); drop them so the buffer does not grow.
        _ = control.takePendingRecords()
    }

    func currentLossCounters() -> LossCounters {
        let readerCounters = reader.counters
        let processing = processor.statistics
        var counters = LossCounters()
        counters.kernelLost = kernelLostTotal
        counters.socketOverflows = readerCounters.overflows
        counters.malformedDatagrams = readerCounters.malformed + processing.malformedDatagrams
        // Missing serials ever declared, so late arrivals never make the count go down (and
        // consumers summing the reported increases get the right total).
        counters.serialGaps = Int(processing.reassembler.lostSerials + processing.reassembler.recoveredSerials)
        counters.receiveErrors = readerCounters.receiveErrors
        counters.evictedEvents = Int(processing.reassembler.evictedEvents)
        counters.ringStalls = ring.statistics.stallEpisodes
        for output in outputs.snapshot() {
            let writer = output.worker.counters
            // Audit events only: the daemon's own status lines that this output dropped do not count.
            counters.writerDrops[output.name] =
                (retiredDrops[output.name] ?? 0) + writer.dropped + writer.rejected
                - outputs.refusedStatusLines(of: output.name)
            counters.writerTruncations[output.name] = writer.activity.oversizeTruncated
            counters.writerRefusals[output.name] = writer.activity.refusedDatagrams
        }
        return counters
    }

    mutating func reportLoss() {
        for event in lossMonitor.events(for: currentLossCounters(), logger: logger) { broadcast(event) }
    }

    func broadcast(_ event: StatusEvent) {
        var line: [UInt8] = []
        statusEncoder.encode(event, into: &line)
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        outputs.broadcast(line)
    }

    /// The one line `systemctl status` shows: what flowed, what was lost, how each output does.
    func statusLine() -> String {
        let processing = processor.statistics
        let loss = currentLossCounters()
        var parts = [
            "events \(processing.events)",
            "kernel lost \(loss.kernelLost)",
            "enobufs \(loss.socketOverflows)",
            "gaps \(loss.serialGaps)",
            "backlog \(lastKernelBacklog)",
        ]
        for output in outputs.snapshot() {
            let counters = output.worker.counters
            var part =
                "\(output.name): \(counters.isFailing ? "FAILING" : "ok") written \(counters.written) "
                + "dropped \(counters.dropped + counters.rejected) bytes \(counters.bytes)"
            if counters.activity.reconnects > 0 { part += " reconnects \(counters.activity.reconnects)" }
            if counters.activity.oversizeTruncated > 0 { part += " truncated \(counters.activity.oversizeTruncated)" }
            if counters.activity.oversizeSplit > 0 { part += " split \(counters.activity.oversizeSplit)" }
            parts.append(part)
        }
        return parts.joined(separator: "; ")
    }

    // MARK: Reload

    /// SIGHUP: re-read the file; apply it whole, or keep the running configuration whole.
    mutating func reload(_ signal: DaemonSignal) {
        guard let path = configurationPath else {
            logger.warning("SIGHUP: running on the built-in configuration; there is no file to re-read")
            return
        }
        let parsed: ParsedConfiguration
        do {
            parsed = try DaemonConfiguration.load(path: path)
        } catch {
            for diagnostic in error.diagnostics { logger.error("\(diagnostic)") }
            logger.error(
                "configuration reload failed; the running configuration stays in force", metadata: ["file": "\(path)"])
            broadcast(
                StatusEvent(
                    type: "swift-audit.reload",
                    fields: [
                        ("result", "failed"), ("error", .string(error.description)),
                        ("sender_pid", .integer(Int64(signal.senderPID))),
                    ]))
            return
        }
        let next = parsed.configuration
        let rules: DaemonRules.Prepared?
        do {
            rules = try DaemonRules.prepare(next.rules, logger: logger)
        } catch {
            logger.error("\(error.message)")
            logger.error(
                "configuration reload failed: rule files do not check; the running configuration and rules stay in force"
            )
            broadcast(
                StatusEvent(
                    type: "swift-audit.reload",
                    fields: [
                        ("result", "failed"), ("error", .string(error.message)),
                        ("sender_pid", .integer(Int64(signal.senderPID))),
                    ]))
            return
        }
        notifier.reloading()
        for warning in parsed.warnings { logger.warning("\(warning)") }
        for key in Self.restartOnlyChanges(from: configuration, to: next) {
            logger.warning("\(key) changed; it takes effect at the next restart, the running value stays")
        }

        // Outputs first: keep the running worker of an output whose configuration did not
        // change, start the new and changed ones. Only when all of them started does anything
        // else change (kernel settings, rules, the output list): a reload applies whole or not.
        var keep: [Output] = []
        var started: [Output] = []
        let running = Dictionary(outputs.snapshot().map { ($0.name, $0) }) { first, _ in first }
        var failure: String?
        for output in next.outputs where output.enabled {
            if let old = running[output.name], outputConfigurations[output.name] == output {
                keep.append(old)
                continue
            }
            do {
                started.append(try OutputFactory.start(output, logger: logger))
            } catch {
                failure = "\(error)"
                break
            }
        }
        if let failure {
            logger.error("configuration reload: \(failure); the running configuration stays in force")
            Self.closeAll(started)
            notifier.ready(status: statusLine())
            broadcast(
                StatusEvent(type: "swift-audit.reload", fields: [("result", "failed"), ("error", .string(failure))]))
            return
        }
        KernelSetup.apply(next.audit, client: control, logger: logger)
        if let rules { broadcast(DaemonRules.apply(rules, client: control, logger: logger)) }
        let newList = next.outputs.compactMap { output in
            (keep + started).first { $0.name == output.name }
        }
        let old = outputs.replace(with: newList)
        processor.reconfigure(processorConfiguration(next, replay: false))
        let kept = Set(keep.map { ObjectIdentifier($0.worker) })
        let retiring = old.filter { !kept.contains(ObjectIdentifier($0.worker)) }
        if !retiring.isEmpty {
            // The processing thread may still be using the old list for the batch in hand; wait
            // until it has gone round its loop (it does at least every 100 ms) before closing.
            processor.waitForNextBatch(timeoutMilliseconds: 2000)
            let reports = OutputWorker.closeAll(retiring.map(\.worker), drainTimeout: .seconds(5))
            for (output, report) in zip(retiring, reports) {
                let counters = report.counters
                retiredDrops[output.name, default: 0] +=
                    counters.dropped + counters.rejected + counters.droppedAtShutdown
                if counters.droppedAtShutdown > 0 || !report.finished {
                    logger.error(
                        "a replaced output did not drain",
                        metadata: ["output": "\(output.name)", "dropped": "\(counters.droppedAtShutdown)"])
                }
            }
        }
        configuration = next
        outputConfigurations = Dictionary(next.outputs.map { ($0.name, $0) }) { first, _ in first }
        statusEncoder = EventEncoder(hostname: resolveHostname(next.hostname), users: UserDirectory(path: "/dev/null"))
        broadcast(
            StatusEvent(
                type: "swift-audit.reload",
                fields: [
                    ("result", "ok"), ("outputs", .string(newList.map(\.name).joined(separator: ","))),
                    ("sender_pid", .integer(Int64(signal.senderPID))),
                ]))
        logger.info("configuration reloaded", metadata: ["file": "\(path)"])
        notifier.ready(status: statusLine())
        ProgramPages.releaseResidentCode()
    }

    /// Keys a reload cannot change in a running daemon (they size buffers made at start).
    static func restartOnlyChanges(from old: DaemonConfiguration, to new: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        if old.pipeline.ringSize != new.pipeline.ringSize { keys.append("ring_size") }
        if old.audit.socketBufferSize != new.audit.socketBufferSize { keys.append("socket_buffer") }
        if old.audit.napSocketBufferSize != new.audit.napSocketBufferSize { keys.append("nap_socket_buffer") }
        return keys
    }

    // MARK: Stop

    /// SIGTERM/SIGINT: stop receiving, drain everything already received, and unregister.
    mutating func stop(_ signal: DaemonSignal) -> Int32 {
        notifier.stopping(status: "stopping on \(signal)")
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        // Unregister from the control socket while the reader keeps draining the registered one,
        // so the kernel can never block on our full buffer meanwhile (audit-userspace #203).
        do { try control.unregister() } catch {
            logger.error("cannot unregister as the audit daemon", metadata: ["error": "\(error)"])
        }
        // kauditd may still be sending records it dequeued before we unregistered: read on until
        // the kernel's backlog is empty, then the reader stops once the socket stays quiet.
        for _ in 0..<60 {
            guard let status = try? control.status(), status.backlog > 0 else { break }
            MonotonicClock.sleep(milliseconds: 50)
        }
        reader.finishWhenDrained()
        readerThread.join()
        if let error = reader.lastReceiveError { logger.error("last receive error", metadata: ["error": "\(error)"]) }
        processor.finish()
        processorThread.join()
        pollKernel(force: true, registered: false)
        reportLoss()
        let processing = processor.statistics
        var fields: [(key: String, value: StatusEvent.Value)] = [
            ("signal", .integer(Int64(signal.number))), ("sender_pid", .integer(Int64(signal.senderPID))),
            ("sender_uid", .unsigned(UInt64(signal.senderUID))), ("events", .integer(Int64(processing.events))),
            ("kernel_lost", .integer(Int64(kernelLostTotal))),
            ("ring_stalls", .integer(Int64(ring.statistics.stallEpisodes))),
            ("ring_peak_bytes", .integer(Int64(ring.statistics.peakBytes))),
            ("ring_touched_bytes", .integer(Int64(ring.statistics.touchedBytes))),
            ("datagrams_received", .integer(Int64(reader.counters.datagrams))),
            ("datagrams_processed", .integer(Int64(processing.datagrams))),
            ("kauditd_pauses", .integer(Int64(reader.counters.kernelPauses))),
        ]
        for output in outputs.snapshot() {
            let counters = output.worker.counters
            fields.append(("output_\(output.name)_peak_queued", .integer(Int64(counters.peakQueued))))
            fields.append(("output_\(output.name)_dropped", .integer(Int64(counters.dropped + counters.rejected))))
        }
        broadcast(StatusEvent(type: "swift-audit.stop", fields: fields))
        if configuration.rules.atExit == .clear {
            do { try control.deleteAllRules() } catch {
                logger.error("cannot delete the rules at exit", metadata: ["error": "\(error)"])
            }
        }
        // A requested stop exits 0 even when an output could not drain (a dead collector): the
        // loss is in the log and, for the other outputs, in the stop event's per-output counts.
        let closing = outputs.snapshot()
        let reports = OutputWorker.closeAll(closing.map(\.worker), drainTimeout: .seconds(5))
        for (output, report) in zip(closing, reports) {
            if !report.finished || report.counters.droppedAtShutdown > 0 {
                logger.error(
                    "output did not drain at shutdown",
                    metadata: [
                        "output": "\(output.name)", "dropped_at_shutdown": "\(report.counters.droppedAtShutdown)",
                    ])
            }
        }
        _ = registration  // the registered socket closes with it, after the reader is done
        logger.info("stopped", metadata: ["events": "\(processing.events)"])
        return DaemonExitCode.success
    }
}

/// Moves a non-copyable value (the `--record` capture writer) into a thread's closure, once.
final class SendableBox<Value: ~Copyable>: Sendable {
    private let value: Mutex<Value?>
    init(_ value: consuming sending Value?) { self.value = Mutex(value) }
    func take() -> sending Value? { value.withLock { $0.take() } }
}
