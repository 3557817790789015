package import AuditConfig
import AuditEvents
import AuditPipeline
import AuditThreads
import AuditWriters
package import Logging

extension Daemon {
    /// Feeds recorded datagrams (the `[u32 length][datagram]` captures of `run --record` and of
    /// the test corpus) through the same ring, reassembler, encoder and outputs as a live run.
    ///
    /// Timeouts run on the records' own timestamps, so a replay emits what the live daemon would
    /// have emitted, however fast it goes. Each capture file is a serial stream of its own.
    /// Returns 0, or 1 when a capture could not be read to its end (what was read still went out).
    package static func replay(
        configuration: DaemonConfiguration, captures: [String], logger: Logger
    ) -> Int32 {
        let started: [Output]
        do { started = try OutputFactory.start(configuration.outputs, logger: logger) } catch {
            logger.critical("\(error)")
            return DaemonExitCode.failure
        }
        let ring: RecordRing
        do { ring = try RecordRing(capacity: ringCapacity(forBytes: configuration.pipeline.ringSize)) } catch {
            logger.critical("cannot allocate the ring: \(error)")
            RunningDaemon.closeAll(started)
            return DaemonExitCode.failure
        }
        let outputs = OutputSet(started)
        let control = ProcessorControl(ring: ring, outputs: outputs)
        let processing = processorConfiguration(configuration, replay: true)
        let thread: SystemThread
        do {
            thread = try SystemThread.spawn(name: "audit-process") {
                EventProcessor(configuration: processing).run(control: control)
            }
        } catch {
            logger.critical("\(error)")
            RunningDaemon.closeAll(started)
            return DaemonExitCode.failure
        }
        var exitCode = DaemonExitCode.success
        for (index, path) in captures.enumerated() {
            if index > 0 { push(RingMarker.streamBoundary[...], into: ring) }
            do {
                var reader = try CaptureReader(path: path)
                var frames = 0
                while let frame = try reader.next() {
                    push(frame.datagram, into: ring)
                    frames += 1
                    if frames % 16 == 0 {
                        ring.publish()
                        waitForRoom(in: outputs, capacity: configuration.outputs)
                    }
                }
                ring.publish()
                logger.info("capture replayed", metadata: ["file": "\(path)", "datagrams": "\(frames)"])
            } catch {
                ring.publish()
                logger.error(
                    "capture could not be read to its end; what was read was replayed",
                    metadata: ["file": "\(path)", "error": "\(error)"])
                exitCode = DaemonExitCode.failure
            }
        }
        control.finish()
        thread.join()
        for output in outputs.snapshot() {
            let report = output.worker.close(drainTimeout: .seconds(30))
            if !report.finished || report.counters.dropped + report.counters.droppedAtShutdown > 0 {
                logger.error(
                    "output dropped events",
                    metadata: [
                        "output": "\(output.name)",
                        "dropped": "\(report.counters.dropped + report.counters.droppedAtShutdown)",
                    ])
                exitCode = DaemonExitCode.failure
            }
        }
        let statistics = control.statistics
        logger.info(
            "replay finished",
            metadata: [
                "events": "\(statistics.events)", "datagrams": "\(statistics.datagrams)",
                "gaps": "\(statistics.reassembler.lostSerials)",
            ])
        return exitCode
    }

    /// A replay has no kernel to protect, so it waits for slow outputs instead of letting their
    /// queues overflow: nothing read from a capture is dropped while the outputs work. An output
    /// that keeps failing (a closed pipe, a full disk) is not waited for beyond `patience`: its
    /// drops are counted and the replay exits 1.
    private static func waitForRoom(
        in outputs: OutputSet, capacity configurations: [OutputConfiguration], patience: Duration = .seconds(5)
    ) {
        let limits = Dictionary(configurations.map { ($0.name, $0.queueSize) }) { first, _ in first }
        for output in outputs.snapshot() {
            let limit = max(1, (limits[output.name] ?? 8192) - 64)
            var failingSince: UInt64?
            while true {
                let counters = output.worker.counters
                guard counters.queued > limit else { break }
                if counters.isFailing {
                    let now = MonotonicClock.milliseconds()
                    if let since = failingSince {
                        if now &- since > UInt64(patience.components.seconds) * 1000 { break }
                    } else {
                        failingSince = now
                    }
                } else {
                    failingSince = nil
                }
                MonotonicClock.sleep(milliseconds: 1)
            }
        }
    }

    private static func push(_ datagram: ArraySlice<UInt8>, into ring: RecordRing) {
        datagram.withUnsafeBytes { ring.append($0) }
    }
}
