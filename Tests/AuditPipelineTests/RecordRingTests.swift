import AuditPipeline
import AuditThreads
import Glibc
import Synchronization
import Testing

/// Writes `bytes` as one record and returns the count, as a reader's `recv` would; nil when full.
private func push(_ ring: RecordRing, _ bytes: [UInt8]) -> Int? {
    ring.tryWrite(maxLength: bytes.count) { slot in
        bytes.withUnsafeBytes { slot.copyMemory(from: $0) }
        return bytes.count
    }
}

/// Drains everything the ring holds, as arrays.
private func drain(_ ring: RecordRing, max: Int = .max) -> [[UInt8]] {
    var out: [[UInt8]] = []
    ring.consumeAvailable(max: max) { out.append(Array($0)) }
    return out
}

/// The bytes of record `index` in the threaded tests: 1…64 bytes, the first 8 the index.
private func record(_ index: UInt64) -> (length: Int, byte: (Int) -> UInt8) {
    let length = 8 + Int((index &* 2_654_435_761) % 57)
    return (
        length,
        { offset in
            offset < 8
                ? UInt8(truncatingIfNeeded: index >> (8 * UInt64(offset)))
                : UInt8(truncatingIfNeeded: index &+ UInt64(offset) &* 31)
        }
    )
}

private func milliseconds(since start: UInt64) -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    let now = UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    return Double(now - start) / 1e6
}

private func monotonicNow() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

@Suite struct RecordRingTests {
    @Test func pushedRecordsComeOutInOrderAfterPublish() throws {
        let ring = try RecordRing(capacity: 256, maxRecordSize: 64)
        #expect(push(ring, [1, 2, 3]) == 3)
        #expect(push(ring, Array(repeating: 7, count: 64)) == 64)
        #expect(push(ring, [9]) == 1)
        #expect(drain(ring).isEmpty, "nothing is visible before publish")
        #expect(!ring.waitForData(timeoutMilliseconds: 0))
        ring.publish()
        #expect(ring.waitForData(timeoutMilliseconds: 0))
        #expect(drain(ring) == [[1, 2, 3], Array(repeating: 7, count: 64), [9]])
        #expect(drain(ring).isEmpty)
        let stats = ring.statistics
        #expect(stats.published == 3)
        #expect(stats.consumed == 3)
        #expect(stats.occupancy == 0)
        #expect(stats.peakBytes == 16 + 72 + 16, "each record takes 8 header bytes and its length padded to 8")
    }

    @Test func writesGetTheRequestedAreaAndClampOverlongCounts() throws {
        let ring = try RecordRing(capacity: 256, maxRecordSize: 100)
        var seen = 0
        ring.write { slot in
            seen = slot.count
            slot.initializeMemory(as: UInt8.self, repeating: 0xAB)
            return 500
        }
        ring.publish()
        #expect(seen == 100)
        #expect(drain(ring) == [Array(repeating: 0xAB, count: 100)])
    }

