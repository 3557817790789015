package import AuditConfig
import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditPipeline
import AuditSystem
import AuditThreads
import AuditWriters
package import Logging

extension Daemon {
    /// Feeds recorded datagrams (the `[u32 length][datagram]` captures of `run --record` and of
    /// the test corpus) through the same components as a live run: outputs, ring, reassembler,
    /// encoder.
    ///
    /// Timeouts run on the records' own timestamps, so a replay emits what the live daemon would
    /// have emitted, however fast it goes. Each capture file is a serial stream of its own.
    /// Returns `.success`, or `.failure` when a capture could not be read to its end (what was
    /// read still went out) or an output dropped events.
    package static func replay(
        configuration: DaemonConfiguration, captures: [String], logger: Logger
    ) -> ExitStatus {
        let outputs = OutputStage(configuration.outputs, drainTimeout: .seconds(30), logger: logger)
        let processing = ProcessingStage(
            ringBytes: configuration.pipeline.ringSize,
            configuration: processorConfiguration(
                configuration, hostname: configuration.hostname.resolve(), replay: true),
            outputs: outputs.set, capturePath: nil)
        var stack = ComponentStack()
        do {
            try stack.start(outputs)
            try stack.start(processing)
        } catch {
            logger.critical("\(error.message)")
            return error.status
        }
        let ring = processing.control.ring
        var status = ExitStatus.success
        // Frames too short for a netlink header: dropped here, as the live reader drops them.
        var shortFrames = 0
        var totalFrames = 0
        for (index, path) in captures.enumerated() {
            if index > 0 { push(RingMarker.streamBoundary[...], into: ring) }
            let input: OfflineInput
            switch OfflineInput.open(path) {
            case .success(let opened): input = opened
            case .failure(let error):
                logger.error("capture cannot be read", metadata: ["file": "\(path)", "error": "\(error.message)"])
                status = .failure
                continue
            }
            switch input.kind {
            case .capture(let multicast):
                if multicast {
                    logger.notice(
                        """
                        multicast capture (copies from AUDIT_NLGRP_READLOG): replayed as one; it may hold records \
                        the registered daemon never got
                        """,
                        metadata: ["file": "\(path)"])
                }
            case .empty:
                break
            case .auditLog:
                logger.error(
                    "not a capture but an audit.log: read it with `swift-audit parse \(path)`",
                    metadata: ["file": "\(path)"])
                status = .failure
                continue
            case .ausearchReport, .otherText, .binary:
                logger.error(
                    "not a capture (the [u32 length][datagram] frames of `swift-audit run --record`): found \(input.kind)",
                    metadata: ["file": "\(path)"])
                status = .failure
                continue
            }
            do {
                var reader = CaptureReader(
                    fileDescriptor: input.descriptor, name: path, alreadyRead: input.prefix, bufferSize: 1 << 16)
                var frames = 0
                while let frame = try reader.next() {
                    frames += 1
                    guard frame.datagram.count >= NetlinkMessage.headerSize else {
                        shortFrames += 1
                        continue
                    }
                    push(frame.datagram, into: ring)
                    if frames % 16 == 0 {
                        ring.publish()
                        waitForRoom(in: outputs.set, capacity: configuration.outputs)
                    }
                }
                ring.publish()
                totalFrames += frames
                logger.info("capture replayed", metadata: ["file": "\(path)", "datagrams": "\(frames)"])
            } catch {
                ring.publish()
                logger.error(
                    "capture could not be read to its end; what was read was replayed",
                    metadata: ["file": "\(path)", "error": "\(error)"])
                status = .failure
            }
        }
        stack.stopAll()
        // What an output could not write at the end is logged by the stage; what its queue
        // dropped during the replay (a failing output not waited for) is logged here.
        for (name, report) in outputs.closeReports {
            let counters = report.counters
            if counters.dropped > 0 {
                logger.error(
                    "output dropped events", metadata: ["output": "\(name)", "dropped": "\(counters.dropped)"])
            }
            if !report.finished || counters.dropped + counters.droppedAtShutdown > 0 { status = .failure }
        }
        let statistics = processing.control.statistics
        let malformed = MalformedInput(
            shortFrames: shortFrames, undecodable: statistics.malformedDatagrams,
            endOfEvents: Int(statistics.reassembler.malformedEndOfEvents))
        if malformed.total > 0 {
            logger.warning(
                """
                \(malformed.total) malformed datagram(s) dropped (\(malformed.shortFrames) shorter than a netlink \
                header, \(malformed.undecodable) undecodable, \(malformed.endOfEvents) EOE without a valid header); \
                the live daemon counts these as malformed_datagram loss
                """)
            // Warn and go on, as the live daemon does; but a capture of nothing else is not one.
            if malformed.total >= totalFrames, totalFrames > 0 { status = .failure }
        }
        let truncated = statistics.reassembler.truncatedEvents
        if truncated > 0 {
            logger.warning(
                """
                \(truncated) event(s) cut at max_event_records/max_event_bytes \
                (\(statistics.reassembler.truncatedRecords) records dropped; written with "flags":["truncated"])
                """)
        }
        logger.info(
            "replay finished",
            metadata: [
                "events": "\(statistics.events)", "datagrams": "\(statistics.datagrams)",
                "gaps": "\(statistics.reassembler.lostSerials)",
            ])
        return status
    }

    /// A replay has no kernel to protect, so it waits for slow outputs instead of letting their
    /// queues overflow: nothing read from a capture is dropped while the outputs work. An output
    /// that keeps failing (a closed pipe, a full disk) is not waited for beyond `patience`: its
    /// drops are counted and the replay exits 1.
    private static func waitForRoom(
        in outputs: DaemonOutputSet, capacity configurations: [OutputConfiguration], patience: Duration = .seconds(5)
    ) {
        let limits = Dictionary(configurations.map { ($0.name, $0.queueSize) }) { first, _ in first }
        for output in outputs.snapshot() {
            let limit = max(1, (limits[output.name] ?? 8192) - 64)
            var failingSince: UInt64?
            while true {
                let counters = output.worker.counters
                guard counters.queued > limit else { break }
                if counters.isFailing {
                    let now = SystemClock.monotonicMilliseconds()
                    if let since = failingSince {
                        if now &- since > UInt64(patience.components.seconds) * 1000 { break }
                    } else {
                        failingSince = now
                    }
                } else {
                    failingSince = nil
                }
                SystemClock.sleep(milliseconds: 1)
            }
        }
    }

    private static func push(_ datagram: ArraySlice<UInt8>, into ring: RecordRing) {
        datagram.withUnsafeBytes { ring.append($0) }
    }
}

/// What `replay` dropped as malformed, by where it was caught.
struct MalformedInput {
    /// Frames shorter than a netlink header (16 bytes), dropped before the ring.
    var shortFrames: Int
    /// Datagrams the processing stage could not decode as netlink.
    var undecodable: Int
    /// `EOE` records whose header did not parse, dropped by the reassembler.
    var endOfEvents: Int

    var total: Int { shortFrames + undecodable + endOfEvents }
}
