package import AuditEncoding
package import AuditEvents
package import AuditFilters
import AuditNetlink
package import AuditProcesses
import AuditSystem
import AuditThreads
import Synchronization

/// What the processing stage needs to know; a reload hands it a new one.
package struct ProcessorConfiguration: Sendable {
    /// Reassembly knobs (timeout, in-flight bound, type window, clock).
    package var reassembler: Reassembler.Configuration
    /// `"hostname"` in every event, when set.
    package var hostname: String?
    /// Where uid names come from.
    package var userDirectoryPath: String
    /// Where gid names come from (the enriched format's `GID`, `OGID`…).
    package var groupDirectoryPath: String
    /// The process table's settings (`process_context`); nil: no table, no process context.
    package var processes: ProcessTable.Configuration?
    /// Whether the table starts from /proc: for the live daemon, not for a replay (whose events
    /// may come from another machine or another boot).
    package var seedProcessesFromProc: Bool
    /// Where the table is restored from at start and saved to at stop; nil: not kept across
    /// restarts.
    package var processStatePath: String?
    /// Records handed over per batch before the stage checks its timer and control requests.
    package var batchSize: Int
    /// How long the stage sleeps when idle before it checks timeouts and control requests.
    package var idleWakeMilliseconds: Int
    /// After a wake-up, how long the stage waits for more records before it starts (cut short
    /// when the ring is half full). 0 by default: the daemon's reader defers its wake-ups to the
    /// end of each burst (`RecordRing.publish(deferringWake:)`), so the stage already wakes once
    /// per batch; a linger would only add latency. Useful with a producer that publishes and
    /// wakes record by record.
    package var lingerMicroseconds: Int
    /// Queued items above which the stage waits for a healthy output's writer to catch up (0:
    /// never), and the longest it waits per batch; see `OutputPacer`.
    package var pacingThreshold: Int
    /// The longest the stage waits for writers per batch, in microseconds.
    package var pacingMaxWaitMicroseconds: Int
    /// Which outputs get which events: the global filter list, each output's own list and
    /// selection, matched to the outputs by name (an output the plan does not name gets what the
    /// global list keeps). Applied once per event before encoding.
    package var filters: FilterPlan

    /// A configuration with the daemon's defaults.
    package init(
        reassembler: Reassembler.Configuration = .init(), hostname: String? = nil,
        userDirectoryPath: String = "/etc/passwd", groupDirectoryPath: String = "/etc/group",
        processes: ProcessTable.Configuration? = nil, seedProcessesFromProc: Bool = false,
        processStatePath: String? = nil, batchSize: Int = 256,
        idleWakeMilliseconds: Int = 100,
        lingerMicroseconds: Int = 0, pacingThreshold: Int = 256, pacingMaxWaitMicroseconds: Int = 1000,
        filters: FilterPlan = FilterPlan()
    ) {
        self.filters = filters
        self.reassembler = reassembler
        self.hostname = hostname
        self.userDirectoryPath = userDirectoryPath
        self.groupDirectoryPath = groupDirectoryPath
        self.processes = processes
        self.seedProcessesFromProc = seedProcessesFromProc
        self.processStatePath = processStatePath
        self.batchSize = batchSize
        self.idleWakeMilliseconds = idleWakeMilliseconds
        self.lingerMicroseconds = lingerMicroseconds
        self.pacingThreshold = pacingThreshold
        self.pacingMaxWaitMicroseconds = pacingMaxWaitMicroseconds
    }
}

