import AuditConfig
import Foundation
import Testing

/// The output queues must fit a memory budget, and the number of outputs (one thread each) is
/// bounded: 5,000 file outputs with million-event queues were accepted, and would have taken tens
/// of gigabytes once their destinations stalled.
@Suite struct QueueBudgetTests {
    static func fileOutputs(_ count: Int, queueSize: Int?) -> String {
        (0..<count).map { index in
            "output.f\(index).type = file\noutput.f\(index).path = /var/log/swift-audit/f\(index).json\n"
                + (queueSize.map { "output.f\(index).queue_size = \($0)\n" } ?? "")
        }.joined()
    }

    @Test func fiveThousandOutputsWithMillionEventQueuesAreRefused() {
        let diagnostics = parseFailing(Self.fileOutputs(5000, queueSize: 1_048_576))
        let messages = diagnostics.map(\.message).joined(separator: "\n")
        #expect(messages.contains("queue_memory_budget"), "\(messages)")
        #expect(messages.contains("at most 256 outputs"), "\(messages)")
    }

    @Test func theQueuesOverTheBudgetAreRefusedNamingTheLargest() {
        let text = """
            queue_memory_budget = 64M
            output.small.type = file
            output.small.path = /var/log/swift-audit/small.json
            output.big.type = gelf
            output.big.address = 127.0.0.1:12201
            output.big.queue_size = 20000

            """
        let diagnostics = parseFailing(text)
        #expect(diagnostics.count == 1)
        let diagnostic = diagnostics.first
        #expect(diagnostic?.line == 6, "the largest queue's queue_size line")
        #expect(diagnostic?.key == "output.big.queue_size")
        #expect(diagnostic?.message.contains("queue_memory_budget = 64M (line 1)") == true, "\(diagnostics)")
        #expect(diagnostic?.message.contains("~98M") == true, "\(diagnostics)")

        // Within the budget (9000 × 5K + 8192 × 2K = ~60M): accepted.
        #expect(parseOK(text.replacingOccurrences(of: "20000", with: "9000")) != nil)
        // A disabled output gets no events and holds no queue.
        #expect(parseOK(text + "output.big.enabled = no\n") != nil)
    }

    @Test func theDefaultBudgetIsAQuarterOfPhysicalMemoryAndTheDefaultsFitIt() throws {
        let parsed = try #require(parseOK(stdoutOutput))
        #expect(parsed.configuration.pipeline.queueMemoryBudget == nil, "auto")
        let explicit = try #require(parseOK("queue_memory_budget = 1G\n" + stdoutOutput))
        #expect(explicit.configuration.pipeline.queueMemoryBudget == 1 << 30)
        let rendered = try #require(parseOK(explicit.configuration.render()))
        #expect(rendered.configuration == explicit.configuration)
        #expect(parseFailing("queue_memory_budget = 1K\n" + stdoutOutput).first?.key == "queue_memory_budget")
    }
}
