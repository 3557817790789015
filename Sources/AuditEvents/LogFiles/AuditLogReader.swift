import AuditNetlink
internal import AuditSystem
internal import Glibc

/// Reads auditd's audit.log (or `ausearch --raw` output) as a stream of bytes and reassembles its
/// records into events, one ``Reassembler`` per node.
///
/// ## Input
/// Bytes come in chunks of any size (``consume(_:emit:)``, or ``read(fileDescriptor:name:alreadyRead:bufferSize:emit:)``
/// for a whole file or pipe): lines are split at `\n` across chunk boundaries, and no file is ever
/// held whole. Lines are read by ``AuditLogLine/parse(_:)-(UnsafeRawBufferPointer)``: RAW or
/// ENRICHED `log_format`, with or without a `node=NAME ` prefix, `\n` or `\r\n` line ends; the
/// last line of a source needs no line end. Each input is a *source* (``beginSource(_:)`` /
/// ``endSource(emit:)``) that names the problems found in it; the sources of one call sequence are
/// one stream, so the rotated files of one log, given oldest first (`audit.log.2 audit.log.1
/// audit.log`), continue each other: an event whose records straddle two files stays whole. A
/// source whose first record is more than `endOfEventTimeout` older than what its node already
/// reached (files out of order, or unrelated logs without `node=`) is reported and starts a new
/// serial stream for its node, and so does a record whose serial is behind its node's last one
/// while its time is more than `endOfEventTimeout` later than any before, or whose serial is far
/// (2^20) behind without being older (the kernel's serials restart at boot; `ausearch` output
/// may hold no `DAEMON_START` to say so): nothing is then marked `late` for being of another
/// stream.
///
/// Lines that are not records are skipped and reported as ``AuditLogProblem``s (source, line
/// number, reason, first bytes): blank lines and `ausearch`'s `----` / `time->…` separators
/// silently (counted), anything else (a malformed
/// prefix or `audit(…)` header, a type name this build does not know, a line longer than
/// ``Configuration/maximumLineLength``) in ``problems``. A bad line never stops the reading.
///
/// ## Events
/// audit.log holds no `EOE` lines (auditd consumes them), so an event ends by the records' own
/// time: the reassembler runs on ``Reassembler/Configuration/Clock/recordTimestamps`` and closes
/// an event once the log has moved `endOfEventTimeout` (2 s, auditd's and auparse's default) past
/// its first record, or at ``finish(emit:)``. Such an event is as whole as the log has it, so it
/// is handed on with ``AuditEvent/Completion/endOfEvent``; only a node whose log *does* hold `EOE`
/// lines (a capture from an audisp plugin, as in laurel's test data) keeps the reassembler's
/// `timeout` for an event whose `EOE` never came. Eviction, late and duplicate records keep their
/// usual marks.
///
/// Records are handed to the reassembler as the payload the kernel sent, `audit(SECS.MS:SERIAL):
/// BODY`, cut out of the line in place (no copy beyond the reassembler's own). With
/// ``Configuration/keepsTranslations`` the ENRICHED part stays in the body, after its `\x1d`
/// separator: an encoder can then print auditd's own names (`AUID="alice"`) rather than this
/// machine's; without it the body is exactly the kernel's text, as a live capture has it.
///
/// auditd's own records (`DAEMON_START` … `DAEMON_ERR`, 1200–1299) carry auditd's serials, not
/// the kernel's, and would disturb the kernel's serial order: each is an event by itself, handed
/// on when read. `DAEMON_START` also starts a new serial stream for its node (the kernel's
/// serials restart with a boot), and `DAEMON_END`/`DAEMON_ABORT` first hand on the node's events
/// in flight (auditd wrote nothing after it).
///
/// ## Nodes
/// Each `node=` name (and the lines without one) gets its own reassembler: nodes number their
/// events independently, and an aggregating auditd interleaves them. Events leave as each node's
/// reassembler releases them, so the output follows the log's order across nodes and serial
/// order within a node. The log's time is shared: a node that falls silent still has its events
/// released as the other nodes' records move the clock on.
///
/// ## Cost
/// Per line: one `memchr` for the line end, one for the ENRICHED separator, the prefix and header
/// parse, and the reassembler's copy of the record. No allocation per line, none per chunk; one
/// copy of the line that straddles two chunks.
public struct AuditLogReader: Sendable {
    /// The knobs of a reader.
    public struct Configuration: Hashable, Sendable {
        /// The reassembly settings for every node. The clock is always
        /// ``Reassembler/Configuration/Clock/recordTimestamps`` (a file has no other time).
        public var reassembly: Reassembler.Configuration
        /// Keep the ENRICHED translations (`\x1d` and what follows) in each record body (true), or
        /// cut the body at the `\x1d` (false: the kernel's text, as in a live capture).
        public var keepsTranslations: Bool
        /// Lines longer than this many bytes (line end excluded) are skipped and reported. auditd
        /// writes at most about 9 KiB of record plus its translations.
        public var maximumLineLength: Int
        /// How many problems ``problems`` keeps in full (all are counted).
        public var problemLimit: Int

