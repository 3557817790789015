import AuditEvents
import AuditTestSupport
import Foundation

/// A scanned field as text, for comparisons in tests.
struct FieldText: Equatable, CustomStringConvertible {
    var key: String
    var value: String
    var style: AuditFieldStyle = .unquoted
    var nested = false

    var description: String { "\(nested ? "  " : "")\(key)=\(value) [\(style)]" }
}

/// What one scan of a range produced.
struct ScanResult {
    var fields: [FieldText] = []
    var truncation: AuditFieldTruncation?
}

/// Scans `bytes[range]` to the end, with a bound on the number of fields that fails the test
/// instead of hanging when the scanner stops moving forward.
func scan(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> ScanResult {
    var scanner = AuditFieldScanner(bytes, range: range)
    var result = ScanResult()
    while let field = scanner.next() {
        result.fields.append(
            FieldText(
                key: String(decoding: bytes[field.key], as: UTF8.self),
                value: String(decoding: bytes[field.value], as: UTF8.self), style: field.style,
                nested: field.isNested))
        precondition(result.fields.count <= range.count + 1, "the scanner yields more fields than bytes")
    }
    result.truncation = scanner.truncation
    return result
}

/// A parsed audit.log line with its body and translations as text fields.
struct ParsedLine {
    var line: AuditLogLine
    var node: String?
    var typeName: String
    var body: ScanResult
    var translations: ScanResult
}

/// Parses one audit.log line (given as bytes) and scans its body and translations.
func parseLine(_ bytes: [UInt8]) throws(AuditLogLineError) -> ParsedLine {
    let line = try AuditLogLine.parse(bytes)
    return bytes.withUnsafeBytes { raw in
        ParsedLine(
            line: line, node: line.node.map { String(decoding: raw[$0], as: UTF8.self) },
            typeName: String(decoding: raw[line.typeName], as: UTF8.self), body: scan(raw, line.body),
            translations: scan(raw, line.translations ?? line.body.upperBound..<line.body.upperBound))
    }
}

/// Parses one audit.log line given as text; see `parseLine(_:)`.
func parseLine(_ text: String) throws(AuditLogLineError) -> ParsedLine { try parseLine(Array(text.utf8)) }

extension Corpus {
    /// The text logs of the corpus with one record per line (relative paths, sorted), and the
    /// go-libaudit coalescer YAML files whose indented lines are records.
    static func textLogs() -> [String] {
        let patterns: [(directory: String, suffix: String)] = [
            ("go-libaudit/auparse-testdata", ".log"),
            ("go-libaudit/reassembler-testdata", ".log"),
            ("go-libaudit/aucoalesce-testdata", ".yaml"),
            ("laurel/testdata", ".txt"),
            ("laurel/testdata/tree", ".txt"),
            ("linux-audit-parser-rs/testdata", ".txt"),
            ("audit-userspace/auparse-test", ".log"),
            ("elastic-beats-filebeat-auditd", ".log"),
            ("elastic-integrations-auditd", ".log"),
            ("local", ".audit.log"),
        ]
        var paths: [String] = []
        for (directory, suffix) in patterns {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path(directory))) ?? []
            paths += names.filter { $0.hasSuffix(suffix) && $0 != "README.txt" }.sorted().map { directory + "/" + $0 }
        }
        return paths
    }

    /// The record lines of a corpus text log: comments (`#`) and empty lines left out, YAML
    /// indentation removed and only record lines kept for `.yaml`.
    static func recordLines(_ relativePath: String) throws -> [(number: Int, bytes: [UInt8])] {
        let bytes = try read(relativePath)
        var result: [(Int, [UInt8])] = []
        for (index, line) in lines(bytes).enumerated() {
            var line = line
            if relativePath.hasSuffix(".yaml") {
                line = line.drop { $0 == 0x20 }
                guard line.starts(with: Array("type=".utf8)) || line.starts(with: Array("node=".utf8)) else {
                    continue
                }
            }
            if line.isEmpty || line.first == 0x23 { continue }
            result.append((index + 1, Array(line)))
        }
        return result
    }
}
