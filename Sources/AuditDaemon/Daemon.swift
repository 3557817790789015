package import AuditConfig
import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditPipeline
import AuditProcesses
import AuditSystem
import AuditThreads
import AuditWriters
internal import Glibc
package import Logging

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

/// The audit daemon: registers with the kernel, runs the pipeline, answers signals, and stops
/// without losing what it already received.
package enum Daemon {
    /// Runs until SIGTERM or SIGINT; returns the exit status.
    ///
    /// Must be called from the main thread before any other thread exists: it blocks the
    /// daemon's signals so that every thread inherits the mask and only the main thread takes
    /// them, synchronously.
    package static func run(_ options: DaemonOptions) -> ExitStatus {
        SignalWaiter.blockDaemonSignals()
        do {
            let daemon = try RunningDaemon.start(options)
            return daemon.serve()
        } catch {
            options.logger.critical("\(error.message)")
            return error.status
        }
    }
}

/// The processing stage's part of a configuration: the configured reassembler settings on the
/// live clock, or on the records' own timestamps for a replay, and the host name events carry
/// (resolved by the caller once: `fqdn` may ask DNS, so it is resolved at start and on reload
/// only, and the status events and the audit events get the same name).
func processorConfiguration(
    _ configuration: DaemonConfiguration, hostname: String?, replay: Bool
) -> ProcessorConfiguration {
    var reassembler = configuration.reassembly
    reassembler.clock = replay ? .recordTimestamps : .external
    let processes = configuration.processes
    // The table only serves formats that write process context: with raw outputs alone it would
    // cost every event a lookup for nothing (a reload that adds an enriched or ECS output starts
    // it, seeded from /proc).
    let needsContext = configuration.outputs.contains { $0.enabled && $0.format != .raw }
    var table = processes.table
    // A replay's pids are another moment's (or machine's): /proc would name other processes.
    if replay { table.readProcForUnknown = false }
    return ProcessorConfiguration(
        reassembler: reassembler, hostname: hostname,
        processes: processes.enabled && needsContext ? table : nil,
        // A replay's events may come from another machine or boot: /proc and the state file
        // would give them this machine's processes.
        seedProcessesFromProc: !replay, processStatePath: replay ? nil : processes.stateFile,
        filters: configuration.filterPlan)
}

/// The live daemon: its components, and the control state the main thread keeps between
/// signals and timers (the kernel poll, loss accounting, the watchdog, the outputs' settings).
final class RunningDaemon {
    private var configuration: DaemonConfiguration
    private let configurationPath: String?
    private let logger: Logger
    /// The control connection: status polls, settings, rules, unregistering.
    private let kernel: AuditClient
    private var stack = ComponentStack()
    private let outputs: OutputStage
    private let processing: ProcessingStage
    private let reader: ReaderStage
    private var outputConfigurations: [String: OutputConfiguration]
    private let notifier = ServiceNotifier()
    private var statusEncoder: EventEncoder
    private var kernelMonitor: KernelMonitor
    private var loss: LossAccounting
    /// `socket = multicast`: reading copies beside the registered daemon, changing nothing in the
    /// kernel (fixed at start: a reload cannot change it).
    private let multicast: Bool
    /// Whether `AUDIT_GET` is allowed (CAP_AUDIT_CONTROL): always when registered; a multicast
    /// reader with CAP_AUDIT_READ alone reports no kernel counters.
    private let canReadStatus: Bool
    private var watchdog: Watchdog?
    /// The signal that stopped the daemon, for the stop event.
    private var stopSignal: DaemonSignal?
    /// Where the metrics thread finds the counters (nil: no metrics configured).
    private let metricsBoard: MetricsBoard?
    private let startTime = SystemClock.realtimeMilliseconds()
    private var reloadsApplied = 0
    private var reloadsFailed = 0

    private init(_ options: DaemonOptions, kernel: AuditClient) {
        let configuration = options.configuration
        self.configuration = configuration
        configurationPath = options.configurationPath
        logger = options.logger
        self.kernel = kernel
        multicast = configuration.audit.socket == .multicast
        canReadStatus = !multicast || Capability.auditControl.isEffective
        loss = LossAccounting(multicast: multicast)
        let hostname = configuration.hostname.resolve()
        outputs = OutputStage(configuration.outputs, drainTimeout: .seconds(5), logger: logger)
        processing = ProcessingStage(
            ringBytes: configuration.pipeline.ringSize,
            configuration: processorConfiguration(configuration, hostname: hostname, replay: false),
            outputs: outputs.set, capturePath: options.recordPath)
        reader = ReaderStage(kernel: kernel, settings: configuration.audit, processing: processing, logger: logger)
        outputConfigurations = Dictionary(configuration.outputs.map { ($0.name, $0) }) { first, _ in first }
        statusEncoder = EventEncoder(hostname: hostname, users: UserDirectory(path: "/dev/null"))
        kernelMonitor = KernelMonitor(
            intervalMilliseconds: UInt64(configuration.pipeline.statusInterval.clampedMilliseconds))
        metricsBoard = configuration.metrics.isEnabled ? MetricsBoard() : nil
    }