        /// Creates a configuration.
        public init(
            reassembly: Reassembler.Configuration = Configuration.defaultReassembly, keepsTranslations: Bool = true,
            maximumLineLength: Int = 1 << 20, problemLimit: Int = 10
        ) {
            self.reassembly = reassembly
            self.keepsTranslations = keepsTranslations
            self.maximumLineLength = maximumLineLength
            self.problemLimit = problemLimit
        }

        /// The reassembler's defaults on the records' clock, with room for every event of 2 s of a
        /// busy log (65 536 in flight): an event pushed out by the bound before its time would
        /// come out marked `eviction`.
        public static var defaultReassembly: Reassembler.Configuration {
            Reassembler.Configuration(maxInFlight: 65_536, clock: .recordTimestamps)
        }
    }

    /// A node of the log: a `node=` name, or the lines without one.
    public struct Node: Hashable, Sendable {
        /// The node's number, counted from 0 in the order the nodes first appear.
        public var index: Int
        /// The `node=` name, nil for lines without a `node=` prefix. Not necessarily valid UTF-8
        /// in the log: repaired here.
        public var name: String?

        /// Creates a node value.
        public init(index: Int, name: String?) {
            self.index = index
            self.name = name
        }
    }

    /// What the reader counted.
    public struct Statistics: Hashable, Sendable {
        /// Bytes consumed.
        public var bytes: UInt64 = 0
        /// Lines seen, blank and skipped ones included.
        public var lines: UInt64 = 0
        /// Lines read as records.
        public var records: UInt64 = 0
        /// Empty lines, lines of white space only, and `ausearch`'s `----` and `time->…` lines
        /// between events (not problems).
        public var blankLines: UInt64 = 0
        /// Lines that are not records (see ``AuditLogProblem``).
        public var skippedLines: UInt64 = 0
        /// Events handed on.
        public var events: UInt64 = 0

        /// Creates zero counters.
        public init() {}
    }

    /// The settings in force.
    public let configuration: Configuration
    /// Counters since creation.
    public private(set) var statistics = Statistics()
    /// The first ``Configuration/problemLimit`` problems, in input order.
    public private(set) var problems: [AuditLogProblem] = []
    /// Every problem found, including those not kept in ``problems``.
    public private(set) var problemCount = 0

    /// One node's state.
    private struct NodeState: Sendable {
        var node: Node
        var name: [UInt8]?
        var reassembler: Reassembler
        /// The node's log holds EOE lines: a timeout then means a missing EOE.
        var hasEndOfEventLines = false
        /// The latest record time of the node (its log's position in time).
        var latest: UInt64 = 0
        /// The serial of the node's last kernel record.
        var lastSerial: UInt32?
    }

    private var nodeStates: [NodeState] = []
    private var nodesByHash: [UInt64: [Int]] = [:]
    /// The node of the previous line (most lines have the same node as the one before).
    private var currentNode = -1

    /// The name of the current source and its line count so far.
    private var source = "<input>"
    private var lineNumber = 0
    /// No record of the current source read yet.
    private var sourceStarting = true

    /// The start of a line that the previous chunk did not end.
    private var carry: [UInt8] = []
    private var carrying = false
    /// The carried line is already longer than the limit: only its first bytes are kept.
    private var carryOverlong = false
    /// The carried line's length so far, kept bytes or not.
    private var carriedLength = 0

    /// The latest record time seen in any node, in milliseconds: the log's clock.
    private var clock: UInt64 = 0
    private var lastTick: UInt64 = 0

