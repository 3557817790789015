/// A word of a rules-file line, with the column it starts at.
struct RuleToken: Hashable, Sendable {
    /// The word's bytes after escape processing.
    var bytes: [UInt8]
    /// 1-based byte column of the word's first character.
    var column: Int
    /// Column of each byte of `bytes` in the line, so errors can point inside the word.
    var columns: [Int]

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Splits rules-file lines the way `auditctl -R` does.
///
/// - Words are separated by spaces (only spaces: auditctl does not split on tabs; a tab or carriage
///   return in a line is reported as an error instead of being silently glued into a word). The CR
///   of a CR LF line end never gets here: ``RuleFile`` drops it, as the configuration does.
/// - `\ ` is a space inside a word and `\\` a backslash; any other backslash is kept as is.
/// - A line whose first word starts with `#` is a comment; `#` later in a line is not special.
/// - Quotes are literal characters, as in auditctl, with one extension: the path argument of `-w`/`-W`
///   and the value of `-F path=`, `dir=` and `exe=` may be quoted (`'…'` or `"…"`) to hold spaces.
///   auditctl rejects those forms (a path must start with `/`), so no file it accepts changes meaning.
enum RuleTokenizer {
    /// The words of a line, or the first problem; an empty array for blank and comment lines.
    static func split(_ line: ArraySlice<UInt8>) -> Result<[RuleToken], TokenizerError> {
        var tokens: [RuleToken] = []
        var index = line.startIndex
        let base = line.startIndex
        func column(_ i: Int) -> Int { i - base + 1 }

        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: " ") {
                index += 1
                continue
            }
            if tokens.isEmpty, byte == UInt8(ascii: "#") { return .success([]) }
            // Start of a word.
            let start = index
            if let quote = openingQuote(line, at: index, previous: tokens.last) {
                // Quoted path: from the quote to its match, which must end the word.
                var bytes: [UInt8] = []
                var columns: [Int] = []
                var cursor = index
                // Copy a `path=` prefix, if any, as is.
                while line[cursor] != quote {
                    bytes.append(line[cursor])
                    columns.append(column(cursor))
                    cursor += 1
                }
                cursor += 1
                var closed = false
                while cursor < line.endIndex {
                    if line[cursor] == quote {
                        closed = true
                        cursor += 1
                        break
                    }
                    if line[cursor] < 0x20 || line[cursor] == 0x7F {
                        return .failure(TokenizerError(column: column(cursor), kind: .controlCharacter(line[cursor])))
                    }
                    bytes.append(line[cursor])
                    columns.append(column(cursor))
                    cursor += 1
                }
                guard closed else {
                    return .failure(TokenizerError(column: column(start), kind: .unterminatedQuote))
                }
                if cursor < line.endIndex, line[cursor] != UInt8(ascii: " ") {
                    return .failure(TokenizerError(column: column(cursor), kind: .textAfterQuote))
                }
                tokens.append(RuleToken(bytes: bytes, column: column(start), columns: columns))
                index = cursor
                continue
            }
            var bytes: [UInt8] = []
            var columns: [Int] = []
            while index < line.endIndex, line[index] != UInt8(ascii: " ") {
                let current = line[index]
                if current < 0x20 || current == 0x7F {
                    return .failure(TokenizerError(column: column(index), kind: .controlCharacter(current)))
                }
                if current == UInt8(ascii: "\\"), index + 1 < line.endIndex {
                    let next = line[index + 1]
                    if next == UInt8(ascii: " ") || next == UInt8(ascii: "\\") {
                        bytes.append(next)
                        columns.append(column(index))
                        index += 2
                        continue
                    }
                }
                bytes.append(current)
                columns.append(column(index))
                index += 1
            }
            tokens.append(RuleToken(bytes: bytes, column: column(start), columns: columns))
        }
        return .success(tokens)
    }

    /// The quote character opening a quoted path at `index`, if the word is one of the path
    /// arguments that may be quoted.
    private static func openingQuote(_ line: ArraySlice<UInt8>, at index: Int, previous: RuleToken?) -> UInt8? {
        let first = line[index]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            if let previous, previous.bytes == Array("-w".utf8) || previous.bytes == Array("-W".utf8) {
                return first
            }
            return nil
        }
        guard let previous, previous.bytes == Array("-F".utf8) else { return nil }
        for prefix in ["path=", "dir=", "exe="] {
            let prefixBytes = Array(prefix.utf8)
            let end = index + prefixBytes.count
            guard end < line.endIndex, line[index..<end].elementsEqual(prefixBytes) else { continue }
            let quote = line[end]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") { return quote }
        }
        return nil
    }
}

/// A line that cannot be split into words.
struct TokenizerError: Error, Equatable {
    enum Kind: Equatable {
        case controlCharacter(UInt8)
        case unterminatedQuote
        case textAfterQuote
    }
    var column: Int
    var kind: Kind

    var message: String {
        switch kind {
        case .controlCharacter(let byte):
            switch byte {
            case 0x09: "tab character: auditctl separates words with spaces only"
            case 0x0D: "carriage return inside a line (a line may end in CR LF, but a CR elsewhere is refused)"
            default: "control character 0x\(String(byte, radix: 16)) in a rule line"
            }
        case .unterminatedQuote: "unterminated quote"
        case .textAfterQuote: "text after the closing quote"
        }
    }
}