/// Counters of the processing stage, published for `STATUS=` and loss events.
package struct ProcessorStatistics: Hashable, Sendable {
    /// Datagrams taken from the ring.
    package var datagrams = 0
    /// Datagrams that did not decode as netlink (dropped, counted).
    package var malformedDatagrams = 0
    /// Messages that are not audit records (control replies, `AUDIT_REPLACE`).
    package var ignoredMessages = 0
    /// Events encoded and offered to the outputs.
    package var events = 0
    /// Events the filters kept from every output (not encoded; a metric, not loss). Part of
    /// `events` too, which counts every event the reassembler handed on.
    package var filteredEvents = 0
    /// The filters' counters per rule and per output (empty without filters).
    package var filters = FilterStatistics()
    /// The process table's counters and size (zero without process context).
    package var processes = ProcessTable.Statistics()
    /// Entries in the process table now.
    package var processEntries = 0
    /// The last failure to restore or save the process table's state file, if any.
    package var processStateError: String?
    /// Datagrams appended to the `--record` capture, and appends that failed.
    package var recordedDatagrams = 0
    /// Capture appends that failed (the capture is a debugging aid: events still flow).
    package var recordErrors = 0
    /// The reassembler's own counters (gaps, late, evicted, timed out…).
    package var reassembler = ReassemblerStatistics()
    /// Events in the reassembler now, waiting for their end (published once per batch).
    package var reassemblerInFlight = 0
    /// Loop turns; advances at least every `idleWakeMilliseconds` while the stage is healthy.
    package var heartbeat = 0
    /// Bytes the stage keeps allocated between events for its line buffers (each format's JSON
    /// writer and batch chunk): bounded after a huge event (see `FormatLane.releaseIfOversized`).
    package var retainedBufferBytes = 0

    package init() {}
}

/// The handle the control thread keeps on the processing stage.
package final class ProcessorControl<Queue: OutputQueue>: Sendable {
    private let finishRequested = Atomic<Bool>(false)
    private let pending = Mutex<ProcessorConfiguration?>(nil)
    private let published = Mutex(ProcessorStatistics())
    private let heartbeatCounter = Atomic<Int>(0)
    /// The outputs the stage writes to.
    package let outputs: OutputSet<Queue>
    package let ring: RecordRing

    /// A handle for a stage that reads `ring` and writes to `outputs`.
    package init(ring: RecordRing, outputs: OutputSet<Queue>) {
        self.ring = ring
        self.outputs = outputs
    }

    /// Asks the stage to finish once the ring is empty: flush the reassembler, then return.
    /// Call it after the producer (reader or replay) has stopped.
    package func finish() {
        finishRequested.store(true, ordering: .releasing)
        ring.wakeConsumer()
    }

    var isFinishing: Bool { finishRequested.load(ordering: .acquiring) }

    /// Hands the stage a new configuration, applied between two batches without losing events.
    package func reconfigure(_ configuration: ProcessorConfiguration) {
        pending.withLock { $0 = configuration }
        ring.wakeConsumer()
    }

    func takePendingConfiguration() -> ProcessorConfiguration? {
        pending.withLock { value in
            defer { value = nil }
            return value
        }
    }

    /// Waits until the processing thread has started a new batch after this call (so it no
    /// longer holds an output list taken before it), or the timeout passed.
    package func waitForNextBatch(timeoutMilliseconds: Int) {
        let start = statistics.heartbeat
        let deadline = SystemClock.monotonicMilliseconds() &+ UInt64(max(0, timeoutMilliseconds))
        ring.wakeConsumer()
        while statistics.heartbeat < start + 2, SystemClock.monotonicMilliseconds() < deadline {
            SystemClock.sleep(milliseconds: 1)
        }
    }

    /// The latest counters; any thread.
    package var statistics: ProcessorStatistics { published.withLock { $0 } }

    func publish(_ statistics: ProcessorStatistics) {
        published.withLock { $0 = statistics }
    }
}

