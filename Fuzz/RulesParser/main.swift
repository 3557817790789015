// libFuzzer target: arbitrary text through the auditctl rules parser, and the blobs it makes
// through the kernel encoding, the decoder and the `auditctl -l` listing.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). Each input is
// parsed as a rules file (`RuleFile(parsing:name:environment:)`, what `rules check`, `rules load`
// and the daemon's `rules_file` run), with an environment that answers every path question
// without touching the file system. For every rule the parser accepts:
// - `encoded()` either throws `RuleEncodingError` or gives a blob that `init(kernelBlob:)` decodes
//   to a rule encoding to the same bytes (the kernel's structure round trip);
// - the listing (`auditctlListing`) is produced and parsed again: it must not trap (whether it
//   parses back is the example-rules test's job, since the listing format is lossy for some rules).
// Each input's raw bytes also go to the blob decoder directly (`init(kernelBlob:)`), as a
// kernel's `AUDIT_LIST_RULES` answer would. Errors are values; a Swift trap is a crash.
//
// Seeds (Fuzz/RulesParser/seeds.sh): the rule files of ../shared/corpus and Debian's example rules.
import AuditRules

let environment = RuleEnvironment(
    machine: .x86_64,
    accounts: AccountDatabase(users: ["root": 0, "alice": 1000], groups: ["root": 0, "wheel": 10]),
    isDirectory: { $0.hasSuffix("/") || $0 == "/etc" },
    pathExists: { !$0.contains("missing") })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    _ = try? AuditRule(kernelBlob: bytes)
    let file = RuleFile(parsing: bytes, name: "fuzz.rules", environment: environment)
    for command in file.commands {
        guard case .addRule(let rule) = command.kind else { continue }
        guard let blob = try? rule.encoded() else { continue }
        do {
            let decoded = try AuditRule(kernelBlob: blob)
            guard let again = try? decoded.encoded(), again == blob else {
                fatalError("blob of \(blob.count) bytes does not survive decode and encode")
            }
        } catch {
            fatalError("an encoded rule does not decode: \(error)")
        }
        let listing = rule.auditctlListing(host: .x86_64)
        _ = RuleFile(parsing: listing, name: "listing", environment: environment)
    }
    return 0
}
