import AuditTestSupport
import Glibc
import Testing

extension Corpus {
    /// Scenarios of `local/` (see its README).
    static let localScenarios = ["exec", "file_watch", "user_mgmt", "mount", "module", "ptrace", "misc_kernel"]
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
