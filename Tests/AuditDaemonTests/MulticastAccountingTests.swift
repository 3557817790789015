import AuditDaemon
import AuditEncoding
import AuditPipeline
import Logging
import Testing

/// What the loss accounting and `STATUS=` say in the read-only multicast mode: ENOBUFS is this
/// reader's `multicast_overrun`, the kernel's `lost` counter is the registered daemon's
/// (information, no loss event), forged datagrams are counted.
@Suite struct MulticastAccountingTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func overrunsAreTheirOwnReasonAndTheKernelsLostCounterIsNoLossOfOurs() {
        var accounting = LossAccounting(multicast: true)
        var snapshot = snapshot(overflows: 3)
        snapshot.reader.rejected = 2
        let events = accounting.events(snapshot, kernelLost: 50, logger: logger)
        #expect(lossReasons(events) == ["multicast_overrun 3", "foreign_sender 2"])

        var unicast = LossAccounting()
        #expect(
            lossReasons(unicast.events(snapshot, kernelLost: 50, logger: logger)) == ["kernel_lost 50", "enobufs 3"])
    }

    @Test func theStatusLineNamesTheModeAndWhoseCountersTheKernelsAre() {
        var snapshot = snapshot(overflows: 4)
        snapshot.reader.rejected = 1
        let multicast = LossAccounting(multicast: true).counters(snapshot, kernelLost: 9)
        let text = StatusLine.text(snapshot, loss: multicast, kernelBacklog: 0)
        #expect(text.hasPrefix("mode=multicast; "), "\(text)")
        #expect(text.contains("multicast overruns 4"))
        #expect(text.contains("daemon's kernel lost 9"))
        #expect(text.contains("forged 1"))
        let unicast = StatusLine.text(
            snapshot, loss: LossAccounting().counters(snapshot, kernelLost: 9), kernelBacklog: 0)
        #expect(!unicast.contains("mode="))
    }
}
