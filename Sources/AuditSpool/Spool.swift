internal import AuditSystem
package import Glibc

/// A directory of append-only, checksummed segment files read back in order: the disk spool of
/// one network output (see `SpoolFormat` for the bytes, docs/design.md "Disk spool" for why).
///
/// One thread owns a spool (the output's worker); it is a struct holding descriptors like the
/// writers, so a copy must not be used after the original.
///
/// # Life of an entry
/// `append` writes entries to the newest segment (a new one after `segmentSize` bytes). `peek`
/// returns the oldest unconsumed entries; `consume(n)` marks the first `n` of them done, removes a
/// segment once all of it is done, and records the position (segment, offset) in the `position`
/// file (replaced atomically by rename), so that after a restart, a crash or SIGKILL nothing
/// consumed is read again and nothing unconsumed is skipped. When everything is consumed no
/// segment file remains.
///
/// # Damage
/// `open` checks every entry of every segment. The first bad entry of a segment (cut short by a
/// crash mid-write, a wrong checksum) ends that segment: the file is truncated there and the cut
/// bytes are counted, as a torn tail in the newest segment (`tornTails`, `tornBytes`) or as
/// corruption in an older one (`corruptRegions`, `corruptBytes`); reading goes on with the next
/// segment. A damaged position file makes reading start at the oldest segment (duplicates, never
/// loss), counted in `positionResets`. Damage that appears while running is handled the same way
/// by `peek`. Nothing here traps on file contents.
package struct Spool: Sendable {
    /// When data and the position reach the disk (`fdatasync`/`fsync`); the page cache survives a
    /// crash or SIGKILL of the daemon, this is about power loss and kernel crashes.
    package enum SyncPolicy: String, Sendable, Hashable, CaseIterable {
        /// Never: the kernel writes back when it likes (about 30 s).
        case never
        /// At most once per `syncInterval`, and at close.
        case interval
        /// After every append and every position change.
        case always
    }

    /// The spool's limits and durability.
    package struct Options: Sendable, Hashable {
        /// Bytes of segment files at most (headers included); an entry that would exceed it is refused.
        package var maxSize: Int
        /// A segment is closed and a new one started once it holds this many bytes.
        package var segmentSize: Int
        /// When to sync.
        package var sync: SyncPolicy
        /// The interval of `SyncPolicy.interval`.
        package var syncInterval: Duration

        /// 256 MiB, segments of `min(8 MiB, max(64 KiB, maxSize / 8))`, synced every second.
        package init(
            maxSize: Int = 256 << 20, segmentSize: Int? = nil, sync: SyncPolicy = .interval,
            syncInterval: Duration = .seconds(1)
        ) {
            self.maxSize = maxSize
            self.segmentSize = segmentSize ?? min(8 << 20, max(64 << 10, maxSize / 8))
            self.sync = sync
            self.syncInterval = syncInterval
        }
    }

    /// The spool's state and what it has seen, for `STATUS=`, loss events and tests.
    package struct Statistics: Sendable, Hashable {
        /// Entries not yet consumed.
        package var entries = 0
        /// Their bytes, headers included.
        package var bytes = 0
        /// Bytes of segment files (what counts against `maxSize`).
        package var diskBytes = 0
        /// Segment files.
        package var segments = 0
        /// When the oldest unconsumed entry was appended (milliseconds since the epoch); nil when empty.
        package var oldestTime: UInt64?
        /// Damaged tails cut off the newest segment (a crash mid-write).
        package var tornTails = 0
        /// Their bytes.
        package var tornBytes = 0
        /// Damaged regions that ended an older segment early (the rest of it was skipped).
        package var corruptRegions = 0
        /// Their bytes.
        package var corruptBytes = 0
        /// Entries known to be lost in damaged regions found while reading (at `open` their number
        /// is unknown: only bytes are counted).
        package var corruptEntries = 0
        /// Times the position file was missing for existing segments, damaged or pointed between
        /// entries, and reading restarted at the oldest entry there.
        package var positionResets = 0
        /// Entries appended since open.
        package var appended = 0
        /// Entries consumed since open.
        package var consumed = 0

        package init() {}
    }

    /// One entry returned by `peek`.
    package struct Entry: Sendable {
        /// The payload as appended.
        package var payload: [UInt8]
        /// When it was appended (milliseconds since the epoch).
        package var time: UInt64
    }

    private struct Segment: Sendable {
        var sequence: UInt64
        /// Bytes of valid entries.
        var size: Int
        /// Entries not yet consumed.
        var entries: Int
    }

    /// The directory's path (for messages).
    package let path: String
    package let options: Options
    private var directory: Int32
    /// Oldest first.
    private var segments: [Segment] = []
    /// The newest segment when this spool created it and appends to it; -1 otherwise.
    private var writeDescriptor: Int32 = -1
    private var readDescriptor: Int32 = -1
    private var readSequence: UInt64 = 0
    /// The first unconsumed byte of `segments[0]`.
    private var headOffset = 0
    private var nextSequence: UInt64 = 1
    /// Entries of the last `peek` not consumed yet (offsets in `segments[0]`).
    private var peeked: [SpoolFormat.Entry] = []
    private var buffer: [UInt8] = []
    private var dataDirty = false
    private var positionDirty = false
    private var lastSync: UInt64
    package private(set) var statistics = Statistics()

    /// Whether nothing is waiting.
    package var isEmpty: Bool { statistics.entries == 0 }

    // MARK: Opening

    /// Opens the spool in `path`, creating the directory (mode 0700) when it is missing, and
    /// checks every existing segment (see "Damage").
    ///
    /// - Throws: `SpoolError` when the directory cannot be created or opened, is a symbolic link,
    ///   is owned by another user than the daemon's, or is writable by group or others; or a
    ///   segment cannot be opened or repaired.
    package static func open(directory path: String, options: Options = Options()) throws(SpoolError) -> Spool {
        let directory = try openDirectory(path)
        var spool = Spool(path: path, options: options, directory: directory)
        do {
            try spool.recover()
        } catch {
            SystemCall.close(directory)
            throw error
        }
        return spool
    }

    private init(path: String, options: Options, directory: Int32) {
        self.path = path
        self.options = options
        self.directory = directory
        self.lastSync = SystemClock.monotonicNanoseconds()
    }

    /// Creates `path` (0700) if missing and opens it without following a symbolic link; checks its
    /// owner and mode. Returns the directory descriptor.
    package static func openDirectory(_ path: String) throws(SpoolError) -> Int32 {
        var created = false
        do {
            try SystemCall.makeDirectory(path, mode: 0o700)
            created = true
        } catch {
            if error.rawValue != EEXIST { throw SpoolError(code: .directory, path: path, errno: error.rawValue) }
        }
        let descriptor: Int32
        do {
            descriptor = try SystemCall.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        } catch {
            if error.rawValue == ELOOP || error.rawValue == ENOTDIR {
                throw SpoolError(code: .unsafeDirectory, path: path, detail: "a symbolic link or not a directory")
            }
            throw SpoolError(code: .directory, path: path, errno: error.rawValue)
        }
        let status: stat
        do {
            if created { try SystemCall.changeMode(descriptor, 0o700) }
            status = try SystemCall.status(of: descriptor)
        } catch {
            SystemCall.close(descriptor)
            throw SpoolError(code: .directory, path: path, errno: error.rawValue)
        }
        if let problem = unsafety(status) {
            SystemCall.close(descriptor)
            throw SpoolError(code: .unsafeDirectory, path: path, detail: problem)
        }
        // One spool per directory: another output or daemon appending and consuming there would
        // interleave segments and overwrite each other's position.
        let locked: Bool
        do { locked = try SystemCall.lockExclusively(descriptor) } catch {
            SystemCall.close(descriptor)
            throw SpoolError(code: .directory, path: path, errno: error.rawValue)
        }
        if !locked {
            SystemCall.close(descriptor)
            throw SpoolError(
                code: .directory, path: path, detail: "in use by another spool (another output, or another daemon)")
        }
        return descriptor
    }

    /// Why a directory with `status` is not safe for a spool, or nil: it must be owned by the
    /// daemon's user (root) and writable by nobody else.
    package static func unsafety(_ status: stat) -> String? {
        if status.st_uid != geteuid() {
            return "owned by uid \(status.st_uid), not by uid \(geteuid()) (the daemon's); chown it or choose another"
        }
        if status.st_mode & 0o022 != 0 {
            return "writable by group or others (mode \(String(status.st_mode & 0o7777, radix: 8))); chmod 0700 it"
        }
        return nil
    }

    /// Checks that `path` could be used as a spool without creating or changing anything (for
    /// `--check-config`): an existing directory must be safe and writable; a missing one needs an
    /// existing, writable parent directory. Returns the problem, or nil.
    package static func checkUsable(_ path: String) -> String? {
        do {
            let status = try SystemCall.status(ofPath: path)
            guard status.st_mode & S_IFMT == S_IFDIR else { return "\(path) exists and is not a directory" }
            if let problem = unsafety(status) { return "\(path) is \(problem)" }
            if access(path, W_OK | X_OK) != 0 { return "\(path) is not writable: \(Errno.current)" }
            return nil
        } catch {
            guard error.rawValue == ENOENT else { return "\(path): \(error)" }
        }
        var parent = path
        while parent.count > 1, parent.hasSuffix("/") { parent.removeLast() }
        if let slash = parent.lastIndex(of: "/") { parent = String(parent[..<slash]) }
        if parent.isEmpty { parent = "/" }
        guard let status = try? SystemCall.status(ofPath: parent) else {
            return "the parent directory \(parent) of \(path) does not exist (only the last component is created)"
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { return "\(parent) is not a directory" }
        if access(parent, W_OK | X_OK) != 0 { return "cannot create \(path) in \(parent): \(Errno.current)" }
        return nil
    }

    /// Reads the directory: removes consumed segments, checks and repairs the others, finds the
    /// position.
    private mutating func recover() throws(SpoolError) {
        let names: [String]
        do { names = try SystemCall.directoryEntries(directory) } catch {
            throw SpoolError(code: .read, path: path, errno: error.rawValue)
        }
        if names.contains("position.tmp") { try? SystemCall.unlink(at: directory, "position.tmp") }
        let sequences = names.compactMap(SpoolFormat.segmentSequence).sorted()
        var position: (sequence: UInt64, offset: UInt64)?
        if names.contains("position") {
            position = readPosition()
            if position == nil, !sequences.isEmpty { statistics.positionResets += 1 }
        }
        nextSequence = max(sequences.last ?? 0, position?.sequence ?? 0) + 1
        var oldestTime: UInt64?
        for (index, sequence) in sequences.enumerated() {
            let name = SpoolFormat.segmentName(sequence)
            if let position, sequence < position.sequence {
                try remove(name)  // consumed before a crash or stop, not yet removed
                continue
            }
            let descriptor: Int32
            do {
                descriptor = try SystemCall.open(at: directory, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
            } catch {
                throw SpoolError(code: .open, path: file(name), errno: error.rawValue)
            }
            defer { SystemCall.close(descriptor) }
            let bytes: [UInt8]
            do {
                let size = Int(try SystemCall.status(of: descriptor).st_size)
                bytes = try SystemCall.read(descriptor, count: size, at: 0)
            } catch {
                throw SpoolError(code: .read, path: file(name), errno: error.rawValue)
            }
            let parsed = bytes.withUnsafeBytes { SpoolFormat.parse($0) }
            if parsed.end < bytes.count {
                let damaged = bytes.count - parsed.end
                if index == sequences.count - 1 {
                    statistics.tornTails += 1
                    statistics.tornBytes += damaged
                } else {
                    statistics.corruptRegions += 1
                    statistics.corruptBytes += damaged
                }
                do { try SystemCall.truncate(descriptor, size: parsed.end) } catch {
                    throw SpoolError(code: .truncate, path: file(name), errno: error.rawValue)
                }
            }
            var first = 0
            if let position, position.sequence == sequence, position.offset > 0 {
                if position.offset >= UInt64(parsed.end) {
                    first = parsed.entries.count  // all consumed (a damaged tail cut off after it)
                } else if let index = parsed.entries.firstIndex(where: { UInt64($0.offset) == position.offset }) {
                    first = index
                } else {
                    statistics.positionResets += 1  // between entries: reread the segment (duplicates, not loss)
                }
            }
            let remaining = parsed.entries[first...]
            guard let head = remaining.first else {
                try remove(name)
                continue
            }
            if segments.isEmpty {
                headOffset = head.offset
                oldestTime = head.header.time
            }
            segments.append(Segment(sequence: sequence, size: parsed.end, entries: remaining.count))
            statistics.entries += remaining.count
            statistics.bytes += parsed.end - head.offset
            statistics.diskBytes += parsed.end
        }
        statistics.segments = segments.count
        statistics.oldestTime = oldestTime
        try writePosition(durable: options.sync != .never)
    }

    private func file(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    private func readPosition() -> (sequence: UInt64, offset: UInt64)? {
        guard let descriptor = try? SystemCall.open(at: directory, "position", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        else { return nil }
        defer { SystemCall.close(descriptor) }
        guard let bytes = try? SystemCall.read(descriptor, count: 64, at: 0) else { return nil }
        return SpoolFormat.decodePosition(bytes)
    }

    private mutating func remove(_ name: String) throws(SpoolError) {
        do { try SystemCall.unlink(at: directory, name) } catch {
            if error.rawValue != ENOENT { throw SpoolError(code: .unlink, path: file(name), errno: error.rawValue) }
        }
    }

    // MARK: Appending

    /// Appends `payloads` in order, as many as fit under `maxSize`; returns how many (the rest were
    /// refused: the spool is full). One `write(2)` per segment touched.
    ///
    /// - Throws: `SpoolError` (`completed`: the payloads appended before it) when a segment cannot
    ///   be created or written; a partly written entry is cut off again.
    package mutating func append(_ payloads: some Collection<[UInt8]>) throws(SpoolError) -> Int {
        var appended = 0
        var batched = 0
        buffer.removeAll(keepingCapacity: true)
        let time = SystemClock.realtimeMilliseconds()
        for payload in payloads {
            let size = SpoolFormat.headerSize + payload.count
            guard payload.count <= SpoolFormat.maximumPayload,
                statistics.diskBytes + buffer.count + size <= options.maxSize
            else { break }
            let current = writeDescriptor >= 0 ? segments[segments.count - 1].size + buffer.count : 0
            if writeDescriptor < 0 || (current > 0 && current + size > options.segmentSize) {
                do { try flushBuffer(entries: batched) } catch {
                    var error = error
                    error.completed = appended - batched
                    throw error
                }
                batched = 0
                do { try startSegment() } catch {
                    var error = error
                    error.completed = appended
                    throw error
                }
            }
            payload.withUnsafeBytes { SpoolFormat.appendEntry($0, time: time, to: &buffer) }
            appended += 1
            batched += 1
        }
        do { try flushBuffer(entries: batched) } catch {
            var error = error
            error.completed = appended - batched
            throw error
        }
        if appended > 0, options.sync == .always { try syncData() }
        return appended
    }

    /// Whether an entry of `payloadSize` bytes would fit now.
    package func fits(payloadSize: Int) -> Bool {
        statistics.diskBytes + SpoolFormat.headerSize + payloadSize <= options.maxSize
    }

    /// Writes `buffer` (holding `entries` entries) to the newest segment.
    private mutating func flushBuffer(entries: Int) throws(SpoolError) {
        defer { buffer.removeAll(keepingCapacity: true) }
        guard !buffer.isEmpty, writeDescriptor >= 0 else { return }
        let last = segments.count - 1
        let (written, error) = buffer.withUnsafeBytes { SystemCall.writeAll(writeDescriptor, $0) }
        if let error {
            // Never leave half an entry behind: cut back to where this batch started.
            if written > 0 { try? SystemCall.truncate(writeDescriptor, size: segments[last].size) }
            throw SpoolError(
                code: .write, path: file(SpoolFormat.segmentName(segments[last].sequence)), errno: error.rawValue)
        }
        if statistics.entries == 0 {
            statistics.oldestTime = buffer.withUnsafeBytes { raw in
                if case .success(let header) = SpoolFormat.header(raw) { header.time } else { nil }
            }
        }
        segments[last].size += buffer.count
        segments[last].entries += entries
        statistics.entries += entries
        statistics.bytes += buffer.count
        statistics.diskBytes += buffer.count
        statistics.appended += entries
        dataDirty = true
    }

    /// Closes the newest segment (synced unless `never`) and creates the next one.
    private mutating func startSegment() throws(SpoolError) {
        if writeDescriptor >= 0 {
            if options.sync != .never { try syncData() }
            SystemCall.close(writeDescriptor)
            writeDescriptor = -1
        }
        let sequence = nextSequence
        let name = SpoolFormat.segmentName(sequence)
        do {
            writeDescriptor = try SystemCall.open(
                at: directory, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
        } catch {
            throw SpoolError(code: .open, path: file(name), errno: error.rawValue)
        }
        nextSequence += 1
        if segments.isEmpty { headOffset = 0 }
        segments.append(Segment(sequence: sequence, size: 0, entries: 0))
        statistics.segments = segments.count
        if options.sync != .never {
            do { try SystemCall.synchronize(directory, dataOnly: false) } catch {
                throw SpoolError(code: .sync, path: path, errno: error.rawValue)
            }
        }
    }

    // MARK: Reading

    /// The oldest unconsumed entries: at most `maxEntries`, and about `maxBytes` (always at least
    /// one entry when any is left). Damage found here ends its segment like at `open` (counted);
    /// reading goes on with the next one. The entries stay until `consume`d.
    package mutating func peek(maxEntries: Int, maxBytes: Int = 4 << 20) throws(SpoolError) -> [Entry] {
        peeked.removeAll(keepingCapacity: true)
        while let head = segments.first, maxEntries > 0 {
            if readDescriptor < 0 || readSequence != head.sequence {
                SystemCall.close(readDescriptor)
                readDescriptor = -1
                let name = SpoolFormat.segmentName(head.sequence)
                do {
                    readDescriptor = try SystemCall.open(at: directory, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                } catch {
                    throw SpoolError(code: .open, path: file(name), errno: error.rawValue)
                }
                readSequence = head.sequence
            }
            let available = head.size - headOffset
            var bytes = try read(count: min(available, max(maxBytes, SpoolFormat.headerSize)), at: headOffset)
            var parsed = bytes.withUnsafeBytes { SpoolFormat.parse($0, limit: maxEntries) }
            if parsed.entries.isEmpty, bytes.count < available,
                parsed.damage == .truncatedPayload || parsed.damage == .truncatedHeader
            {
                // The first entry is larger than `maxBytes`: read it whole.
                let length = bytes.withUnsafeBytes { raw -> Int? in
                    if case .success(let header) = SpoolFormat.header(raw) { header.length } else { nil }
                }
                if let length, SpoolFormat.headerSize + length <= available {
                    bytes = try read(count: SpoolFormat.headerSize + length, at: headOffset)
                    parsed = bytes.withUnsafeBytes { SpoolFormat.parse($0, limit: 1) }
                }
            }
            if parsed.entries.isEmpty {
                // Damage where a valid entry must start: the rest of this segment is lost.
                statistics.corruptRegions += 1
                statistics.corruptBytes += available
                statistics.corruptEntries += head.entries
                try skipRestOfHead()
                continue
            }
            var result: [Entry] = []
            result.reserveCapacity(parsed.entries.count)
            for entry in parsed.entries {
                result.append(
                    Entry(payload: Array(bytes[entry.payloadOffset..<entry.end]), time: entry.header.time))
                var absolute = entry
                absolute.offset += headOffset
                peeked.append(absolute)
            }
            return result
        }
        return []
    }

    private func read(count: Int, at offset: Int) throws(SpoolError) -> [UInt8] {
        do { return try SystemCall.read(readDescriptor, count: count, at: offset) } catch {
            throw SpoolError(
                code: .read, path: file(SpoolFormat.segmentName(readSequence)), errno: error.rawValue)
        }
    }

    /// Marks the first `count` entries of the last `peek` consumed (removing segments that are
    /// done) and records the position; `count` beyond what was peeked is ignored.
    package mutating func consume(_ count: Int) throws(SpoolError) {
        let count = min(count, peeked.count)
        guard count > 0, !segments.isEmpty else { return }
        let end = peeked[count - 1].end
        statistics.entries -= count
        statistics.bytes -= end - headOffset
        statistics.consumed += count
        segments[0].entries -= count
        headOffset = end
        peeked.removeFirst(count)
        if headOffset >= segments[0].size {
            try retireHead()
        }
        if let next = peeked.first {
            statistics.oldestTime = next.header.time
        } else {
            statistics.oldestTime = headTime()
        }
        if statistics.entries == 0 { statistics.bytes = 0 }
        try writePosition(durable: options.sync == .always)
    }

    /// Skips the unreadable rest of the head segment (its entries are lost, counted by the caller).
    private mutating func skipRestOfHead() throws(SpoolError) {
        statistics.entries -= segments[0].entries
        statistics.bytes -= segments[0].size - headOffset
        peeked.removeAll(keepingCapacity: true)
        try retireHead()
        statistics.oldestTime = headTime()
        if segments.isEmpty {
            statistics.entries = 0
            statistics.bytes = 0
        }
        try writePosition(durable: options.sync == .always)
    }

    /// Removes the fully consumed head segment (the newest one too: an empty spool has no files).
    private mutating func retireHead() throws(SpoolError) {
        let head = segments.removeFirst()
        if readSequence == head.sequence {
            SystemCall.close(readDescriptor)
            readDescriptor = -1
        }
        if segments.isEmpty, writeDescriptor >= 0 {
            SystemCall.close(writeDescriptor)
            writeDescriptor = -1
            dataDirty = false
        }
        try remove(SpoolFormat.segmentName(head.sequence))
        statistics.diskBytes -= head.size
        statistics.segments = segments.count
        headOffset = 0
    }

    /// The append time of the first unconsumed entry, read from its header.
    private mutating func headTime() -> UInt64? {
        guard let head = segments.first else { return nil }
        let name = SpoolFormat.segmentName(head.sequence)
        guard let descriptor = try? SystemCall.open(at: directory, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) else {
            return nil
        }
        defer { SystemCall.close(descriptor) }
        guard let bytes = try? SystemCall.read(descriptor, count: SpoolFormat.headerSize, at: headOffset) else {
            return nil
        }
        return bytes.withUnsafeBytes { raw in
            if case .success(let header) = SpoolFormat.header(raw) { header.time } else { nil }
        }
    }

    // MARK: Durability

    /// Writes the position file (`position.tmp`, then rename), synced when `durable`.
    private mutating func writePosition(durable: Bool) throws(SpoolError) {
        let sequence = segments.first?.sequence ?? nextSequence
        let offset = segments.isEmpty ? 0 : headOffset
        let bytes = SpoolFormat.encodePosition(sequence: sequence, offset: UInt64(offset))
        let descriptor: Int32
        do {
            descriptor = try SystemCall.open(
                at: directory, "position.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode: 0o600)
        } catch {
            throw SpoolError(code: .open, path: file("position.tmp"), errno: error.rawValue)
        }
        let (_, writeError) = bytes.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
        var syncError: Errno?
        if writeError == nil, durable {
            do { try SystemCall.synchronize(descriptor, dataOnly: true) } catch { syncError = error }
        }
        SystemCall.close(descriptor)
        if let error = writeError ?? syncError {
            throw SpoolError(
                code: writeError != nil ? .write : .sync, path: file("position.tmp"), errno: error.rawValue)
        }
        do { try SystemCall.rename(at: directory, "position.tmp", to: "position") } catch {
            throw SpoolError(code: .rename, path: file("position.tmp"), errno: error.rawValue)
        }
        if durable {
            do { try SystemCall.synchronize(directory, dataOnly: false) } catch {
                throw SpoolError(code: .sync, path: path, errno: error.rawValue)
            }
            positionDirty = false
        } else {
            positionDirty = true
        }
    }

    private mutating func syncData() throws(SpoolError) {
        guard dataDirty, writeDescriptor >= 0 else { return }
        do { try SystemCall.synchronize(writeDescriptor, dataOnly: true) } catch {
            throw SpoolError(
                code: .sync, path: file(SpoolFormat.segmentName(segments[segments.count - 1].sequence)),
                errno: error.rawValue)
        }
        dataDirty = false
    }

    /// Syncs appended data and the position now (unless the policy is `never`).
    package mutating func sync() throws(SpoolError) {
        guard options.sync != .never else { return }
        lastSync = SystemClock.monotonicNanoseconds()
        try syncData()
        if positionDirty { try writePosition(durable: true) }
    }

    /// For `interval`: syncs when the interval has passed since the last sync.
    package mutating func syncIfDue() throws(SpoolError) {
        guard options.sync == .interval, dataDirty || positionDirty else { return }
        let now = SystemClock.monotonicNanoseconds()
        guard now &- lastSync >= options.syncInterval.spoolNanoseconds else { return }
        try sync()
    }

    /// Syncs (unless `never`) and closes the files. The spool must not be used afterwards.
    package mutating func close() throws(SpoolError) {
        defer {
            SystemCall.close(writeDescriptor)
            SystemCall.close(readDescriptor)
            SystemCall.close(directory)
            writeDescriptor = -1
            readDescriptor = -1
            directory = -1
        }
        try sync()
    }
}

extension Duration {
    /// Whole nanoseconds, 0 for negative durations, saturating.
    var spoolNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ UInt64(attoseconds / 1_000_000_000)
    }
}
