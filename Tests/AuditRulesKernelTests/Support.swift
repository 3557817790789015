import AuditNetlink
import AuditRules
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// Paths and tools the rule-loading tests use.
enum RulesTestSupport {
    /// `scripts/auditctl-oracle/kernel-rejects.rules` of this repository.
    static let kernelRejectsFile = TestEnvironment.repositoryRoot.path + "/scripts/auditctl-oracle/kernel-rejects.rules"

    /// go-libaudit's rule fixtures in the corpus.
    static let goLibauditRules = Corpus.path("go-libaudit/rule-testdata")

    /// Runs auditctl with arguments.
    static func runAuditctl(_ arguments: [String]) throws -> ProcessOutput {
        try TestRequirement.auditctl.check()
        return try runProcess(HostTools.auditctl ?? "auditctl", arguments)
    }

    /// The running system's rule environment (the host must have a syscall table).
    static func systemEnvironment(sourceLocation: SourceLocation = #_sourceLocation) throws -> RuleEnvironment {
        try #require(RuleEnvironment.system(), "this machine has no syscall table", sourceLocation: sourceLocation)
    }

    /// A loader that can never lock the kernel or make it panic: `-e 2`, `-f 2` and
    /// `--loginuid-immutable` are errors.
    static func safeLoader(_ environment: RuleEnvironment) -> RuleLoader {
        RuleLoader(environment: environment, options: .init(sensitiveCommands: .refuse))
    }

    /// `auditctl -l` text for blobs, computed by the library (what `swift-audit rules list` prints).
    static func listing(_ blobs: [[UInt8]], host: AuditMachine) throws -> String {
        if blobs.isEmpty { return "No rules\n" }
        return try blobs.map { try AuditRule(kernelBlob: $0).auditctlListing(host: host) + "\n" }.joined()
    }

    /// Writes text to a file (mode 0644: the loader refuses world-writable rule files).
    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
    }
}

/// Makes a real-world rules file loadable on any test machine, the same way for auditctl and for
/// swift-audit, and says what it changed.
///
/// - Lines that would lock the kernel or make it panic (`-e 2`, `-f 2`, `--loginuid-immutable`) are
///   dropped: a test must never send them.
/// - Quoted watch paths (`-w "/a b"`, a go-libaudit extension auditctl rejects) become
///   backslash-escaped (`-w /a\ b`), which both accept.
/// - Absolute paths of `-w`, `-W`, `-F path=`, `dir=` and `exe=` move under `root` (as go-libaudit's
///   own test did under /tmp/audit-test), and their directories are created: the kernel refuses a
///   watch whose parent directory is missing (ENOENT) and a `dir=` watch whose directory is. A path
///   that is a directory on this machine, or written with a trailing slash, becomes a directory
///   there too, so file and directory watches both stay covered.
struct RuleFileRewriter {
    let root: String
    var dropped: [String] = []
    var directories: Set<String> = []

    init(root: String) { self.root = root }

    mutating func rewrite(_ text: String) -> String {
        var lines: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let words = Self.words(line)
            if words.first?.hasPrefix("#") == true || words.isEmpty {
                lines.append(line)
                continue
            }
            if Self.isUnsafe(words) {
                dropped.append(line)
                continue
            }
            var out: [String] = []
            var previous = ""
            for word in words {
                out.append(rewriteWord(word, after: previous))
                previous = word
            }
            lines.append(out.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// True for lines a test must never send.
    static func isUnsafe(_ words: [String]) -> Bool {
        for (index, word) in words.enumerated() {
            if word.hasPrefix("--loginuid") { return true }
            if word == "-e2" || word == "-f2" { return true }
            if (word == "-e" || word == "-f"), index + 1 < words.count, words[index + 1] == "2" { return true }
        }
        return false
    }

    /// Splits on unescaped spaces; a quoted word becomes one word with `\ ` for its spaces.
    static func words(_ line: String) -> [String] {
        var result: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        var inWord = false
        for character in line {
            if let open = quote {
                if character == open {
                    quote = nil
                } else {
                    current += character == " " ? "\\ " : String(character)
                }
                continue
            }
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\":
                current.append(character)
                escaped = true
                inWord = true
            case " ":
                if inWord { result.append(current) }
                current = ""
                inWord = false
            case "\"" where !inWord || current.hasSuffix("="), "'" where !inWord || current.hasSuffix("="):
                quote = character
                inWord = true
            default:
                current.append(character)
                inWord = true
            }
        }
        if inWord { result.append(current) }
        return result
    }

    private mutating func rewriteWord(_ word: String, after previous: String) -> String {
        if previous == "-w" || previous == "-W" { return movePath(word, isDirectoryField: false) }
        for prefix in ["path=", "dir=", "exe="] where word.hasPrefix(prefix) {
            let value = String(word.dropFirst(prefix.count))
            return prefix + movePath(value, isDirectoryField: prefix == "dir=")
        }
        return word
    }

    private mutating func movePath(_ escaped: String, isDirectoryField: Bool) -> String {
        guard escaped.hasPrefix("/") else { return escaped }
        let original = escaped.replacingOccurrences(of: "\\ ", with: " ")
        let moved = root + original
        var trimmed = moved
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        var isDirectory: ObjCBool = false
        let hostDirectory =
            FileManager.default.fileExists(atPath: original, isDirectory: &isDirectory) && isDirectory.boolValue
        if isDirectoryField || original.hasSuffix("/") || hostDirectory {
            directories.insert(trimmed)
        } else {
            directories.insert((trimmed as NSString).deletingLastPathComponent)
        }
        return root + escaped
    }

    /// Creates the directories the rewritten paths need.
    func createDirectories() throws {
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }
}