    /// Creates a reader with no node yet.
    public init(configuration: Configuration = Configuration()) {
        var configuration = configuration
        configuration.reassembly.clock = .recordTimestamps
        configuration.maximumLineLength = max(1, configuration.maximumLineLength)
        self.configuration = configuration
    }

    /// The nodes seen so far, in order of appearance.
    public var nodes: [Node] { nodeStates.map(\.node) }

    /// The reassembly counters of one node (gaps in its serials, late records…).
    public func reassemblyStatistics(of node: Node) -> ReassemblerStatistics {
        nodeStates.indices.contains(node.index)
            ? nodeStates[node.index].reassembler.statistics : ReassemblerStatistics()
    }

    // MARK: - Input

    /// Starts a new source: line numbers start again at 1 and problems name `name`. The stream of
    /// events continues (see "Input").
    public mutating func beginSource(_ name: String) {
        source = name
        lineNumber = 0
        sourceStarting = true
        carry.removeAll(keepingCapacity: true)
        carrying = false
        carryOverlong = false
        carriedLength = 0
    }

    /// Reads the next bytes of the current source; every event they complete goes to `emit`.
    ///
    /// - Parameters:
    ///   - bytes: any number of bytes; a line may straddle two calls.
    ///   - emit: receives each event that is due, with the node it belongs to.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer, emit: (Node, consuming AuditEvent) -> Void) {
        statistics.bytes &+= UInt64(bytes.count)
        let count = bytes.count
        var start = 0
        if carrying {
            let newline = firstIndex(of: 0x0A, in: bytes, 0..<count)
            appendToCarry(UnsafeRawBufferPointer(rebasing: bytes[0..<newline]))
            if newline == count { return }
            finishCarriedLine(emit: emit)
            start = newline + 1
        }
        while start < count {
            let newline = firstIndex(of: 0x0A, in: bytes, start..<count)
            if newline == count {
                carrying = true
                appendToCarry(UnsafeRawBufferPointer(rebasing: bytes[start..<count]))
                return
            }
            line(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), emit: emit)
            start = newline + 1
        }
    }

    /// Reads bytes held in an array; see ``consume(_:emit:)-(UnsafeRawBufferPointer,_)``.
    public mutating func consume(_ bytes: [UInt8], emit: (Node, consuming AuditEvent) -> Void) {
        bytes.withUnsafeBytes { consume($0, emit: emit) }
    }

    /// Ends the current source: a last line without a line end is read now. Events in flight stay
    /// (the next source may continue them); ``finish(emit:)`` hands them on.
    public mutating func endSource(emit: (Node, consuming AuditEvent) -> Void) {
        if carrying { finishCarriedLine(emit: emit) }
        sourceStarting = true
    }

    /// Hands on every event still in flight, node by node (the end of the input).
    public mutating func finish(emit: (Node, consuming AuditEvent) -> Void) {
        for index in nodeStates.indices {
            let node = nodeStates[index].node
            let strict = nodeStates[index].hasEndOfEventLines
            var emitted: UInt64 = 0
            nodeStates[index].reassembler.flushAll { event in
                emitted += 1
                emit(node, Self.settled(event, strict: strict))
            }
            statistics.events &+= emitted
        }
    }

    /// Reads a whole file or pipe as one source, with `read(2)` into a buffer of `bufferSize`
    /// bytes, and ends the source (not the stream: call ``finish(emit:)`` after the last one).
    ///
    /// - Parameters:
    ///   - fileDescriptor: an open descriptor, read to its end and left open.
    ///   - name: the source's name in problems and errors (a path, `-` for standard input).
    ///   - alreadyRead: bytes the caller already read from the descriptor (to tell its kind),
    ///     read before the rest.
    /// - Throws: ``AuditLogReadError`` when `read(2)` fails; what was read before is consumed.
    public mutating func read(
        fileDescriptor: Int32, name: String, alreadyRead: [UInt8] = [], bufferSize: Int = 1 << 20,
        emit: (Node, consuming AuditEvent) -> Void
    ) throws(AuditLogReadError) {
        beginSource(name)
        consume(alreadyRead, emit: emit)
        var buffer = [UInt8](repeating: 0, count: max(4096, bufferSize))
        while true {
            let count: Int
            do { count = try SystemCall.read(fileDescriptor, into: &buffer, from: 0) } catch {
                endSource(emit: emit)
                throw AuditLogReadError(source: name, errno: error.rawValue)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { consume(UnsafeRawBufferPointer(rebasing: $0[0..<count]), emit: emit) }
        }
        endSource(emit: emit)
    }

    // MARK: - Lines

    private mutating func appendToCarry(_ bytes: UnsafeRawBufferPointer) {
        carriedLength += bytes.count
        if carryOverlong { return }
        if carry.count + bytes.count > configuration.maximumLineLength {
            carryOverlong = true
            carry.append(contentsOf: bytes.prefix(max(0, AuditLogProblem.prefixLimit - carry.count)))
            return
        }
        carry.append(contentsOf: bytes)
    }

    private mutating func finishCarriedLine(emit: (Node, consuming AuditEvent) -> Void) {
        var text: [UInt8] = []
        swap(&text, &carry)
        if carryOverlong {
            lineNumber += 1
            statistics.lines &+= 1
            let length = carriedLength
            text.withUnsafeBytes { report(.overlong(limit: configuration.maximumLineLength), line: $0, length: length) }
        } else {
            text.withUnsafeBytes { line($0, emit: emit) }
        }
        text.removeAll(keepingCapacity: true)
        swap(&text, &carry)
        carrying = false
        carryOverlong = false
        carriedLength = 0
    }

    /// One line, without its `\n`.
    private mutating func line(_ line: UnsafeRawBufferPointer, emit: (Node, consuming AuditEvent) -> Void) {
        lineNumber += 1
        statistics.lines &+= 1
        if line.count > configuration.maximumLineLength {
            report(.overlong(limit: configuration.maximumLineLength), line: line)
            return
        }
        let parsed: AuditLogLine
        do { parsed = try AuditLogLine.parse(line) } catch {
            if Self.isBlank(line) || Self.isSeparator(line) {
                statistics.blankLines &+= 1
            } else {
                report(.malformed(error), line: line)
            }
            return
        }
        guard let type = parsed.type else {
            report(.unknownType(name: Array(line[parsed.typeName].prefix(AuditLogProblem.prefixLimit))), line: line)
            return
        }
        statistics.records &+= 1

        let index = nodeIndex(line, parsed.node)
        let time = parsed.id.epochMilliseconds
        let latest = nodeStates[index].latest
        if sourceStarting {
            sourceStarting = false
            if latest > 0, time &+ configuration.reassembly.endOfEventTimeout < latest {
                report(.earlierThanBefore(milliseconds: latest - time), line: line)
                restart(node: index, emit: emit)
            }
        }
        let isDaemon = (1200...1299).contains(type.rawValue)
        if !isDaemon {
            if let last = nodeStates[index].lastSerial, startsNewStream(parsed.id.serial, time, after: last, latest) {
                restart(node: index, emit: emit)
            }
            nodeStates[index].lastSerial = parsed.id.serial
        }
        if time > clock { clock = time }
        if time > latest { nodeStates[index].latest = time }
        let end =
            configuration.keepsTranslations
            ? (parsed.translations?.upperBound ?? parsed.body.upperBound) : parsed.body.upperBound

        if isDaemon {
            daemonRecord(
                type: type, parsed: parsed, body: UnsafeRawBufferPointer(rebasing: line[parsed.body.lowerBound..<end]),
                node: index, emit: emit)
        } else {
            if type == .endOfEvent { nodeStates[index].hasEndOfEventLines = true }
            let payload = UnsafeRawBufferPointer(rebasing: line[Self.payloadStart(line, parsed)..<end])
            let node = nodeStates[index].node
            let strict = nodeStates[index].hasEndOfEventLines
            var emitted: UInt64 = 0
            nodeStates[index].reassembler.push(type: type, payload: payload, now: clock) { event in
                emitted += 1
                emit(node, Self.settled(event, strict: strict))
            }
            statistics.events &+= emitted
        }
        if nodeStates.count > 1, clock >= lastTick &+ 1_000 { tickAll(emit: emit) }
    }

    /// auditd's own record: an event by itself, outside the kernel's serial order.
    private mutating func daemonRecord(
        type: AuditMessageType, parsed: AuditLogLine, body: UnsafeRawBufferPointer, node index: Int,
        emit: (Node, consuming AuditEvent) -> Void
    ) {
        let node = nodeStates[index].node
        let strict = nodeStates[index].hasEndOfEventLines
        var emitted: UInt64 = 1
        func handOn(_ event: consuming AuditEvent) {
            emitted += 1
            emit(node, Self.settled(event, strict: strict))
        }
        switch type.rawValue {
        case 1200:  // DAEMON_START: a new run of auditd, perhaps after a boot
            nodeStates[index].reassembler.restart(emit: handOn)
        case 1201, 1202:  // DAEMON_END, DAEMON_ABORT: nothing of this run comes after it
            nodeStates[index].reassembler.flushAll(emit: handOn)
        default:
            break
        }
        var event = AuditEvent(id: parsed.id, reservingCapacity: body.count, reservingRecords: 1)
        event.append(type: type, body: body)
        event.completion = .standalone
        emit(node, event)
        statistics.events &+= emitted
    }

    /// Lets every node's reassembler see the log's clock, so a node whose records stopped still
    /// releases its events (at most once per second of log time).
    private mutating func tickAll(emit: (Node, consuming AuditEvent) -> Void) {
        lastTick = clock
        let now = clock
        for index in nodeStates.indices {
            let node = nodeStates[index].node
            let strict = nodeStates[index].hasEndOfEventLines
            var emitted: UInt64 = 0
            nodeStates[index].reassembler.tick(now: now) { event in
                emitted += 1
                emit(node, Self.settled(event, strict: strict))
            }
            statistics.events &+= emitted
        }
    }

    /// Whether a record with `serial` and `time`, after a record with `last` when the node's log
    /// had reached `latest`, belongs to a new serial stream (the kernel's serials start again at
    /// boot; ausearch output need not hold the DAEMON_START that says so): its serial is behind,
    /// and either its time is later than anything before by more than the timeout (a late
    /// record of an earlier event has that event's older time), or its serial is far (2^20)
    /// behind without being older.
    private func startsNewStream(_ serial: UInt32, _ time: UInt64, after last: UInt32, _ latest: UInt64) -> Bool {
        let distance = Int32(bitPattern: serial &- last)
        guard distance < 0 else { return false }
        let timeout = configuration.reassembly.endOfEventTimeout
        return time > latest &+ timeout || (distance < -(1 << 20) && time &+ timeout >= latest)
    }

    /// Hands on a node's events in flight and starts a new serial stream for it.
    private mutating func restart(node index: Int, emit: (Node, consuming AuditEvent) -> Void) {
        let node = nodeStates[index].node
        let strict = nodeStates[index].hasEndOfEventLines
        var emitted: UInt64 = 0
        nodeStates[index].reassembler.restart { event in
            emitted += 1
            emit(node, Self.settled(event, strict: strict))
        }
        statistics.events &+= emitted
    }

    /// An event as the log has it: ended by time, not by a missing EOE (see "Events").
    private static func settled(_ event: consuming AuditEvent, strict: Bool) -> AuditEvent {
        if !strict, event.completion == .timeout || event.completion == .shutdown { event.completion = .endOfEvent }
        return event
    }

    /// Where `audit(` starts: after the type name, the spaces and `msg=` (which `AuditLogLine`
    /// has checked are there).
    private static func payloadStart(_ line: UnsafeRawBufferPointer, _ parsed: AuditLogLine) -> Int {
        var i = parsed.typeName.upperBound
        while line[i] == 0x20 { i += 1 }
        return i + 4
    }

    /// ausearch's `----` and `time->DATE` lines between events.
    private static func isSeparator(_ line: UnsafeRawBufferPointer) -> Bool {
        (line.count >= 4 && line[0] == 0x2D && line[1] == 0x2D && line[2] == 0x2D && line[3] == 0x2D)
            || (line.count >= 6 && equalBytes(line, 0..<6, "time->"))
    }

    private static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0 }
    }

    private mutating func report(_ kind: AuditLogProblem.Kind, line: UnsafeRawBufferPointer, length: Int? = nil) {
        if kind.skipsLine { statistics.skippedLines &+= 1 }
        problemCount += 1
        guard problems.count < configuration.problemLimit else { return }
        problems.append(
            AuditLogProblem(
                source: source, line: lineNumber, kind: kind, prefix: Array(line.prefix(AuditLogProblem.prefixLimit)),
                lineLength: length ?? line.count))
    }

    // MARK: - Nodes

    private mutating func nodeIndex(_ line: UnsafeRawBufferPointer, _ name: Range<Int>?) -> Int {
        if currentNode >= 0, matches(nodeStates[currentNode].name, line, name) { return currentNode }
        let hash = name.map { Self.hash(UnsafeRawBufferPointer(rebasing: line[$0])) } ?? 0
        for index in nodesByHash[hash, default: []] where matches(nodeStates[index].name, line, name) {
            currentNode = index
            return index
        }
        let index = nodeStates.count
        let bytes = name.map { Array(line[$0]) }
        nodeStates.append(
            NodeState(
                node: Node(index: index, name: bytes.map { String(decoding: $0, as: UTF8.self) }), name: bytes,
                reassembler: Reassembler(configuration: configuration.reassembly)))
        nodesByHash[hash, default: []].append(index)
        currentNode = index
        return index
    }

    private func matches(_ known: [UInt8]?, _ line: UnsafeRawBufferPointer, _ name: Range<Int>?) -> Bool {
        guard let known, let name else { return known == nil && name == nil }
        guard known.count == name.count else { return false }
        return known.withUnsafeBytes { stored in
            guard let a = stored.baseAddress, let b = line.baseAddress else { return name.isEmpty }
            return memcmp(a, b + name.lowerBound, name.count) == 0
        }
    }

    /// FNV-1a; 1 for an empty name, so that it differs from "no node" (0).
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash == 0 ? 1 : hash
    }
}

