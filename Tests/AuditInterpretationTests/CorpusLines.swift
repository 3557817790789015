import AuditTestSupport
import Foundation

/// The raw audit.log records of the shared corpus, as (type, body after `msg=audit(…): `): node=
/// prefixes dropped, ENRICHED translations (after 0x1d) cut off.
enum CorpusLines {
    static let directories = [
        "local", "audit-userspace/auparse-test", "go-libaudit/auparse-testdata", "go-libaudit/reassembler-testdata",
        "laurel/testdata", "laurel/testdata/tree", "linux-audit-parser-rs/testdata", "elastic-beats-filebeat-auditd",
        "elastic-integrations-auditd",
    ]

    static func all() throws -> [(type: String, body: String)] {
        var result: [(type: String, body: String)] = []
        for directory in directories {
            let names = try FileManager.default.contentsOfDirectory(atPath: Corpus.path(directory)).sorted()
            for name in names where name.hasSuffix(".log") || name.hasSuffix(".txt") {
                let bytes = try Corpus.read(directory + "/" + name)
                for line in bytes.split(separator: UInt8(ascii: "\n")) {
                    let raw = line.prefix { $0 != 0x1d }
                    if let record = parse(String(decoding: raw, as: UTF8.self)) { result.append(record) }
                }
            }
        }
        return result
    }

    static func parse(_ line: String) -> (type: String, body: String)? {
        guard let typeStart = line.range(of: "type="), let header = line.range(of: " msg=audit("),
            typeStart.upperBound <= header.lowerBound,
            let end = line.range(of: "): ", range: header.upperBound..<line.endIndex)
        else { return nil }
        let type = String(line[typeStart.upperBound..<header.lowerBound])
        return (type, String(line[end.upperBound...]))
    }
}