    @Test func anEmptyWriteAddsNoRecord() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 16)
        #expect(ring.write { _ in 0 } == 0)
        #expect(ring.write { _ in -1 } == 0)
        ring.publish()
        #expect(ring.statistics.published == 0)
        #expect(push(ring, [1]) == 1)
        #expect(push(ring, [2]) == 1)
        ring.publish()
        #expect(drain(ring) == [[1], [2]])
    }

    @Test func positionsWrapAroundTheBufferManyTimes() throws {
        // 128 bytes: a batch of four 16-byte records still fits after a restart at the front.
        let ring = try RecordRing(capacity: 128, maxRecordSize: 8)
        var next: UInt8 = 0
        var expected: UInt8 = 0
        for round in 0..<1000 {
            let batch = round % 4 + 1
            for _ in 0..<batch {
                #expect(push(ring, [next, next &+ 1]) == 2)
                next &+= 1
            }
            ring.publish()
            for bytes in drain(ring) {
                #expect(bytes == [expected, expected &+ 1])
                expected &+= 1
            }
        }
        #expect(ring.statistics.published == ring.statistics.consumed)
        #expect(ring.statistics.published == (0..<1000).reduce(0) { $0 + $1 % 4 + 1 })
    }

    @Test func aFullRingRefusesWithoutDroppingAndCountsOneStall() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 8)
        for value in 0..<4 { #expect(push(ring, [UInt8(value)]) == 1) }
        #expect(push(ring, [99]) == nil)
        #expect(push(ring, [99]) == nil, "a second refusal is the same stall episode")
        #expect(!ring.waitForSpace(maxLength: 1, timeoutMilliseconds: 0))
        #expect(ring.statistics.isStalled)
        #expect(ring.statistics.stallEpisodes == 1)
        #expect(ring.statistics.published == 4, "waiting publishes what was pending")
        #expect(drain(ring, max: 1) == [[0]])
        #expect(push(ring, [4]) == 1)
        #expect(!ring.statistics.isStalled)
        #expect(ring.statistics.stallEpisodes == 1)
        ring.publish()
        #expect(drain(ring) == [[1], [2], [3], [4]])
    }

    @Test func batchesRespectTheLimit() throws {
        let ring = try RecordRing(capacity: 256, maxRecordSize: 4)
        for value in 0..<10 { _ = push(ring, [UInt8(value)]) }
        ring.publish()
        #expect(drain(ring, max: 3).map { $0[0] } == [0, 1, 2])
        #expect(drain(ring, max: 0).isEmpty)
        #expect(drain(ring, max: 100).map { $0[0] } == [3, 4, 5, 6, 7, 8, 9])
    }

    @Test func aThrowingConsumerReleasesTheRecordItFailedOn() throws {
        struct Refused: Error {}
        let ring = try RecordRing(capacity: 128, maxRecordSize: 4)
        for value in 0..<5 { _ = push(ring, [UInt8(value)]) }
        ring.publish()
        var seen: [UInt8] = []
        #expect(throws: Refused.self) {
            try ring.consumeAvailable { (bytes: UnsafeRawBufferPointer) throws(Refused) in
                seen.append(bytes[0])
                if bytes[0] == 2 { throw Refused() }
            }
        }
        #expect(seen == [0, 1, 2])
        #expect(drain(ring) == [[3], [4]])
    }

    @Test(arguments: [
        (0, 64, RecordRingError.Code.invalidCapacity),
        (100, 8, .invalidCapacity),
        (1000, 8, .invalidCapacity),
        (64, 64, .invalidCapacity),
        (1 << 31, 64, .invalidCapacity),
        (256, 0, .invalidMaxRecordSize),
        (256, -5, .invalidMaxRecordSize),
        (1 << 26, (16 << 20) + 1, .invalidMaxRecordSize),
    ])
    func refusesBadGeometry(capacity: Int, maxRecordSize: Int, code: RecordRingError.Code) {
        #expect(throws: RecordRingError(code: code, value: code == .invalidMaxRecordSize ? maxRecordSize : capacity)) {
            _ = try RecordRing(capacity: capacity, maxRecordSize: maxRecordSize)
        }
    }

    @Test func theDefaultRingTakesTheLargestAuditDatagram() throws {
        let ring = try RecordRing()
        #expect(ring.capacity == 1 << 20)
        #expect(ring.maxRecordSize >= 8970 + 16)
        let datagram = [UInt8](repeating: 0x5A, count: 8970 + 16)
        for _ in 0..<200 {
            datagram.withUnsafeBytes { ring.append($0) }
            ring.publish()
            #expect(drain(ring) == [datagram])
        }
    }

    /// Records of every length from 1 to 40 bytes in a 128-byte ring: many records do not fit
    /// before the end and start again at the front while the consumer still has records to read
    /// (it lags one record behind).
    @Test func recordsThatDoNotFitBeforeTheEndStartAtTheFront() throws {
        let ring = try RecordRing(capacity: 128, maxRecordSize: 40)
        var written: [[UInt8]] = []
        var read: [[UInt8]] = []
        var next = 0
        for round in 0..<2000 {
            let length = round % 40 + 1
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: next &+ $0 &* 7) }
            next += 1
            while push(ring, bytes) == nil {
                ring.publish()
                let waiting = ring.statistics.published - ring.statistics.consumed
                read += drain(ring, max: max(1, waiting - 1))
            }
            written.append(bytes)
        }
        ring.publish()
        read += drain(ring)
        #expect(read == written)
        #expect(ring.statistics.stallEpisodes > 0)
        #expect(ring.statistics.touchedBytes <= 128)
    }

    /// A consumer that keeps up must not make the ring's whole buffer resident: once the ring is
    /// empty, the producer starts again at the front (after `restartOffset`).
    @Test func aRingThatKeepsUpStaysInItsFirstPages() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        #expect(ring.restartOffset == 64 << 10)
        let record = [UInt8](repeating: 0xC3, count: 300)
        var count = 0
        for _ in 0..<2000 {
            for _ in 0..<10 { record.withUnsafeBytes { ring.append($0) } }
            ring.publish()
            count += drain(ring).count
        }
        #expect(count == 20_000)
        let touched = ring.statistics.touchedBytes
        // 20 000 records of 312 bytes are about 6 MiB of traffic through a 1 MiB ring.
        #expect(touched <= (64 << 10) + 10 * 312, "the producer went up to offset \(touched)")
        #expect(touched >= 64 << 10)
    }

    @Test func aRingThatFallsBehindUsesItsWholeBuffer() throws {
        let ring = try RecordRing(capacity: 256 << 10)
        let record = [UInt8](repeating: 0x3C, count: 300)
        for _ in 0..<800 { record.withUnsafeBytes { ring.append($0) } }
        ring.publish()
        #expect(ring.statistics.touchedBytes == 800 * 312)
        #expect(ring.statistics.peakBytes == 0, "no batch started yet")
        #expect(drain(ring).count == 800)
        #expect(ring.statistics.peakBytes == 800 * 312)
    }

    @Test func waitingForDataTimesOutWithoutTraffic() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 8)
        let start = monotonicNow()
        #expect(!ring.waitForData(timeoutMilliseconds: 60))
        let waited = milliseconds(since: start)
        #expect(waited >= 59, "returned after \(waited) ms")
        #expect(waited < 2000, "returned after \(waited) ms")
    }

    @Test func wakeConsumerInterruptsAnUnlimitedWait() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 8)
        let result = Mutex<Bool?>(nil)
        let thread = try SystemThread.spawn(name: "ring-test") {
            let got = ring.waitForData(timeoutMilliseconds: nil)
            result.withLock { $0 = got }
        }
        usleep(50_000)
        ring.wakeConsumer()
        thread.join()
        #expect(result.withLock { $0 } == false)
    }

    /// A producer in the middle of a burst publishes without waking a sleeping consumer until a
    /// quarter of the ring waits, and wakes it when the burst ends.
    @Test func deferredPublishesWakeTheConsumerAtTheEndOfABurst() throws {
        let ring = try RecordRing(capacity: 1024, maxRecordSize: 8)
        let woke = Atomic<UInt64>(0)
        let thread = try SystemThread.spawn(name: "ring-test") {
            if ring.waitForData(timeoutMilliseconds: 10_000) { woke.store(monotonicNow(), ordering: .releasing) }
        }
        usleep(50_000)  // the consumer parks
        for value in 0..<8 {  // 8 × 16 bytes: below a quarter of 1024
            _ = push(ring, [UInt8(value)])
            ring.publish(deferringWake: true)
        }
        usleep(100_000)
        let early = woke.load(ordering: .acquiring)
        #expect(early == 0, "mid-burst publishes did not wake it")
        let end = monotonicNow()
        ring.wakeConsumerIfWaiting()
        thread.join()
        let late = woke.load(ordering: .acquiring)
        #expect(late >= end)
        #expect(drain(ring).count == 8)

        // Past a quarter of the ring, a deferred publish wakes it anyway.
        let second = Atomic<Bool>(false)
        let waiter = try SystemThread.spawn(name: "ring-test") {
            second.store(ring.waitForData(timeoutMilliseconds: 10_000), ordering: .releasing)
        }
        usleep(50_000)
        for value in 0..<17 {  // 17 × 16 = 272 bytes > 256
            _ = push(ring, [UInt8(value)])
            ring.publish(deferringWake: true)
        }
        waiter.join()
        let wokeAgain = second.load(ordering: .acquiring)
        #expect(wokeAgain)
        #expect(drain(ring).count == 17)
    }

    @Test func publishingWakesAParkedConsumer() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 8)
        let received = Mutex<[[UInt8]]>([])
        let thread = try SystemThread.spawn(name: "ring-test") {
            if ring.waitForData(timeoutMilliseconds: 10_000) {
                let records = drain(ring)
                received.withLock { $0 = records }
            }
        }
        usleep(50_000)  // long enough for the consumer to spin out and park
        _ = push(ring, [42])
        let start = monotonicNow()
        ring.publish()
        thread.join()
        #expect(received.withLock { $0 } == [[42]])
        #expect(milliseconds(since: start) < 1000)
    }

    @Test func aWokenConsumerLingersToGatherABatch() throws {
        let ring = try RecordRing(capacity: 1024, maxRecordSize: 8)
        let result = Mutex<(waitedMilliseconds: Double, records: Int)?>(nil)
        let published = Atomic<UInt64>(0)
        let thread = try SystemThread.spawn(name: "ring-test") {
            guard ring.waitForData(timeoutMilliseconds: 5_000, lingerMicroseconds: 150_000) else { return }
            let waited = milliseconds(since: published.load(ordering: .acquiring))
            let records = drain(ring).count
            result.withLock { $0 = (waited, records) }
        }
        usleep(50_000)  // the consumer parks
        _ = push(ring, [1])
        published.store(monotonicNow(), ordering: .releasing)
        ring.publish()
        usleep(30_000)
        _ = push(ring, [2])
        ring.publish()
        thread.join()
        let (waited, records) = try #require(result.withLock { $0 })
        #expect(waited >= 140, "returned \(waited) ms after the first record")
        #expect(waited < 2000)
        #expect(records == 2, "the record published during the linger joins the batch")
    }

    @Test func aHalfFullRingCutsTheLingerShort() throws {
        let ring = try RecordRing(capacity: 128, maxRecordSize: 8)
        let waited = Mutex<Double?>(nil)
        let thread = try SystemThread.spawn(name: "ring-test") {
            let start = monotonicNow()
            guard ring.waitForData(timeoutMilliseconds: 10_000, lingerMicroseconds: 10_000_000) else { return }
            let elapsed = milliseconds(since: start)
            waited.withLock { $0 = elapsed }
        }
        usleep(50_000)
        for value in 0..<4 {
            _ = push(ring, [UInt8(value)])
            ring.publish()
            usleep(10_000)
        }
        thread.join()
        let elapsed = try #require(waited.withLock { $0 })
        #expect(elapsed < 2000, "a linger of 10 s must end when half of the 128 bytes wait; took \(elapsed) ms")
        #expect(drain(ring).count == 4)
    }

    @Test func aBusyConsumerDoesNotLinger() throws {
        let ring = try RecordRing(capacity: 128, maxRecordSize: 8)
        _ = push(ring, [1])
        ring.publish()
        let start = monotonicNow()
        #expect(ring.waitForData(timeoutMilliseconds: 1_000, lingerMicroseconds: 5_000_000))
        #expect(milliseconds(since: start) < 1000)
    }

    @Test func wakeProducerInterruptsAStalledProducer() throws {
        let ring = try RecordRing(capacity: 32, maxRecordSize: 8)
        _ = push(ring, [1])
        _ = push(ring, [2])
        let result = Mutex<Bool?>(nil)
        let thread = try SystemThread.spawn(name: "ring-test") {
            let got = ring.waitForSpace(timeoutMilliseconds: nil)
            result.withLock { $0 = got }
        }
        usleep(50_000)
        ring.wakeProducer()
        thread.join()
        #expect(result.withLock { $0 } == false)
        #expect(ring.statistics.isStalled)
    }

    /// Moves `count` records of 8…64 bytes between two real threads through a small ring and
    /// checks each record's bytes and order on the consumer side.
    @Test(arguments: [(2_000_000, 64 << 10), (1_000_000, 256)])
    func twoThreadsMoveMillionsOfRecordsInOrderWithoutLoss(count: Int, capacity: Int) throws {
        let ring = try RecordRing(capacity: capacity, maxRecordSize: 64, spinIterations: 100)
        let producerSum = Mutex<UInt64>(0)
        let producer = try SystemThread.spawn(name: "ring-producer") {
            var sum: UInt64 = 0
            for index in 0..<UInt64(count) {
                let (length, byte) = record(index)
                ring.write(maxLength: length) { slot in
                    for offset in 0..<length {
                        let value = byte(offset)
                        slot[offset] = value
                        sum &+= UInt64(value) &* UInt64(offset + 1)
                    }
                    return length
                }
                if index % 16 == 15 { ring.publish() }
            }
            ring.publish()
            producerSum.withLock { $0 = sum }
        }
        var expectedIndex: UInt64 = 0
        var mismatches = 0
        var consumerSum: UInt64 = 0
        while expectedIndex < UInt64(count) {
            guard ring.waitForData(timeoutMilliseconds: 5_000) else { break }
            ring.consumeAvailable(max: 256) { bytes in
                let (length, byte) = record(expectedIndex)
                if bytes.count != length { mismatches += 1 }
                for offset in 0..<min(length, bytes.count) {
                    let value = bytes[offset]
                    if value != byte(offset) { mismatches += 1 }
                    consumerSum &+= UInt64(value) &* UInt64(offset + 1)
                }
                expectedIndex += 1
            }
        }
        producer.join()
        #expect(expectedIndex == UInt64(count))
        #expect(mismatches == 0)
        #expect(consumerSum == producerSum.withLock { $0 })
        let stats = ring.statistics
        #expect(stats.published == count)
        #expect(stats.consumed == count)
        #expect(!stats.isStalled)
    }

    @Test func aSlowConsumerMakesTheProducerStallAndLosesNothing() throws {
        let ring = try RecordRing(capacity: 64, maxRecordSize: 8, spinIterations: 10)
        let total = 60
        let producer = try SystemThread.spawn(name: "ring-producer") {
            for value in 0..<total {
                ring.write(maxLength: 1) { slot in
                    slot[0] = UInt8(value)
                    return 1
                }
                ring.publish()
            }
        }
        var received: [UInt8] = []
        while received.count < total {
            guard ring.waitForData(timeoutMilliseconds: 5_000) else { break }
            ring.consumeAvailable(max: 1) { received.append($0[0]) }
            usleep(2_000)
        }
        producer.join()
        #expect(received == (0..<total).map { UInt8($0) })
        let stats = ring.statistics
        #expect(stats.stallEpisodes > 0)
        #expect(stats.stallDuration > .milliseconds(20), "stalled for \(stats.stallDuration)")
        #expect(!stats.isStalled)
        #expect(stats.peakBytes == 64, "four records of 16 bytes fill the 64-byte ring")
    }
}
