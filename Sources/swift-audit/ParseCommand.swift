import ArgumentParser
import AuditDaemon
import AuditEncoding

/// `swift-audit parse`: existing audit.log files and captures to JSON lines.
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Read audit.log files (or captures) and write their events as JSON lines to standard output.",
        discussion: """
            Inputs are told apart by their content, not their names:
              - auditd's audit.log, in RAW or ENRICHED log_format, with or without "node=NAME " \
            prefixes; also what `ausearch --raw` prints, and plain `ausearch` output (its "----" and \
            "time->" lines are passed over), but not `ausearch -i`, whose values are interpreted;
              - captures written by `swift-audit run --record` (unicast or multicast framing).
            With no FILE, or with -, standard input is read. Anything else (ausearch's interpreted \
            report, other text, binary data) is refused with a message saying what the file is.

            Records are reassembled into events by the daemon's reassembler. An audit.log has no EOE \
            lines: an event ends when the log has moved 2 s past its first record (by the records' \
            own time), or at the end of the input. Give the rotated files of one log oldest first, \
            as one command: they are read as one stream, so an event split across two files stays \
            whole. Logs of several nodes ("node=" prefixes) are reassembled per node; each event's \
            "hostname" is its node name.

            Output formats (--format):
              raw        go-audit's layout, as `swift-audit run` writes it. The record text is the \
            kernel's: the ENRICHED part of a line (after the 0x1d byte: AUID="alice" SYSCALL=openat…) \
            is left out, so a log gives the same events as a capture of the same records.
              enriched   laurel's layout: typed values, translations, argv; an ENRICHED log's own \
            translations (the user names of the machine that wrote it) are used.
              ecs        the Elastic Common Schema 8.x, normalized as Auditbeat's auditd module does \
            (event.category/type/action/outcome, user.*, process.*, file.*, the actor/action/object \
            summary in auditd.summary); see docs/ecs.md.
            uid_map names come from this machine's /etc/passwd.

            Filters (--config): the configuration's filters apply as the daemon applies them: its \
            global list (`filters = …`), or with --output NAME that output's own list and selection \
            too (`take = filtered-by:OTHER` included), so parse writes what the daemon would have \
            written there. The count of events filtered out goes to standard error.

            Lines that are not audit records (blank lines aside) are skipped; at the end the count and \
            the first ten (FILE:LINE: reason "first bytes") go to standard error, after the events.

            Exit codes: 0 done (also with skipped lines); 1 an input could not be read or is of \
            the wrong kind, standard output could not be written, or no line was an audit record.

            Examples:
              swift-audit parse /var/log/audit/audit.log.1 /var/log/audit/audit.log
              ausearch --raw -k exec --start today | swift-audit parse -
              swift-audit parse --format enriched /var/log/audit/audit.log | jq .
              swift-audit parse /tmp/incident.bin            (a capture from run --record)
              swift-audit parse --config /etc/swift-audit/swift-audit.conf --output main audit.log
            """
    )

    @Option(
        help: ArgumentHelp(
            "The JSON layout: raw (go-audit's, the default), enriched (laurel's) or ecs (Elastic Common Schema).",
            valueName: "raw|enriched|ecs"))
    var format: String = "raw"

    @Option(name: [.short, .long], help: "A configuration whose filters to apply (its global list).")
    var config: String?

    @Option(help: ArgumentHelp("With --config: apply this output's filters too.", valueName: "NAME"))
    var output: String?

    @Argument(
        help: ArgumentHelp(
            "audit.log files (rotated files of one log oldest first) or captures; - or none: standard input.",
            valueName: "FILE"))
    var files: [String] = []

    func validate() throws {
        guard EventFormat(rawValue: format) != nil else {
            throw ValidationError("--format \(format): expected raw, enriched or ecs")
        }
        if output != nil, config == nil { throw ValidationError("--output needs --config") }
    }

    func run() throws {
        var filter: OfflineFilter?
        if let config {
            let configuration = try loadConfiguration(path: config, checkOnly: false)
            do {
                filter = try OfflineFilter(configuration: configuration, output: output)
            } catch {
                writeStandardError("swift-audit parse: \(error)\n")
                throw ExitCode.configuration
            }
        }
        let status = Daemon.parse(inputs: files, format: EventFormat(rawValue: format) ?? .raw, filter: filter)
        if status != .success { throw ExitCode(status) }
    }
}
