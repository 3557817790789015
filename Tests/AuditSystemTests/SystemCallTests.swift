import AuditSystem
import Glibc
import Synchronization
import Testing

/// Signals caught by the test handler (installed without SA_RESTART, so a blocked read fails
/// with EINTR instead of being restarted by the kernel).
private let interruptions = Atomic<Int>(0)

private func installInterruptingHandler(_ signal: Int32) {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in interruptions.add(1, ordering: .relaxed) }
    action.sa_flags = 0
    sigemptyset(&action.sa_mask)
    sigaction(signal, &action, nil)
}

/// A started POSIX thread running `body`.
private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    var thread = pthread_t()
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let result = pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box)
    precondition(result == 0, "pthread_create failed")
    return thread
}

private func makePipe() throws -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw Errno.current }
    return (ends[0], ends[1])
}

@Suite(.serialized) struct SystemCallTests {
    @Test func aCallThatFailsWithEINTRIsRepeatedUntilItSucceeds() throws {
        var calls = 0
        let result = try SystemCall.retryingOnInterrupt { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42)
        #expect(calls == 3)
    }

    @Test func aCallThatFailsWithAnotherErrnoThrowsThatErrnoAtOnce() {
        var calls = 0
        #expect(throws: Errno(rawValue: EBADF)) {
            _ = try SystemCall.retryingOnInterrupt { () -> Int32 in
                calls += 1
                errno = EBADF
                return -1
            }
        }
        #expect(calls == 1)
    }

    @Test func aBlockingReadInterruptedBySignalsGoesOnAndReturnsTheData() throws {
        installInterruptingHandler(SIGUSR2)
        defer { signal(SIGUSR2, SIG_DFL) }
        let (readEnd, writeEnd) = try makePipe()
        defer {
            SystemCall.close(readEnd)
            SystemCall.close(writeEnd)
        }
        let readerThread = Mutex<pthread_t?>(nil)
        let outcome = Mutex<Result<[UInt8], Errno>?>(nil)
        let before = interruptions.load(ordering: .relaxed)
        let reader = spawn {
            var unblocked = sigset_t()
            sigemptyset(&unblocked)
            sigaddset(&unblocked, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)  // the test runner's threads may block it
            readerThread.withLock { $0 = pthread_self() }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
            defer { buffer.deallocate() }
            let result = Result { () throws(Errno) in
                let count = try SystemCall.read(readEnd, into: buffer)
                return Array(buffer.prefix(count))
            }
            outcome.withLock { $0 = result }
        }
        while readerThread.withLock({ $0 }) == nil { usleep(1000) }
        let target = readerThread.withLock { $0 }!
        // Interrupt the blocked read several times before any data arrives.
        for _ in 0..<5 {
            usleep(20_000)
            pthread_kill(target, SIGUSR2)
        }
        usleep(20_000)
        #expect(outcome.withLock { $0 } == nil, "the read returned before data arrived")
        let byte: [UInt8] = [0x78]
        _ = byte.withUnsafeBytes { SystemCall.writeAll(writeEnd, $0) }
        pthread_join(reader, nil)
        #expect(interruptions.load(ordering: .relaxed) - before >= 5)
        #expect(outcome.withLock { $0 } == .success([0x78]))
    }

    @Test func writeAllContinuesAfterShortWrites() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer {
            SystemCall.close(readEnd)
            SystemCall.close(writeEnd)
        }
        let payload = Array("a line that goes out three bytes at a time\n".utf8)
        var calls = 0
        let (written, error) = payload.withUnsafeBytes { bytes in
            SystemCall.writeAll(bytes) { (rest) throws(Errno) in
                calls += 1
                return try SystemCall.write(writeEnd, UnsafeRawBufferPointer(rebasing: rest.prefix(3)))
            }
        }
        #expect(written == payload.count)
        #expect(error == nil)
        #expect(calls == (payload.count + 2) / 3)
        var received = [UInt8](repeating: 0, count: 256)
        let count = try received.withUnsafeMutableBytes { try SystemCall.read(readEnd, into: $0) }
        #expect(Array(received.prefix(count)) == payload)
    }

    @Test func writeAllOnAFullNonBlockingPipeWaitsForTheReaderAndWritesEverything() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { SystemCall.close(readEnd) }
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let received = Mutex<[UInt8]>([])
        let reader = spawn {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 10_000, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                usleep(200)  // slower than the writer, so the pipe fills and writes come back short
                guard let count = try? SystemCall.read(readEnd, into: buffer), count > 0 else { return }
                received.withLock { $0.append(contentsOf: buffer.prefix(count)) }
            }
        }
        var shortWrites = 0
        let (written, error) = payload.withUnsafeBytes { bytes in
            SystemCall.writeAll(bytes, waitingOn: writeEnd, stallMilliseconds: 10_000) { (rest) throws(Errno) in
                let count = try SystemCall.write(writeEnd, rest)
                if count < rest.count { shortWrites += 1 }
                return count
            }
        }
        SystemCall.close(writeEnd)
        pthread_join(reader, nil)
        #expect(error == nil)
        #expect(written == payload.count)
        #expect(shortWrites > 0)
        #expect(received.withLock { $0 } == payload)
    }

    @Test func writeAllStopsWithEAGAINWhenNobodyMakesRoomInTime() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer {
            SystemCall.close(readEnd)
            SystemCall.close(writeEnd)
        }
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
        let payload = [UInt8](repeating: 0x61, count: 4 << 20)
        let (written, error) = payload.withUnsafeBytes { bytes in
            SystemCall.writeAll(bytes, waitingOn: writeEnd, stallMilliseconds: 30) { (rest) throws(Errno) in
                try SystemCall.write(writeEnd, rest)
            }
        }
        #expect(error == Errno(rawValue: EAGAIN))
        #expect(written > 0 && written < payload.count)
    }

    @Test func aWriteThatTakesNothingStopsWriteAllWithTheNoProgressErrno() {
        let payload: [UInt8] = [1, 2, 3]
        let (written, error) = payload.withUnsafeBytes { bytes in
            SystemCall.writeAll(bytes, noProgress: Errno(rawValue: EPIPE)) { (_) throws(Errno) in 0 }
        }
        #expect(written == 0)
        #expect(error == Errno(rawValue: EPIPE))
    }

    @Test func writeAllReportsTheErrnoAndHowFarItGot() throws {
        let (readEnd, writeEnd) = try makePipe()
        SystemCall.close(readEnd)
        defer { SystemCall.close(writeEnd) }
        SystemCall.blockBrokenPipeSignal()
        let payload: [UInt8] = [1, 2, 3]
        let (written, error) = payload.withUnsafeBytes { SystemCall.writeAll(writeEnd, $0) }
        #expect(written == 0)
        #expect(error == Errno(rawValue: EPIPE))
    }

    @Test func openingAMissingFileThrowsENOENT() {
        #expect(throws: Errno(rawValue: ENOENT)) {
            _ = try SystemCall.open("/nonexistent/swift-audit-test", O_RDONLY | O_CLOEXEC)
        }
    }
}