    /// Checks, claims the audit socket, starts the components in data-path order, loads the
    /// rules, and tells systemd it is ready.
    static func start(_ options: DaemonOptions) throws(DaemonError) -> RunningDaemon {
        let logger = options.logger
        let configuration = options.configuration
        let multicast = configuration.audit.socket == .multicast
        try KernelSetup.checkPrivileges(multicast: multicast)
        // Rules are read and checked before anything touches the kernel. (With socket = multicast
        // the configuration has rules only with multicast_load_rules = yes.)
        let rules = try DaemonRules.prepare(configuration, logger: logger)
        if multicast, rules != nil, !Capability.auditControl.isEffective {
            throw DaemonError(
                "multicast_load_rules = yes needs CAP_AUDIT_CONTROL to load the rules", status: .privilege)
        }
        let kernel: AuditClient
        do { kernel = try AuditClient() } catch {
            throw DaemonError(
                "\(error)",
                status: error.kind == .permissionDenied(capability: "CAP_AUDIT_CONTROL") ? .privilege : .failure)
        }
        if multicast {
            if Capability.auditControl.isEffective { KernelSetup.describeRegisteredDaemon(kernel, logger: logger) }
        } else {
            try KernelSetup.claimOwnership(kernel, takeover: configuration.audit.takeover, logger: logger)
        }

        let daemon = RunningDaemon(options, kernel: kernel)
        // Everything that can fail for a local reason (an output path, `--record`, the ring)
        // starts before the kernel's settings change.
        try daemon.stack.start(daemon.outputs)
        if let board = daemon.metricsBoard {
            try daemon.stack.start(MetricsStage(configuration.metrics, board: board, logger: logger))
        }
        // Between the outputs and the stages that feed them: runs once those have drained.
        try daemon.stack.start(FinalReport { [unowned daemon] in daemon.finalReport() })
        try daemon.stack.start(daemon.processing)
        // The read-only mode changes no kernel setting (the configuration refuses them too).
        if !multicast { KernelSetup.apply(configuration.audit, client: kernel, logger: logger) }
        try daemon.stack.start(daemon.reader)

        daemon.pollKernel(force: true)
        daemon.publishMetrics()
        // Rules after registration, so the events they produce from the first moment are ours.
        let rulesEvent = rules.map { DaemonRules.apply($0, client: kernel, logger: logger) }
        let names = daemon.outputs.set.snapshot().map(\.name).joined(separator: ",")
        daemon.broadcast(
            StatusEvent(
                type: "swift-audit.start",
                fields: [
                    ("pid", .integer(Int64(getpid()))),
                    ("mode", .string(multicast ? "multicast" : "unicast")),
                    ("config", .string(options.configurationPath ?? "(built-in quick start)")),
                    ("outputs", .string(names)),
                    ("record", .string(options.recordPath ?? "")),
                ]))
        if let rulesEvent { daemon.broadcast(rulesEvent) }
        daemon.watchdog = daemon.notifier.watchdogInterval.map {
            Watchdog(intervalMilliseconds: UInt64($0.clampedMilliseconds), now: SystemClock.monotonicMilliseconds())
        }
        daemon.notifier.ready(status: daemon.statusLine())
        // Start-up code (configuration, rule compiler, kernel set-up) is done with: let its pages
        // leave the resident set; the pipeline maps back what it runs (see ProgramPages).
        ProgramPages.releaseResidentCode()
        logger.info(
            multicast
                ? "swift-audit started: reading the audit multicast group (read-only, not registered)"
                : "swift-audit started: registered as the audit daemon",
            metadata: ["pid": "\(getpid())", "outputs": "\(names)"])
        return daemon
    }

    // MARK: The control loop

