import AuditPipeline
import Testing

/// The reader's decisions (`ReaderSchedule`), driven by tables of events: each scenario starts
/// from a fresh schedule (idle, as the reader starts) and lists the events `KernelReader.run()`
/// would report with the action expected after each.
@Suite struct ReaderScheduleTests {
    typealias Action = ReaderSchedule.Action

    /// One event as `run()` reports it.
    enum Event: Sendable, CustomStringConvertible {
        /// A receive. `finishing` and `pausesAllowed` nil: the schedule must not read them (the
        /// flags are atomics the loop must not load mid-burst).
        case received(ReaderSchedule.ReceiveOutcome, spilled: Bool, finishing: Bool?, pausesAllowed: Bool?)
        case napped(kauditdWaiting: Bool)
        case waitedBeforeStop(readable: Bool)
        case waitedIdle(readable: Bool)

        var description: String {
            switch self {
            case .received(let outcome, let spilled, let finishing, let pauses):
                "received(\(outcome)\(spilled ? ", spilled" : "")"
                    + "\(finishing.map { ", finishing: \($0)" } ?? "")"
                    + "\(pauses.map { ", pausesAllowed: \($0)" } ?? ""))"
            case .napped(let waiting): "napped(kauditdWaiting: \(waiting))"
            case .waitedBeforeStop(let readable): "waitedBeforeStop(readable: \(readable))"
            case .waitedIdle(let readable): "waitedIdle(readable: \(readable))"
            }
        }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        let name: String
        var idleNaps = 5
        let steps: [(Event, Action)]
        var testDescription: String { name }
    }

