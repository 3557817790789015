import AuditNetlink
import AuditPipeline
import AuditTestSupport
import Testing

/// The socket buffer the reader lowers while it naps, on a real (unregistered) audit socket.
@Suite(.requires(.kernel))
struct KernelReaderNapBufferTests {
    @Test func lowersForTheNapAndRestoresTheSocketsOwnSize() throws {
        let socket = try AuditSocket.open(mode: .unicast)
        defer { socket.close() }
        try socket.setReceiveBufferSize(1 << 20)
        var buffer = KernelReader.NapBuffer(socket: socket, napBytes: 64 << 10)
        #expect(try buffer.lower(socket))
        #expect(socket.receiveBufferSize == 128 << 10)
        #expect(!buffer.isFull(socket))
        try buffer.restore(socket)
        #expect(socket.receiveBufferSize == 2 << 20)
        // Restoring twice changes nothing.
        try socket.setReceiveBufferSize(512 << 10)
        try buffer.restore(socket)
        #expect(socket.receiveBufferSize == 1 << 20)
    }

    @Test(arguments: [0, 1 << 20, 4 << 20])
    func isOffWhenZeroOrNotSmallerThanTheSocketsBuffer(napBytes: Int) throws {
        let socket = try AuditSocket.open(mode: .unicast)
        defer { socket.close() }
        try socket.setReceiveBufferSize(1 << 20)
        var buffer = KernelReader.NapBuffer(socket: socket, napBytes: napBytes)
        #expect(try !buffer.lower(socket))
        #expect(socket.receiveBufferSize == 2 << 20)
    }

    /// Full means kauditd waits: a reply queued in a buffer with less than one record's room left.
    @Test func isFullOnlyWhenLessThanOneRecordFits() throws {
        let socket = try AuditSocket.open(mode: .unicast)
        defer { socket.close() }
        try socket.setReceiveBufferSize(1 << 20)
        let buffer = KernelReader.NapBuffer(socket: socket, napBytes: 64 << 10)
        try withUnsafeBytes(of: UInt32(0)) { none in
            try socket.send(type: .get, flags: 0, sequence: 1, payload: UnsafeRawBufferPointer(rebasing: none[0..<0]))
        }
        #expect(try socket.waitReadable(timeoutMilliseconds: 2000))
        let queued = try #require(socket.receiveBufferUsage?.queued)
        #expect(!buffer.isFull(socket))
        // The kernel's smallest buffer is a few KiB: the one reply then leaves no room for a record.
        try socket.setReceiveBufferSize(queued / 2)
        #expect(buffer.isFull(socket), "\(String(describing: socket.receiveBufferUsage))")
    }
}