/// Special datagrams a producer may put in the ring besides kernel records.
package enum RingMarker {
    /// "A new serial stream starts here" (the next capture file of a replay): the reassembler
    /// flushes and forgets its serial frontier. Netlink type 0 never comes from the kernel.
    package static let streamBoundary: [UInt8] = {
        var bytes: [UInt8] = [16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        bytes += Array("swift-audit:stream-boundary".utf8)
        bytes[0] = UInt8(bytes.count)
        return bytes
    }()

    static func isStreamBoundary(_ datagram: UnsafeRawBufferPointer) -> Bool {
        datagram.count == streamBoundary.count && datagram.elementsEqual(streamBoundary)
    }
}

/// The second stage: ring → reassembler → JSON → every output's queue, on one thread.
///
/// Per batch it reads the clock once, takes one snapshot of the outputs, decodes each datagram
/// in place, and lets the reassembler copy what it keeps; each finished event is encoded once, into
/// the batch's chunk for the outputs that take bytes (file, stdout) and into a line of its own for
/// those that take the event (syslog, GELF). Idle, it wakes every `idleWakeMilliseconds` (or when
/// the reassembler has something due) to run the end-of-event timer, so an event whose tail the
/// kernel dropped leaves on time even when no other record comes.
package struct EventProcessor: ~Copyable {
    private var configuration: ProcessorConfiguration
    private var capture: CaptureWriter?

    /// A stage with `configuration`; `capture` receives every datagram (`run --record`).
    package init(configuration: ProcessorConfiguration, capture: consuming CaptureWriter? = nil) {
        self.configuration = configuration
        self.capture = capture
    }

    /// Runs until `control.finish()` and an empty ring; then flushes every event in flight.
    package consuming func run<Queue>(control: ProcessorControl<Queue>) {
        let ring = control.ring
        var configuration = self.configuration
        var capture = self.capture.take()
        var reassembler = Reassembler(configuration: configuration.reassembler)
        var sink = EventSink(configuration: configuration)
        var pacer = OutputPacer(
            threshold: configuration.pacingThreshold, maxWaitMicroseconds: configuration.pacingMaxWaitMicroseconds)
        let live = configuration.reassembler.clock == .external
        while true {
            if let next = control.takePendingConfiguration() {
                if next.reassembler != configuration.reassembler { reassembler.reconfigure(next.reassembler) }
                sink.apply(next, previous: configuration)
                configuration = next
                pacer.threshold = next.pacingThreshold
                pacer.maxWaitMicroseconds = next.pacingMaxWaitMicroseconds
            }
            let finishing = control.isFinishing
            var idleWait = configuration.idleWakeMilliseconds
            if live, idleWait > 0, let due = reassembler.nextDue {
                // Wake when the reassembler has something due (an event held for a missing
                // serial, a timeout), not only at the idle period.
                let untilDue = due &- min(due, SystemClock.monotonicMilliseconds())
                idleWait = min(idleWait, Int(min(untilDue, UInt64(idleWait))) + 1)
            }
            let ready = ring.waitForData(
                timeoutMilliseconds: finishing ? 0 : idleWait,
                lingerMicroseconds: finishing ? 0 : configuration.lingerMicroseconds)
            let outputs = control.outputs.targets()
            sink.prepare(for: outputs)
            let now = live ? SystemClock.monotonicMilliseconds() : 0
            if ready {
                ring.consumeAvailable(max: configuration.batchSize) { datagram in
                    sink.statistics.datagrams += 1
                    if RingMarker.isStreamBoundary(datagram) {
                        reassembler.restart { sink.dispatch($0, to: outputs) }
                        return
                    }
                    if capture != nil { sink.record(datagram, into: &capture!) }
                    guard let (type, payload) = sink.decode(datagram) else { return }
                    reassembler.push(type: type, payload: payload, now: now) { sink.dispatch($0, to: outputs) }
                    if let spent = sink.spent.take() { reassembler.recycle(consume spent) }
                }
            }
            if live {
                reassembler.tick(now: now) { sink.dispatch($0, to: outputs) }
                sink.tickProcesses()
            }
            sink.deliverBatch(to: outputs)
            sink.statistics.retainedBufferBytes = sink.retainedBufferBytes
            // Writers were not woken event by event (see `OutputWorker.enqueue`): one wake-up
            // per batch.
            for output in outputs { output.queue.wakeIfWaiting() }
            if ready { pacer.pace(outputs) }
            sink.statistics.heartbeat += 1
            sink.statistics.reassembler = reassembler.statistics
            sink.statistics.reassemblerInFlight = reassembler.inFlightCount
            sink.publishFilterStatistics()
            sink.publishProcessStatistics()
            control.publish(sink.statistics)
            if finishing && !ring.waitForData(timeoutMilliseconds: 0) { break }
        }
        let outputs = control.outputs.targets()
        sink.prepare(for: outputs)
        reassembler.flushAll { sink.dispatch($0, to: outputs) }
        sink.deliverBatch(to: outputs)
        for output in outputs { output.queue.wakeIfWaiting() }
        sink.statistics.reassembler = reassembler.statistics
        sink.statistics.reassemblerInFlight = reassembler.inFlightCount
        sink.publishFilterStatistics()
        sink.saveProcesses()
        sink.publishProcessStatistics()
        if var writer = capture.take() {
            do { try writer.flush() } catch { sink.statistics.recordErrors += 1 }
            do { try writer.close() } catch { sink.statistics.recordErrors += 1 }
        }
        control.publish(sink.statistics)
    }
}

/// The processing stage's state besides the reassembler: the encoders and the counters. Kept
/// apart from the reassembler so that the reassembler's emit closure can mutate it.
private struct EventSink {
    /// One lane per event format, made when an output first asks for the format: each event is
    /// encoded once per format in use, not once per output.
    private var lanes: [FormatLane] = []
    private var configuration: ProcessorConfiguration
    var statistics = ProcessorStatistics()
    /// The last event dispatched, for the reassembler to reuse (`Reassembler.recycle(_:)`).
    var spent: AuditEvent?
    /// The filters in force, evaluated once per event before encoding.
    private var filter: EventFilter
    /// Per output target of the batch: its index in the filter plan, or nil (every event).
    private var planIndex: [Int?] = []
    /// The target names `planIndex` was made for.
    private var mappedNames: [String] = []
    /// Per output target, whether the current event goes to it (reused: no allocation per event).
    private var deliveries: [Bool] = []

    /// The process table, when process context is on; kept across reloads (a reload must not
    /// forget the processes started before it).
    private var processes: ProcessTable?
    /// The current event's context, filled in place (its ancestor list keeps its storage).
    private var context = ProcessContext()
    /// The lanes the current batch's outputs use (``prepare(for:)``).
    private var usedLanes: [Int] = []
    /// Whether an output of the current batch writes process context.
    private var outputsWantContext = false

    init(configuration: ProcessorConfiguration) {
        self.configuration = configuration
        filter = Self.makeFilter(configuration.filters)
        if let settings = configuration.processes {
            processes = Self.startProcessTable(settings, configuration, statistics: &statistics)
        }
    }

    /// A new table: seeded from /proc for the live daemon, then what the state file adds.
    static func startProcessTable(
        _ settings: ProcessTable.Configuration, _ configuration: ProcessorConfiguration,
        statistics: inout ProcessorStatistics
    ) -> ProcessTable {
        var table = ProcessTable(configuration: settings)
        if configuration.seedProcessesFromProc { _ = table.seedFromProc() }
        if let path = configuration.processStatePath {
            do {
                _ = try table.restoreState(from: path)
            } catch {
                // A missing file is the first start; anything else is worth saying once.
                if !error.isMissingFile { statistics.processStateError = "\(error)" }
            }
        }
        return table
    }

    /// Saves the table to the state file, when one is configured (at stop).
    mutating func saveProcesses() {
        guard let table = processes, let path = configuration.processStatePath else { return }
        do {
            try table.saveState(to: path)
        } catch {
            statistics.processStateError = "\(error)"
        }
    }

    /// Moves the table's clock when no events come, so that gone processes expire.
    mutating func tickProcesses() {
        guard processes != nil else { return }
        processes!.advance(to: SystemClock.realtimeMilliseconds())
    }

    mutating func publishProcessStatistics() {
        guard let table = processes else { return }
        statistics.processes = table.statistics
        statistics.processEntries = table.count
    }

    /// The compiled plan. The configuration checked it (rule and output names, regular
    /// expressions), so it compiles; should it not, events pass unfiltered rather than vanish.
    static func makeFilter(_ plan: FilterPlan) -> EventFilter {
        (try? EventFilter(plan)) ?? (try! EventFilter(FilterPlan()))
    }

    /// Matches this batch's targets to the plan's outputs by name (again only when they changed).
    mutating func prepare(for outputs: [OutputTarget]) {
        if deliveries.count != outputs.count {
            deliveries = [Bool](repeating: true, count: outputs.count)
        }
        // The lanes this batch's outputs use, in a fixed order, so that each event visits only
        // those; and whether any output writes process context.
        usedLanes.removeAll(keepingCapacity: true)
        for format in EventFormat.allCases {
            for includeRaw in [false, true]
            where outputs.contains(where: { $0.format == format && $0.includeRaw == includeRaw }) {
                usedLanes.append(laneIndex(format, includeRaw: includeRaw))
            }
        }
        outputsWantContext = outputs.contains { $0.format != .raw }
        guard !filter.isPassThrough else {
            for index in deliveries.indices { deliveries[index] = true }
            return
        }
        if mappedNames.count == outputs.count, zip(mappedNames, outputs).allSatisfy({ $0 == $1.name }) { return }
        mappedNames = outputs.map(\.name)
        planIndex = outputs.map { target in filter.plan.outputs.firstIndex { $0.name == target.name } }
    }

    /// Copies the filter counters into `statistics` (once per batch).
    mutating func publishFilterStatistics() {
        if !filter.isPassThrough || !statistics.filters.rules.isEmpty { statistics.filters = filter.statistics }
    }

    mutating func apply(_ next: ProcessorConfiguration, previous: ProcessorConfiguration) {
        configuration = next
        switch (next.processes, processes != nil) {
        case (let settings?, true) where settings != previous.processes:
            processes!.reconfigure(settings)
        case (let settings?, false):
            processes = Self.startProcessTable(settings, next, statistics: &statistics)
        case (nil, true):
            processes = nil
        default:
            break
        }
        if next.filters != previous.filters {
            var replacement = Self.makeFilter(next.filters)
            replacement.inheritCounters(from: filter)
            filter = replacement
            mappedNames = []
        }
        if next.hostname != previous.hostname || next.userDirectoryPath != previous.userDirectoryPath
            || next.groupDirectoryPath != previous.groupDirectoryPath
        {
            for index in lanes.indices {
                lanes[index].replaceFormatter(
                    Self.makeFormatter(lanes[index].format, includeRaw: lanes[index].includeRaw, next))
            }
        }
    }

    static func makeFormatter(
        _ format: EventFormat, includeRaw: Bool, _ configuration: ProcessorConfiguration
    ) -> EventFormatter {
        EventFormatter(
            format: format, hostname: configuration.hostname,
            users: UserDirectory(path: configuration.userDirectoryPath),
            groups: format == .raw ? nil : UserDirectory(path: configuration.groupDirectoryPath),
            ecs: EcsEventEncoder.Options(includeRaw: includeRaw))
    }

    mutating func record(_ datagram: UnsafeRawBufferPointer, into capture: inout CaptureWriter) {
        do {
            try capture.append(datagram)
            statistics.recordedDatagrams += 1
        } catch {
            statistics.recordErrors += 1
        }
    }

    /// The record inside a datagram, or nil (counted) for anything that is not an audit record.
    mutating func decode(_ datagram: UnsafeRawBufferPointer) -> (AuditMessageType, UnsafeRawBufferPointer)? {
        let message: NetlinkMessage
        do {
            message = try NetlinkMessage.decode(datagram)
        } catch {
            statistics.malformedDatagrams += 1
            return nil
        }
        guard message.type.isAuditRecord else {
            statistics.ignoredMessages += 1
            return nil
        }
        return (message.type, UnsafeRawBufferPointer(rebasing: datagram[message.payload]))
    }

    /// The lane of `format` (with `includeRaw`, an ECS option), made on first use.
    private mutating func laneIndex(_ format: EventFormat, includeRaw: Bool) -> Int {
        if let index = lanes.firstIndex(where: { $0.format == format && $0.includeRaw == includeRaw }) {
            return index
        }
        lanes.append(
            FormatLane(
                formatter: Self.makeFormatter(format, includeRaw: includeRaw, configuration), includeRaw: includeRaw))
        return lanes.count - 1
    }

    /// Encodes `event` once per format the outputs use and offers each line to the outputs of its
    /// format: at once to outputs that take the event (syslog, GELF), and into the lane's shared
    /// chunk for the others (file, stdout), which `deliverBatch(to:)` hands over when the batch
    /// ends.
    mutating func dispatch(_ event: consuming AuditEvent, to outputs: [OutputTarget]) {
        statistics.events += 1
        // Every event updates the table, filtered or not: a process's exec may be filtered out
        // while its children's events are not.
        var hasContext = false
        if processes != nil, let pid = processes!.update(with: event), outputsWantContext {
            processes!.fillContext(pid: pid, into: &context)
            hasContext = true
        }
        var any = true
        if !filter.isPassThrough {
            filter.evaluate(event)
            any = false
            for index in outputs.indices {
                let delivered = planIndex[index].map { filter.delivers(toOutput: $0) } ?? filter.globalListKeeps
                deliveries[index] = delivered
                any = any || delivered
            }
            if !any { statistics.filteredEvents += 1 }
        }
        // A handful of outputs: a scan per format costs less than keeping a set of formats in use.
        if any {
            for lane in usedLanes {
                // With filters, a lane whose outputs all skip the event does not encode it.
                if !filter.isPassThrough {
                    let format = lanes[lane].format
                    let includeRaw = lanes[lane].includeRaw
                    guard
                        outputs.indices.contains(where: {
                            outputs[$0].format == format && outputs[$0].includeRaw == includeRaw && deliveries[$0]
                        })
                    else { continue }
                }
                lanes[lane].dispatch(event, context: hasContext ? context : nil, to: outputs, deliveries: deliveries)
                if lanes[lane].isChunkFull { lanes[lane].deliverBatch(to: outputs) }
            }
        }
        spent = consume event
    }

    /// Hands the lines gathered since the last call to the outputs that take only bytes.
    mutating func deliverBatch(to outputs: [OutputTarget]) {
        for index in lanes.indices { lanes[index].deliverBatch(to: outputs) }
    }

    /// What the lanes keep allocated between batches.
    var retainedBufferBytes: Int { lanes.reduce(0) { $0 + $1.retainedBytes } }
}

/// What the processing stage keeps per event format: the formatter, the reused line buffer, and
/// the batch's chunk of lines for the byte-only outputs of that format.
private struct FormatLane {
    private(set) var formatter: EventFormatter
    var format: EventFormat { formatter.format }
    /// The ECS option the lane's outputs share.
    let includeRaw: Bool
    /// Reused for every event: it keeps its grown buffer, so encoding never zero-fills or
    /// reallocates; each line is then copied out once, into the batch's chunk.
    private var writer = JSONWriter(capacity: 64 << 10)
    /// This batch's lines for the byte-only outputs, one after another, and where each ends.
    private var batchBytes: [UInt8] = []
    private var batchEnds: [Int] = []
    /// Per line and output target (`lines × targets`, row by row), whether the line goes to the
    /// target; kept only once a line skipped a byte-only output of this format (filters), so a
    /// batch without filtering shares one list of items among all outputs as before.
    private var batchDeliveries: [Bool] = []
    private var batchIsSelective = false

    init(formatter: EventFormatter, includeRaw: Bool) {
        self.formatter = formatter
        self.includeRaw = includeRaw
    }

    mutating func replaceFormatter(_ next: EventFormatter) {
        formatter = next
    }

    /// The size of a chunk of lines: about sixty lines of a typical event.
    static let chunkBytes = 32 << 10

    /// A full chunk goes out at once: chunks stay one size, which the allocator reuses as they
    /// come back, and few lines wait for the end of a long batch.
    var isChunkFull: Bool { batchBytes.count >= Self.chunkBytes - Self.chunkBytes / 8 }

    /// What a lane's buffers may keep between events: the line writer grows to the largest
    /// line (6 bytes reserved per body byte), so one huge event (a 2 MiB argv: any user can start
    /// one under an execve rule) left ~25 MiB resident for the daemon's life. Beyond this the
    /// buffers are released and start small again.
    static let retainedLimit = 1 << 20

    /// The bytes the writer and the batch chunk hold.
    var retainedBytes: Int { writer.capacity + batchBytes.capacity }

    /// Encodes `event` and offers it to the outputs of this lane's format.
    mutating func dispatch(
        _ event: borrowing AuditEvent, context: ProcessContext?, to outputs: [OutputTarget], deliveries: [Bool]
    ) {
        writer.removeAll()
        formatter.encode(event, context: context, into: &writer)
        var plain = false
        var skipped = false
        var structured: OutputItem?
        for (index, output) in outputs.enumerated() {
            guard output.format == format, output.includeRaw == includeRaw else { continue }
            guard deliveries[index] else {
                if !output.wantsEvent { skipped = true }
                continue
            }
            if output.wantsEvent {
                if structured == nil {
                    var line: [UInt8] = []
                    writer.appendLine(to: &line)
                    structured = OutputItem(line: line, event: copy event)
                }
                output.queue.enqueue(structured!, deferringWake: true)
            } else {
                plain = true
            }
        }
        if plain {
            if batchBytes.capacity == 0 { batchBytes.reserveCapacity(Self.chunkBytes) }
            if skipped && !batchIsSelective {
                // From here on, remember per line which outputs take it (the lines so far went to all).
                batchIsSelective = true
                batchDeliveries.removeAll(keepingCapacity: true)
                for _ in 0..<(batchEnds.count * outputs.count) { batchDeliveries.append(true) }
            }
            writer.appendLine(to: &batchBytes)
            batchEnds.append(batchBytes.count)
            if batchIsSelective { batchDeliveries.append(contentsOf: deliveries) }
        }
        if writer.capacity > Self.retainedLimit { writer = JSONWriter(capacity: 64 << 10) }
    }

    /// Hands the lines gathered since the last call to every output of this lane's format that
    /// takes only bytes, one lock per output: the lines share one chunk, and the chunk is freed
    /// when the last of them has been written everywhere. The items stay in event order, and a
    /// batch is what the stage takes from the ring between two wake-ups of the writers, so this
    /// adds no latency.
    mutating func deliverBatch(to outputs: [OutputTarget]) {
        guard !batchEnds.isEmpty else { return }
        // A chunk less than half full (a quiet moment: a line or two per wake-up) is copied out at
        // its exact size and the buffer kept for the next batch; otherwise every queued line would
        // pin a mostly empty 32 KiB chunk, and a stalled output's queue would hold many times the
        // bytes it accounts for. A fuller chunk is handed over as it is, and the next line starts
        // a new one.
        let shared = batchBytes.count >= batchBytes.capacity / 2
        // (`withUnsafeBytes` forces the copy: `Array(batchBytes)` would share the buffer.)
        let chunk = shared ? batchBytes : batchBytes.withUnsafeBytes { [UInt8]($0) }
        var items: [OutputItem] = []
        items.reserveCapacity(batchEnds.count)
        var start = 0
        for end in batchEnds {
            items.append(OutputItem(sharing: chunk, range: start..<end))
            start = end
        }
        for (index, output) in outputs.enumerated()
        where !output.wantsEvent && output.format == format && output.includeRaw == includeRaw {
            if batchIsSelective {
                // Only the lines this output's filters let through, still in event order.
                let stride = outputs.count
                let subset = items.indices.filter { batchDeliveries[$0 * stride + index] }.map { items[$0] }
                if !subset.isEmpty { output.queue.enqueue(batch: subset, deferringWake: true) }
            } else {
                output.queue.enqueue(batch: items, deferringWake: true)
            }
        }
        batchIsSelective = false
        batchDeliveries.removeAll(keepingCapacity: true)
        if shared || batchBytes.capacity > Self.retainedLimit {
            batchBytes = []
        } else {
            batchBytes.removeAll(keepingCapacity: true)
        }
        batchEnds.removeAll(keepingCapacity: true)
    }
}