/// A line of an audit.log that is not read as a record, or a source out of order.
public struct AuditLogProblem: Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Hashable, Sendable {
        /// The line is not `[node=NAME ]type=NAME msg=audit(…): …` (garbage, a cut line, another
        /// tool's output).
        case malformed(AuditLogLineError)
        /// A type name this build does not know, so its number is unknown (a newer auditd's name;
        /// auditd writes `UNKNOWN[n]` for numbers it cannot name, and those are read).
        case unknownType(name: [UInt8])
        /// The line is longer than the limit; only its first bytes were looked at.
        case overlong(limit: Int)
        /// The first record of a source is this many milliseconds older than what its node's log
        /// already reached: rotated files given newest first, or logs of several hosts without
        /// `node=` names. The line is read, as the start of a new serial stream for its node (the
        /// events in flight are handed on first): an event split across the two files is cut.
        case earlierThanBefore(milliseconds: UInt64)

        /// Whether the line was skipped (every kind but ``earlierThanBefore(milliseconds:)``).
        public var skipsLine: Bool {
            if case .earlierThanBefore = self { return false }
            return true
        }
    }

    /// How many bytes of the line a problem keeps.
    public static let prefixLimit = 64

    /// The source's name (a path, `-`).
    public var source: String
    /// The line number in the source, from 1.
    public var line: Int
    /// What is wrong.
    public var kind: Kind
    /// The line's first bytes (at most ``prefixLimit``).
    public var prefix: [UInt8]
    /// The line's length in bytes, as far as it was read (for an overlong line: a lower bound).
    public var lineLength: Int

    /// Creates a problem value.
    public init(source: String, line: Int, kind: Kind, prefix: [UInt8], lineLength: Int) {
        self.source = source
        self.line = line
        self.kind = kind
        self.prefix = prefix
        self.lineLength = lineLength
    }

    /// `SOURCE:LINE: what is wrong: "first bytes…"`.
    public var description: String {
        let shown = "\"\(escaped(prefix))\(lineLength > prefix.count ? "…" : "")\""
        switch kind {
        case .malformed(let error): return "\(source):\(line): \(error)"
        case .unknownType(let name):
            return "\(source):\(line): record type \"\(escaped(name))\" is unknown to this build: \(shown)"
        case .overlong(let limit): return "\(source):\(line): line longer than \(limit) bytes: \(shown)"
        case .earlierThanBefore(let milliseconds):
            return
                "\(source):\(line): starts \(milliseconds / 1000) s before the records already read for its node, "
                + "so it is read as a new stream; give the rotated files of one log oldest first "
                + "(audit.log.2 audit.log.1 audit.log)"
        }
    }
}

/// A file or pipe that could not be read to its end.
public struct AuditLogReadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The source's name.
    public var source: String
    /// The `errno` of the failed `read(2)`.
    public var errno: Int32

    /// Creates an error value.
    public init(source: String, errno: Int32) {
        self.source = source
        self.errno = errno
    }

    public var description: String { "\(source): read failed: \(Errno(rawValue: errno))" }
}
