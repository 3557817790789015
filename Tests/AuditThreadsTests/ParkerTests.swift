import AuditSystem
import AuditThreads
import Glibc
import Synchronization
import Testing

@Suite struct ParkerTests {
    private static func now() -> UInt64 { SystemClock.monotonicNanoseconds() }

    @Test func aPermitGivenBeforeTheWaitIsTakenAtOnce() {
        let parker = Parker()
        parker.unpark()
        // A far deadline: a lost permit would show as a ten-second wait and a false result.
        let start = Self.now()
        #expect(parker.park(untilMonotonicNanoseconds: start + 10_000_000_000))
        #expect(Self.now() - start < 5_000_000_000)
    }

    @Test func thePermitIsConsumedAndSeveralUnparksMakeOne() {
        let parker = Parker()
        parker.unpark()
        parker.unpark()
        #expect(parker.park(untilMonotonicNanoseconds: Self.now() + 10_000_000_000))
        let start = Self.now()
        #expect(!parker.park(untilMonotonicNanoseconds: start + 20_000_000))
        #expect(Self.now() - start >= 20_000_000)
    }

    @Test func aPermitIsTakenEvenWhenTheDeadlineHasPassed() {
        let parker = Parker()
        parker.unpark()
        #expect(parker.park(untilMonotonicNanoseconds: 0))
        #expect(!parker.park(untilMonotonicNanoseconds: 0))
    }

    /// A waiting thread must sleep in the kernel, not spin: a parker whose wait returned at once
    /// would still pass the timing tests above, at the cost of a whole CPU.
    @Test func aParkedThreadSleepsRatherThanSpins() {
        func threadCPUNanoseconds() -> UInt64 {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
        }
        let parker = Parker()
        let cpuBefore = threadCPUNanoseconds()
        let start = Self.now()
        #expect(!parker.park(untilMonotonicNanoseconds: start + 200_000_000))
        #expect(Self.now() - start >= 200_000_000)
        #expect(threadCPUNanoseconds() - cpuBefore < 50_000_000, "200 ms of waiting must not burn the CPU")
    }

    /// Without a deadline (how the ring's consumer waits when idle) the thread sleeps until the
    /// permit comes from another thread.
    @Test func aParkWithoutDeadlineEndsWithTheUnpark() throws {
        let parker = Parker()
        let woken = Atomic<Int>(0)
        let waiter = try SystemThread.spawn(name: "parker-nil") {
            woken.store(parker.park(untilMonotonicNanoseconds: nil) ? 1 : 2, ordering: .releasing)
        }
        SystemClock.sleep(milliseconds: 20)
        #expect(woken.load(ordering: .acquiring) == 0, "no permit yet: still waiting")
        parker.unpark()
        let deadline = Self.now() + 5_000_000_000
        while woken.load(ordering: .acquiring) == 0, Self.now() < deadline {
            SystemClock.sleep(milliseconds: 1)
        }
        let outcome = woken.load(ordering: .acquiring)
        #expect(outcome == 1)
        if outcome == 0 { waiter.detach() } else { waiter.join() }
    }

    /// Two threads hand a token back and forth through two parkers, many times: a wake-up lost
    /// between one side's check and its sleep shows as a park that timed out, and ends the test.
    @Test func handOversBetweenTwoThreadsAreNeverLost() throws {
        let rounds = 20_000
        let patience: UInt64 = 2_000_000_000
        let toWorker = Parker()
        let toMain = Parker()
        let token = Atomic<Int>(0)
        let lost = Atomic<Bool>(false)
        let worker = try SystemThread.spawn(name: "parker-probe") {
            for round in 0..<rounds {
                while token.load(ordering: .acquiring) != 2 * round + 1 {
                    if lost.load(ordering: .relaxed) { return }
                    if !toWorker.park(untilMonotonicNanoseconds: SystemClock.monotonicNanoseconds() + patience) {
                        lost.store(true, ordering: .relaxed)
                        toMain.unpark()
                        return
                    }
                }
                token.store(2 * round + 2, ordering: .releasing)
                toMain.unpark()
            }
        }
        var completed = 0
        rounds: for round in 0..<rounds {
            token.store(2 * round + 1, ordering: .releasing)
            toWorker.unpark()
            while token.load(ordering: .acquiring) != 2 * round + 2 {
                if lost.load(ordering: .relaxed) || !toMain.park(untilMonotonicNanoseconds: Self.now() + patience) {
                    lost.store(true, ordering: .relaxed)
                    toWorker.unpark()
                    break rounds
                }
            }
            completed += 1
        }
        worker.join()
        let wasLost = lost.load(ordering: .relaxed)
        #expect(!wasLost)
        #expect(completed == rounds)
    }
}
