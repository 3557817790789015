package import AuditEvents
internal import AuditNetlink
internal import AuditSystem

/// The processes the daemon knows of, kept by the processing stage so that an event can say who
/// started its process and in what container or unit (issue #19, "Process context").
///
/// One thread owns a table (the processing stage): it is a value with no locks, and copying one
/// would copy its storage, so it is kept in place and passed `inout`. It is filled three ways:
/// - ``seedFromProc()`` at start: every process /proc shows (five small reads each);
/// - ``update(with:)`` for each event: `execve`/`execveat` (the new program, its EXECVE arguments,
///   CWD), `fork`/`vfork`/`clone`/`clone3` (the `exit=` value is the child: it inherits its parent's
///   entry), `exit`/`exit_group` (the entry is gone), and any SYSCALL of a pid it does not know
///   (learned from the record: pid, ppid, exe, comm; container and unit from the parent);
/// - ``restoreState(from:)`` after a restart.
///
/// Bounds: at most ``Configuration/maximumEntries`` entries; a gone entry (exited, or a fork child
/// never seen in an event of its own) is removed `expiryMilliseconds` of event time after it went
/// when no other entry names it as parent; when the table is full, the oldest gone entries are
/// evicted first, then the least recently seen, a batch at a time, and counted. Arguments are cut
/// to ``Configuration/maximumArgumentBytes``.
///
/// Cost per event: one pass over the SYSCALL record's fields and one dictionary look-up; nothing
/// is allocated unless the event makes a new entry or a new program (a fork copies references to
/// the parent's arrays, not the arrays). /proc is read at seeding, for a pid whose parent is
/// unknown (its cgroup file, when `readProcForUnknown`), and at exec for the optional details.
package struct ProcessTable: Sendable {
    /// What the table keeps and for how long.
    package struct Configuration: Hashable, Sendable {
        /// The most entries kept (a fork storm evicts beyond it). About 1 KiB each with full
        /// arguments (docs/design.md, "Process context").
        package var maximumEntries = 16_384
        /// Event time a gone entry is kept for late events of its children or itself.
        package var expiryMilliseconds: UInt64 = 30_000
        /// Ancestors given above the parent.
        package var maximumAncestors = 8
        /// The bytes of arguments kept per entry (all arguments together).
        package var maximumArgumentBytes = 2048
        /// The arguments kept per entry.
        package var maximumArguments = 64
        /// Read `/proc/PID/cgroup` for a pid learned from an event whose parent the table does not
        /// know (one read; nothing when the process is already gone).
        package var readProcForUnknown = true
        /// Hash executables at exec (off by default: one read of each new binary).
        package var hashExecutables = false
        /// Executables larger than this are not hashed.
        package var hashSizeLimit: Int64 = 64 << 20
        /// Digests kept, by (device, inode, size, mtime).
        package var hashCacheEntries = 4096
        /// Read the selected environment variables of a new program from /proc (off by default).
        package var captureEnvironment = false
        /// The variables kept when `captureEnvironment` is on.
        package var environmentVariables: [String] = ["LD_PRELOAD", "LD_LIBRARY_PATH"]
        /// The bytes of `/proc/PID/environ` read to find them.
        package var environmentReadLimit = 65_536
        /// Look for the script an interpreter runs (off by default: one `stat` per interpreter exec).
        package var detectScripts = false

        package init() {}
    }

    /// What the table did, for the daemon's status events.
    package struct Statistics: Hashable, Sendable {
        /// Entries read from /proc by ``seedFromProc()``.
        package var seeded = 0
        /// Fork/clone results applied (a child whose own event came first is kept as it is, and counted).
        package var forks = 0
        /// Successful execs applied.
        package var execs = 0
        /// Entries learned from a SYSCALL of an unknown pid.
        package var learned = 0
        /// Entries marked gone by exit/exit_group.
        package var exits = 0
        /// Gone entries removed after the expiry time.
        package var expired = 0
        /// Entries removed because the table was full.
        package var evicted = 0
        /// Entries replaced because their pid was reused by a new process.
        package var replaced = 0
        /// Entries restored from a state file.
        package var restored = 0
        /// The most entries held at once.
        package var peakEntries = 0
        /// /proc files read after seeding (cgroup of an unknown pid, environ, exe links).
        package var procReads = 0
        /// Executables hashed (cache misses that succeeded), cache hits, and failures.
        package var hashesComputed = 0
        package var hashCacheHits = 0
        package var hashFailures = 0
        /// Environment reads that found the program (or not: gone, or another program by then).
        package var environmentReads = 0
        package var environmentMisses = 0
        /// Scripts found.
        package var scripts = 0

        package init() {}
    }

    /// Why an entry is gone (or not).
    enum State: UInt8, Sendable {
        /// Running as far as the table knows.
        case live
        /// Seen exiting.
        case exited
        /// A fork/clone child not yet seen in an event of its own (a clone3 child may be a thread).
        case provisional
    }

    struct Entry: Sendable {
        var info: ProcessInfo
        /// Unique per entry: a child's link to its parent holds it, so a reused parent pid is
        /// never mistaken for the parent.
        var generation: UInt32
        /// The parent entry's generation when the link was made (0: not bound, follow any).
        var parentGeneration: UInt32 = 0
        /// Entries that name this one as their bound parent: while any remain, it does not expire.
        var children: Int32 = 0
        /// Event time of the last event that showed it.
        var lastSeen: UInt64
        /// Event time it went (exited, or made provisional).
        var goneSince: UInt64 = 0
        var state: State = .live
    }

    package private(set) var configuration: Configuration
    package private(set) var statistics = Statistics()
    private(set) var entries: [Int32: Entry] = [:]
    /// The table's clock: the latest event time seen (milliseconds since the epoch).
    package private(set) var clock: UInt64 = 0
    private var nextSweep: UInt64 = 0
    private var nextGeneration: UInt32 = 1
    private var classifier = SyscallClassifier()
    private var hasher: ExecutableHasher
    private var environmentNames: [[UInt8]]
    /// Reused by eviction and expiry passes.
    private var rankScratch: [(key: UInt64, pid: Int32)] = []
    private var pidScratch: [Int32] = []

    package init(configuration: Configuration = Configuration()) {
        self.configuration = Self.sanitized(configuration)
        self.hasher = ExecutableHasher(capacity: configuration.hashCacheEntries)
        self.environmentNames = configuration.environmentVariables.map { Array($0.utf8) }
    }

    private static func sanitized(_ configuration: Configuration) -> Configuration {
        var result = configuration
        result.maximumEntries = max(16, result.maximumEntries)
        result.maximumAncestors = max(0, result.maximumAncestors)
        result.maximumArgumentBytes = max(0, result.maximumArgumentBytes)
        result.maximumArguments = max(0, result.maximumArguments)
        return result
    }

    /// Applies a new configuration (on SIGHUP) and keeps every entry: a reload must not forget the
    /// processes started before it. A smaller maximum evicts down to it; arguments already kept
    /// stay as they were.
    package mutating func reconfigure(_ newConfiguration: Configuration) {
        configuration = Self.sanitized(newConfiguration)
        hasher.resize(configuration.hashCacheEntries)
        environmentNames = configuration.environmentVariables.map { Array($0.utf8) }
        while entries.count > configuration.maximumEntries { evictBatch(protecting: 0) }
    }

    /// The number of entries.
    package var count: Int { entries.count }

    /// The entry of `pid`, or nil.
    package func process(_ pid: Int32) -> ProcessInfo? { entries[pid]?.info }

    /// True when `pid` is known and has not exited (a provisional fork child counts as running).
    package func isRunning(_ pid: Int32) -> Bool {
        guard let entry = entries[pid] else { return false }
        return entry.state != .exited
    }

    /// An upper estimate of the heap the table holds: the dictionary's slots and, per entry, every
    /// array and string it references (a malloc header and 16-byte rounding each), counting arrays
    /// that forks share once per entry. What the fork-storm test bounds and docs/design.md quotes.
    package var estimatedMemoryBytes: Int {
        func heap(_ count: Int) -> Int { 32 + (count + 15) & ~15 }
        func bytes(_ array: [UInt8]?) -> Int { array.map { heap($0.count) } ?? 0 }
        func string(_ text: String?) -> Int { text.map { $0.utf8.count > 15 ? heap($0.utf8.count) : 0 } ?? 0 }
        var total = entries.capacity * (MemoryLayout<Int32>.stride + MemoryLayout<Entry>.stride) + entries.capacity / 8
        for entry in entries.values {
            let info = entry.info
            total += bytes(info.executable) + bytes(info.command) + bytes(info.workingDirectory)
            total += bytes(info.executableSHA256) + bytes(info.script)
            total += string(info.containerID) + string(info.podUID) + string(info.unit)
            if let arguments = info.arguments {
                total += heap(arguments.count * MemoryLayout<[UInt8]>.stride)
                for argument in arguments { total += bytes(argument) }
            }
            if let environment = info.environment {
                total += heap(environment.count * MemoryLayout<EnvironmentVariable>.stride)
                for variable in environment { total += bytes(variable.name) + bytes(variable.value) }
            }
        }
        return total
    }

    // MARK: Seeding

    /// Reads every process in /proc into the table (entries already there are replaced: /proc is
    /// the truth for a pid that is running now). Returns how many were read. Costs five small
    /// reads per process (`stat`, `exe`, `cwd`, `cmdline`, `cgroup`): measured in docs/design.md.
    @discardableResult
    package mutating func seedFromProc(now: UInt64 = SystemClock.realtimeMilliseconds()) -> Int {
        advanceClock(to: now)
        var read = 0
        for pid in ProcFS.processIDs() {
            guard
                let (info, _) = ProcReader.read(
                    pid: pid, maximumArgumentBytes: configuration.maximumArgumentBytes,
                    maximumArguments: configuration.maximumArguments)
            else { continue }
            insert(info, state: .live, protecting: pid)
            read += 1
        }
        statistics.seeded += read
        rebindParents()
        return read
    }

    /// Adds or replaces an entry as running (tests, and callers that know a process some other way).
    package mutating func seed(_ info: ProcessInfo, now: UInt64? = nil) {
        if let now { advanceClock(to: now) }
        insert(info, state: .live, protecting: info.pid)
        bind(info.pid)
    }

    // MARK: Events

    /// Updates the table from one event and returns the pid the event is about (its SYSCALL
    /// record's `pid=`), or nil for an event without a SYSCALL record (which changes nothing).
    @discardableResult
    package mutating func update(with event: AuditEvent) -> Int32? {
        guard let span = event.spans.first(where: { $0.type == .syscall }) else { return nil }
        return event.storage.withUnsafeBytes { storage -> Int32? in
            let facts = SyscallFacts(storage, range: span.range)
            guard let pid = facts.pid, pid > 0 else { return nil }
            advanceClock(to: event.id.epochMilliseconds)
            let kind: SyscallKind
            if let arch = facts.arch, let number = facts.syscall {
                kind = classifier.kind(arch: arch, number: number)
            } else {
                kind = .other
            }
            touch(pid, facts, storage, event.id, kind: kind)
            switch kind {
            case .exec where facts.success != false:
                applyExec(pid, facts, event, storage)
            case .fork, .clone, .clone3:
                guard facts.success == true, let exit = facts.exit, exit > 0, let child = Int32(exactly: exit) else {
                    break
                }
                let flags = Self.cloneFlags(kind: kind, arch: facts.arch, facts)
                // A thread is no process: its events carry the thread group's pid.
                if flags & Self.cloneThread != 0 { break }
                addChild(child, of: pid, siblingOfCaller: flags & Self.cloneParent != 0, event.id)
            case .exit, .exitGroup:
                if var entry = entries[pid], entry.state != .exited {
                    entry.state = .exited
                    entry.goneSince = clock
                    entries[pid] = entry
                    statistics.exits += 1
                }
            default:
                break
            }
            sweepIfDue()
            return pid
        }
    }

    /// Moves the table's clock (event time, milliseconds since the epoch) and removes what has
    /// expired by then: for a pipeline tick when no events come.
    package mutating func advance(to now: UInt64) {
        advanceClock(to: now)
        sweepIfDue()
    }

    static let cloneThread: UInt64 = 0x10000
    static let cloneParent: UInt64 = 0x8000

    /// `clone`'s flags: its first argument, the second on s390 (whose clone takes the stack
    /// first). `clone3` passes a pointer, so its flags are unknown (0): its child is provisional
    /// until an event of its own shows it is a process.
    static func cloneFlags(kind: SyscallKind, arch: UInt32?, _ facts: SyscallFacts) -> UInt64 {
        guard kind == .clone else { return 0 }
        let s390 = arch == 0x8000_0016 || arch == 0x16
        return (s390 ? facts.a1 : facts.a0) ?? 0
    }

    /// Makes sure the acting process has an entry, and refreshes it.
    private mutating func touch(
        _ pid: Int32, _ facts: SyscallFacts, _ storage: UnsafeRawBufferPointer, _ id: AuditEventID, kind: SyscallKind
    ) {
        // In place through the index: copying an entry out and back retains and releases each of
        // its arrays, on every event (callgrind: a tenth of the table's cost per event).
        guard let index = entries.index(forKey: pid) else {
            learn(pid, facts, storage, id)
            return
        }
        entries.values[index].lastSeen = clock
        entries.values[index].info.eventID = id
        let state = entries.values[index].state
        if state == .provisional || (state == .exited && kind != .exit && kind != .exitGroup) {
            // An event of its own: a process after all (a clone3 child), or one the table
            // took for gone (a thread's exit).
            entries.values[index].state = .live
        }
        // A different executable outside an exec: the pid was reused, or an exec was missed.
        guard kind != .exec, let exe = facts.exe,
            !EventText.equals(exe, in: storage, entries.values[index].info.executable)
        else { return }
        let knownParent = entries.values[index].info.ppid
        let parentGone = knownParent.map { entries[$0]?.state == .exited } ?? true
        if let ppid = facts.ppid, ppid != knownParent, !parentGone {
            learn(pid, facts, storage, id)
            statistics.replaced += 1
            return
        }
        entries.values[index].info.executable = EventText.bytes(exe, in: storage)
        entries.values[index].info.command = facts.comm.flatMap { EventText.bytes($0, in: storage) }
        entries.values[index].info.arguments = nil
        entries.values[index].info.argumentsTruncated = false
        entries.values[index].info.script = nil
        entries.values[index].info.executableSHA256 = nil
        entries.values[index].info.environment = nil
    }

    /// A new entry from a SYSCALL record: what it says, and the container and unit of the parent
    /// (or of /proc, when the parent is unknown and the process still runs).
    private mutating func learn(
        _ pid: Int32, _ facts: SyscallFacts, _ storage: UnsafeRawBufferPointer, _ id: AuditEventID
    ) {
        var info = ProcessInfo(pid: pid, ppid: facts.ppid, eventID: id)
        info.executable = facts.exe.flatMap { EventText.bytes($0, in: storage) }
        info.command = facts.comm.flatMap { EventText.bytes($0, in: storage) }
        if let ppid = facts.ppid, let parent = entries[ppid] {
            info.adopt(parent.info.cgroupIdentity)
        } else if configuration.readProcForUnknown {
            // The parent started after the table was seeded and showed in no event yet (a shell
            // started after the daemon): read it from /proc once, so this process and its
            // siblings get their parent, as laurel does. Its cgroup is the child's too.
            statistics.procReads += 1
            if let ppid = facts.ppid, ppid > 0,
                let (parent, _) = ProcReader.read(
                    pid: ppid, maximumArgumentBytes: configuration.maximumArgumentBytes,
                    maximumArguments: configuration.maximumArguments)
            {
                seed(parent)
                info.adopt(parent.cgroupIdentity)
            } else if let identity = ProcReader.cgroupIdentity(pid: pid) {
                info.adopt(identity)
            }
        }
        insert(info, state: .live, protecting: pid)
        bind(pid)
        statistics.learned += 1
    }

    /// A fork/clone child: its parent's entry under the child's pid, provisional until an event
    /// of its own. A child whose own event came first (the kernel gives an event its serial when
    /// its first record is queued, so a fast child's execve can precede the parent's clone) is
    /// kept as it is.
    private mutating func addChild(_ child: Int32, of pid: Int32, siblingOfCaller: Bool, _ id: AuditEventID) {
        guard let parent = entries[pid] else { return }
        let ppid = siblingOfCaller ? parent.info.ppid : pid
        statistics.forks += 1
        // Kept also when already gone: the kernel numbers the clone's event at the clone's exit,
        // so a short program's exec and exit_group can both come first, and the clone must not
        // put the parent's copy back in its place. An earlier process of the same parent under a
        // reused pid went before the pids cycled, well over `cloneRace` before this clone.
        if let existing = entries[child], existing.info.ppid == ppid,
            existing.state != .exited || Self.isRecent(existing.info.eventID, before: id)
        {
            if existing.parentGeneration == 0 { bind(child) }
            return
        }
        var info = parent.info
        info.pid = child
        info.ppid = ppid
        info.eventID = id
        if entries[child] != nil { statistics.replaced += 1 }
        insert(info, state: .provisional, protecting: pid)
        bind(child)
    }

    /// How far before a clone's event the child's own last event may lie and still be taken for
    /// that child (its events came first) rather than for an earlier process under the same pid.
    static let cloneRace: UInt64 = 1000

    /// Whether `event` lies at most ``cloneRace`` before (or after) `clone`.
    static func isRecent(_ event: AuditEventID?, before clone: AuditEventID) -> Bool {
        guard let event else { return false }
        return event.epochMilliseconds &+ cloneRace >= clone.epochMilliseconds
    }

    /// A successful exec: the new program's executable, command, arguments and working directory,
    /// and the optional details.
    private mutating func applyExec(
        _ pid: Int32, _ facts: SyscallFacts, _ event: AuditEvent, _ storage: UnsafeRawBufferPointer
    ) {
        // Moved out (one owner of the arrays while they are rebuilt), not copied.
        guard var entry = entries.removeValue(forKey: pid) else { return }
        entry.state = .live
        entry.info.executable = facts.exe.flatMap { EventText.bytes($0, in: storage) }
        entry.info.command = facts.comm.flatMap { EventText.bytes($0, in: storage) }
        let arguments = ExecArguments(
            event, in: storage, maximumBytes: configuration.maximumArgumentBytes,
            maximumCount: configuration.maximumArguments)
        entry.info.arguments = arguments.arguments.isEmpty && !arguments.truncated ? nil : arguments.arguments
        entry.info.argumentsTruncated = arguments.truncated
        var pathName: [UInt8]?
        for span in event.spans {
            if span.type == .cwd, let field = EventText.field("cwd", in: storage, range: span.range) {
                entry.info.workingDirectory = EventText.bytes(field, in: storage)
            } else if span.type == .path, pathName == nil, configuration.detectScripts,
                let item = EventText.field("item", in: storage, range: span.range),
                EventText.decimal(UnsafeRawBufferPointer(rebasing: storage[item.value])) == 0,
                let name = EventText.field("name", in: storage, range: span.range)
            {
                pathName = EventText.bytes(name, in: storage)
            }
        }
        entry.info.executableSHA256 = nil
        entry.info.environment = nil
        entry.info.script = nil
        let root: [UInt8]? = entry.info.containerID != nil ? Array("/proc/\(pid)/root".utf8) : nil
        if configuration.hashExecutables, let executable = entry.info.executable {
            entry.info.executableSHA256 = hash(executable, root: root)
        }
        if configuration.captureEnvironment {
            statistics.procReads += 2
            entry.info.environment = ExecDetails.environment(
                pid: pid, executable: entry.info.executable, names: environmentNames,
                limit: configuration.environmentReadLimit)
            if entry.info.environment == nil {
                statistics.environmentMisses += 1
            } else {
                statistics.environmentReads += 1
            }
        }
        if configuration.detectScripts, let arguments = entry.info.arguments {
            entry.info.script = ExecDetails.script(
                executable: entry.info.executable, arguments: arguments, cwd: entry.info.workingDirectory, root: root,
                pathRecord: pathName)
            if entry.info.script != nil { statistics.scripts += 1 }
        }
        entries[pid] = entry
        statistics.execs += 1
    }

    /// The executable's digest: under the container's root first for a containerized process (its
    /// path means that file system), then the path as the host sees it.
    private mutating func hash(_ executable: [UInt8], root: [UInt8]?) -> [UInt8]? {
        let candidates = root.map { [$0 + executable, executable] } ?? [executable]
        for path in candidates {
            let hitsBefore = hasher.hits
            do {
                let digest = try hasher.digest(path: path, sizeLimit: configuration.hashSizeLimit)
                if hasher.hits > hitsBefore { statistics.hashCacheHits += 1 } else { statistics.hashesComputed += 1 }
                return digest
            } catch {
                continue
            }
        }
        statistics.hashFailures += 1
        return nil
    }

    // MARK: Context

    /// The context of `pid`: its entry, its parent's, and the ancestors above (at most
    /// ``Configuration/maximumAncestors``). Empty when the pid is unknown.
    package func context(pid: Int32) -> ProcessContext {
        var context = ProcessContext()
        fillContext(pid: pid, into: &context)
        return context
    }

    /// Like ``context(pid:)``, into an existing value whose ancestor array is reused (the
    /// per-event path allocates nothing this way).
    package func fillContext(pid: Int32, into context: inout ProcessContext) {
        context.process = nil
        context.parent = nil
        context.ancestors.removeAll(keepingCapacity: true)
        guard let index = entries.index(forKey: pid) else { return }
        context.process = entries.values[index].info
        guard let parent = parentIndex(of: index) else { return }
        context.parent = entries.values[parent].info
        var current = parent
        while context.ancestors.count < configuration.maximumAncestors, let next = parentIndex(of: current),
            entries.values[next].info.pid != pid
        {
            context.ancestors.append(entries.values[next].info)
            current = next
        }
    }

    /// Like ``parent(of:)``, by position, without copying entries.
    private func parentIndex(of index: Dictionary<Int32, Entry>.Index) -> Dictionary<Int32, Entry>.Index? {
        guard let ppid = entries.values[index].info.ppid, ppid > 0, ppid != entries.values[index].info.pid,
            let parent = entries.index(forKey: ppid)
        else { return nil }
        let generation = entries.values[index].parentGeneration
        guard generation == 0 || entries.values[parent].generation == generation else { return nil }
        return parent
    }

    /// The context of an event's process (its SYSCALL record's `pid=`, or the first `pid=` of its
    /// first record). For a pid the table does not know, the process is what the record says and
    /// the parent and ancestors come from the table by the record's `ppid=`: a process that exited
    /// before its event was processed still gets its parent. Nil for an event naming no pid.
    package func context(for event: AuditEvent) -> ProcessContext? {
        event.storage.withUnsafeBytes { storage -> ProcessContext? in
            let span = event.spans.first(where: { $0.type == .syscall }) ?? event.spans.first
            guard let span else { return nil }
            let facts = SyscallFacts(storage, range: span.range)
            guard let pid = facts.pid, pid > 0 else { return nil }
            if entries[pid] != nil { return context(pid: pid) }
            var info = ProcessInfo(pid: pid, ppid: facts.ppid, eventID: event.id)
            info.executable = facts.exe.flatMap { EventText.bytes($0, in: storage) }
            info.command = facts.comm.flatMap { EventText.bytes($0, in: storage) }
            var context = ProcessContext()
            if let ppid = facts.ppid, let parent = entries[ppid] {
                info.adopt(parent.info.cgroupIdentity)
                context.process = info
                context.parent = parent.info
                var current = parent
                while context.ancestors.count < configuration.maximumAncestors, let next = self.parent(of: current),
                    next.info.pid != pid
                {
                    context.ancestors.append(next.info)
                    current = next
                }
            } else {
                context.process = info
            }
            return context
        }
    }

    private func parent(of entry: Entry) -> Entry? {
        guard let ppid = entry.info.ppid, ppid > 0, ppid != entry.info.pid, let parent = entries[ppid] else {
            return nil
        }
        guard entry.parentGeneration == 0 || parent.generation == entry.parentGeneration else { return nil }
        return parent
    }

    // MARK: Storage

    private mutating func advanceClock(to time: UInt64) {
        if time > clock { clock = time }
        if nextSweep == 0 { nextSweep = clock &+ sweepInterval }
    }

    private var sweepInterval: UInt64 { max(1, min(1000, configuration.expiryMilliseconds / 2)) }

    /// Inserts or replaces the entry of `info.pid`, making room first; `protecting` is never
    /// evicted (the process the event is about).
    private mutating func insert(_ info: ProcessInfo, state: State, protecting: Int32) {
        if let old = entries.removeValue(forKey: info.pid) {
            unbind(old)
        } else if entries.count >= configuration.maximumEntries {
            evictBatch(protecting: protecting)
        }
        var entry = Entry(info: info, generation: nextGeneration, lastSeen: clock)
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        entry.state = state
        entry.goneSince = state == .live ? 0 : clock
        entries[info.pid] = entry
        if entries.count > statistics.peakEntries { statistics.peakEntries = entries.count }
    }

    /// Links `pid` to its parent's current entry and counts it there.
    private mutating func bind(_ pid: Int32) {
        guard let index = entries.index(forKey: pid), entries.values[index].parentGeneration == 0,
            let ppid = entries.values[index].info.ppid, ppid != pid,
            let parentIndex = entries.index(forKey: ppid)
        else { return }
        entries.values[index].parentGeneration = entries.values[parentIndex].generation
        entries.values[parentIndex].children += 1
    }

    /// Undoes ``bind(_:)`` for a removed entry.
    private mutating func unbind(_ entry: Entry) {
        guard entry.parentGeneration != 0, let ppid = entry.info.ppid, let parentIndex = entries.index(forKey: ppid),
            entries.values[parentIndex].generation == entry.parentGeneration
        else { return }
        entries.values[parentIndex].children -= 1
    }

    /// Recomputes every parent link (after seeding or restoring many entries at once).
    private mutating func rebindParents() {
        var counts: [Int32: Int32] = [:]
        for pid in Array(entries.keys) {
            guard var entry = entries[pid] else { continue }
            entry.parentGeneration = 0
            if let ppid = entry.info.ppid, ppid != pid, let parent = entries[ppid] {
                entry.parentGeneration = parent.generation
                counts[ppid, default: 0] += 1
            }
            entry.children = 0
            entries[pid] = entry
        }
        for (pid, count) in counts { entries[pid]?.children = count }
    }

    private mutating func sweepIfDue() {
        guard clock >= nextSweep else { return }
        nextSweep = clock &+ sweepInterval
        expire()
    }

    /// Removes the gone entries whose expiry time has passed and that no entry names as parent.
    private mutating func expire() {
        pidScratch.removeAll(keepingCapacity: true)
        let expiry = configuration.expiryMilliseconds
        for (pid, entry) in entries
        where entry.state != .live && entry.children <= 0 && clock &- entry.goneSince >= expiry {
            pidScratch.append(pid)
        }
        for pid in pidScratch {
            guard let entry = entries.removeValue(forKey: pid) else { continue }
            unbind(entry)
            statistics.expired += 1
        }
    }

    /// Removes a batch (1/32 of the maximum) of entries: gone ones first, oldest first, then the
    /// least recently seen. Pid 1 and `protecting` stay.
    private mutating func evictBatch(protecting: Int32) {
        let batch = max(1, configuration.maximumEntries / 32)
        rankScratch.removeAll(keepingCapacity: true)
        for (pid, entry) in entries where pid != protecting && pid != 1 {
            // Gone entries rank below every live one; within each group, older first.
            let key = entry.state == .live ? (1 << 63) | entry.lastSeen : entry.goneSince & ~(1 << 63)
            rankScratch.append((key, pid))
        }
        let take = min(batch, rankScratch.count)
        guard take > 0 else { return }
        // The `take` smallest keys to the front (a partial selection, no full sort).
        Self.selectSmallest(take, in: &rankScratch)
        for index in 0..<take {
            guard let entry = entries.removeValue(forKey: rankScratch[index].pid) else { continue }
            unbind(entry)
            statistics.evicted += 1
        }
    }

    /// Moves the `count` smallest keys to the front of `items` (quickselect, in place).
    static func selectSmallest(_ count: Int, in items: inout [(key: UInt64, pid: Int32)]) {
        var low = 0
        var high = items.count - 1
        let target = count - 1
        while low < high {
            let pivot = items[(low + high) / 2].key
            var i = low
            var j = high
            while i <= j {
                while items[i].key < pivot { i += 1 }
                while items[j].key > pivot { j -= 1 }
                if i <= j {
                    items.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j {
                high = j
            } else if target >= i {
                low = i
            } else {
                return
            }
        }
    }

    // MARK: State file support

    /// Every entry with its bookkeeping, for the state file.
    func snapshotEntries() -> [Entry] { Array(entries.values) }

    /// Adds restored entries for pids the table does not hold (what /proc seeded is fresher).
    /// Entries that were running at stop and are not in the table now are gone: they are marked
    /// exited at the current clock, so they still serve late events for the expiry time.
    mutating func restore(_ restored: [Entry], clock savedClock: UInt64) -> Int {
        advanceClock(to: savedClock)
        var added = 0
        for var entry in restored where entries[entry.info.pid] == nil {
            if entries.count >= configuration.maximumEntries { evictBatch(protecting: 0) }
            if entry.state == .live, statistics.seeded > 0 {
                entry.state = .exited
                entry.goneSince = clock
            }
            // A file is not trusted with more than the caps allow.
            if let arguments = entry.info.arguments {
                var joined: [UInt8] = []
                for argument in arguments {
                    joined.append(contentsOf: argument)
                    joined.append(0)
                }
                let (capped, cut) = ProcReader.splitArguments(
                    joined, maximumBytes: configuration.maximumArgumentBytes,
                    maximumCount: configuration.maximumArguments)
                if cut {
                    entry.info.arguments = capped
                    entry.info.argumentsTruncated = true
                }
            }
            entry.generation = nextGeneration
            nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
            entry.parentGeneration = 0
            entry.children = 0
            entries[entry.info.pid] = entry
            added += 1
        }
        rebindParents()
        statistics.restored += added
        if entries.count > statistics.peakEntries { statistics.peakEntries = entries.count }
        return added
    }

    /// Test support: the state of an entry.
    func state(of pid: Int32) -> State? { entries[pid]?.state }
}
