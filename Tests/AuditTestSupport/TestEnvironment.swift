import Foundation
import Testing

/// Where the tests run and what they may reach.
public enum TestEnvironment {
    /// True under CI (`CI=true`): tests that cannot reach what they need must fail, not skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The repository root (this file is `Tests/AuditTestSupport/TestEnvironment.swift`).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpus` beside the repository: real captures that tests replay, never copied.
    public static let corpusDirectory: URL = repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus")

    /// True when the corpus is there.
    public static var hasCorpus: Bool { FileManager.default.fileExists(atPath: corpusDirectory.path) }

    /// A corpus file's URL; records an issue (fails) when the corpus is missing under CI.
    public static func corpusFile(_ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation) -> URL? {
        let url = corpusDirectory.appendingPathComponent(relativePath)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if isCI {
            Issue.record(
                "corpus file \(url.path) is missing (CI=true: a test must not skip)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// The built `swift-audit` executable next to the test bundle.
    public static var executable: URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("swift-audit"),
            repositoryRoot.appendingPathComponent(".build/debug/swift-audit"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }
}
