import Foundation
import Glibc

/// Where the tests run and what they may reach.
public enum TestEnvironment {
    /// True under CI (`CI=true`): tests that cannot reach what they need must fail, not skip.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The repository root, from this file's real path (`Tests/AuditTestSupport/TestEnvironment.swift`;
    /// symbolic links resolved, so a scratch package that links the test folders finds the same one).
    public static let repositoryRoot: URL = {
        var path = #filePath
        if let resolved = realpath(path, nil) {
            path = String(cString: resolved)
            free(resolved)
        }
        return URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }()

    /// The built `swift-audit` executable next to the test bundle.
    public static var executable: URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("swift-audit"),
            repositoryRoot.appendingPathComponent(".build/debug/swift-audit"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }
}

/// The shared test corpus, `<repo>/../shared/corpus`: real captures, logs and rule files that tests
/// read in place and never copy. Tests that read it carry `.requires(.corpus)`.
public enum Corpus {
    /// The corpus root (whether or not it is there).
    public static let directory: String = TestEnvironment.repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/corpus").path

    /// True when the corpus is there.
    public static var isAvailable: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// The absolute path of a corpus file (`local/exec.unicast.bin`).
    public static func path(_ relativePath: String) -> String { directory + "/" + relativePath }

    /// The bytes of a corpus file; throws (the test fails) when it cannot be read.
    public static func read(_ relativePath: String) throws -> [UInt8] {
        let path = path(relativePath)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestRequirement.Missing(description: "cannot read corpus file \(path)")
        }
        return Array(data)
    }
}