    /// Waits for signals and timers until told to stop; returns the exit status.
    func serve() -> ExitStatus {
        while true {
            var tick = configuration.pipeline.lossReportInterval.clampedMilliseconds
            if let watchdog { tick = min(tick, watchdog.checkMilliseconds) }
            if let signal = SignalWaiter.wait(timeoutMilliseconds: tick) {
                switch signal.action {
                case .stop:
                    return stop(signal)
                case .reload:
                    reload(signal)
                case .reopen:
                    logger.info("reopening file outputs", metadata: ["signal": "\(signal)"])
                    for output in outputs.set.snapshot() { output.worker.requestReopen() }
                }
            }
            pollKernel(force: false)
            reportLoss()
            publishMetrics()
            notifier.status(statusLine())
            pingWatchdogIfAlive()
        }
    }

    private func pingWatchdogIfAlive() {
        guard watchdog != nil else { return }
        let beats = (reader: reader.counters.heartbeat, processor: processing.control.statistics.heartbeat)
        if watchdog!.shouldPing(
            readerBeat: beats.reader, processorBeat: beats.processor, now: SystemClock.monotonicMilliseconds())
        {
            notifier.watchdog()
        }
    }

    private func pollKernel(force: Bool, registered: Bool = true) {
        guard canReadStatus else { return }
        let status = kernelMonitor.poll(
            kernel, now: SystemClock.monotonicMilliseconds(), force: force,
            ownPID: registered && !multicast ? UInt32(getpid()) : nil, logger: logger)
        if let status { reader.allowKernelPauses(status.backlogWaitTime > 0) }
    }

    /// The counters of every stage now.
    private func snapshot() -> PipelineSnapshot {
        let control = processing.control
        return PipelineSnapshot(
            reader: reader.counters, processing: control.statistics,
            ringStalls: control.ring.statistics.stallEpisodes,
            outputs: outputs.set.snapshot().map { output in
                PipelineSnapshot.OutputCounters(
                    name: output.name, writer: output.worker.counters,
                    refusedStatusLines: outputs.set.refusedStatusLines(of: output.name))
            })
    }

    private func reportLoss() {
        for event in loss.events(snapshot(), kernelLost: kernelMonitor.lostTotal, logger: logger) { broadcast(event) }
    }

    /// Leaves the counters for the metrics thread (when metrics are configured): once per turn of
    /// the control loop, so a scrape sees numbers at most `loss_report_interval` old.
    private func publishMetrics() {
        guard let metricsBoard else { return }
        let snapshot = snapshot()
        let ring = processing.control.ring.statistics
        metricsBoard.publish(
            MetricsSnapshot(
                pipeline: snapshot, loss: loss.counters(snapshot, kernelLost: kernelMonitor.lostTotal),
                kernel: kernelMonitor.lastStatus, registered: kernelMonitor.lastStatus?.pid == UInt32(getpid()),
                queueCapacities: outputConfigurations.mapValues(\.queueSize), reloadsApplied: reloadsApplied,
                reloadsFailed: reloadsFailed, ringBytes: processing.control.ring.capacity,
                ringPeakBytes: ring.peakBytes, processContext: configuration.processes.enabled,
                startTime: startTime, time: SystemClock.realtimeMilliseconds()))
    }

    private func broadcast(_ event: StatusEvent) {
        var line: [UInt8] = []
        statusEncoder.encode(event, into: &line)
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        outputs.set.broadcast(line)
    }

    private func statusLine() -> String {
        let snapshot = snapshot()
        return StatusLine.text(
            snapshot, loss: loss.counters(snapshot, kernelLost: kernelMonitor.lostTotal),
            kernelBacklog: kernelMonitor.backlog)
    }

    // MARK: Reload

