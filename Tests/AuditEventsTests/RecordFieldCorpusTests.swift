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

extension RecordFieldCorpusTests {
    /// go-libaudit's golden output (Apache-2.0) holds, per record, the fields its parser found. It
    /// interprets and renames some, so the comparison is on the raw key/value pairs, and every
    /// other difference must be one of these (all seen in the golden files as committed):
    ///
    /// - Interpreted values (same key, other value): `auid`, `ses`, `old-auid` 4294967295 → `unset`;
    ///   `arch` c000003e → `x86_64`; `syscall` number → name; `exit` → errno name (`EACCES`);
    ///   `sig` → signal name (`SIGSYS`). Hex-encoded values decoded (`exe`, `cmd`, `cwd`,
    ///   `proctitle`, `data`, `name`, `acct`, EXECVE `a2`): checked, the decoded bytes are the
    ///   golden value.
    /// - Derived keys (not in the record): `result` from `res`/`success`; `subj_*` and `obj_*`
    ///   from splitting the SELinux contexts `subj`/`obj`; `seresult` and `seperms` from an AVC's
    ///   free text (`avc:  denied  { read }`); in SOCKADDR, `family`, `addr`, `port` and `path`
    ///   from decoding `saddr`; in the 2.6-era LOGIN (`old auid=4294967295 new auid=0`),
    ///   `old_auid` and `new_auid` from the free-text words before the keys.
    /// - Dropped fields: the `msg` container itself (its nested fields are kept, flattened);
    ///   values `?` (also quoted, and `?,` in 2.6-era user records), `(null)` and empty; `res` and
    ///   `success` (become `result`), `subj`/`obj` (split), `key` (go-libaudit moves it to its
    ///   tags), SOCKADDR's `saddr` (decoded), and the 2.6-era LOGIN's `auid` pair (renamed).
    static let interpretedKeys: Set<String> = ["auid", "ses", "old-auid", "arch", "syscall", "exit", "sig"]
    static let derivedKeys: Set<String> = [
        "result", "subj_user", "subj_role", "subj_domain", "subj_level", "subj_category", "obj_user", "obj_role",
        "obj_domain", "obj_level", "obj_category", "seresult", "seperms",
    ]
    static let derivedKeysByType: [String: Set<String>] = [
        "sockaddr": ["family", "addr", "port", "path"], "login": ["old_auid", "new_auid"],
    ]
    static let droppedKeys: Set<String> = ["msg", "res", "success", "subj", "obj", "key"]
    static let droppedKeysByType: [String: Set<String>] = ["sockaddr": ["saddr"], "login": ["auid"]]

    @Test func fieldsMatchGoLibauditsGoldenOutput() throws {
        try TestRequirement.corpus.check()
        let directory = "go-libaudit/auparse-testdata"
        let names = try FileManager.default.contentsOfDirectory(atPath: Corpus.path(directory))
        var records = 0
        var matched = 0
        var hexDecoded: Set<String> = []
        var interpreted: Set<String> = []
        for name in names.sorted() where name.hasSuffix(".log.golden") {
            // The log's lines by their text after "msg=", which is the golden `raw_msg`.
            var lines: [String: [UInt8]] = [:]
            for (_, bytes) in try Corpus.recordLines(directory + "/" + String(name.dropLast(".golden".count))) {
                let text = String(decoding: bytes, as: UTF8.self)
                guard let msg = text.range(of: " msg=") else { continue }
                lines[String(text[msg.upperBound...])] = bytes
            }
            let json = try JSONSerialization.jsonObject(with: Data(try Corpus.read(directory + "/" + name)))
            for case let record as [String: Any] in json as? [Any] ?? [] {
                records += 1
                let rawMessage = try #require(record["raw_msg"] as? String)
                let where_ = "\(name): \(rawMessage.prefix(40))"
                let bytes = try #require(lines[rawMessage], "\(where_): no line in the log")
                let parsed = try parseLine(bytes)
                let type = parsed.typeName.lowercased()
                #expect(type == record["record_type"] as? String, "\(where_)")
                #expect(Int(parsed.line.id.serial) == record["sequence"] as? Int, "\(where_)")
                let fields = parsed.body.fields
                let data = try #require(record["data"] as? [String: String], "\(where_): data")
                for (key, value) in data {
                    let ours = fields.filter { $0.key == key }
                    if ours.contains(where: { $0.value == value }) {
                        matched += 1
                    } else if ours.contains(where: { Self.hexDecoded($0.value) == value }) {
                        hexDecoded.insert(key)
                    } else if !ours.isEmpty {
                        interpreted.insert(key)
                        #expect(Self.interpretedKeys.contains(key), "\(where_): \(key)=\(ours) is \(value) there")
                    } else {
                        #expect(
                            Self.derivedKeys.contains(key) || Self.derivedKeysByType[type, default: []].contains(key),
                            "\(where_): \(key)=\(value) is not in our fields")
                    }
                }
                for field in fields where data[field.key] == nil {
                    let isEmpty = field.value.isEmpty || field.value.hasPrefix("?") || field.style == .null
                    let dropped =
                        Self.droppedKeys.contains(field.key)
                        || Self.droppedKeysByType[type, default: []].contains(field.key)
                    #expect(isEmpty || dropped, "\(where_): \(field) is not in the golden data")
                }
            }
        }
        // 83 records and 621 equal values in the golden files as committed.
        #expect(records >= 80 && matched >= 600)
        #expect(interpreted == Self.interpretedKeys)
        print("golden: \(records) records, \(matched) values equal, hex-decoded there: \(hexDecoded.sorted())")
    }

    /// The text that a hex value decodes to, nil when it is not hex.
    static func hexDecoded(_ value: String) -> String? {
        guard let bytes = try? Array(value.utf8).withUnsafeBytes({ try AuditHex.decode($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension RecordFieldCorpusTests {
    /// corpus/local holds the same events as the kernel sent them (`.netlink.tsv`) and as auditd
    /// wrote them (`.audit.log`, ENRICHED): a live record and its log line give the same fields.
    @Test func aLiveRecordAndItsLogLineGiveTheSameFields() throws {
        try TestRequirement.corpus.check()
        var compared = 0
        for scenario in Corpus.localScenarios {
            // Several records of an event may share a type (PATH items, EXECVE pieces): in order.
            var logFields: [String: [[FieldText]]] = [:]
            for (_, bytes) in try Corpus.recordLines("local/\(scenario).audit.log") {
                let parsed = try parseLine(bytes)
                logFields["\(parsed.line.type?.rawValue ?? 0) \(parsed.line.id)", default: []].append(
                    parsed.body.fields)
            }
            let records = try #require(CorpusReplayTests.tsv(Corpus.path("local/\(scenario).netlink.tsv")))
            for record in records where record.type.isAuditRecord {
                let header = try AuditRecordHeader.parse(record.payload)
                let key = "\(record.type.rawValue) \(header.id)"
                guard let expected = logFields[key]?.first else { continue }
                logFields[key]?.removeFirst()
                let fields = record.payload.withUnsafeBytes { scan($0, header.body) }
                #expect(fields.truncation == nil)
                #expect(fields.fields == expected, "\(scenario): \(record.type) \(header.id)")
                compared += 1
            }
        }
        #expect(compared >= 300)
        print("live records compared with their log lines: \(compared)")
    }
}
