import AuditRules
import AuditTestSupport
import FoundationEssentials
import Testing

/// go-libaudit's rule fixtures in the shared corpus.
extension Corpus {
    static let ruleTestData = "go-libaudit/rule-testdata"

    /// The golden files of go-libaudit's rule tests.
    static let goldenFiles = [
        "01-file-watch-spaces.rules", "20-dont-audit.rules", "22-ignore-chrony.rules", "30-nispom.rules",
        "30-pci-dss-v31.rules", "30-stig.rules", "32-power-abuse.rules", "41-containers.rules", "42-injection.rules",
        "43-module-load.rules", "70-einval.rules", "71-networking.rules",
    ]
}

/// One entry of a go-libaudit golden yml: the rule text go-libaudit wrote and the blob the kernel
/// returned after auditctl loaded it.
struct GoldenRule {
    var text: String
    var blob: [UInt8]
}

/// Reads the `rules:` list of a go-libaudit golden yml (`- flags: …` then a `!!binary |` block).
func goldenRules(_ yml: [UInt8]) throws -> [GoldenRule] {
    var rules: [GoldenRule] = []
    var text: String?
    var base64 = ""
    func flush() throws {
        guard let current = text else { return }
        guard let data = Data(base64Encoded: base64) else { throw GoldenError(message: "bad base64 for \(current)") }
        rules.append(GoldenRule(text: current, blob: Array(data)))
        text = nil
        base64 = ""
    }
    var inBytes = false
    for rawLine in String(decoding: yml, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
        let line = String(rawLine)
        if line.hasPrefix("- flags: ") {
            try flush()
            text = String(line.dropFirst("- flags: ".count))
            inBytes = false
        } else if line.hasPrefix("  bytes:") {
            inBytes = true
        } else if line.hasPrefix("    "), let current = text {
            // A long flags value is folded onto indented lines before `bytes:`.
            if inBytes {
                base64 += line.filter { $0 != " " }
            } else {
                text = current + " " + line.drop { $0 == " " }
            }
        }
    }
    try flush()
    return rules
}

struct GoldenError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The test host: x86_64 (the golden blobs and the auditctl oracle come from x86_64), Debian's
/// base accounts, and a fixed set of directories.
func testEnvironment(machine: AuditMachine = .x86_64, directories: Set<String> = testDirectories) -> RuleEnvironment {
    RuleEnvironment(
        machine: machine,
        accounts: AccountDatabase(
            users: ["root": 0, "daemon": 1, "bin": 2, "sys": 3, "games": 5, "nobody": 65534],
            groups: ["root": 0, "daemon": 1, "bin": 2, "sys": 3, "adm": 4, "games": 60]),
        isDirectory: { directories.contains($0) })
}

/// Directories of the machine the auditctl oracle ran on, for the paths the fixtures use.
let testDirectories: Set<String> = [
    "/", "//", "/etc", "/tmp", "/var/log", "/usr/bin", "/home", "/var/log/audit", "/tmp/../etc",
]

/// Parses one rules-file line in the test environment.
func parseLine(_ line: String, environment: RuleEnvironment = testEnvironment()) -> RuleFile {
    RuleFile(parsing: line, name: "test.rules", environment: environment)
}

/// The single rule a line adds, or a recorded issue.
func parsedRule(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> AuditRule? {
    let file = parseLine(line)
    #expect(file.errors.isEmpty, "\(file.errors)", sourceLocation: sourceLocation)
    guard file.commands.count == 1, case .addRule(let rule) = file.commands[0].kind else {
        Issue.record("expected one rule from \(line), got \(file.commands)", sourceLocation: sourceLocation)
        return nil
    }
    return rule
}

/// Builds a blob from the oracle fixture's sparse notation
/// (`flags/action|M=word:hex,…|F=field:op:value,…|B=hex`), independently of the decoder under test.
func sparseBlob(_ text: Substring) -> [UInt8]? {
    let parts = text.split(separator: "|", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    let head = parts[0].split(separator: "/")
    guard head.count == 2, let flags = UInt32(head[0], radix: 16), let action = UInt32(head[1], radix: 16) else {
        return nil
    }
    var mask = [UInt32](repeating: 0, count: 64)
    let maskText = parts[1].dropFirst(2)
    if maskText == "ALL" {
        mask = [UInt32](repeating: .max, count: 64)
    } else if !maskText.isEmpty {
        for entry in maskText.split(separator: ",") {
            let pair = entry.split(separator: ":")
            guard pair.count == 2, let index = Int(pair[0]), index < 64, let word = UInt32(pair[1], radix: 16) else {
                return nil
            }
            mask[index] = word
        }
    }
    var fields: [UInt32] = []
    var ops: [UInt32] = []
    var values: [UInt32] = []
    let fieldText = parts[2].dropFirst(2)
    if !fieldText.isEmpty {
        for entry in fieldText.split(separator: ",") {
            let triple = entry.split(separator: ":")
            guard triple.count == 3, let field = UInt32(triple[0]), let op = UInt32(triple[1], radix: 16),
                let value = UInt32(triple[2], radix: 16)
            else { return nil }
            fields.append(field)
            ops.append(op)
            values.append(value)
        }
    }
    var buffer: [UInt8] = []
    var hex = Array(parts[3].dropFirst(2).utf8)
    while hex.count >= 2 {
        guard let byte = UInt8(String(decoding: hex[0..<2], as: UTF8.self), radix: 16) else { return nil }
        buffer.append(byte)
        hex.removeFirst(2)
    }
    var out: [UInt8] = []
    func put(_ value: UInt32) {
        out.append(UInt8(value & 0xFF))
        out.append(UInt8(value >> 8 & 0xFF))
        out.append(UInt8(value >> 16 & 0xFF))
        out.append(UInt8(value >> 24))
    }
    put(flags)
    put(action)
    put(UInt32(fields.count))
    mask.forEach(put)
    for table in [fields, values, ops] {
        for index in 0..<64 { put(index < table.count ? table[index] : 0) }
    }
    put(UInt32(buffer.count))
    out.append(contentsOf: buffer)
    return out
}

/// A kernel blob as the kernel returns it: mask class bits cleared, padded to 4 bytes.
func kernelForm(_ blob: [UInt8]) -> [UInt8] {
    var copy = blob
    // mask[63] is at byte 12 + 63 * 4; keep its low 16 bits.
    copy[12 + 63 * 4 + 2] = 0
    copy[12 + 63 * 4 + 3] = 0
    while copy.count % 4 != 0 { copy.append(0) }
    return copy
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}