    /// SIGHUP: re-read the file; apply it whole, or keep the running configuration whole.
    private func reload(_ signal: DaemonSignal) {
        guard let path = configurationPath else {
            logger.warning("SIGHUP: running on the built-in configuration; there is no file to re-read")
            return
        }
        func failed(_ error: String, sender: Bool = true) {
            var fields: [(key: String, value: StatusEvent.Value)] = [("result", "failed"), ("error", .string(error))]
            if sender { fields.append(("sender_pid", .integer(Int64(signal.senderPID)))) }
            broadcast(StatusEvent(type: "swift-audit.reload", fields: fields))
            reloadsFailed += 1
        }
        let parsed: ParsedConfiguration
        do {
            parsed = try DaemonConfiguration.load(path: path)
        } catch {
            for diagnostic in error.diagnostics { logger.error("\(diagnostic)") }
            logger.error(
                "configuration reload failed; the running configuration stays in force", metadata: ["file": "\(path)"])
            failed(error.description)
            return
        }
        let next = parsed.configuration
        let rules: DaemonRules.Prepared?
        do {
            rules = try DaemonRules.prepare(next, logger: logger)
        } catch {
            logger.error("\(error.message)")
            logger.error(
                "configuration reload failed: rule files do not check; the running configuration and rules stay in force"
            )
            failed(error.message)
            return
        }
        notifier.reloading()
        for warning in parsed.warnings { logger.warning("\(warning)") }
        for key in Self.restartOnlyChanges(from: configuration, to: next) {
            logger.warning("\(key) changed; it takes effect at the next restart, the running value stays")
        }

        // Outputs first: only when all of them started does anything else change (kernel
        // settings, rules, the output list).
        let logger = logger
        let reconciler = OutputReconciler(
            start: { configuration throws(DaemonError) in
                do { return try OutputFactory.start(configuration, logger: logger) } catch {
                    throw DaemonError("\(error)")
                }
            },
            close: OutputFactory.closeUnused)
        let plan: OutputReconciler.Plan
        do {
            plan = try reconciler.reconcile(
                running: outputs.set.snapshot(), runningConfigurations: outputConfigurations, next: next.outputs)
        } catch {
            logger.error("configuration reload: \(error); the running configuration stays in force")
            notifier.ready(status: statusLine())
            failed("\(error)", sender: false)
            return
        }
        if !multicast { KernelSetup.apply(next.audit, client: kernel, logger: logger) }
        if let rules { broadcast(DaemonRules.apply(rules, client: kernel, logger: logger)) }
        outputs.set.replace(with: plan.outputs)
        // A kept TLS output reads its certificate files again (they may have been rotated): its
        // writer builds a new context and reconnects; its queue stays.
        for output in plan.rereading { output.worker.requestReopen() }
        let hostname = next.hostname.resolve()
        processing.control.reconfigure(processorConfiguration(next, hostname: hostname, replay: false))
        if !plan.retiring.isEmpty {
            // The processing thread may still be using the old list for the batch in hand; wait
            // until it has gone round its loop (it does at least every 100 ms) before closing.
            processing.control.waitForNextBatch(timeoutMilliseconds: 2000)
            let reports = OutputWorker.closeAll(plan.retiring.map(\.worker), drainTimeout: .seconds(5))
            for (output, report) in zip(plan.retiring, reports) {
                loss.retire(output.name, report: report, worker: output.worker)
                if report.counters.droppedAtShutdown > 0 || !report.finished {
                    logger.error(
                        "a replaced output did not drain",
                        metadata: ["output": "\(output.name)", "dropped": "\(report.counters.droppedAtShutdown)"])
                }
            }
        }
        configuration = next
        outputConfigurations = Dictionary(next.outputs.map { ($0.name, $0) }) { first, _ in first }
        statusEncoder = EventEncoder(hostname: hostname, users: UserDirectory(path: "/dev/null"))
        kernelMonitor.intervalMilliseconds = UInt64(next.pipeline.statusInterval.clampedMilliseconds)
        broadcast(
            StatusEvent(
                type: "swift-audit.reload",
                fields: [
                    ("result", "ok"), ("outputs", .string(plan.outputs.map(\.name).joined(separator: ","))),
                    ("sender_pid", .integer(Int64(signal.senderPID))),
                ]))
        reloadsApplied += 1
        logger.info("configuration reloaded", metadata: ["file": "\(path)"])
        notifier.ready(status: statusLine())
        ProgramPages.releaseResidentCode()
    }

    /// Keys a reload cannot change in a running daemon (they size buffers made at start).
    static func restartOnlyChanges(from old: DaemonConfiguration, to new: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        if old.audit.socket != new.audit.socket { keys.append("socket") }
        if old.pipeline.ringSize != new.pipeline.ringSize { keys.append("ring_size") }
        if old.audit.socketBufferSize != new.audit.socketBufferSize { keys.append("socket_buffer") }
        if old.audit.napSocketBufferSize != new.audit.napSocketBufferSize { keys.append("nap_socket_buffer") }
        // The metrics thread and its socket live from start to stop.
        if old.metrics.listen != new.metrics.listen { keys.append("metrics_listen") }
        if old.metrics.textfile != new.metrics.textfile { keys.append("metrics_textfile") }
        if old.metrics.interval != new.metrics.interval { keys.append("metrics_interval") }
        return keys
    }

    // MARK: Stop

    /// SIGTERM/SIGINT: stop receiving, drain everything already received, report, close.
    private func stop(_ signal: DaemonSignal) -> ExitStatus {
        notifier.stopping(status: "stopping on \(signal)")
        logger.info("stopping", metadata: ["signal": "\(signal)"])
        stopSignal = signal
        // Reader (unregisters, reads what the kernel still sends), processing (flushes every event
        // in flight), the final report, the outputs (each writes what it holds).
        stack.stopAll()
        logger.info("stopped", metadata: ["events": "\(processing.control.statistics.events)"])
        // A requested stop exits 0 even when an output could not drain (a dead collector): the
        // loss is in the log and, for the other outputs, in the stop event's per-output counts.
        return .success
    }