    // Shorthands for the tables. A receive that decides nothing (mid-burst) reads no flag.
    static func full(spilled: Bool = false) -> Event {
        .received(.full, spilled: spilled, finishing: nil, pausesAllowed: nil)
    }
    static func overflow() -> Event { .received(.overflow, spilled: false, finishing: nil, pausesAllowed: nil) }
    static func short(spilled: Bool = false, finishing: Bool? = false, pausesAllowed: Bool? = true) -> Event {
        .received(.short, spilled: spilled, finishing: finishing, pausesAllowed: pausesAllowed)
    }
    static func empty(finishing: Bool = false, pausesAllowed: Bool? = true) -> Event {
        .received(.empty, spilled: false, finishing: finishing, pausesAllowed: pausesAllowed)
    }
    static func failed(finishing: Bool = false, pausesAllowed: Bool? = true) -> Event {
        .received(.failed, spilled: false, finishing: finishing, pausesAllowed: pausesAllowed)
    }
    static let napped = Event.napped(kauditdWaiting: false)
    static let nappedKauditdWaiting = Event.napped(kauditdWaiting: true)
    static let nap = Action.nap(lowerBuffer: true)
    static let idle = Action.waitForTraffic(releaseSpill: false)
    /// A nap and the receive after it.
    static func naps(_ count: Int) -> [(Event, Action)] {
        Array(repeating: [(empty(), nap), (napped, .receive)], count: count).flatMap { $0 }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            name: "a reader that starts on an empty socket waits in poll at once",
            steps: [(empty(), idle), (.waitedIdle(readable: false), .receive), (empty(), idle)]),
        Scenario(
            name: "mid-burst it receives again at once, reading neither flag",
            steps: [
                (.waitedIdle(readable: true), .receive), (full(), .receive), (full(), .receive), (full(), .receive),
            ]
        ),
        Scenario(
            name: "a short batch naps, and the receive after the nap comes at once",
            steps: [(full(), .receive), (short(), nap), (napped, .receive), (full(), .receive), (short(), nap)]),
        Scenario(
            name: "after idleNaps naps without traffic (the short batch's nap the first) it waits in poll",
            steps: [(short(), nap), (napped, .receive)] + naps(4) + [(empty(), idle)]),
        Scenario(
            name: "the count of naps follows idleNaps",
            idleNaps: 2,
            steps: [(short(), nap), (napped, .receive)] + naps(1) + [(empty(), idle)]),
        Scenario(
            name: "traffic between naps starts the count again",
            steps: [(short(), nap), (napped, .receive)] + naps(3) + [(short(), nap), (napped, .receive)] + naps(4)
                + [(empty(), idle)]),
        Scenario(
            name: "a readable idle wait means naps again, a timeout or failed poll does not",
            steps: [(empty(), idle), (.waitedIdle(readable: true), .receive)] + naps(5)
                + [(empty(), idle), (.waitedIdle(readable: false), .receive), (empty(), idle)]),
        Scenario(
            name: "a nap that found kauditd waiting drains without napping until the socket is empty",
            steps: [
                (short(), nap), (nappedKauditdWaiting, .receive),
                (short(finishing: nil, pausesAllowed: nil), .receive), (full(), .receive),
                (short(finishing: nil, pausesAllowed: nil), .receive),
                // Empty: the drain ends, and the schedule naps as usual.
                (empty(), nap), (napped, .receive), (short(), nap),
            ]),
        Scenario(
            name: "a nap that did not find kauditd waiting does not drain",
            steps: [(short(), nap), (napped, .receive), (short(), nap)]),
        Scenario(
            name: "while kernel pauses are not allowed it naps without lowering the buffer",
            steps: [
                (short(pausesAllowed: false), .nap(lowerBuffer: false)), (napped, .receive),
                (empty(pausesAllowed: false), .nap(lowerBuffer: false)), (napped, .receive),
                (empty(pausesAllowed: true), nap),
            ]),
        Scenario(
            name: "finishing: a short batch receives again at once, an empty one waits for quiet, then stops",
            steps: [
                (full(), .receive), (short(finishing: true, pausesAllowed: nil), .receive),
                (empty(finishing: true, pausesAllowed: nil), .waitUntilQuiet),
                (.waitedBeforeStop(readable: true), .receive), (full(), .receive),
                (empty(finishing: true, pausesAllowed: nil), .waitUntilQuiet),
                (.waitedBeforeStop(readable: false), .stop),
            ]),
        Scenario(
            name: "finishing while idle waits for quiet, not in poll",
            steps: [
                (empty(finishing: true, pausesAllowed: nil), .waitUntilQuiet),
                (.waitedBeforeStop(readable: false), .stop),
            ]),
        Scenario(
            name: "finishing while draining: short batches drain on without reading the flag",
            steps: [
                (short(), nap), (nappedKauditdWaiting, .receive), (short(finishing: nil, pausesAllowed: nil), .receive),
                (empty(finishing: true, pausesAllowed: nil), .waitUntilQuiet),
                (.waitedBeforeStop(readable: false), .stop),
            ]),
        Scenario(
            name: "a failed receive counts as an empty socket (and ends a drain)",
            steps: [
                (failed(), idle), (.waitedIdle(readable: true), .receive), (failed(), nap),
                (nappedKauditdWaiting, .receive), (failed(), nap), (napped, .receive),
                (failed(finishing: true, pausesAllowed: nil), .waitUntilQuiet),
            ]),
        Scenario(
            name: "an overflow receives again at once and counts as traffic",
            steps: [(overflow(), .receive), (empty(), nap), (napped, .receive), (overflow(), .receive), (short(), nap)]
        ),
        Scenario(
            name: "spilled pages are released when it goes idle, not before, and once",
            steps: [
                (full(spilled: true), .receive), (short(), nap), (napped, .receive),
                (short(spilled: true), nap), (napped, .receive),
            ] + naps(4) + [
                (empty(), .waitForTraffic(releaseSpill: true)), (.waitedIdle(readable: false), .receive),
                (empty(), idle),
            ]),
        Scenario(
            name: "pages spilled before a poll that found traffic are released at the next idle wait",
            steps: [(short(spilled: true), nap), (napped, .receive)] + naps(4) + [
                (empty(), .waitForTraffic(releaseSpill: true)), (.waitedIdle(readable: true), .receive),
                (short(spilled: true), nap), (napped, .receive),
            ] + naps(4) + [(empty(), .waitForTraffic(releaseSpill: true))]),
    ]

    @Test(arguments: scenarios)
    func transitions(_ scenario: Scenario) {
        var schedule = ReaderSchedule(idleNaps: scenario.idleNaps)
        for (step, (event, expected)) in scenario.steps.enumerated() {
            let action = Self.apply(event, to: &schedule)
            #expect(action == expected, "step \(step): \(event)")
        }
    }

    static func apply(_ event: Event, to schedule: inout ReaderSchedule) -> Action {
        switch event {
        case .received(let outcome, let spilled, let finishing, let pausesAllowed):
            if spilled { schedule.recordSpilled() }
            return schedule.received(
                outcome, finishing: read(finishing, "the finishing flag"),
                kernelPausesAllowed: read(pausesAllowed, "the kernel pauses flag"))
        case .napped(let waiting): return schedule.napped(kauditdWaiting: waiting)
        case .waitedBeforeStop(let readable): return schedule.waitedBeforeStop(readable: readable)
        case .waitedIdle(let readable): return schedule.waitedIdle(readable: readable)
        }
    }

    /// A flag's value; a flag the table says must not be read records an issue when read.
    static func read(_ flag: Bool?, _ name: String) -> Bool {
        guard let flag else {
            Issue.record("read \(name)")
            return false
        }
        return flag
    }

    /// The processing stage is woken at the end of a burst: whenever the socket ran dry.
    @Test(arguments: ReaderSchedule.ReceiveOutcome.allCases)
    func theSocketRanDryUnlessABatchWasFullOrOverflowed(outcome: ReaderSchedule.ReceiveOutcome) {
        #expect(outcome.ranDry == (outcome != .full && outcome != .overflow))
    }

    /// Whatever comes, after each nap or wait the next action is a receive, an empty or failed
    /// receive naps while fewer than `idleNaps` naps came without traffic and waits in `poll` once
    /// that many did, and only a drained socket (never a full batch) leads to a nap or a wait.
    @Test func napsAtMostIdleNapsTimesWithoutTrafficThenWaitsInPoll() {
        var schedule = ReaderSchedule(idleNaps: 5)
        var generator = SplitMix64(seed: 17)
        // As the reader starts: idle.
        var napsWithoutTraffic = 5
        var waits = 0
        for _ in 0..<20_000 {
            let outcome = ReaderSchedule.ReceiveOutcome.allCases[Int(generator.next() % 5)]
            let action = schedule.received(outcome, finishing: false, kernelPausesAllowed: true)
            let drained = outcome == .empty || outcome == .failed
            if !drained { napsWithoutTraffic = 0 }
            switch action {
            case .nap:
                #expect(outcome != .full && outcome != .overflow)
                #expect(napsWithoutTraffic < 5)
                napsWithoutTraffic += 1
                #expect(schedule.napped(kauditdWaiting: generator.next() % 4 == 0) == .receive)
            case .waitForTraffic:
                #expect(drained && napsWithoutTraffic == 5)
                waits += 1
                let readable = generator.next() % 2 == 0
                if readable { napsWithoutTraffic = 0 }
                #expect(schedule.waitedIdle(readable: readable) == .receive)
            case .receive:
                // Mid-burst or draining; never for a drained socket.
                #expect(!drained)
            case .waitUntilQuiet, .stop:
                Issue.record("\(action) without finishing")
            }
        }
        #expect(waits > 50)
    }
}

/// A small deterministic generator (SplitMix64), so that the sequence test is reproducible.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_4476_1CE5_B9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
