/// The reader's decisions between system calls: receive again at once, nap, wait in `poll`, or
/// stop (see `KernelReader.run()`).
///
/// A pure value: `run()` makes the system calls and copies the datagrams, reports each outcome
/// here (a receive, a nap, a wait), and does what the returned `Action` says. Every event returns
/// the next action; after a nap or a wait it is always `.receive` or `.stop`.
///
/// The states, in the words of the loop:
/// - **busy**: a receive brought a whole batch (or `ENOBUFS`); receive again at once.
/// - **napping**: the socket ran dry after traffic; nap, counting the naps without traffic, and
///   wait in `poll` (**idle**) after `idleNaps` of them.
/// - **draining**: a nap ended with kauditd waiting for room; receive without napping until the
///   socket is empty.
/// - **finishing**: the daemon asked to stop; receive until the socket stays quiet, then stop.
///
/// It allocates nothing. `run()` consults it once per receive, nap or wait, and per datagram only
/// to note a record that reached the spill buffer (`recordSpilled()`, one store).
package struct ReaderSchedule {
    /// What one receive produced.
    package enum ReceiveOutcome: Hashable, Sendable, CaseIterable {
        /// A whole batch: more is probably queued.
        case full
        /// Fewer datagrams than a batch: the socket was empty at that moment.
        case short
        /// Nothing was queued.
        case empty
        /// The receive failed (other than `ENOBUFS`). Counts as an empty socket: a broken socket
        /// naps and then waits in `poll` rather than spinning.
        case failed
        /// `ENOBUFS`: the socket overflowed and the kernel dropped records; more is queued.
        case overflow

        /// Whether the socket ran dry with this receive (short, empty or failed): the end of a
        /// burst, when the processing stage is woken for whatever is left.
        package var ranDry: Bool {
            switch self {
            case .short, .empty, .failed: true
            case .full, .overflow: false
            }
        }
    }

    /// What the reader does next.
    package enum Action: Hashable, Sendable {
        /// Receive again at once.
        case receive
        /// Nap (`KernelReader.napMicroseconds(socketBufferBytes:)`), with the socket's buffer
        /// lowered to the nap buffer during the nap if `lowerBuffer`; then report `napped`.
        case nap(lowerBuffer: Bool)
        /// Finishing: wait until the socket is readable or has stayed quiet for
        /// `KernelReader.quietBeforeStopMilliseconds`; then report `waitedBeforeStop`.
        case waitUntilQuiet
        /// Idle: release the spill buffer's pages if `releaseSpill`, then wait in `poll` for at
        /// most the idle wake interval; then report `waitedIdle`.
        case waitForTraffic(releaseSpill: Bool)
        /// Return from the loop.
        case stop
    }

    /// Naps in a row without traffic (after a short batch, the nap that follows counts as the
    /// first) before the reader waits in `poll`.
    package let idleNaps: Int
    /// Naps since the last traffic; starts at `idleNaps`, so a reader that starts on an empty
    /// socket waits in `poll` at once.
    private var napsWithoutTraffic: Int
    /// After a nap that ended with kauditd waiting for room: receive without napping until the
    /// socket is empty.
    private var draining = false
    /// Some record since the last idle wait was longer than a head: the spill buffer has resident
    /// pages to release.
    private var spilled = false

    /// A schedule that starts idle.
    package init(idleNaps: Int) {
        self.idleNaps = idleNaps
        napsWithoutTraffic = idleNaps
    }

    /// A record longer than a head reached the spill buffer (`run()` says so per record, as it
    /// copies: a store, so that the loop keeps no flag of its own).
    package mutating func recordSpilled() {
        spilled = true
    }

    /// A receive produced `outcome`.
    ///
    /// `finishing` (whether the daemon asked to finish) and `kernelPausesAllowed` (whether the nap
    /// buffer may be used) are evaluated only when the decision needs them: never mid-burst.
    package mutating func received(
        _ outcome: ReceiveOutcome, finishing: @autoclosure () -> Bool,
        kernelPausesAllowed: @autoclosure () -> Bool
    ) -> Action {
        // Mid-burst, receive again at once. After a short batch, nap as after an empty receive
        // (the records that come meanwhile wait at most one nap): receiving again at once would
        // mostly return the one or two records kauditd queued meanwhile, or nothing, at the cost
        // of a system call each time. Under the benchmark's backpressure load that tail was 40 %
        // of all `recvmmsg` calls (15 600 calls per 600 000 records before, 9 500 after); the
        // events/s did not change measurably. (A batch cut short by an error, ENOBUFS, reports
        // the error one nap later; kauditd never causes one, as it waits for room in the
        // socket rather than dropping, so only a non-blocking kernel sender could.)
        // (A test of `ranDry` first, not a switch over the five outcomes: mid-burst that is a bit
        // test and one branch, where a switch compiles to an indirect jump per batch.)
        guard outcome.ranDry else {
            napsWithoutTraffic = 0
            return .receive
        }
        if outcome == .short {
            napsWithoutTraffic = 0
            // Draining after a nap that found kauditd waiting: on until the socket is empty, so
            // that kauditd sends all it kept back at once.
            if draining { return .receive }
        } else {
            draining = false
        }
        if finishing() {
            // Finishing: no nap, so a short batch is followed by another receive at once.
            if outcome == .short { return .receive }
            // Stop only once the socket stays quiet for a while: kauditd can still be sending
            // records it dequeued before the daemon unregistered.
            return .waitUntilQuiet
        }
        // When the socket runs dry right after traffic, nap briefly instead of sleeping in `poll`:
        // a reader asleep in `poll` makes kauditd wake it for nearly every record, and those
        // wake-ups cost the kernel more than the nap costs latency.
        if napsWithoutTraffic < idleNaps {
            napsWithoutTraffic += 1
            // The nap buffer only while the kernel makes tasks wait for room in its backlog rather
            // than drop records (see `KernelReader.allowKernelPauses(_:)`).
            return .nap(lowerBuffer: kernelPausesAllowed())
        }
        // Idle after traffic with long records: their pages go back to the system.
        let release = spilled
        spilled = false
        return .waitForTraffic(releaseSpill: release)
    }

    /// A nap ended; `kauditdWaiting` when the lowered buffer was found full, that is kauditd had
    /// stopped to wait for room and kept records back in the kernel's backlog.
    package mutating func napped(kauditdWaiting: Bool) -> Action {
        if kauditdWaiting { draining = true }
        return .receive
    }

    /// The wait before stopping ended; `readable` when the socket had something after all.
    package func waitedBeforeStop(readable: Bool) -> Action {
        readable ? .receive : .stop
    }

    /// The idle wait ended; `readable` when traffic came (not on a timeout or a failed `poll`).
    package mutating func waitedIdle(readable: Bool) -> Action {
        // Traffic after idling: nap again when the socket runs dry.
        if readable { napsWithoutTraffic = 0 }
        return .receive
    }
}
