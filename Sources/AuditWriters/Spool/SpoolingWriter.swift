package import AuditEncoding
import AuditSpool
internal import AuditSystem

/// A network writer with a disk spool in front of it for when its collector is down or slow
/// (`output.NAME.spool_dir`; docs/design.md, "Disk spool").
///
/// - **Healthy**: while the spool is empty, `write` is the inner writer's `write`: no disk I/O.
/// - **Outage**: when the inner writer fails retryably (a refused or lost connection, a stall, its
///   reconnect backoff), the items it did not complete go to the spool and `write` succeeds: the
///   output's memory queue does not fill while the disk has room. Once anything is spooled, new
///   items are appended behind it, so the order never changes.
/// - **Catching up**: `write` and `performMaintenance` (every 100 ms) send the oldest spooled
///   items through the inner writer, a bounded amount per call (so close and reload stay
///   responsive), and remove from the spool exactly what the inner writer reported completed.
///   `write` catches up only when the last catch-up ended as long ago as it took (new items
///   are appended meanwhile):
///   the worker calls `write` once per `maxItemsPerWrite` items, and a 50 ms catch-up before
///   each of them capped the intake at about 1024 items per 50 ms, so at 20k events/s the memory
///   queue overflowed (counted drops) while the spool had room. Now new items are appended in
///   between, and a collector slower than the input makes the spool grow instead.
///   After a failure the next attempt waits 50 ms, doubling to 1 s, and sends one item first.
/// - **Full**: an item that does not fit under `spool_max_size` is not taken: `write` throws a
///   retryable error, the worker keeps it and retries, and its bounded queue drops new items
///   when full: counted as `writer_drop`, as without a spool.
/// - **Restart**: the spool is opened at start; what it holds goes out before any new item.
/// - **Stop**: the worker's last `write`s (its queue, drained on stop) land in the spool when the
///   collector is down; `close` syncs the data and the read position.
///
/// What a spool cannot cover: bytes the kernel had accepted on a plain TCP connection when the
/// collector died count as completed (TCP has no application acknowledgement); RELP's
/// acknowledgements cover them.
package struct SpoolingWriter<Inner: EventWriter>: EventWriter {
    /// Items sent from the spool per inner `write`.
    static var drainBatch: Int { 1024 }
    /// Time spent catching up per `write` and per maintenance call.
    static var writeBudget: UInt64 { 50_000_000 }
    static var maintenanceBudget: UInt64 { 200_000_000 }
    static var minimumProbeDelay: UInt64 { 50_000_000 }
    static var maximumProbeDelay: UInt64 { 1_000_000_000 }

    private var inner: Inner
    private var spool: Spool
    private let gauges: SpoolGauges
    private let target: String
    private var status: SpoolStatus
    private var payload: [UInt8] = []
    private var payloads: [[UInt8]] = []
    /// No catching up before this (monotonic nanoseconds): the inner writer just failed.
    private var probeAt: UInt64 = 0
    /// No catching up in `write` before this: the last catch-up (in `write` or in maintenance)
    /// ended as long ago as it took.
    private var writeCatchUpAt: UInt64 = 0
    private var probeDelay: UInt64
    /// True after a failed attempt: the next one sends a single item.
    private var probing = false
    /// Whether the current outage was reported (as a warning) yet.
    private var outageReported = false
    private let innerMaintenance: UInt64?
    private var innerMaintenanceAt: UInt64 = 0
    /// What catching up in `performMaintenance` sent, reported with the next write.
    private var pending = WriteOutcome()

    /// Opens (or creates) the spool and wraps `inner`.
    ///
    /// - Throws: a non-retryable `WriterError` (`.open`) when the spool directory is unsafe or
    ///   cannot be opened or repaired.
    package init(inner: Inner, configuration: SpoolConfiguration) throws(WriterError) {
        let target = "spool \(configuration.directory)"
        let sync: Spool.SyncPolicy =
            switch configuration.sync {
            case .never: .never
            case .interval: .interval
            case .always: .always
            }
        do {
            spool = try Spool.open(
                directory: configuration.directory, options: Spool.Options(maxSize: configuration.maxSize, sync: sync))
        } catch {
            throw WriterError(
                code: .open, target: target, errno: error.errno, detail: "\(error)", isRetryable: false)
        }
        self.inner = inner
        self.target = target
        self.gauges = SpoolGauges(directory: configuration.directory)
        self.status = SpoolStatus(directory: configuration.directory)
        self.status.maxSize = configuration.maxSize
        self.probeDelay = Self.minimumProbeDelay
        self.innerMaintenance = inner.maintenanceInterval.map { $0.clampedNanoseconds }
        publish()
    }

    package var name: String { inner.name }

    /// Catching up needs a steady tick even without new items.
    package var maintenanceInterval: Duration? { .milliseconds(100) }

    package var spoolGauges: SpoolGauges? { gauges }

    package mutating func write(_ items: ArraySlice<OutputItem>) throws(WriterError) -> WriteOutcome {
        var outcome = pending
        pending = WriteOutcome()
        if !spool.isEmpty {
            if SystemClock.monotonicNanoseconds() >= writeCatchUpAt {
                try catchUp(budget: Self.writeBudget, into: &outcome)
            }
            if !spool.isEmpty {
                try spoolItems(items, completed: 0, into: &outcome)
                return outcome
            }
        }
        do {
            let written = try inner.write(items)
            outcome.bytes += written.bytes
            outcome.rotations += written.rotations
            outcome.activity += written.activity
            outcome.warning = written.warning ?? outcome.warning
            probing = false
            outageReported = false
            return outcome
        } catch {
            outcome.bytes += error.completedBytes
            outcome.activity += error.activity
            guard error.isRetryable else {
                var error = error
                error.completedBytes = outcome.bytes
                error.activity = outcome.activity
                throw error
            }
            innerFailed()
            if !outageReported {
                outageReported = true
                var warning = error
                warning.detail = joinedDetail(warning.detail, "spooling to \(status.directory)")
                warning.completedItems = 0
                warning.completedBytes = 0
                warning.activity = WriterActivity()
                outcome.warning = warning
            }
            let done = min(max(0, error.completedItems), items.count)
            try spoolItems(items.dropFirst(done), completed: done, into: &outcome)
            return outcome
        }
    }

    /// Appends `items` to the spool; throws a retryable error when not all of them fit (or the disk
    /// failed), with `completedItems` counting the `completed` items before them.
    private mutating func spoolItems(
        _ items: ArraySlice<OutputItem>, completed: Int, into outcome: inout WriteOutcome
    ) throws(WriterError) {
        guard !items.isEmpty else { return }
        payloads.removeAll(keepingCapacity: true)
        for item in items {
            SpoolItemCodec.encode(item, into: &payload)
            payloads.append(payload)
        }
        let appended: Int
        do {
            appended = try spool.append(payloads)
        } catch {
            status.spooled += error.completed
            publish()
            throw WriterError(
                code: .write, target: target, errno: error.errno, detail: "\(error)",
                completedItems: completed + error.completed, completedBytes: outcome.bytes,
                activity: outcome.activity)
        }
        status.spooled += appended
        syncIfDue(into: &outcome)
        publish()
        if appended < items.count {
            throw WriterError(
                code: .write, target: target,
                detail:
                    "spool full (\(spool.statistics.diskBytes) bytes of spool_max_size \(status.maxSize)); "
                    + "the output's queue holds what follows",
                completedItems: completed + appended, completedBytes: outcome.bytes, activity: outcome.activity)
        }
    }

    /// Sends the oldest spooled items through the inner writer for at most `budget` nanoseconds,
    /// removing what it completed. A disk error on the spool is thrown (retryable).
    private mutating func catchUp(budget: UInt64, into outcome: inout WriteOutcome) throws(WriterError) {
        let start = SystemClock.monotonicNanoseconds()
        guard !spool.isEmpty, start >= probeAt else { return }
        var items: [OutputItem] = []
        while !spool.isEmpty, SystemClock.monotonicNanoseconds() &- start < budget {
            let entries: [Spool.Entry]
            do {
                entries = try spool.peek(maxEntries: probing ? 1 : Self.drainBatch, maxBytes: 1 << 20)
            } catch {
                publish()
                throw spoolFailure(error, outcome: outcome)
            }
            if entries.isEmpty { break }
            items.removeAll(keepingCapacity: true)
            for entry in entries {
                guard let item = SpoolItemCodec.decode(entry.payload) else { break }
                items.append(item)
            }
            if items.isEmpty {
                // An entry of another layout: it cannot be sent; dropped and counted.
                status.rejected += 1
                try consume(1, outcome: outcome)
                continue
            }
            do {
                let written = try inner.write(items[...])
                outcome.bytes += written.bytes
                outcome.activity += written.activity
                if let warning = written.warning { outcome.warning = warning }
                status.drained += items.count
                try consume(items.count, outcome: outcome)
                probing = false
                probeDelay = Self.minimumProbeDelay
            } catch {
                outcome.bytes += error.completedBytes
                outcome.activity += error.activity
                let done = min(max(0, error.completedItems), items.count)
                status.drained += done
                if error.isRetryable {
                    try consume(done, outcome: outcome)
                    innerFailed()
                    break
                }
                // Refused for good: that item is dropped from the spool and counted.
                status.rejected += 1
                outcome.warning = error
                try consume(done + 1, outcome: outcome)
            }
        }
        let end = SystemClock.monotonicNanoseconds()
        writeCatchUpAt = end &+ (end &- start)
        syncIfDue(into: &outcome)
        publish()
    }

    private mutating func consume(_ count: Int, outcome: WriteOutcome) throws(WriterError) {
        do { try spool.consume(count) } catch {
            publish()
            throw spoolFailure(error, outcome: outcome)
        }
    }

    /// The inner writer failed retryably: wait before the next attempt, and send one item first.
    private mutating func innerFailed() {
        probing = true
        probeAt = SystemClock.monotonicNanoseconds() &+ probeDelay
        probeDelay = min(Self.maximumProbeDelay, probeDelay &* 2)
    }

    private func spoolFailure(_ error: SpoolError, outcome: WriteOutcome) -> WriterError {
        WriterError(
            code: .write, target: target, errno: error.errno, detail: "\(error)", completedItems: 0,
            completedBytes: outcome.bytes, activity: outcome.activity)
    }

    private mutating func syncIfDue(into outcome: inout WriteOutcome) {
        do { try spool.syncIfDue() } catch {
            outcome.warning = WriterError(code: .sync, target: target, errno: error.errno, detail: "\(error)")
        }
    }

    private mutating func publish() {
        let statistics = spool.statistics
        status.entries = statistics.entries
        status.bytes = statistics.bytes
        status.diskBytes = statistics.diskBytes
        status.oldestTime = statistics.oldestTime
        status.tornTails = statistics.tornTails
        status.tornBytes = statistics.tornBytes
        status.corruptRegions = statistics.corruptRegions
        status.corruptBytes = statistics.corruptBytes
        status.corruptEntries = statistics.corruptEntries
        status.positionResets = statistics.positionResets
        gauges.publish(status)
    }

    /// The inner writer's flush, then the spool's data and position to disk (unless `never`).
    package mutating func flush() throws(WriterError) {
        try inner.flush()
        do { try spool.sync() } catch {
            throw WriterError(code: .sync, target: target, errno: error.errno, detail: "\(error)")
        }
    }

    package mutating func reopen() throws(WriterError) {
        try inner.reopen()
    }

    /// The inner writer's own maintenance on its interval, catching up, and the interval sync.
    package mutating func performMaintenance() throws(WriterError) {
        let now = SystemClock.monotonicNanoseconds()
        if let interval = innerMaintenance, now >= innerMaintenanceAt {
            innerMaintenanceAt = now &+ interval
            try inner.performMaintenance()
        }
        var outcome = pending
        pending = WriteOutcome()
        defer { pending = outcome }
        try catchUp(budget: Self.maintenanceBudget, into: &outcome)
        syncIfDue(into: &outcome)
        if let warning = outcome.warning {
            outcome.warning = nil
            throw warning
        }
    }

    /// Syncs and closes the spool (what it holds goes out after the next start), then closes the
    /// inner writer.
    package mutating func close() throws(WriterError) {
        var spoolError: WriterError?
        do { try spool.close() } catch {
            spoolError = WriterError(code: .close, target: target, errno: error.errno, detail: "\(error)")
        }
        publish()
        try inner.close()
        if let spoolError { throw spoolError }
    }
}

extension SpoolConfiguration {
    /// Why `directory` could not serve as a spool, without creating or changing anything (for
    /// `--check-config`); nil when it could.
    package var directoryProblem: String? { Spool.checkUsable(directory) }
}

private func joinedDetail(_ first: String, _ second: String) -> String {
    first.isEmpty ? second : "\(first); \(second)"
}
