import AuditInterpretation
import AuditTestSupport
import Foundation
import Testing

/// The tables against the reference interpretations in the shared corpus: libauparse's own test
/// output (audit-userspace `auparse_test.ref`) and go-libaudit's golden JSON.
@Suite(.requires(.corpus))
struct ReferenceOutputTests {
    /// `key=value (interpretation)` lines of auparse_test.ref, with the record's syscall name.
    struct RefField {
        var key: String
        var value: String
        var interpretation: String
        var syscall: String?
        var arguments: [String: String]
    }

    static func referenceFields() throws -> [RefField] {
        let text = String(decoding: try Corpus.read("audit-userspace/auparse-test/auparse_test.ref"), as: UTF8.self)
        var fields: [RefField] = []
        var syscall: String?
        var arguments: [String: String] = [:]
        for line in text.split(separator: "\n") {
            if line.contains("record ") && line.contains(" of type ") {
                syscall = nil
                arguments = [:]
            }
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("interp ") {
                // Test 1 prints `interp auid=…` after each `auid=…` line.
                let pair = trimmed.dropFirst(7).split(separator: "=", maxSplits: 1)
                if pair.count == 2, let last = fields.last, last.key == pair[0] {
                    fields.append(
                        RefField(
                            key: String(pair[0]), value: last.value, interpretation: String(pair[1]), arguments: [:]))
                }
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals])
            let rest = trimmed[trimmed.index(after: equals)...]
            guard let open = rest.range(of: " ("), rest.hasSuffix(")") else {
                if key.allSatisfy({ $0.isLetter || $0.isNumber }) && !rest.contains(" ") {
                    fields.append(
                        RefField(key: key, value: String(rest), interpretation: "", syscall: nil, arguments: [:]))
                }
                continue
            }
            let value = String(rest[..<open.lowerBound])
            let interpretation = String(rest[open.upperBound...].dropLast())
            if key == "syscall" { syscall = interpretation }
            if ["a0", "a1", "a2", "a3"].contains(key) { arguments[key] = value }
            fields.append(
                RefField(key: key, value: value, interpretation: interpretation, syscall: syscall, arguments: arguments)
            )
        }
        return fields.filter { !$0.interpretation.isEmpty }
    }

    @Test func auparseReferenceOutputAgrees() throws {
        var result = Disagreements()
        for field in try Self.referenceFields() {
            switch field.key {
            case "auid", "ses":
                // Any other id reads as a user name (`unknown(848)` on the machine that made the file).
                let ours = UnsetIdentity.interpretation(field.value)
                if field.value == "4294967295" || ours != nil {
                    result.check("\(field.key)=\(field.value)", ours: ours, theirs: field.interpretation)
                }
            case "success", "res":
                result.check(
                    "\(field.key)=\(field.value)", ours: Outcome.auditdText(field.value), theirs: field.interpretation)
            case "exit":
                let ours = Int64(field.value).flatMap(ErrnoNames.exitDescription) ?? field.value
                result.check("exit=\(field.value)", ours: ours, theirs: field.interpretation)
            case "a0", "a1", "a2", "a3":
                guard let syscall = field.syscall else { continue }
                let index = Int(String(field.key.dropFirst()))!
                let ours = SyscallArgumentInterpretation.interpretation(
                    syscall: syscall, argument: index, value: field.value,
                    a0: field.arguments["a0"].flatMap(SyscallArgumentInterpretation.parseHex),
                    a1: field.arguments["a1"].flatMap(SyscallArgumentInterpretation.parseHex))
                result.check(
                    "\(syscall) \(field.key)=\(field.value)", ours: ours ?? "0x" + field.value,
                    theirs: field.interpretation)
            case "mode":
                result.check(
                    "mode=\(field.value)", ours: FileModes.parseOctal(field.value).map(FileModes.interpretation),
                    theirs: field.interpretation)
            default:
                continue
            }
        }
        result.report("auparse_test.ref")
        // auid unset (4 times), success, res, exit and the four arguments of setxattr, twice.
        #expect(result.compared >= 14)
        #expect(result.lines.isEmpty)
    }

    /// go-libaudit's goldens: `exit` (the errno name alone: go-libaudit drops auditd's message, a
    /// deliberate difference of its own), `sig`, `auid`/`ses`/`old-auid` unset, `result` from `res`.
    @Test func goLibauditGoldensAgree() throws {
        let directory = "go-libaudit/auparse-testdata"
        var result = Disagreements()
        for name in try FileManager.default.contentsOfDirectory(atPath: Corpus.path(directory)).sorted()
        where name.hasSuffix(".golden") {
            let data = Data(try Corpus.read(directory + "/" + name))
            guard let events = try JSONSerialization.jsonObject(with: data) as? [Any] else {
                Issue.record("\(name): not a JSON array")
                continue
            }
            for case let event as [String: Any] in events {
                guard let raw = event["raw_msg"] as? String, let golden = event["data"] as? [String: Any] else {
                    continue
                }
                let logged = { (key: String) in Ausearch.field(key, in: raw) }
                if let exit = golden["exit"] as? String, let text = logged("exit"), let number = Int64(text), number < 0
                {
                    let ours = ErrnoNames.exitDescription(number).map { String($0.prefix { $0 != "(" }) }
                    #expect(ours == ErrnoNames.name(Int(-number)))
                    result.check("\(name) exit=\(text)", ours: ours, theirs: exit)
                }
                if let signal = golden["sig"] as? String, let text = logged("sig"), let number = Int(text) {
                    result.check("\(name) sig=\(text)", ours: SignalNames.name(number) ?? text, theirs: signal)
                }
                for key in ["auid", "ses", "old-auid"] {
                    guard let value = golden[key] as? String, let text = logged(key) else { continue }
                    result.check(
                        "\(name) \(key)=\(text)", ours: UnsetIdentity.interpretation(text) ?? text, theirs: value)
                }
                // Old PAM records end `(hostname=?, addr=?, terminal=cron res=success)`: the `)` is not the value's.
                if let outcome = golden["result"] as? String, var text = logged("res") {
                    if text.hasSuffix(")") { text.removeLast() }
                    let ours = Outcome(text).map { $0 == .success ? "success" : "fail" } ?? "unknown"
                    result.check("\(name) res=\(text)", ours: ours, theirs: outcome)
                }
            }
        }
        result.report("go-libaudit goldens")
        #expect(result.compared >= 50)
        #expect(result.lines.isEmpty)
    }
}
