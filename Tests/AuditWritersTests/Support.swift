import AuditEncoding
import AuditTestSupport
import AuditWriters
import Glibc
import Synchronization
import Testing

/// The whole content of `path`, or nil when it cannot be opened.
func readFile(_ path: String) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        content.append(contentsOf: chunk[0..<count])
    }
    return content
}

/// Splits on newlines; a last piece without a newline is returned as `torn`.
func splitLines(_ bytes: [UInt8]) -> (lines: [[UInt8]], torn: [UInt8]) {
    var lines: [[UInt8]] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
        lines.append(Array(bytes[start..<index]))
        start = index + 1
    }
    return (lines, Array(bytes[start...]))
}

/// The line for event `number`: `{"n":NUMBER,"pad":"xxx…"}` padded to about `size` bytes.
func eventLine(_ number: Int, size: Int = 100) -> [UInt8] {
    let head = "{\"n\":\(number),\"pad\":\""
    let pad = String(repeating: "x", count: max(0, size - head.utf8.count - 2))
    return Array((head + pad + "\"}").utf8)
}

/// The number in a line made by `eventLine`, or nil when the line is not one of ours.
func eventNumber(_ line: [UInt8]) -> Int? {
    let prefix = Array("{\"n\":".utf8)
    guard line.starts(with: prefix), line.last == UInt8(ascii: "}") else { return nil }
    var value = 0
    var index = prefix.count
    guard index < line.count, (48...57).contains(line[index]) else { return nil }
    while index < line.count, (48...57).contains(line[index]) {
        value = value * 10 + Int(line[index] - 48)
        index += 1
    }
    guard index < line.count, line[index] == UInt8(ascii: ",") else { return nil }
    return line == eventLine(value, size: line.count) ? value : nil
}

/// The numbers of every line in `path`, checking that the file ends on a line boundary.
func eventNumbers(inFile path: String) -> (numbers: [Int], torn: Int, foreign: Int)? {
    guard let content = readFile(path) else { return nil }
    let (lines, torn) = splitLines(content)
    var numbers: [Int] = []
    var foreign = 0
    for line in lines {
        if let number = eventNumber(line) { numbers.append(number) } else { foreign += 1 }
    }
    return (numbers, torn.count, foreign)
}

/// Whether `numbers` is exactly `range`, in order (a Bool, so a failure does not print 20 000
/// numbers).
func isExactly(_ numbers: [Int]?, _ range: Range<Int>) -> Bool {
    guard let numbers else { return false }
    return numbers.elementsEqual(range)
}

func items(_ range: Range<Int>, size: Int = 100) -> [OutputItem] {
    range.map { OutputItem(line: eventLine($0, size: size)) }
}

func monotonicMilliseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
}

func permissionBits(_ path: String) -> UInt32? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return UInt32(status.st_mode & 0o7777)
}

func exists(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0
}

/// Collects the notices a worker delivers.
final class NoticeLog: Sendable {
    private let notices = Mutex<[WriterNotice]>([])

    var handler: @Sendable (WriterNotice) -> Void {
        { notice in self.notices.withLock { $0.append(notice) } }
    }

    var all: [WriterNotice] { notices.withLock { $0 } }

    var failures: [WriterError] {
        all.compactMap { if case .failing(_, let error) = $0 { error } else { nil } }
    }

    var recoveries: [(dropped: Int, failedWrites: Int)] {
        all.compactMap {
            if case .recovered(_, let dropped, let failed, _) = $0 { (dropped, failed) } else { nil }
        }
    }
}

/// Checks the counters' accounting identity: every offered item is in exactly one bucket.
func expectBalanced(_ counters: WriterCounters, offered: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(counters.enqueued + counters.dropped == offered, "\(counters)", sourceLocation: sourceLocation)
    #expect(
        counters.enqueued == counters.written + counters.rejected + counters.droppedAtShutdown + counters.queued,
        "\(counters)", sourceLocation: sourceLocation)
}

/// A tmpfs of `kilobytes` mounted on a fresh directory (root only); `unmount()` removes it.
struct SmallFilesystem {
    let directory: TemporaryDirectory

    init(kilobytes: Int) throws {
        directory = try TemporaryDirectory()
        let result = mount("tmpfs", directory.path, "tmpfs", 0, "size=\(kilobytes)k,mode=0700")
        if result != 0 {
            let code = errno
            directory.remove()
            try #require(result == 0, "mount tmpfs failed: errno \(code)")
        }
    }

    func resize(kilobytes: Int) -> Bool {
        mount("tmpfs", directory.path, "tmpfs", UInt(MS_REMOUNT), "size=\(kilobytes)k") == 0
    }

    func setReadOnly(_ readOnly: Bool) -> Bool {
        mount("tmpfs", directory.path, "tmpfs", UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0), nil) == 0
    }

    func unmount() {
        _ = umount2(directory.path, Int32(MNT_DETACH))
        rmdir(directory.path)
    }
}
