import AuditSystem
import Foundation
import Glibc
import Testing

@Suite struct ErrnoTests {
    @Test func anErrnoHasItsSymbolicNameAndTheSystemsMessage() {
        let error = Errno(rawValue: EACCES)
        #expect(error.name == "EACCES")
        #expect(error.message == "Permission denied")
        #expect(error.description == "EACCES (Permission denied)")
    }

    @Test func namesComeFromTheKernelsWholeErrnoList() {
        #expect(Errno(rawValue: ENOSPC).name == "ENOSPC")
        #expect(Errno(rawValue: EDQUOT).name == "EDQUOT")
        #expect(Errno(rawValue: ECONNREFUSED).name == "ECONNREFUSED")
        #expect(Errno(rawValue: EHWPOISON).name == "EHWPOISON")
    }

    @Test func aNumberWithoutANameIsDescribedByItsMessageAlone() {
        let error = Errno(rawValue: 4095)
        #expect(error.name == nil)
        #expect(error.description == error.message)
        #expect(error.message.contains("4095"))
    }

    @Test func namesAndAliasesLeadBackToTheirNumbersWhateverTheCase() {
        #expect(Errno.number(named: "EPERM") == EPERM)
        #expect(Errno.number(named: "ewouldblock") == EAGAIN)
        #expect(Errno.number(named: "EDEADLOCK") == EDEADLK)
        #expect(Errno.number(named: "ENOTANERRNO") == nil)
    }

    @Test func aFailedCallLeavesItsErrnoAsTheCurrentOne() {
        #expect(close(-1) == -1)
        #expect(Errno.current == Errno(rawValue: EBADF))
    }
}

@Suite struct CapabilityTests {
    static let status = "Name:\tswift-audit\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"

    @Test func theEffectiveSetIsReadFromTheCapEffLine() {
        let text = Self.status + "CapEff:\t0000000040000000\nCapBnd:\t000001ffffffffff\n"
        let mask = ProcFS.effectiveCapabilities(status: text)
        #expect(mask == 0x4000_0000)
        #expect(Capability.auditControl.isHeld(in: mask))
        #expect(!Capability.auditRead.isHeld(in: mask))
        #expect(!Capability.netAdmin.isHeld(in: mask))
    }

    @Test func anEmptyEffectiveSetHoldsNothing() {
        let mask = ProcFS.effectiveCapabilities(status: "CapEff:\t0000000000000000\n")
        #expect(mask == 0)
        #expect(!Capability.auditControl.isHeld(in: mask))
    }

    @Test func anUnparsableCapEffLineIsUnknownAndUnknownCountsAsHeld() {
        let mask = ProcFS.effectiveCapabilities(status: Self.status + "CapEff:\tnot-hex\n")
        #expect(mask == nil)
        #expect(Capability.auditControl.isHeld(in: mask))
    }

    @Test func aStatusWithoutCapEffIsUnknownAndUnknownCountsAsHeld() {
        let mask = ProcFS.effectiveCapabilities(status: Self.status)
        #expect(mask == nil)
        #expect(Capability.auditRead.isHeld(in: mask))
    }

    @Test func thisProcessHasAnEffectiveSetThatMatchesItsStatusFile() throws {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("CapEff:") })
        let expected = UInt64(line.split(separator: "\t").last!, radix: 16)
        #expect(ProcFS.effectiveCapabilities() == expected)
        #expect(Capability.auditControl.isEffective == Capability.auditControl.isHeld(in: expected))
    }
}

@Suite struct ProcessAndFileTests {
    @Test func theProcessNameOfThisProcessIsItsCommWithoutTheNewline() throws {
        let comm = try String(contentsOfFile: "/proc/self/comm", encoding: .utf8)
        let name = try #require(ProcFS.processName(UInt32(getpid())))
        #expect(name + "\n" == comm)
        #expect(!name.isEmpty)
    }

    @Test func pidZeroAndMissingProcessesHaveNoName() {
        #expect(ProcFS.processName(0) == nil)
        #expect(ProcFS.processName(UInt32(Int32.max)) == nil)
    }

    @Test func aProcFileIsReadWholeThoughItsSizeSaysZero() throws {
        let bytes = try SystemFile.read(path: "/proc/self/status")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("Name:"))
        #expect(text.contains("\nCapEff:"))
        #expect(text.hasSuffix("\n"))
    }

    @Test func aFileLargerThanTheLimitIsRefused() {
        #expect(throws: SystemFile.ReadError.tooLarge(limit: 16)) {
            _ = try SystemFile.read(path: "/proc/self/status", limit: 16)
        }
    }

    @Test func aFileLargerThanTheFirstBufferIsReadWhole() throws {
        let path = "/tmp/swift-audit-systemfile-\(getpid())"
        let content = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        #expect(try SystemFile.read(path: path) == content)
        #expect(throws: SystemFile.ReadError.tooLarge(limit: 99_999)) {
            _ = try SystemFile.read(path: path, limit: 99_999)
        }
    }

    @Test func aMissingFileFailsToOpenWithENOENT() {
        #expect(throws: SystemFile.ReadError.open(Errno(rawValue: ENOENT))) {
            _ = try SystemFile.read(path: "/nonexistent/swift-audit-test")
        }
        #expect(SystemFile.readText(path: "/nonexistent/swift-audit-test") == nil)
    }
}

@Suite struct SystemClockTests {
    @Test func theMonotonicClockNeverGoesBackAndSleepLastsAtLeastItsTime() {
        let start = SystemClock.monotonicNanoseconds()
        SystemClock.sleep(milliseconds: 20)
        let end = SystemClock.monotonicNanoseconds()
        #expect(end >= start + 20_000_000)
        #expect(SystemClock.monotonicMilliseconds() >= end / 1_000_000)
    }

    @Test func aDeadlineLiesAheadByItsMillisecondsAndNoneMeansNoLimit() {
        let now = SystemClock.monotonicNanoseconds()
        let deadline = SystemClock.deadline(afterMilliseconds: 1000)!
        #expect(deadline >= now + 1_000_000_000)
        #expect(SystemClock.deadline(afterMilliseconds: nil) == nil)
        #expect(SystemClock.deadline(afterMilliseconds: -1) == nil)
    }

    @Test func theWallClockAgreesWithTimeOfDay() {
        let before = UInt64(time(nil))
        let now = SystemClock.realtime()
        #expect(now.seconds >= before && now.seconds <= before + 1)
        #expect(now.milliseconds < 1000)
        let milliseconds = SystemClock.realtimeMilliseconds()
        #expect(milliseconds / 1000 >= now.seconds && milliseconds / 1000 <= now.seconds + 1)
    }
}
