import AuditThreads
import Glibc
import Testing

/// Resident pages of the running test program's own file mappings, from /proc/self/smaps.
private func residentProgramKiB() throws -> Int {
    var target = [UInt8](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &target, target.count)
    try #require(length > 0)
    let executable = String(decoding: target[0..<length], as: UTF8.self)
    guard let file = fopen("/proc/self/smaps", "r") else { throw SmapsUnreadable() }
    defer { fclose(file) }
    var total = 0
    var inProgram = false
    var line = [CChar](repeating: 0, count: 8192)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        if let first = fields.first, first.contains("-"), !first.hasSuffix(":") {
            inProgram = fields.last.map { $0.hasSuffix("\n") ? String($0.dropLast()) : String($0) } == executable
        } else if inProgram, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
            total += kib
        }
    }
    return total
}

private struct SmapsUnreadable: Error {}

@Suite struct ProgramPagesTests {
    /// Run in the test program itself: it has code pages resident (it is running them), they
    /// must leave the resident set, and the program must go on running (the pages come back from
    /// the page cache on use).
    @Test func releasingDropsResidentCodeAndTheProgramRunsOn() throws {
        let before = try residentProgramKiB()
        let released = ProgramPages.releaseResidentCode()
        let after = try residentProgramKiB()
        #expect(released > 0)
        #expect(after < before, "resident KiB of the program's mappings: \(before) before, \(after) after")
        // The code that just ran again (smaps reading) came back from the page cache.
        #expect(ProgramPages.releaseResidentCode() == released, "the same segments each time")
    }
}
