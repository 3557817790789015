// libFuzzer target: what the process table reads from outside: its state file (written by the
// daemon, but read back after a crash, a full disk or an edit) and /proc/PID/cgroup files.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). The first byte picks:
// - 0: the rest as a state file, as it is (the checksum rejects most inputs);
// - 1: the rest as a state file's lines with a valid trailer appended, so they reach the line parser;
// - otherwise: the rest as a cgroup file, whole and line by line.
// Errors are values; a Swift trap is a crash to libFuzzer. A decoded file holds no more entries
// than it has `P ` lines.
import AuditProcesses

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcessState(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    switch mode {
    case 0, 1:
        if let count = try? ProcessTable.decodeStateFile(rest, seal: mode == 1) {
            let lines = rest.split(separator: 0x0A).filter { $0.starts(with: [UInt8(ascii: "P"), 0x20]) }.count
            if count > lines { fatalError("\(count) entries from \(lines) P lines") }
        }
    default:
        _ = CgroupParser.identity(ofFile: rest)
        for line in rest.split(separator: 0x0A) {
            if let path = try? CgroupParser.path(ofLine: line) { _ = CgroupParser.identity(ofPath: path) }
        }
    }
    return 0
}
