import AuditThreads
import Glibc
import Synchronization
import Testing

@Suite struct SystemThreadTests {
    /// The name must reach the kernel exactly: `ps`, `top -H`, `perf` and the `comm=` field of the
    /// thread's own audit records all show what was written, stray bytes included.
    @Test func threadNameIsExactlyTheGivenName() throws {
        let seen = Mutex<[UInt8]>([])
        let thread = try SystemThread.spawn(name: "sa-name-probe") {
            let descriptor = open("/proc/thread-self/comm", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            seen.withLock { $0 = Array(buffer.prefix(max(0, count))) }
        }
        thread.join()
        // The kernel ends what it reports with one newline of its own.
        #expect(String(decoding: seen.withLock { $0 }, as: UTF8.self) == "sa-name-probe\n")
    }

    @Test func longNamesAreCutToFifteenBytes() throws {
        let seen = Mutex<String>("")
        let thread = try SystemThread.spawn(name: "a-thread-name-longer-than-fifteen") {
            let descriptor = open("/proc/thread-self/comm", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            seen.withLock { $0 = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) }
        }
        thread.join()
        #expect(seen.withLock { $0 } == "a-thread-name-l\n")
    }
}
