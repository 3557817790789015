import Glibc
import Testing

/// Where the shared corpus lives (`<repo>/../shared/corpus`) and how tests get at its files.
///
/// The path comes from `#filePath` with symlinks resolved, so it works both in the repository and
/// in a scratch package that links the test folder.
enum Corpus {
    /// The corpus root, or nil when it is not there.
    static let root: String? = {
        let file = resolved(#filePath)
        // <repo>/Tests/AuditEventsTests/Support/Corpus.swift -> <repo>
        var repo = file
        for _ in 0..<4 { repo = parent(of: repo) }
        let candidate = parent(of: repo) + "/shared/corpus"
        return isDirectory(candidate) ? candidate : nil
    }()

    /// True when CI=true: a missing corpus is then a failure, not a skip.
    static let isCI: Bool = {
        guard let value = getenv("CI") else { return false }
        return String(cString: value) == "true"
    }()

    /// Tests that need the corpus run when it is there, and also in CI (where they then fail).
    static let shouldRun = root != nil || isCI

    /// The reason shown when such a test is skipped.
    static let skipReason: Comment = "shared corpus not found at <repo>/../shared/corpus (set CI=true to fail instead)"

    /// The corpus root; records an issue when missing.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard let root else {
            Issue.record("shared corpus missing at <repo>/../shared/corpus", sourceLocation: sourceLocation)
            return nil
        }
        return root
    }

    /// Scenarios of `local/` (see its README).
    static let localScenarios = ["exec", "file_watch", "user_mgmt", "mount", "module", "ptrace", "misc_kernel"]

    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

/// Reads a whole file; records an issue and returns nil when it cannot.
func readFile(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        Issue.record("cannot open \(path): errno \(errno)", sourceLocation: sourceLocation)
        return nil
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            Issue.record("cannot read \(path): errno \(errno)", sourceLocation: sourceLocation)
            return nil
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// Splits bytes into lines at `\n` (no line terminator kept; a final empty piece is dropped).
func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    var result = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if result.last?.isEmpty == true { result.removeLast() }
    return result
}

/// A temporary file path that is removed by the caller.
func temporaryPath(_ tag: String) -> String {
    var template = Array("/tmp/swift-audit-\(tag)-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    if fd >= 0 { close(fd) }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Replaces a file's content; false on failure.
func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
}
