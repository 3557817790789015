package import AuditNetlink
internal import AuditSystem
import AuditThreads
import Glibc
import Synchronization

/// The first stage: moves datagrams from the audit socket into the ring, and nothing else. The
/// socket is the registered daemon's (a unicast `AuditSocket`, which only the kernel can send to)
/// or, in the read-only mode, one joined to the multicast group, whose senders it checks.
///
/// It receives a batch of datagrams with one `recvmmsg` into a staging area of its own (each
/// datagram needs room for the largest size, 9 KiB: a 1 KiB head and a spill for the rest), then
/// copies each into the ring at its real length, and publishes once per batch: no allocation per
/// record, and the ring's memory holds records, not empty 9 KiB slots. It blocks only in two
/// places: `poll` when the socket is empty, and the ring when it is full. A full ring is a stall
/// that the ring counts; the kernel's backlog and the socket buffer absorb it,
/// and a socket that overflows anyway reports `ENOBUFS`, counted here as loss. It never waits on an
/// output: outputs are three stages away, behind their own queues.
package final class KernelReader: Sendable {
    /// What the reader has seen, for `STATUS=` and loss events.
    package struct Counters: Hashable, Sendable {
        /// Datagrams moved into the ring.
        package var datagrams = 0
        /// `ENOBUFS` from `recv`: the socket buffer overflowed and the kernel dropped records.
        package var overflows = 0
        /// Datagrams that did not decode as netlink, dropped.
        package var malformed = 0
        /// Datagrams on a multicast socket from a sender other than the kernel (`nl_pid` ≠ 0):
        /// forged, dropped. Always 0 on the unicast socket, which the kernel keeps others from.
        package var rejected = 0
        /// `recv`/`poll` failures other than the above, and a failed change of the socket buffer for
        /// a nap.
        package var receiveErrors = 0
        /// Loop turns; advances at least every `idleWakeMilliseconds` while the reader is healthy.
        package var heartbeat = 0
        /// Naps at whose end the socket was full under the nap buffer: kauditd had stopped to wait
        /// for room (see `init(socket:ring:socketBufferBytes:napBufferBytes:idleWakeMilliseconds:)`).
        package var kernelPauses = 0

        /// All zero (a pipeline without a reader: `replay`).
        package init() {}
    }

    private let socket: AuditSocket
    private let ring: RecordRing
    private let idleWakeMilliseconds: Int
    private let napMicroseconds: Int
    private let napBufferBytes: Int
    private let kernelPausesAllowed = Atomic<Bool>(true)
    private let stopWhenDrained = Atomic<Bool>(false)
    private let datagrams = Atomic<Int>(0)
    private let overflows = Atomic<Int>(0)
    private let malformed = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let receiveErrors = Atomic<Int>(0)
    private let heartbeat = Atomic<Int>(0)
    private let kernelPauses = Atomic<Int>(0)
    private let lastError = Mutex<AuditNetlinkError?>(nil)

    /// The most datagrams one `recvmmsg` receives (and the reader publishes to the consumer at once).
    ///
    /// Why 64, as the bare reader of `make bench` uses: under sustained load the reader takes about
    /// 28 datagrams per call with 32, so a larger batch saves system calls, and on a 2-vCPU VM every
    /// CPU cycle the daemon spends is taken from the audited processes and kauditd. Measured there
    /// under backpressure, against 32: with one 9 KiB buffer per datagram, 15 of 20 interleaved
    /// pairs were faster (median +2.6 %); with the heads and spills below, 8 of 16 (median +1.5 %),
    /// and kauditd slept 8 % less often. Within the VM's noise, then, but better on the median both
    /// times, and it costs no memory: see `headBytes`.
    static let batchSize = 64

    /// The bytes of each datagram received into the densely packed heads (the rest spills into a
    /// buffer of its own): room for nearly every audit record, which the kernel rarely makes longer
    /// than a few hundred bytes (long `EXECVE` arguments and user messages spill). The heads keep
    /// 64 KiB resident; a spill's pages become resident when a long record reaches them, up to
    /// 512 KiB if long records filled whole batches, and are released when the reader next goes
    /// idle.
    static let headBytes = 1024

    /// A reader for `socket` (already registered, or joined to the multicast group; its receive
    /// buffer set to `socketBufferBytes`,
    /// 0 for the kernel's default) feeding `ring`. The reader owns the socket from now on: it
    /// closes it when it goes away, after its thread has returned from `run()`, so the socket the
    /// kernel writes to can never be closed under it.
    ///
    /// With `napBufferBytes` above 0 and below the socket's buffer, the reader lowers the buffer to
    /// that size while it naps, as long as `allowKernelPauses(_:)` allows it (the default), and
    /// restores it when it wakes. Why: while the reader naps, kauditd would otherwise send each
    /// record the moment a producer queues it, and a producer wakes kauditd for nearly every
    /// record; that wake-up, and the switch from the producer to kauditd and back, costs more CPU
    /// than sending the record. With the small buffer, kauditd fills it and then waits for room,
    /// the producers queue the next records in the kernel's backlog without waking anybody, and
    /// kauditd sends them in one run once the reader reads again. Each nap holds back at most a
    /// nap's worth of records (a few hundred at the fastest rate measured), but under full load
    /// that can add up until the backlog is full and audited tasks wait for room: hence only while
    /// the kernel makes them wait rather than drop records. After a nap that ended with the buffer
    /// full, the reader receives without napping until the socket is empty, so that kauditd sends
    /// all it kept back at once.
    package init(
        socket: AuditSocket, ring: RecordRing, socketBufferBytes: Int, napBufferBytes: Int = 0,
        idleWakeMilliseconds: Int = 100
    ) {
        self.socket = socket
        self.ring = ring
        self.idleWakeMilliseconds = idleWakeMilliseconds
        self.napMicroseconds = Self.napMicroseconds(socketBufferBytes: socketBufferBytes)
        // kauditd never waits for a multicast listener: it drops what does not fit (ENOBUFS here),
        // so a lowered buffer would only lose records.
        self.napBufferBytes = socket.mode == .multicast ? 0 : napBufferBytes
    }

    deinit {
        socket.close()
    }

    /// Allows or forbids the nap buffer from now on (any thread). The daemon forbids it while the
    /// kernel's `backlog_wait_time` is 0: a record that finds the backlog full is then lost, not
    /// waited for, and kauditd must never stop sending while the reader naps.
    package func allowKernelPauses(_ allowed: Bool) {
        kernelPausesAllowed.store(allowed, ordering: .relaxed)
    }

    /// How long the reader naps when the socket runs dry during traffic: 700 µs with a large
    /// socket buffer, less with a small one.
    ///
    /// Why 700 µs: at a moderate rate the stages behind the reader wake once per nap, and on a VM
    /// each wake-up is expensive. Measured (`make bench`, steady20k, 3 runs each): naps of 400 µs
    /// cost 0.90 CPU s per 100k events, 700 µs 0.77, 1000 µs 0.68, with p99 latencies of 0.9,
    /// 1.3 and 2.0 ms (the target is 3 ms).
    ///
    /// The nap must never let the socket overflow: while it naps at most ~450k records/s arrive
    /// (the most the kernel delivered on the benchmark VM), each charged ~2.3 KiB to the buffer,
    /// so it is kept to what a third of the buffer (which the kernel doubles) absorbs: the kernel
    /// default (~208 KiB) gives about 130 µs, 2 MiB and more the full 700 µs.
    /// (The nap buffer, see `init`, is different: it is meant to fill, and kauditd waits for room
    /// rather than dropping.)
    package static func napMicroseconds(socketBufferBytes: Int) -> Int {
        let bytes = socketBufferBytes > 0 ? socketBufferBytes : 212_992
        return min(maximumNapMicroseconds, max(100, bytes * 2 / 3 / 2_300 * 1_000_000 / 450_000))
    }

    /// The longest nap, for large socket buffers.
    package static let maximumNapMicroseconds = 700

    /// A snapshot of the counters; any thread.
    package var counters: Counters {
        var counters = Counters()
        counters.datagrams = datagrams.load(ordering: .relaxed)
        counters.overflows = overflows.load(ordering: .relaxed)
        counters.malformed = malformed.load(ordering: .relaxed)
        counters.rejected = rejected.load(ordering: .relaxed)
        counters.receiveErrors = receiveErrors.load(ordering: .relaxed)
        counters.heartbeat = heartbeat.load(ordering: .relaxed)
        counters.kernelPauses = kernelPauses.load(ordering: .relaxed)
        return counters
    }

    /// The last unexpected receive error, for the log.
    package var lastReceiveError: AuditNetlinkError? { lastError.withLock { $0 } }

    /// Asks the reader to return once the socket is empty. Call it after the daemon unregistered,
    /// so the kernel sends nothing new and everything it already queued for us is still read.
    package func finishWhenDrained() {
        stopWhenDrained.store(true, ordering: .releasing)
    }

    /// How long a multicast reader keeps reading after `finishWhenDrained()` at most: the kernel
    /// goes on sending it copies (nobody unregisters), so under steady traffic the socket is never
    /// quiet; it reads what was queued and stops at the first empty receive, or after this.
    static let multicastFinishMilliseconds: UInt64 = 1000

    /// Runs the loop on the calling thread until `finishWhenDrained()` and an empty socket.
    ///
    /// Busy, it receives up to `batchSize` datagrams per `recvmmsg` into its staging area, copies
    /// them into the ring and publishes them at once. When the socket runs dry right after traffic
    /// (a receive comes back empty or short) it naps briefly (see
    /// `napMicroseconds(socketBufferBytes:)`) instead of sleeping in `poll`: a reader asleep in
    /// `poll` makes kauditd wake it for nearly every record, and those wake-ups cost the kernel more
    /// than the nap costs latency. After `idleNaps` naps in a row without traffic it releases the
    /// pages long records made resident and waits in `poll` again.
    ///
    /// The loop makes the system calls and copies; what to do after each receive, nap or wait is
    /// `ReaderSchedule`'s decision.
    package func run() {
        // A multicast socket is not connected to the kernel: any process allowed to send netlink
        // messages (CAP_NET_ADMIN) can reach it, so each datagram's sender is checked.
        var batch = AuditReceiveBatch(capacity: Self.batchSize, senders: socket.mode == .multicast)
        let slotSize = ring.maxRecordSize
        // (At least a netlink header: `screen` writes one over a datagram it rejects.)
        let headSize = max(min(Self.headBytes, slotSize), NetlinkMessage.headerSize)
        let spillSize = max(0, slotSize - headSize)
        // Heads side by side: a batch of typical records makes a few pages resident, and a spill
        // buffer's pages become resident only when a long record reaches them.
        let heads = UnsafeMutableRawPointer.allocate(byteCount: Self.batchSize * headSize, alignment: 4096)
        // Whole pages of its own, so that releasing them (below) touches nothing else.
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        let spillBytes = (max(1, Self.batchSize * spillSize) + page - 1) / page * page
        let spills = UnsafeMutableRawPointer.allocate(byteCount: spillBytes, alignment: page)
        defer {
            heads.deallocate()
            spills.deallocate()
        }
        let head = { (index: Int) in UnsafeMutableRawBufferPointer(start: heads + index * headSize, count: headSize) }
        let spill = { (index: Int) in
            UnsafeMutableRawBufferPointer(start: spills + index * spillSize, count: spillSize)
        }
        var napBuffer = NapBuffer(socket: socket, napBytes: napBufferBytes)
        var schedule = ReaderSchedule(idleNaps: Self.idleNaps)
        let multicast = socket.mode == .multicast
        var finishDeadline: UInt64?
        while true {
            if multicast, stopWhenDrained.load(ordering: .acquiring) {
                let now = SystemClock.monotonicMilliseconds()
                if finishDeadline == nil { finishDeadline = now + Self.multicastFinishMilliseconds }
                if now >= finishDeadline! { return }
            }
            let outcome: ReaderSchedule.ReceiveOutcome
            switch Result(catching: { () throws(AuditNetlinkError) in
                try batch.receive(from: socket, count: Self.batchSize, into: head, spillingInto: spill)
            }) {
            case .failure(let error):
                record(error)
                outcome = .failed
            case .success(.empty):
                outcome = .empty
            case .success(.overflow):
                overflows.add(1, ordering: .relaxed)
                outcome = .overflow
            case .success(.received(let count)):
                for index in 0..<count {
                    let length = min(screen(batch, index, head(index)), slotSize)
                    let inHead = min(length, headSize)
                    if length > inHead { schedule.recordSpilled() }
                    // Waits (publishing first) while the ring is full: the stall is the ring's to count.
                    _ = ring.write(maxLength: length) { target in
                        guard let base = target.baseAddress else { return 0 }
                        base.copyMemory(from: heads + index * headSize, byteCount: inHead)
                        if length > inHead {
                            (base + inHead).copyMemory(from: spills + index * spillSize, byteCount: length - inHead)
                        }
                        return length
                    }
                }
                datagrams.add(count, ordering: .relaxed)
                outcome = count < Self.batchSize ? .short : .full
            }
            // Mid-burst the processing stage is woken only when a quarter of the ring waits; when
            // the socket runs dry it is woken for whatever is left.
            ring.publish(deferringWake: !outcome.ranDry)
            if outcome.ranDry { ring.wakeConsumerIfWaiting() }
            heartbeat.add(1, ordering: .relaxed)
            var action = schedule.received(
                outcome, finishing: stopWhenDrained.load(ordering: .acquiring),
                kernelPausesAllowed: kernelPausesAllowed.load(ordering: .relaxed))
            // Mid-burst this loop is not entered. Otherwise nap or wait as the schedule says, until it
            // says to receive again (every nap and wait is followed by a receive or the stop).
            while action != .receive {
                switch action {
                case .receive:
                    break
                case .nap(let lowerBuffer):
                    var lowered = false
                    if lowerBuffer {
                        do { lowered = try napBuffer.lower(socket) } catch { record(error) }
                    }
                    SystemClock.sleep(microseconds: napMicroseconds)
                    var kauditdWaiting = false
                    if lowered {
                        kauditdWaiting = napBuffer.isFull(socket)
                        if kauditdWaiting { kernelPauses.add(1, ordering: .relaxed) }
                        do { try napBuffer.restore(socket) } catch { record(error) }
                    }
                    action = schedule.napped(kauditdWaiting: kauditdWaiting)
                case .waitUntilQuiet:
                    // The multicast copies never stop coming: the socket ran dry once, that is all.
                    if multicast { return }
                    let readable =
                        (try? socket.waitReadable(timeoutMilliseconds: Self.quietBeforeStopMilliseconds)) == true
                    action = schedule.waitedBeforeStop(readable: readable)
                case .waitForTraffic(let releaseSpill):
                    if releaseSpill { _ = madvise(spills, spillBytes, MADV_DONTNEED) }
                    var readable = false
                    do { readable = try socket.waitReadable(timeoutMilliseconds: idleWakeMilliseconds) } catch {
                        record(error)
                        // A broken socket must not turn into a busy loop.
                        SystemClock.sleep(microseconds: idleWakeMilliseconds * 1000)
                    }
                    action = schedule.waitedIdle(readable: readable)
                case .stop:
                    return
                }
            }
        }
    }

    /// The socket's receive buffer, lowered while the reader naps (see `init`).
    ///
    /// A failed `setsockopt` (it needs `CAP_NET_ADMIN`, which the daemon keeps) turns the nap
    /// buffer off for good; the caller counts the error.
    package struct NapBuffer {
        /// The bytes to request while napping, 0 when off (`napBytes` of 0 or less, or not smaller
        /// than the socket's own buffer).
        private var napBytes: Int
        /// The bytes to request to restore the buffer: half the size the kernel reported at start,
        /// as the kernel doubles what it is given.
        private let fullBytes: Int
        private var isLowered = false

        package init(socket: AuditSocket, napBytes: Int) {
            let reported = socket.receiveBufferSize
            fullBytes = reported / 2
            // Only a buffer smaller than the socket's has any effect.
            self.napBytes = napBytes > 0 && napBytes < fullBytes ? napBytes : 0
        }

        /// Lowers the buffer; false when the nap buffer is off.
        package mutating func lower(_ socket: AuditSocket) throws(AuditNetlinkError) -> Bool {
            guard napBytes > 0 else { return false }
            do { try socket.setReceiveBufferSize(napBytes) } catch {
                napBytes = 0
                throw error
            }
            isLowered = true
            return true
        }

        /// Whether kauditd has stopped to wait for room: the queued datagrams reach the limit, give
        /// or take one record (kauditd sends while the queue is at or below the limit).
        package func isFull(_ socket: AuditSocket) -> Bool {
            guard let usage = socket.receiveBufferUsage else { return false }
            return usage.queued + Self.oneRecord > usage.limit
        }

        /// What the kernel charges for a typical record (payload, `sk_buff` and its allocation).
        static let oneRecord = 4096

        /// Restores the socket's own buffer if it is lowered.
        package mutating func restore(_ socket: AuditSocket) throws(AuditNetlinkError) {
            guard isLowered else { return }
            isLowered = false
            do { try socket.setReceiveBufferSize(fullBytes) } catch {
                // Hardly possible once lowering worked (same option, same capability). The buffer
                // stays small then; at least it is not lowered again.
                napBytes = 0
                throw error
            }
        }
    }

    /// How long the socket must stay empty, once asked to finish, before the reader returns.
    static let quietBeforeStopMilliseconds = 100

    /// Empty naps in a row before the reader waits in `poll`.
    static let idleNaps = 5

    private func record(_ error: AuditNetlinkError) {
        receiveErrors.add(1, ordering: .relaxed)
        lastError.withLock { $0 = error }
    }

    /// Checks one received datagram and returns the length to publish. A datagram that was cut,
    /// or that came from another sender than the kernel, is replaced by an empty `NLMSG_NOOP`
    /// message (which the processing stage ignores) and counted here, so a batch never has holes.
    /// On the unicast socket the sender needs no check: it is connected to the kernel, which
    /// refuses datagrams from anyone else (see `AuditSocket.open`); the multicast socket is not,
    /// and kernel messages carry `nl_pid` 0.
    private func screen(_ batch: borrowing AuditReceiveBatch, _ index: Int, _ slot: UnsafeMutableRawBufferPointer)
        -> Int
    {
        let length = batch.length(at: index)
        if let sender = batch.senderPortID(at: index), sender != 0 {
            rejected.add(1, ordering: .relaxed)
            NetlinkMessage.storeHeader(into: slot, length: UInt32(NetlinkMessage.headerSize), type: .netlinkNoop)
            return NetlinkMessage.headerSize
        }
        if !batch.isTruncated(at: index) && length >= NetlinkMessage.headerSize { return length }
        malformed.add(1, ordering: .relaxed)
        NetlinkMessage.storeHeader(into: slot, length: UInt32(NetlinkMessage.headerSize), type: .netlinkNoop)
        return NetlinkMessage.headerSize
    }
}
