import AuditEvents
import AuditNetlink
import AuditTestSupport
import Testing

private let user = AuditMessageType(1100)  // USER_AUTH: standalone
private let eoe = AuditMessageType.endOfEvent
/// The default reorder window: how long an event after a hole in the serials waits for it.
private let window = Reassembler.Configuration().reorderWindow

@Suite struct ReassemblerTests {
    // MARK: - Completion

    @Test func endOfEventClosesTheEventAndIsNotPartOfIt() {
        var h = Harness()
        h.push(.syscall, serial: 10, "arch=c000003e syscall=59")
        h.push(.path, serial: 10, "item=0 name=\"/bin/true\"")
        h.push(.proctitle, serial: 10, "proctitle=74727565")
        #expect(h.emitted.isEmpty, "PROCTITLE must not end an event")
        h.push(eoe, serial: 10)
        let events = h.take()
        #expect(events.count == 1)
        #expect(events.first?.typeNumbers == [1300, 1302, 1327])
        #expect(
            events.first?.bodyTexts == ["arch=c000003e syscall=59", "item=0 name=\"/bin/true\"", "proctitle=74727565"])
        #expect(events.first?.id == AuditEventID(seconds: 1_700_000_000, milliseconds: 123, serial: 10))
        #expect(events.first?.completion == .endOfEvent)
        #expect(events.first?.flags == [])
        #expect(h.statistics.endOfEventRecords == 1)
        h.checkAccounting()
    }

    @Test func standaloneRecordsLeaveAtOnce() {
        var h = Harness()
        h.push(user, serial: 5, "pid=1 msg='op=PAM:auth'")
        h.push(AuditMessageType(1005), serial: 6, "text")
        let events = h.take()
        #expect(events.map(\.id.serial) == [5, 6])
        #expect(events.allSatisfy { $0.completion == .standalone && $0.count == 1 })
        h.checkAccounting()
    }

    @Test func interleavedEventsAreSeparatedAndLeaveInSerialOrder() {
        var h = Harness()
        h.push(.syscall, serial: 20, "a1")
        h.push(.syscall, serial: 21, "b1")
        h.push(.path, serial: 20, "a2")
        h.push(.path, serial: 21, "b2")
        h.push(eoe, serial: 21)
        #expect(h.emitted.isEmpty, "21 waits for 20, which is still open")
        h.push(.cwd, serial: 20, "a3")
        h.push(eoe, serial: 20)
        let events = h.take()
        #expect(events.map(\.id.serial) == [20, 21])
        #expect(events.map(\.bodyTexts) == [["a1", "a2", "a3"], ["b1", "b2"]])
        #expect(h.statistics.lostSerials == 0)
        h.checkAccounting()
    }

    @Test func aRecordForAnEarlierSerialThatArrivesFirstIsOrderedBeforeLaterOnes() {
        var h = Harness()
        h.push(.syscall, serial: 31, "b")
        h.push(.syscall, serial: 30, "a")  // its first record came later
        h.push(eoe, serial: 31)
        h.push(eoe, serial: 30)
        #expect(h.take().map(\.id.serial) == [30, 31])
        #expect(h.statistics.lateRecords == 0)
        h.checkAccounting()
    }

    @Test func sameSerialWithAnotherTimestampIsNotMergedIntoTheEvent() {
        var h = Harness()
        h.push(.syscall, serial: 40, "real", seconds: 100)
        h.push(.syscall, serial: 40, "other", seconds: 200)
        h.push(eoe, serial: 40, seconds: 100)
        h.push(eoe, serial: 40, seconds: 200)
        let events = h.take()
        #expect(events.count == 2)
        #expect(events.first(where: { $0.id.seconds == 100 })?.bodyTexts == ["real"])
        #expect(events.first(where: { $0.id.seconds == 200 })?.flags == .duplicate)
        #expect(h.statistics.duplicateRecords == 2)
        h.checkAccounting()
    }

    // MARK: - Gaps and wraparound

    @Test func serialGapsAreCountedOncePerMissingSerial() {
        var h = Harness()
        for serial: UInt32 in [10, 11, 15, 16, 20] {
            h.push(.syscall, serial: serial)
            h.push(eoe, serial: serial)
        }
        #expect(h.take().map(\.id.serial) == [10, 11], "15 and 20 wait for the serials before them")
        h.tick(window)
        #expect(h.take().map(\.id.serial) == [15, 16, 20])
        #expect(h.statistics.gaps == 2)
        #expect(h.statistics.lostSerials == 6)
        h.checkAccounting()
    }

    @Test func theFirstEventAfterAGapComesOutWhole() {
        var h = Harness()
        h.push(.syscall, serial: 49, "a")
        h.push(eoe, serial: 49)
        h.push(.syscall, serial: 59, "x")
        h.push(.execve, serial: 59, "y")
        h.push(eoe, serial: 59)
        h.tick(window)
        let events = h.take()
        #expect(events.last?.bodyTexts == ["x", "y"])
        #expect(h.statistics.lostSerials == 9)
        h.checkAccounting()
    }

    @Test(arguments: [
        ([4_294_967_294, 4_294_967_295, 0, 1, 2] as [UInt32], UInt64(0)),
        ([4_294_967_295, 2] as [UInt32], UInt64(2)),
        ([4_294_967_290, 3] as [UInt32], UInt64(8)),
    ])
    func serialsWrapAt2To32WithoutBogusLoss(serials: [UInt32], lost: UInt64) {
        var h = Harness()
        for serial in serials {
            h.push(.syscall, serial: serial)
            h.push(eoe, serial: serial)
        }
        h.tick(window)
        #expect(h.take().map(\.id.serial) == serials)
        #expect(h.statistics.lostSerials == lost)
        h.checkAccounting()
    }

    @Test func anEventThatOvertakesTheSerialBeforeItWaitsForIt() {
        // Two CPUs: serial 11 was handed out first, but 12's records were queued first.
        var h = Harness()
        h.push(.syscall, serial: 10, now: 100)
        h.push(eoe, serial: 10, now: 100)
        h.push(.syscall, serial: 12, "b", now: 100)
        h.push(.proctitle, serial: 12, "b2", now: 100)
        h.push(eoe, serial: 12, now: 100)
        #expect(h.take().map(\.id.serial) == [10])
        #expect(h.reassembler.nextDue == 100 + window)
        h.push(.syscall, serial: 11, "a", now: 101)
        h.push(eoe, serial: 11, now: 101)
        let events = h.take()
        #expect(events.map(\.id.serial) == [11, 12])
        #expect(events.allSatisfy { $0.flags == [] && $0.completion == .endOfEvent })
        #expect(h.statistics.lostSerials == 0 && h.statistics.gaps == 0 && h.statistics.lateRecords == 0)
        h.checkAccounting()
    }

    @Test func aHoleThatStaysEmptyIsCountedWhenTheWindowEnds() {
        var h = Harness()
        h.push(.syscall, serial: 10, now: 100)
        h.push(eoe, serial: 10, now: 100)
        h.push(.syscall, serial: 13, now: 102)
        h.push(eoe, serial: 13, now: 102)
        h.push(.syscall, serial: 14, now: 103)
        h.push(eoe, serial: 14, now: 103)
        h.tick(102 + window - 1)
        #expect(h.take().map(\.id.serial) == [10])
        #expect(h.statistics.lostSerials == 0)
        #expect(h.reassembler.nextDue == 102 + window)
        h.tick(102 + window)
        #expect(h.take().map(\.id.serial) == [13, 14], "14 follows 13 at once: no hole between them")
        #expect(h.statistics.lostSerials == 2 && h.statistics.gaps == 1)
        #expect(h.reassembler.nextDue == nil)
        h.checkAccounting()
    }

    @Test func theInFlightBoundReleasesAHeldEventWholeNotEvicted() {
        var h = Harness(.init(maxInFlight: 2))
        h.push(.syscall, serial: 10)
        h.push(eoe, serial: 10)
        for serial: UInt32 in [12, 13] {
            h.push(.syscall, serial: serial)
            h.push(eoe, serial: serial)
        }
        #expect(h.take().map(\.id.serial) == [10], "12 and 13 wait for 11")
        h.push(.syscall, serial: 14)  // a third event in flight: over the bound
        let events = h.take()
        #expect(events.map(\.id.serial) == [12, 13])
        #expect(events.allSatisfy { $0.completion == .endOfEvent })
        #expect(h.statistics.evictedEvents == 0)
        #expect(h.statistics.lostSerials == 1 && h.statistics.gaps == 1)
        h.flush()
        h.checkAccounting()
    }

    @Test func aZeroReorderWindowCountsAHoleAtOnce() {
        var h = Harness(.init(reorderWindow: 0))
        h.push(.syscall, serial: 10)
        h.push(eoe, serial: 10)
        h.push(.syscall, serial: 12)
        h.push(eoe, serial: 12)
        #expect(h.take().map(\.id.serial) == [10, 12])
        #expect(h.statistics.lostSerials == 1)
        h.checkAccounting()
    }

    @Test func eventsInFlightAcrossTheWrapAreOrderedAcrossIt() {
        var h = Harness()
        h.push(.syscall, serial: 1)
        h.push(.syscall, serial: 4_294_967_295)
        h.push(.syscall, serial: 0)
        h.flush()
        #expect(h.take().map(\.id.serial) == [4_294_967_295, 0, 1])
        #expect(h.statistics.lostSerials == 0)
        h.checkAccounting()
    }

    // MARK: - Late and duplicate records

    @Test func aTailAfterATimeoutIsALateEventNotLoss() {
        var h = Harness(.init(endOfEventTimeout: 1000))
        h.push(.syscall, serial: 10, "head", now: 0)
        h.tick(1000)
        h.push(.syscall, serial: 11, "next", now: 1001)
        h.push(eoe, serial: 11, now: 1001)
        h.push(.path, serial: 10, "tail", now: 1002)
        h.push(.proctitle, serial: 10, "tail2", now: 1002)
        h.push(eoe, serial: 10, now: 1003)
        let events = h.take()
        #expect(events.map(\.id.serial) == [10, 11, 10])
        #expect(events.map(\.completion) == [.timeout, .endOfEvent, .endOfEvent])
        #expect(events.last?.flags == .late)
        #expect(events.last?.bodyTexts == ["tail", "tail2"])
        #expect(h.statistics.lateRecords == 3)
        #expect(h.statistics.lostSerials == 0)
        #expect(h.statistics.gaps == 0)
        #expect(h.statistics.timedOutEvents == 1)
        h.checkAccounting()
    }

    @Test func aSerialCountedAsLostThatArrivesLateIsRecovered() {
        var h = Harness()
        h.push(.syscall, serial: 10)
        h.push(eoe, serial: 10)
        h.push(.syscall, serial: 12)
        h.push(eoe, serial: 12)
        h.tick(window)
        #expect(h.statistics.lostSerials == 1)
        h.push(.syscall, serial: 11, "late")
        h.push(eoe, serial: 11)
        let events = h.take()
        #expect(events.map(\.id.serial) == [10, 12, 11])
        #expect(events.last?.flags == .late)
        #expect(h.statistics.lostSerials == 0)
        #expect(h.statistics.recoveredSerials == 1)
        #expect(h.statistics.gaps == 1)
        // Its serial is now settled: a repeat is a duplicate, not a second recovery.
        h.push(.syscall, serial: 11, "again")
        h.push(eoe, serial: 11)
        #expect(h.take().first?.flags == .duplicate)
        #expect(h.statistics.recoveredSerials == 1)
        h.checkAccounting()
    }

    @Test func aRepeatedEventIsFlaggedAsDuplicateAndKept() {
        var h = Harness()
        for _ in 0..<2 {
            h.push(.syscall, serial: 7, "s")
            h.push(.path, serial: 7, "p")
            h.push(eoe, serial: 7)
        }
        let events = h.take()
        #expect(events.count == 2)
        #expect(events.map(\.flags) == [[], .duplicate])
        #expect(events.last?.bodyTexts == ["s", "p"])
        #expect(h.statistics.duplicateRecords == 3)
        #expect(h.statistics.lateRecords == 0)
        #expect(h.statistics.lostSerials == 0)
        h.checkAccounting()
    }

    @Test func aRecordAfterTheEndOfAnEventStillInFlightIsADuplicateInThatEvent() {
        var h = Harness()
        h.push(.syscall, serial: 8, "open")
        h.push(.syscall, serial: 9, "a")
        h.push(eoe, serial: 9)
        h.push(.path, serial: 9, "after-eoe")
        h.push(eoe, serial: 9)
        h.push(eoe, serial: 8)
        let events = h.take()
        #expect(events.map(\.id.serial) == [8, 9])
        #expect(events.last?.bodyTexts == ["a", "after-eoe"])
        #expect(events.last?.flags == .duplicate)
        #expect(h.statistics.duplicateRecords == 2)
        h.checkAccounting()
    }

    @Test func aLoneLateEndOfEventIsCountedAndEmitsNothing() {
        var h = Harness(.init(endOfEventTimeout: 10))
        h.push(.syscall, serial: 3, now: 0)
        h.tick(10)
        h.push(eoe, serial: 3, now: 11)
        #expect(h.take().count == 1)
        #expect(h.statistics.lateRecords == 1)
        #expect(h.statistics.endOfEventRecords == 1)
        h.checkAccounting()
    }

    // MARK: - Timeouts and eviction

    @Test func tickTimesOutAnEventWithoutAnyTraffic() {
        var h = Harness(.init(endOfEventTimeout: 2000))
        h.push(.syscall, serial: 100, now: 5000)
        h.tick(6999)
        #expect(h.emitted.isEmpty)
        h.tick(7000)
        let events = h.take()
        #expect(events.map(\.completion) == [.timeout])
        #expect(h.statistics.timedOutEvents == 1)
        h.checkAccounting()
    }

    @Test func aClockThatGoesBackwardsDoesNotPostponeTimeouts() {
        var h = Harness(.init(endOfEventTimeout: 100))
        h.push(.syscall, serial: 1, now: 1000)
        h.tick(50)
        h.tick(1099)
        #expect(h.emitted.isEmpty)
        h.tick(1100)
        #expect(h.take().count == 1)
        #expect(h.reassembler.clock == 1100)
    }

    @Test func aCompleteEventWaitsForAnEarlierOpenOneUntilItTimesOut() {
        var h = Harness(.init(endOfEventTimeout: 500))
        h.push(.syscall, serial: 1, now: 0)
        h.push(.syscall, serial: 2, now: 10)
        h.push(eoe, serial: 2, now: 10)
        h.tick(499)
        #expect(h.emitted.isEmpty)
        h.tick(500)
        let events = h.take()
        #expect(events.map(\.id.serial) == [1, 2])
        #expect(events.map(\.completion) == [.timeout, .endOfEvent])
        h.checkAccounting()
    }

    @Test func recordTimestampsDriveTheClockOnReplay() {
        var h = Harness(.init(endOfEventTimeout: 2000, clock: .recordTimestamps))
        h.push(.syscall, serial: 1, seconds: 100, milliseconds: 0)
        h.push(.syscall, serial: 2, seconds: 101, milliseconds: 999)
        #expect(h.emitted.isEmpty)
        h.push(.syscall, serial: 3, seconds: 102, milliseconds: 0)
        #expect(h.take().map(\.id.serial) == [1])
        #expect(h.reassembler.clock == 102_000)
    }

    @Test func theOldestEventIsEvictedBeyondMaxInFlight() {
        var h = Harness(.init(maxInFlight: 2))
        h.push(.syscall, serial: 1)
        h.push(.syscall, serial: 2)
        #expect(h.emitted.isEmpty)
        h.push(.syscall, serial: 3)
        #expect(h.take().map(\.id.serial) == [1])
        h.push(eoe, serial: 3)
        h.push(.syscall, serial: 4)
        let events = h.take()
        #expect(events.map(\.id.serial) == [2, 3])
        #expect(events.map(\.completion) == [.eviction, .endOfEvent])
        #expect(h.statistics.evictedEvents == 2)
        #expect(h.statistics.inFlightHighWater == 3)
        h.flush()
        #expect(h.take().map(\.completion) == [.shutdown])
        h.checkAccounting()
    }

    @Test func flushAllEmitsEverythingInSerialOrder() {
        var h = Harness()
        h.push(.syscall, serial: 12)
        h.push(.syscall, serial: 10)
        h.push(.syscall, serial: 11)
        h.push(eoe, serial: 11)
        h.flush()
        let events = h.take()
        #expect(events.map(\.id.serial) == [10, 11, 12])
        #expect(events.map(\.completion) == [.shutdown, .endOfEvent, .shutdown])
        #expect(h.statistics.flushedEvents == 2)
        #expect(h.reassembler.inFlightCount == 0)
        h.checkAccounting()
    }

    @Test func restartBeginsANewSerialStreamWithoutAGap() {
        var h = Harness()
        h.push(.syscall, serial: 50_000)
        h.push(eoe, serial: 50_000)
        var out: [AuditEvent] = []
        h.reassembler.restart { out.append($0) }
        #expect(h.reassembler.frontier == nil)
        h.push(.syscall, serial: 3)
        h.push(eoe, serial: 3)
        #expect(h.take().map(\.id.serial) == [50_000, 3])
        #expect(h.statistics.lateRecords == 0)
        #expect(h.statistics.lostSerials == 0)
    }

    // MARK: - Type window, malformed and foreign messages

    @Test func recordsOutsideTheTypeWindowAreDroppedButKeepSerialsAccountedFor() {
        var h = Harness(.init(minType: .syscall, maxType: .cwd))  // 1300...1307: no EOE, no PROCTITLE
        h.push(.syscall, serial: 1, "s")
        h.push(.proctitle, serial: 1, "p")
        h.push(eoe, serial: 1)
        h.push(user, serial: 2, "user record")  // filtered standalone
        h.push(.proctitle, serial: 3, "only a proctitle")
        h.push(eoe, serial: 3)
        h.push(.syscall, serial: 4, "s4")
        h.push(eoe, serial: 4)
        let events = h.take()
        #expect(events.map(\.id.serial) == [1, 4])
        #expect(events.first?.typeNumbers == [1300])
        #expect(h.statistics.filteredRecords == 3)
        #expect(h.statistics.filteredEvents == 2)
        #expect(h.statistics.lostSerials == 0, "filtered serials are not lost")
        h.checkAccounting()
    }

    @Test func anInvertedTypeWindowKeepsNothing() {
        var h = Harness(.init(minType: .cwd, maxType: .syscall))
        h.push(.syscall, serial: 1)
        h.push(eoe, serial: 1)
        #expect(h.take().isEmpty)
        #expect(h.statistics.filteredEvents == 1)
        h.checkAccounting()
    }

    @Test func malformedHeadersBecomeFlaggedSingleRecordEvents() {
        var h = Harness()
        h.push(.syscall, serial: 1, "a")
        h.push(.path, Array("audit(garbage".utf8) + [0])
        h.push(.path, [])
        let malformed = h.take()
        #expect(malformed.count == 2)
        #expect(malformed.allSatisfy { $0.flags == .malformedHeader && $0.id == .unknown && $0.count == 1 })
        #expect(malformed.first?.bodyTexts == ["audit(garbage"])
        #expect(h.statistics.malformedRecords == 2)
        h.push(eoe, serial: 1)
        #expect(h.take().map(\.bodyTexts) == [["a"]])
        #expect(h.statistics.lostSerials == 0)
        h.checkAccounting()
    }

    /// An `EOE` closes an event and carries nothing: one whose header does not parse cannot close
    /// anything, and emitting it made an empty-bodied event with sequence 0.
    @Test func anEndOfEventWithAMalformedHeaderIsDroppedAndCounted() {
        var h = Harness()
        h.push(.syscall, serial: 1, "a")
        h.push(eoe, Array("audit(garbage".utf8))
        h.push(eoe, [])
        #expect(h.take().isEmpty, "nothing is emitted for a malformed EOE")
        #expect(h.statistics.malformedEndOfEvents == 2)
        #expect(h.statistics.malformedRecords == 2)
        h.push(eoe, serial: 1)
        #expect(h.take().map(\.bodyTexts) == [["a"]])
        h.checkAccounting()
    }

    /// One serial with 20,000 records (a hostile or broken sender) must not become one unbounded
    /// event: the default bound cuts it, with a marker.
    @Test func anEventIsCutAtTheDefaultRecordBound() {
        var h = Harness()
        for _ in 0..<20_000 { h.push(.path, serial: 3, "item=0 name=\"/x\"") }
        h.push(eoe, serial: 3)
        let events = h.take()
        #expect(events.count == 1)
        #expect(events.first.map { $0.count <= 10_000 } == true, "records: \(events.first?.count ?? 0)")
        #expect(events.first?.count == 10_000)
        #expect(events.first?.flags == .truncated)
        #expect(events.first?.droppedRecords == 10_000)
        #expect(h.statistics.truncatedEvents == 1)
        #expect(h.statistics.truncatedRecords == 10_000)
        h.checkAccounting()
    }

    @Test func anEventIsCutAtItsByteBoundAndKeepsItsFirstRecords() {
        var h = Harness(.init(maxEventBytes: 100))
        h.push(.syscall, serial: 4, String(repeating: "s", count: 60))
        h.push(.path, serial: 4, String(repeating: "p", count: 50))
        h.push(.cwd, serial: 4, String(repeating: "c", count: 40))
        h.push(eoe, serial: 4)
        h.push(.syscall, serial: 5, "next")
        h.push(eoe, serial: 5)
        let events = h.take()
        #expect(events.map(\.typeNumbers) == [[1300], [1300]], "the SYSCALL record is kept, all after the cut dropped")
        #expect(events.first?.flags == .truncated)
        #expect(events.first?.droppedRecords == 2)
        #expect(events.last?.flags == [])
        h.checkAccounting()
    }

    @Test func controlMessagesAreIgnoredAndCounted() {
        var h = Harness()
        h.push(.netlinkError, [0, 0, 0, 0])
        h.push(.get, [UInt8](repeating: 0, count: 40))
        h.push(.replace, [1, 2, 3, 4])
        #expect(h.take().isEmpty)
        #expect(h.statistics.ignoredMessages == 3)
        #expect(h.statistics.malformedRecords == 0)
        h.checkAccounting()
    }

    @Test func anEndOfEventAloneMakesAnEmptyEventThatIsCountedNotEmitted() {
        var h = Harness()
        h.push(.syscall, serial: 1)
        h.push(eoe, serial: 1)
        h.push(eoe, serial: 2)
        h.push(.syscall, serial: 3)
        h.push(eoe, serial: 3)
        #expect(h.take().map(\.id.serial) == [1, 3])
        #expect(h.statistics.emptyEvents == 1)
        #expect(h.statistics.lostSerials == 0)
        h.checkAccounting()
    }

    // MARK: - Randomized

    /// Events with random sizes, interleaving, dropped serials, dropped tails and repeats; checks
    /// the invariants that must hold whatever arrives.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomTrafficKeepsOrderAndAccounting(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var h = Harness(.init(endOfEventTimeout: 50, maxInFlight: 16))
        var serial = UInt32.max - 500  // crosses the wrap
        var now: UInt64 = 0
        var open: [(serial: UInt32, remaining: Int)] = []
        var dropped = Set<UInt32>()
        var pathPushes: UInt64 = 0
        var delivered = 0
        for _ in 0..<3000 {
            now += UInt64.random(in: 0...3, using: &random)
            if open.count < 4, Int.random(in: 0..<3, using: &random) == 0 {
                serial &+= 1
                if Int.random(in: 0..<20, using: &random) == 0 {
                    dropped.insert(serial)
                } else {
                    open.append((serial, Int.random(in: 1...5, using: &random)))
                }
            }
            guard !open.isEmpty else { continue }
            let pick = Int.random(in: 0..<open.count, using: &random)
            let s = open[pick].serial
            if open[pick].remaining > 0 {
                h.push(.path, serial: s, "r", now: now)
                pathPushes += 1
                open[pick].remaining -= 1
                delivered += 1
            } else {
                if Int.random(in: 0..<10, using: &random) != 0 { h.push(eoe, serial: s, now: now) }
                if Int.random(in: 0..<30, using: &random) == 0 {
                    h.push(.path, serial: s, "dup", now: now)
                    pathPushes += 1
                }
                open.remove(at: pick)
            }
            if Int.random(in: 0..<50, using: &random) == 0 { h.tick(now) }
        }
        for entry in open { h.push(eoe, serial: entry.serial, now: now) }
        h.flush()
        let events = h.take()
        let s = h.statistics

        // Nothing is lost: every record pushed comes out, every "r" exactly once.
        #expect(s.recordsEmitted == pathPushes)
        #expect(events.reduce(0) { $0 + $1.bodyTexts.filter { $0 == "r" }.count } == delivered)

        // Events without irregularities leave in rising serial order.
        let regular = events.filter { $0.flags.isEmpty }
        for (a, b) in zip(regular, regular.dropFirst()) {
            #expect(Int32(bitPattern: b.id.serial &- a.id.serial) > 0, "\(a.id) then \(b.id)")
        }

        // Lost serials are exactly the dropped ones between the first and the last serial passed.
        let passed = events.filter { !$0.flags.contains(.late) }.map(\.id.serial)
        if let first = passed.first {
            let last = passed.reduce(first) { Int32(bitPattern: $1 &- $0) > 0 ? $1 : $0 }
            let expected = dropped.filter {
                Int32(bitPattern: $0 &- first) > 0 && Int32(bitPattern: last &- $0) > 0
            }.count
            #expect(s.lostSerials == UInt64(expected))
        }
        #expect(s.timedOutEvents > 0, "the traffic should exercise timeouts")
        h.checkAccounting()
    }
}
