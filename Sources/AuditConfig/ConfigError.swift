/// One problem (or warning) found in a configuration file, with everything an operator needs to fix
/// it without reading the source: file, line, key, the value as written and what is accepted.
///
/// Rendered as `/etc/swift-audit/swift-audit.conf:12: backlog_limit = "abc": expected an integer 0…2^32-1`.
package struct ConfigDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for callers that react to the class of problem rather than to the text.
    package enum Kind: Hashable, Sendable {
        /// The line is not `key = value`, a quote is not closed, a byte is not UTF-8…
        case syntax
        /// The key is not one swift-audit knows.
        case unknownKey
        /// The key is set twice; ``ConfigDiagnostic/relatedLines`` holds the first line.
        case duplicateKey
        /// The value is outside what the key accepts.
        case invalidValue
        /// A value the configuration needs is not given (an output's `type` or `path`…).
        case missingValue
        /// Two settings contradict each other; ``ConfigDiagnostic/relatedLines`` names the other lines.
        case conflict
        /// The file cannot be read, or is refused for its type, owner or mode.
        case file
        /// A setting is valid but has no effect, or the file is readable by more than it should be.
        case warning
    }

    /// The class of problem.
    package var kind: Kind
    /// The file as given to the parser or loader.
    package var file: String
    /// The 1-based line, or `nil` when the problem concerns the whole file.
    package var line: Int?
    /// The key as written, when the problem concerns one key.
    package var key: String?
    /// The value as written (quotes removed), when the problem concerns one value.
    package var value: String?
    /// What is wrong and what is accepted, e.g. `expected an integer 0…2^32-1`.
    package var message: String
    /// Other lines involved (the first definition of a duplicate, the line a conflict depends on).
    package var relatedLines: [Int]

    /// Creates a diagnostic; `message` says what is accepted or why the setting is refused.
    package init(
        kind: Kind,
        file: String,
        line: Int?,
        key: String? = nil,
        value: String? = nil,
        message: String,
        relatedLines: [Int] = []
    ) {
        self.kind = kind
        self.file = file
        self.line = line
        self.key = key
        self.value = value
        self.message = message
        self.relatedLines = relatedLines
    }

    /// `file:line: key = "value": message`, leaving out the parts that do not apply.
    package var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key {
            text += key
            if let value { text += " = " + quoteForMessage(value) }
            text += ": "
        } else if let value {
            text += quoteForMessage(value) + ": "
        }
        return text + message
    }
}

/// Every problem found in one configuration, thrown as a whole so the operator fixes them all at once.
package struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems in file order (whole-file problems first); never empty when thrown.
    package var diagnostics: [ConfigDiagnostic]

    /// Wraps the problems found.
    package init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One problem per line.
    package var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Quotes a value for a message so that spaces, quotes and control bytes stay visible on one line.
func quoteForMessage(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\x" + hex2(UInt8(scalar.value))
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func hex2(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
