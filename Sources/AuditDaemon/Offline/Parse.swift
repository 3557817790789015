package import AuditConfig
package import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditSystem
internal import Glibc

extension Daemon {
    /// `swift-audit parse`: audit.log files and captures to JSON lines on standard output.
    ///
    /// Each input is told by its content (``AuditFileKind``):
    /// - audit.log text (RAW or ENRICHED, `node=` or not; `ausearch --raw` output) goes through one
    ///   ``AuditLogReader`` for all of them, so the rotated files of one log continue each other;
    /// - a capture (`run --record`, multicast or unicast framing) is reassembled as `replay` does,
    ///   a serial stream of its own;
    /// - anything else is refused with a message saying what was expected and what was found.
    ///
    /// Lines that are not records are skipped; the first few are listed on standard error at the
    /// end with the count. Returns `.failure` when an input could not be read (or was of the wrong
    /// kind), standard output could not be written, or lines were given and none was a record.
    package static func parse(inputs: [String], format: EventFormat, filter: OfflineFilter? = nil) -> ExitStatus {
        var output = EventLines(format: format, filter: filter)
        var reader = AuditLogReader(
            configuration: AuditLogReader.Configuration(keepsTranslations: format == .enriched))
        var failed = false
        var malformedDatagrams = 0
        for name in inputs.isEmpty ? ["-"] : inputs {
            let input: OfflineInput
            switch OfflineInput.open(name) {
            case .success(let opened): input = opened
            case .failure(let error):
                report(error.message)
                failed = true
                continue
            }
            switch input.kind {
            case .empty:
                continue
            case .auditLog:
                do {
                    try reader.read(
                        fileDescriptor: input.descriptor, name: name, alreadyRead: input.prefix, bufferSize: 1 << 20
                    ) { node, event in output.write(event, node: node) }
                } catch {
                    report("\(error)")
                    failed = true
                }
            case .capture:
                // What the logs read so far still hold goes first: the capture is another stream.
                reader.finish { node, event in output.write(event, node: node) }
                switch captureEvents(input, into: &output) {
                case .success(let malformed): malformedDatagrams += malformed
                case .failure(let error):
                    report("\(error); what came before was written")
                    failed = true
                }
            case .ausearchReport, .otherText, .binary:
                report(
                    "\(name): expected an audit.log (lines \"type=… msg=audit(…): …\", as auditd writes them or "
                        + "ausearch --raw prints them) or a capture (swift-audit run --record); found \(input.kind)")
                failed = true
            }
            if output.failure != nil { break }
        }
        reader.finish { node, event in output.write(event, node: node) }
        output.flush()
        if let error = output.failure {
            report("cannot write standard output: \(error)")
            return .failure
        }

        for problem in reader.problems { report("\(problem)") }
        let statistics = reader.statistics
        if statistics.skippedLines > 0 {
            let listed = reader.problems.filter(\.kind.skipsLine).count
            report(
                "\(statistics.skippedLines) of \(statistics.lines) lines skipped: not audit records"
                    + (UInt64(listed) < statistics.skippedLines ? " (the first \(listed) are listed above)" : ""))
            if statistics.records == 0 { failed = true }
        }
        if let filter = output.filter, output.filteredEvents > 0 {
            report("\(output.filteredEvents) events filtered out by \(filter.description)")
        }
        if malformedDatagrams > 0 {
            report("\(malformedDatagrams) datagrams of the captures were not netlink messages")
        }
        return failed ? .failure : .success
    }

    /// Reassembles one capture as `replay` does (each capture a serial stream of its own, the
    /// records' own time) and writes its events. Returns the count of datagrams that did not
    /// decode as netlink messages.
    private static func captureEvents(_ input: OfflineInput, into output: inout EventLines) -> Result<Int, CaptureError>
    {
        var capture = CaptureReader(
            fileDescriptor: input.descriptor, name: input.name, alreadyRead: input.prefix, bufferSize: 1 << 20)
        var configuration = Reassembler.Configuration.configurationDefaults
        configuration.clock = .recordTimestamps
        var reassembler = Reassembler(configuration: configuration)
        var malformed = 0
        var failure: CaptureError?
        while true {
            let frame: CaptureReader.Frame
            do {
                guard let next = try capture.next() else { break }
                frame = next
            } catch {
                failure = error
                break
            }
            frame.datagram.withUnsafeBytes { datagram in
                guard let message = try? NetlinkMessage.decode(datagram) else {
                    malformed += 1
                    return
                }
                guard message.type.isAuditRecord else { return }
                reassembler.push(
                    type: message.type, payload: UnsafeRawBufferPointer(rebasing: datagram[message.payload]), now: 0
                ) { output.write($0, node: nil) }
            }
            if output.failure != nil { break }
        }
        reassembler.flushAll { output.write($0, node: nil) }
        if let failure { return .failure(failure) }
        return .success(malformed)
    }

