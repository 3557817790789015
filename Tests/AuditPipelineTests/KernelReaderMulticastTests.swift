import AuditNetlink
import AuditPipeline
import AuditTestSupport
import AuditThreads
import Glibc
import Testing

/// The reader on a socket joined to the multicast group, which is not connected to the kernel:
/// anything another process sends it straight to its port must not reach the ring.
@Suite(.requires(.kernel))
struct KernelReaderMulticastTests {
    @Test func datagramsFromAnotherSenderThanTheKernelAreRejectedAndCounted() throws {
        let socket = try AuditSocket.open(mode: .multicast)
        let port = socket.portID
        try #require(port != 0)
        let ring = try RecordRing(capacity: 1 << 20)
        let reader = KernelReader(socket: socket, ring: ring, socketBufferBytes: 0)
        let thread = try SystemThread.spawn(name: "test-read") { reader.run() }

        // A forged SYSCALL record, from an ordinary netlink audit socket (Python's) to the reader's port.
        let forge = try runPython(
            """
            import socket, struct, sys
            text = b"audit(1700000000.000:4242): arch=c000003e syscall=59 forged=1"
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
            s.sendto(struct.pack("<IHHII", 16 + len(text), 1300, 0, 0, 0) + text, (int(sys.argv[1]), 0))
            """, [String(port)])
        try #require(forge.status == 0, "\(forge.standardError)")

        var counters = reader.counters
        for _ in 0..<200 where counters.rejected == 0 {
            usleep(10_000)
            counters = reader.counters
        }
        reader.finishWhenDrained()
        thread.join()
        #expect(counters.rejected == 1)
        #expect(counters.malformed == 0)
        // What reached the ring in its place is an empty NLMSG_NOOP, never the forged record (the
        // kernel's own copies may be there too, when something on the machine is audited).
        var forged = 0
        ring.consumeAvailable { record in
            if String(decoding: record, as: UTF8.self).contains("forged=1") { forged += 1 }
        }
        #expect(forged == 0)
    }
}