    /// Runs once the reader and the processing stage have drained, before the outputs close:
    /// the last loss report, the stop event, and the rules at exit.
    private func finalReport() {
        // Only a requested stop drains the stack (a failed start stops it without draining).
        guard let signal = stopSignal else { preconditionFailure("the final report runs on a requested stop") }
        pollKernel(force: true, registered: false)
        reportLoss()
        let snapshot = snapshot()
        let ring = processing.control.ring.statistics
        let reader = snapshot.reader
        var fields: [(key: String, value: StatusEvent.Value)] = [
            ("signal", .integer(Int64(signal.number))), ("sender_pid", .integer(Int64(signal.senderPID))),
            ("sender_uid", .unsigned(UInt64(signal.senderUID))),
            ("mode", .string(multicast ? "multicast" : "unicast")),
            ("events", .integer(Int64(snapshot.processing.events))),
            // With socket = multicast: the registered daemon's counter, information only.
            ("kernel_lost", .integer(Int64(kernelMonitor.lostTotal))),
            ("ring_stalls", .integer(Int64(ring.stallEpisodes))),
            ("ring_peak_bytes", .integer(Int64(ring.peakBytes))),
            ("ring_touched_bytes", .integer(Int64(ring.touchedBytes))),
            ("datagrams_received", .integer(Int64(reader.datagrams))),
            ("datagrams_processed", .integer(Int64(snapshot.processing.datagrams))),
            ("kauditd_pauses", .integer(Int64(reader.kernelPauses))),
        ]
        if multicast {
            fields.append(("multicast_overruns", .integer(Int64(reader.overflows))))
            fields.append(("foreign_datagrams", .integer(Int64(reader.rejected))))
        }
        for output in snapshot.outputs {
            fields.append(("output_\(output.name)_peak_queued", .integer(Int64(output.writer.peakQueued))))
            let dropped = output.writer.dropped + output.writer.rejected + (output.writer.spool?.rejected ?? 0)
            fields.append(("output_\(output.name)_dropped", .integer(Int64(dropped))))
            if let spool = output.writer.spool {
                // What waits on disk for the next start (the queue drains into the spool at stop).
                fields.append(("output_\(output.name)_spool_events", .integer(Int64(spool.entries))))
                fields.append(("output_\(output.name)_spool_bytes", .integer(Int64(spool.bytes))))
                fields.append(
                    (
                        "output_\(output.name)_spool_age_s",
                        .unsigned(spool.ageSeconds(now: SystemClock.realtimeMilliseconds()))
                    ))
            }
        }
        // Filtered events are a metric, not loss: how many no output got, and per rule and output.
        let filters = snapshot.processing.filters
        if !filters.rules.isEmpty {
            fields.append(("filtered_events", .integer(Int64(snapshot.processing.filteredEvents))))
            for rule in filters.rules { fields.append(("filter_\(rule.name)_decided", .unsigned(rule.count))) }
            for output in filters.outputs { fields.append(("output_\(output.name)_filtered", .unsigned(output.count))) }
        }
        // The process table: its size and what bounded it (evictions are not loss: an evicted
        // process only loses its context).
        if configuration.processes.enabled {
            let processes = snapshot.processing.processes
            fields.append(("processes", .integer(Int64(snapshot.processing.processEntries))))
            fields.append(("processes_peak", .integer(Int64(processes.peakEntries))))
            fields.append(("processes_evicted", .integer(Int64(processes.evicted))))
            fields.append(("processes_expired", .integer(Int64(processes.expired))))
            fields.append(("processes_restored", .integer(Int64(processes.restored))))
            if let error = snapshot.processing.processStateError {
                fields.append(("process_state_error", .string(error)))
            }
        }
        broadcast(StatusEvent(type: "swift-audit.stop", fields: fields))
        // (Never in multicast mode: the configuration refuses it; the rules are the daemon's.)
        if configuration.rules.atExit == .clear, !multicast {
            do { try kernel.deleteAllRules() } catch {
                logger.error("cannot delete the rules at exit", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// A step of the stop sequence between two components: runs when the components started after
/// it have drained, before those started before it stop.
final class FinalReport: Component {
    let name = "final report"
    private let action: () -> Void
    init(_ action: @escaping () -> Void) { self.action = action }
    func start() throws(DaemonError) {}
    func drain() { action() }
}
