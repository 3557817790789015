import AuditNetlink
import Glibc
import Testing

/// The registered socket has one owner at a time: a client closes the socket it owns when it
/// goes away, and after `relinquishSocket()` it leaves it to the new owner (the daemon's reader).
@Suite struct SocketOwnershipTests {
    static func isOpen(_ descriptor: Int32) -> Bool { fcntl(descriptor, F_GETFD) >= 0 }

    @Test func aClientClosesTheSocketItOwnsWhenItGoesAway() throws {
        var descriptor: Int32 = -1
        do {
            let client = try AuditClient()
            descriptor = client.socket.fileDescriptor
            #expect(Self.isOpen(descriptor))
        }
        #expect(!Self.isOpen(descriptor))
    }

    @Test func aClientThatHandedItsSocketOverLeavesItOpenForTheNewOwner() throws {
        var handed: AuditSocket?
        do {
            let client = try AuditClient()
            let handover = client.relinquishSocket()
            #expect(handover.pendingRecords.isEmpty)
            handed = handover.socket
        }
        let socket = try #require(handed)
        #expect(Self.isOpen(socket.fileDescriptor))
        socket.close()
        #expect(!Self.isOpen(socket.fileDescriptor))
    }
}
