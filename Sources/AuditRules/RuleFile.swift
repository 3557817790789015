internal import AuditSystem

/// A parsed rules file: the commands it asks for, and every error and warning found.
///
/// Parsing never touches the kernel. A file with errors still lists the commands of its good
/// lines, so a checker can report everything at once; a loader should apply nothing unless
/// ``errors`` is empty.
public struct RuleFile: Sendable {
    /// The file name errors refer to.
    public var name: String
    /// The commands, in file order (a line may give several, e.g. `-b 8192 -f 1`).
    public var commands: [RuleCommand]
    /// Every error, in file order.
    public var errors: [RuleError]
    /// Warnings (accepted, but suspicious), in file order.
    public var warnings: [RuleWarning]

    /// True when the file has no error.
    public var isValid: Bool { errors.isEmpty }

    /// The longest line auditctl reads whole (it reads lines into a 6144-byte buffer).
    public static let maxLineLength = 6142

    /// Parses the contents of a rules file (audit.rules syntax, one command per line).
    public init(parsing contents: some Collection<UInt8>, name: String, environment: RuleEnvironment) {
        self.name = name
        commands = []
        errors = []
        warnings = []
        let bytes = Array(contents)
        var lineNumber = 0
        // Files edited on Windows: as in the configuration (see `TextFileConventions`).
        var start = TextFileConventions.byteOrderMarkLength(bytes)
        if start > 0 {
            warnings.append(
                RuleWarning(
                    location: RuleLocation(file: name, line: 1, column: 1),
                    message: TextFileConventions.byteOrderMarkWarning))
        }
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            parseLine(
                TextFileConventions.droppingLineEndCR(bytes[start..<end]), lineNumber: lineNumber,
                environment: environment)
            start = end + 1
        }
    }

    /// Parses rules text (audit.rules syntax).
    public init(parsing text: String, name: String, environment: RuleEnvironment) {
        self.init(parsing: Array(text.utf8), name: name, environment: environment)
    }

    /// Parses one command given as separate arguments, as on the auditctl command line
    /// (`["-a", "always,exit", "-S", "execve"]`): no splitting, escaping or comments.
    public init(arguments: [String], name: String = "<arguments>", environment: RuleEnvironment) {
        self.name = name
        commands = []
        errors = []
        warnings = []
        var column = 1
        var tokens: [RuleToken] = []
        for argument in arguments {
            let bytes = Array(argument.utf8)
            tokens.append(RuleToken(bytes: bytes, column: column, columns: bytes.indices.map { column + $0 }))
            column += bytes.count + 1
        }
        var parser = LineParser(file: name, line: 1, environment: environment)
        parser.parse(tokens)
        absorb(parser)
    }

    private mutating func parseLine(_ line: ArraySlice<UInt8>, lineNumber: Int, environment: RuleEnvironment) {
        if line.count > Self.maxLineLength {
            errors.append(
                RuleError(
                    location: RuleLocation(file: name, line: lineNumber, column: Self.maxLineLength + 1),
                    token: "", message: "line of \(line.count) bytes is longer than auditctl reads",
                    expected: "at most \(Self.maxLineLength) bytes"))
            return
        }
        switch RuleTokenizer.split(line) {
        case .failure(let problem):
            // A comment line may contain anything.
            if let first = line.first(where: { $0 != UInt8(ascii: " ") }), first == UInt8(ascii: "#") { return }
            let token = String(decoding: line.prefix(48), as: UTF8.self)
            errors.append(
                RuleError(
                    location: RuleLocation(file: name, line: lineNumber, column: problem.column), token: token,
                    message: problem.message))
        case .success(let tokens):
            guard !tokens.isEmpty else { return }
            var parser = LineParser(file: name, line: lineNumber, environment: environment)
            parser.parse(tokens)
            absorb(parser)
        }
    }

    private mutating func absorb(_ parser: LineParser) {
        commands.append(contentsOf: parser.commands)
        errors.append(contentsOf: parser.errors)
        warnings.append(contentsOf: parser.warnings)
    }
}
