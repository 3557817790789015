import AuditEncoding
import AuditFilters
import AuditPipeline
import AuditThreads
import AuditWriters
import Glibc
import Synchronization
import Testing

@Suite struct EventProcessorFilterTests {
    static func rule(_ name: String, _ action: FilterAction, _ field: FilterField, _ value: String) throws -> FilterRule
    {
        FilterRule(name: name, action: action, conditions: [try FilterCondition.parse(field, value)])
    }

    /// Event `serial`: comm "noisy" for multiples of 5, key "exec" for multiples of 3.
    static func records(_ serial: Int) -> [[UInt8]] {
        let comm = serial % 5 == 0 ? "noisy" : "quiet"
        let key = serial % 3 == 0 ? "\"exec\"" : "(null)"
        let body = "arch=c000003e syscall=59 success=yes exit=0 uid=0 comm=\"\(comm)\" exe=\"/bin/x\" key=\(key)"
        return [datagram(type: 1300, serial: serial, body: body), datagram(type: 1320, serial: serial, body: "")]
    }

    static func serials(_ seen: CollectingWriter.Seen) -> [Int] {
        seen.items.withLock { $0 }.map { item in
            let text = String(decoding: item.line, as: UTF8.self)
            return Int(text.dropFirst("{\"sequence\":".count).prefix { $0 != "," }) ?? -1
        }
    }

    /// The global list before every output, each output's own list, a filterlog output, a
    /// structured output, the counters, and a reload that changes the filters between batches.
    @Test func eachOutputGetsTheEventsItsFiltersLetThroughAndAReloadAppliesBetweenBatches() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let names = ["all", "quiet", "log", "structured"]
        let seen = names.map { _ in CollectingWriter.Seen() }
        let workers = try seen.map { try OutputWorker(CollectingWriter(seen: $0)) }
        let outputs = zip(names, workers).map { name, worker in
            Output(name: name, worker: worker, wantsEvent: name == "structured")
        }
        let rules = [
            try Self.rule("noisy", .drop, .comm, "noisy"),
            try Self.rule("exec", .drop, .key, "exec"),
        ]
        let plan = FilterPlan(
            rules: rules, global: ["noisy"],
            outputs: [
                // "all" is not in the plan: it gets what the global list keeps.
                OutputFilters(name: "quiet", rules: ["exec"]),
                OutputFilters(name: "log", selection: .filteredOutBy("quiet")),
                OutputFilters(name: "structured", rules: ["exec"]),
            ])
        let control = ProcessorControl(ring: ring, outputs: OutputSet(outputs))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5, filters: plan))
                .run(control: control)
        }
        for serial in 1...30 {
            for record in Self.records(serial) { record.withUnsafeBytes { ring.append($0) } }
        }
        ring.publish()
        control.waitForNextBatch(timeoutMilliseconds: 5000)
        // Reload: the exec rule is gone; "quiet" now keeps exec events, "noisy" still drops.
        control.reconfigure(
            ProcessorConfiguration(
                idleWakeMilliseconds: 5,
                filters: FilterPlan(
                    rules: [rules[0]], global: ["noisy"],
                    outputs: [
                        OutputFilters(name: "quiet"), OutputFilters(name: "log", selection: .filteredOutBy("quiet")),
                    ]
                )))
        control.waitForNextBatch(timeoutMilliseconds: 5000)
        for serial in 31...45 {
            for record in Self.records(serial) { record.withUnsafeBytes { ring.append($0) } }
        }
        ring.publish()
        control.finish()
        stage.join()
        for worker in workers { _ = worker.close(drainTimeout: .seconds(5)) }

        let first = Array(1...30)
        let second = Array(31...45)
        let noisy = { (serial: Int) in serial % 5 == 0 }
        let exec = { (serial: Int) in serial % 3 == 0 }
        #expect(Self.serials(seen[0]) == (first + second).filter { !noisy($0) })
        #expect(Self.serials(seen[1]) == first.filter { !noisy($0) && !exec($0) } + second.filter { !noisy($0) })
        #expect(Self.serials(seen[2]) == first.filter { noisy($0) || exec($0) } + second.filter(noisy))
        #expect(Self.serials(seen[3]) == first.filter { !noisy($0) && !exec($0) } + second.filter { !noisy($0) })

        let statistics = control.statistics
        #expect(statistics.events == 45)
        #expect(statistics.filteredEvents == 0, "every event reached \"all\" or \"log\"")
        let noisyCount = UInt64((first + second).filter(noisy).count)
        #expect(statistics.filters.rules == [NamedCount(name: "noisy", count: noisyCount)])
        #expect(statistics.filters.droppedGlobally == noisyCount)
        let quietFiltered = UInt64(first.filter { noisy($0) || exec($0) }.count + second.filter(noisy).count)
        #expect(
            statistics.filters.outputs == [
                NamedCount(name: "quiet", count: quietFiltered), NamedCount(name: "log", count: 0),
            ])
        #expect(quietFiltered == UInt64(Self.serials(seen[2]).count))
    }

    @Test func anEventNoOutputTakesIsNotEncodedAndIsCounted() throws {
        let ring = try RecordRing(capacity: 1 << 20)
        let seen = CollectingWriter.Seen()
        let worker = try OutputWorker(CollectingWriter(seen: seen))
        let plan = FilterPlan(
            rules: [try Self.rule("exec", .drop, .key, "exec")], global: ["exec"],
            outputs: [OutputFilters(name: "only")])
        let control = ProcessorControl(
            ring: ring, outputs: OutputSet([Output(name: "only", worker: worker, wantsEvent: false)]))
        let stage = try SystemThread.spawn(name: "process-test") {
            EventProcessor(configuration: ProcessorConfiguration(idleWakeMilliseconds: 5, filters: plan))
                .run(control: control)
        }
        for serial in 1...12 {
            for record in Self.records(serial) { record.withUnsafeBytes { ring.append($0) } }
        }
        ring.publish()
        control.finish()
        stage.join()
        _ = worker.close(drainTimeout: .seconds(5))
        #expect(Self.serials(seen) == (1...12).filter { $0 % 3 != 0 })
        #expect(control.statistics.filteredEvents == 4)
        #expect(control.statistics.filters.rules == [NamedCount(name: "exec", count: 4)])
        #expect(control.statistics.filters.outputs == [NamedCount(name: "only", count: 4)])
    }
}