    private static func report(_ message: String) {
        writeStandardError("swift-audit parse: \(message)\n")
    }
}

/// Events as JSON lines on standard output, gathered into large writes: one formatter per node
/// (its `node=` name is the event's `hostname`), one buffer, one `write(2)` per megabyte.
struct EventLines {
    let format: EventFormat
    /// The configuration's filters, when `--config` was given.
    private(set) var filter: OfflineFilter?
    /// Events the filters kept out.
    private(set) var filteredEvents = 0
    /// By node index; nil until the node's first event.
    private var formatters: [EventFormatter?] = []
    /// For captures and logs without `node=`: no host name.
    private var plain: EventFormatter?
    private var writer = JSONWriter(capacity: 2 << 20)
    private let descriptor: Int32
    /// The first write error; nothing more is written after it.
    private(set) var failure: Errno?

    /// The buffered bytes written once they reach this.
    static let flushThreshold = 1 << 20

    init(format: EventFormat, filter: OfflineFilter? = nil, descriptor: Int32 = 1) {
        self.format = format
        self.filter = filter
        self.descriptor = descriptor
    }

    mutating func write(_ event: borrowing AuditEvent, node: AuditLogReader.Node?) {
        guard failure == nil else { return }
        if filter != nil, !filter!.keeps(event) {
            filteredEvents += 1
            return
        }
        if let node, let name = node.name {
            if formatters.count <= node.index {
                formatters.append(contentsOf: repeatElement(nil, count: node.index + 1 - formatters.count))
            }
            if formatters[node.index] == nil { formatters[node.index] = makeFormatter(hostname: name) }
            formatters[node.index]!.encode(event, into: &writer)
        } else {
            if plain == nil { plain = makeFormatter(hostname: nil) }
            plain!.encode(event, into: &writer)
        }
        if writer.count >= Self.flushThreshold { flush() }
    }

    mutating func flush() {
        guard failure == nil, writer.count > 0 else { return }
        let fd = descriptor
        let (_, error) = writer.bytes.withUnsafeBytes { SystemCall.writeAll(fd, $0) }
        failure = error
        writer.removeAll()
    }

    private func makeFormatter(hostname: String?) -> EventFormatter {
        EventFormatter(format: format, hostname: hostname, users: UserDirectory(path: "/etc/passwd"))
    }
}

/// The filters `parse` applies: a configuration's global list, and, for `--output NAME`, that
/// output's own list and selection (so `parse` gives what the daemon would have written there).
package struct OfflineFilter: CustomStringConvertible {
    private var filter: EventFilter
    /// The output's index in the plan, or nil for the global list alone.
    private let output: Int?
    private let outputName: String?

    /// The filters of `configuration`; `output` names one of its outputs, or nil.
    package init(configuration: DaemonConfiguration, output: String?) throws(DaemonError) {
        let plan = configuration.filterPlan
        do {
            filter = try EventFilter(plan)
        } catch {
            throw DaemonError("the configuration's filters: \(error)")
        }
        if let output {
            guard let index = plan.outputs.firstIndex(where: { $0.name == output }) else {
                throw DaemonError(
                    "--output \(output): the configuration has no such output (it has: "
                        + plan.outputs.map(\.name).joined(separator: ", ") + ")")
            }
            self.output = index
        } else {
            self.output = nil
        }
        outputName = output
    }

    /// Whether `event` passes.
    mutating func keeps(_ event: borrowing AuditEvent) -> Bool {
        filter.evaluate(copy event)
        if let output { return filter.delivers(toOutput: output) }
        return filter.globalListKeeps
    }

    package var description: String {
        outputName.map { "the filters of output \"\($0)\"" } ?? "the global filters"
    }
}
