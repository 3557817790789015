/// A place in a rules file: file name, 1-based line, and 1-based byte column.
public struct RuleLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file name as given to the parser (`/etc/audit/rules.d/10-base.rules`).
    public var file: String
    /// The 1-based line number.
    public var line: Int
    /// The 1-based byte column.
    public var column: Int

    /// Makes a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, as compilers print it.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One thing a rules file asks for, with where it was written.
///
/// Parsing produces these without touching the kernel; the caller applies them in order through the
/// kernel client (`AUDIT_ADD_RULE` with ``AuditRule/encoded()``, `AUDIT_SET`…).
public struct RuleCommand: Hashable, Sendable {
    /// Where the option that produced the command starts.
    public var location: RuleLocation
    /// What to do.
    public var kind: Kind

    /// Makes a command.
    public init(location: RuleLocation, kind: Kind) {
        self.location = location
        self.kind = kind
    }

    /// The commands of the auditctl rule language.
    public enum Kind: Hashable, Sendable {
        /// `-a`/`-A`/`-w`: add a rule (`AUDIT_ADD_RULE`).
        case addRule(AuditRule)
        /// `-d`/`-W`: delete the identical rule (`AUDIT_DEL_RULE`).
        case deleteRule(AuditRule)
        /// `-D`, or `-D -k key`: delete all rules, or those whose key contains `key`
        /// (see ``AuditRule/matchesKeyFilter(_:)``).
        case deleteAllRules(key: String?)
        /// `-e 0|1|2`: disable, enable, or lock (2 = immutable until reboot) auditing.
        case setEnabled(UInt32)
        /// `-f 0|1|2`: failure mode silent, printk, panic.
        case setFailureMode(UInt32)
        /// `-b n`: backlog limit.
        case setBacklogLimit(UInt32)
        /// `-r n`: rate limit in messages per second (0 = none).
        case setRateLimit(UInt32)
        /// `--backlog_wait_time n`: backlog wait time (kernel ticks).
        case setBacklogWaitTime(UInt32)
        /// `--reset-lost`: reset the kernel's lost counter.
        case resetLostCounter
        /// `--reset_backlog_wait_time_actual`: reset the actual backlog wait time counter.
        case resetBacklogWaitTimeActual
        /// `--loginuid-immutable`: make loginuids unchangeable once set (feature locked).
        case setLoginUIDImmutable
        /// `-i`: ignore errors of the following lines.
        case ignoreErrors
        /// `-c`: continue after errors of the following lines, but report failure at the end.
        case continueOnErrors
        /// `-q mount,subtree`: make a subtree equivalent to a watched mount (`AUDIT_MAKE_EQUIV`).
        case makeEquivalent(mountPoint: String, subtree: String)
        /// `-t`: trim directory watches after a mount (`AUDIT_TRIM`).
        case trimSubtrees
    }
}

/// A rules-file error: where, which token, what is wrong and what was expected.
public struct RuleError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where the offending token (or the part of it at fault) starts.
    public var location: RuleLocation
    /// The offending token or value, as written.
    public var token: String
    /// What is wrong.
    public var message: String
    /// What would have been accepted, when that can be said.
    public var expected: String?

    /// Makes an error.
    public init(location: RuleLocation, token: String, message: String, expected: String? = nil) {
        self.location = location
        self.token = token
        self.message = message
        self.expected = expected
    }

    /// `file:line:column: message; expected …`.
    public var description: String {
        var text = "\(location): \(message)"
        if let expected { text += "; expected \(expected)" }
        return text
    }
}

/// A rules-file warning: accepted, but probably not what was meant (auditctl warns too).
public struct RuleWarning: Hashable, Sendable, CustomStringConvertible {
    /// Where the token the warning is about starts.
    public var location: RuleLocation
    /// The warning.
    public var message: String

    /// Makes a warning.
    public init(location: RuleLocation, message: String) {
        self.location = location
        self.message = message
    }

    /// `file:line:column: warning: message`.
    public var description: String { "\(location): warning: \(message)" }
}
