import AuditEvents
import AuditNetlink
import AuditTestSupport
import Foundation
import Testing

/// The record parser against every text log of the shared corpus and against go-libaudit's
/// per-record golden output.
@Suite(.requires(.corpus))
struct RecordFieldCorpusTests {
    /// The corpus lines that are not audit.log lines, and why. Each must fail exactly so.
    static let malformed: [String: AuditLogLineError.Kind] = [
        // go-libaudit keeps one line without a header on purpose (its golden output has null for
        // it): an AUDIT_REPLACE whose binary payload auditd printed as "?". Without an identity
        // it cannot be placed in an event.
        "type=UNKNOWN[1329] msg=?": .header(.missingPrefix)
    ]

    @Test func everyCorpusLineParses() throws {
        try TestRequirement.corpus.check()
        var files = 0
        var lineCount = 0
        var fieldCount = 0
        var translationCount = 0
        var nestedCount = 0
        var rejected: [String] = []
        var truncated: [String] = []
        for path in Corpus.textLogs() {
            files += 1
            for (number, bytes) in try Corpus.recordLines(path) {
                lineCount += 1
                let text = String(decoding: bytes, as: UTF8.self)
                do {
                    let parsed = try parseLine(bytes)
                    fieldCount += parsed.body.fields.count
                    nestedCount += parsed.body.fields.filter(\.nested).count
                    translationCount += parsed.translations.fields.count
                    if parsed.body.truncation != nil || parsed.translations.truncation != nil {
                        truncated.append("\(path):\(number)")
                    }
                    #expect(parsed.line.type != nil, "\(path):\(number): unknown type \(parsed.typeName)")
                    #expect(!parsed.body.fields.isEmpty || parsed.typeName == "EOE", "\(path):\(number): no fields")
                } catch {
                    rejected.append(text)
                    #expect(Self.malformed[text] == error.kind, "\(path):\(number): \(error)")
                }
            }
        }
        #expect(Set(rejected) == Set(Self.malformed.keys), "every deliberately malformed line is seen and rejected")
        // One line of the corpus is cut short in its source (the YAML holds it without the end of
        // its msg='…'); any other truncation would be a parser bug.
        #expect(truncated == ["go-libaudit/aucoalesce-testdata/ubuntu-16.10-linux-4.8.0.yaml:43"])
        // Measured on the corpus as committed: 28 files would be too few, 0 lines means nothing ran.
        #expect(files >= 100 && lineCount >= 1000 && fieldCount >= 20000 && translationCount > 0 && nestedCount > 0)
        print(
            "record fields: \(files) files, \(lineCount) lines, \(fieldCount) fields (\(nestedCount) nested), "
                + "\(translationCount) translations, rejected \(rejected.count)")
    }
}
