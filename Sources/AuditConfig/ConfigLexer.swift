internal import AuditSystem

/// One `key = value` line after syntax checks: the key as written and the value with its quotes
/// removed.
struct Assignment: Hashable, Sendable {
    var key: String
    var value: String
    var line: Int
}

/// Lines longer than this are refused rather than read (auditd skips lines over 160 bytes).
let maximumLineLength = 4096

/// Splits a configuration file into assignments, appending a diagnostic for every line that is not
/// `key = value`, a `#` comment or blank.
///
/// The syntax, decided here once for every key:
/// - `#` starts a comment only as the first non-blank character of a line. auditd.conf has no
///   trailing comments, and a `#` can be part of a value (a syslog tag, a path). An unquoted value
///   is a single word, so `backlog_limit = 8192 # more` is an error rather than a value silently
///   containing the comment.
/// - Values with spaces are written in double quotes; inside them `\"` and `\\` are the only escapes.
/// - Whitespace (space, tab) around keys and values is ignored, and so is the CR of a CR LF line
///   end (`TextFileConventions`: rules files follow the same rule).
/// - Control characters and bytes that are not UTF-8 are errors, wherever they are.
func lexConfiguration(_ bytes: [UInt8], file: String, diagnostics: inout [ConfigDiagnostic]) -> [Assignment] {
    var assignments: [Assignment] = []
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }  // a final newline ends the last line
    for (index, rawLine) in lines.enumerated() {
        let line = TextFileConventions.droppingLineEndCR(rawLine)
        if let assignment = lexLine(line, number: index + 1, file: file, diagnostics: &diagnostics) {
            assignments.append(assignment)
        }
    }
    return assignments
}

private func lexLine(
    _ bytes: ArraySlice<UInt8>,
    number: Int,
    file: String,
    diagnostics: inout [ConfigDiagnostic]
) -> Assignment? {
    func syntax(_ message: String, key: String? = nil, value: String? = nil) -> Assignment? {
        diagnostics.append(
            ConfigDiagnostic(kind: .syntax, file: file, line: number, key: key, value: value, message: message))
        return nil
    }
    if bytes.count > maximumLineLength {
        return syntax("line is \(bytes.count) bytes long; at most \(maximumLineLength) are accepted")
    }
    for (offset, byte) in bytes.enumerated() where (byte < 0x20 && byte != 0x09) || byte == 0x7F {
        return syntax("control character 0x\(hex2(byte)) at column \(offset + 1); only tabs and spaces are allowed")
    }
    guard let line = String(validating: bytes, as: UTF8.self) else {
        return syntax("the line is not valid UTF-8")
    }
    let trimmed = trimBlanks(Substring(line))
    if trimmed.isEmpty || trimmed.hasPrefix("#") { return nil }
    guard let equals = trimmed.firstIndex(of: "=") else {
        return syntax("expected key = value, got " + quoteForMessage(String(trimmed)))
    }
    let key = String(trimBlanks(trimmed[..<equals]))
    let rawValue = trimBlanks(trimmed[trimmed.index(after: equals)...])
    if key.isEmpty {
        return syntax("expected key = value: the key is missing before \"=\"")
    }
    if let bad = key.unicodeScalars.first(where: { !isKeyCharacter($0) }) {
        // An invisible character (a stray byte-order mark, a zero-width space) is named by its code.
        let what =
            bad == " " || bad == "\t"
            ? "a space" : (0x21...0x7E).contains(bad.value) ? "\"\(bad)\"" : "U+" + hexScalar(bad.value)
        return syntax(
            "keys are lower-case letters, digits, \"_\", \".\" and \"-\"; this key contains \(what)", key: key)
    }
    if rawValue.isEmpty {
        diagnostics.append(
            ConfigDiagnostic(
                kind: .missingValue, file: file, line: number, key: key,
                message: "the value is missing after \"=\" (to use the default, delete or comment out the line)"))
        return nil
    }
    if rawValue.hasPrefix("\"") {
        switch unquote(rawValue) {
        case .success(let value):
            return Assignment(key: key, value: value, line: number)
        case .failure(let problem):
            return syntax(problem.message, key: key, value: String(rawValue))
        }
    }
    if let blank = rawValue.firstIndex(where: { $0 == " " || $0 == "\t" }) {
        let after = trimBlanks(rawValue[blank...])
        if after.hasPrefix("#") {
            return syntax(
                "a \"#\" after a value does not start a comment (auditd.conf has no trailing comments): "
                    + "put the comment on its own line, or double-quote the value if the text is meant",
                key: key, value: String(rawValue))
        }
        return syntax("a value containing spaces must be double-quoted", key: key, value: String(rawValue))
    }
    return Assignment(key: key, value: String(rawValue), line: number)
}

/// Removes the quotes of `"…"`, resolving `\"` and `\\`.
private func unquote(_ raw: Substring) -> Result<String, ValueProblem> {
    var out = ""
    var index = raw.index(after: raw.startIndex)
    while index < raw.endIndex {
        let character = raw[index]
        if character == "\\" {
            let next = raw.index(after: index)
            guard next < raw.endIndex else { break }
            let escaped = raw[next]
            guard escaped == "\"" || escaped == "\\" else {
                return .failure(
                    ValueProblem("unknown escape \"\\\(escaped)\" in a quoted value; only \\\" and \\\\ are escapes"))
            }
            out.append(escaped)
            index = raw.index(after: next)
            continue
        }
        if character == "\"" {
            let rest = trimBlanks(raw[raw.index(after: index)...])
            if rest.isEmpty { return .success(out) }
            if rest.hasPrefix("#") {
                return .failure(
                    ValueProblem(
                        "a \"#\" after a value does not start a comment (auditd.conf has no trailing comments): "
                            + "put the comment on its own line"))
            }
            return .failure(ValueProblem("unexpected text after the closing quote"))
        }
        out.append(character)
        index = raw.index(after: index)
    }
    return .failure(ValueProblem("the closing double quote is missing"))
}

private func isKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "a"..."z", "0"..."9", "_", ".", "-": true
    default: false
    }
}

/// Strips spaces and tabs (not other whitespace: a no-break space is part of a value).
func trimBlanks(_ text: Substring) -> Substring {
    var start = text.startIndex
    var end = text.endIndex
    while start < end, text[start] == " " || text[start] == "\t" { start = text.index(after: start) }
    while end > start {
        let before = text.index(before: end)
        guard text[before] == " " || text[before] == "\t" else { break }
        end = before
    }
    return text[start..<end]
}

/// Why a value is refused: the text after `key = "value": `, normally starting with "expected".
struct ValueProblem: Error, Hashable, Sendable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// `FEFF`, `200B`: a scalar's code, at least four upper-case hex digits.
func hexScalar(_ value: UInt32) -> String {
    var digits = String(value, radix: 16, uppercase: true)
    while digits.count < 4 { digits = "0" + digits }
    return digits
}
