/// A rules file for the loader: the name errors refer to, and its contents.
///
/// The loader takes contents rather than paths so that the caller decides how files are found and
/// trusted (the daemon reads `rules_file` and `rules_dir/*.rules` with its ownership checks; tests
/// pass text).
public struct RuleSource: Hashable, Sendable {
    /// The file name used in error locations (`/etc/audit/rules.d/30-stig.rules`).
    public var name: String
    /// The file's bytes (audit.rules syntax).
    public var bytes: [UInt8]

    /// Makes a source from a name and its bytes.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// Makes a source from a name and rules text.
    public init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }
}

/// Every rules file parsed and checked, ready to apply: what the kernel will be asked, in order.
public struct RuleLoadPlan: Sendable {
    /// The names of the files, in the order they are applied.
    public var sources: [String]
    /// The commands of all files, in order.
    public var commands: [RuleCommand]
    /// Every error: parse errors, and commands the loader will not send (a misplaced `-e 2`…).
    public var errors: [RuleError]
    /// Parser warnings (accepted, but suspicious).
    public var warnings: [RuleWarning]
    /// Commands the kernel is sure to refuse, found without asking it (the same rule added twice,
    /// a path the kernel looks up that does not exist), worded as `rules load` reports the
    /// kernel's answer. Not in ``errors``: a load still sends the plan and lets the kernel decide
    /// (and rolls back); a check reports them as errors, since that load cannot succeed.
    public var kernelRefusals: [RuleError]

    /// Makes a plan from its parts (the loader's ``RuleLoader/plan(_:)`` is the usual way).
    public init(
        sources: [String], commands: [RuleCommand], errors: [RuleError] = [], warnings: [RuleWarning] = [],
        kernelRefusals: [RuleError] = []
    ) {
        self.sources = sources
        self.commands = commands
        self.errors = errors
        self.warnings = warnings
        self.kernelRefusals = kernelRefusals
    }

    /// True when nothing stops the plan from being applied.
    public var isValid: Bool { errors.isEmpty }

    /// How many rules the files add (`-a`, `-A`, `-w`).
    public var ruleCount: Int {
        commands.count { if case .addRule = $0.kind { true } else { false } }
    }

    /// True when some command would change the kernel (`-i` and `-c` alone do not).
    public var changesKernel: Bool {
        commands.contains { command in
            switch command.kind {
            case .ignoreErrors, .continueOnErrors: false
            default: true
            }
        }
    }
}

/// Something that went wrong while loading, with the line that caused it when there is one.
public struct RuleLoadIssue: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command's place in its file; nil for problems of the whole load (kernel locked,
    /// unreachable, the undo itself).
    public var location: RuleLocation?
    /// What happened and what to do about it.
    public var message: String
    /// The errno the kernel answered, when it answered one (EEXIST, EINVAL, ENOENT…).
    public var errno: Int32?

    /// Makes an issue.
    public init(location: RuleLocation?, message: String, errno: Int32? = nil) {
        self.location = location
        self.message = message
        self.errno = errno
    }

    /// `file:line:column: message`, or the message alone.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}

/// What a load did: the outcome, what changed, and every problem with its line.
public struct RuleLoadReport: Sendable {
    /// How the load ended.
    public enum Outcome: Hashable, Sendable, CustomStringConvertible {
        /// Every command was applied (failures after `-i` were ignored: see ``RuleLoadReport/ignored``).
        case applied
        /// After `-c`, some commands failed and were skipped; the others are in effect (auditctl's
        /// "continue, but fail at the end").
        case appliedWithErrors
        /// A command failed; everything applied before it was undone and the kernel's rules and
        /// settings are as they were.
        case rolledBack
        /// A command failed and undoing the earlier ones failed too: the kernel holds part of the
        /// files. ``RuleLoadReport/errors`` says what could not be undone.
        case rollbackIncomplete
        /// Nothing was sent to the kernel: the files have errors, or the kernel is locked or
        /// unreachable.
        case notApplied

        /// The outcome in a few words, for summaries.
        public var description: String {
            switch self {
            case .applied: "applied"
            case .appliedWithErrors: "applied with errors"
            case .rolledBack: "rolled back"
            case .rollbackIncomplete: "rollback incomplete"
            case .notApplied: "not applied"
            }
        }
    }

    /// How the load ended.
    public var outcome: Outcome
    /// Rules added and still in effect at the end (0 after a rollback).
    public var added: Int
    /// Rules deleted (`-d`, `-W`, `-D`) and still deleted at the end (0 after a rollback).
    public var deleted: Int
    /// Settings changed and still in effect, as `name old -> new` (`backlog_limit 64 -> 8192`).
    public var settings: [String]
    /// Commands not sent on purpose (``RuleLoader/SensitiveCommandPolicy/skip``).
    public var skipped: [RuleLoadIssue]
    /// Commands the kernel refused after `-i`: reported, but not a failure (as auditctl).
    public var ignored: [RuleLoadIssue]
    /// Every error, in the order met.
    public var errors: [RuleLoadIssue]
    /// Parser warnings.
    public var warnings: [RuleWarning]

    /// Makes an empty report with the given outcome.
    public init(
        outcome: Outcome, added: Int = 0, deleted: Int = 0, settings: [String] = [], skipped: [RuleLoadIssue] = [],
        ignored: [RuleLoadIssue] = [], errors: [RuleLoadIssue] = [], warnings: [RuleWarning] = []
    ) {
        self.outcome = outcome
        self.added = added
        self.deleted = deleted
        self.settings = settings
        self.skipped = skipped
        self.ignored = ignored
        self.errors = errors
        self.warnings = warnings
    }

    /// True when the files are in effect with no error (ignored failures after `-i` allowed).
    public var succeeded: Bool { outcome == .applied }

    /// One line for logs and the command line: outcome, counts, settings.
    public var summary: String {
        var parts = ["\(added) rule\(added == 1 ? "" : "s") added", "\(deleted) deleted"]
        if !settings.isEmpty { parts.append(settings.joined(separator: ", ")) }
        if !skipped.isEmpty { parts.append("\(skipped.count) skipped") }
        if !ignored.isEmpty { parts.append("\(ignored.count) failed and ignored (-i)") }
        if !errors.isEmpty { parts.append("\(errors.count) error\(errors.count == 1 ? "" : "s")") }
        return "\(outcome): " + parts.joined(separator: "; ")
    }
}
