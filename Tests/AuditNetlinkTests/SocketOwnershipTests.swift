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

/// When another process holds the audit socket, the error names that process as /proc shows it
/// (its comm and its command line) and says how to stop it; it never blames journald, which only
/// reads the multicast group and is never the registered daemon.
@Suite struct RegisteredDaemonMessageTests {
    @Test func theRegistrationErrorNamesTheProcessHoldingTheSocketAndHowToStopIt() {
        let error = AuditNetlinkError(
            .alreadyRegistered(pid: 4242, command: "auditd", commandLine: "/sbin/auditd -n"), errno: EEXIST,
            operation: "AUDIT_SET pid=7")
        #expect(
            error.description
                == "AUDIT_SET pid=7 failed: process 4242 (auditd: /sbin/auditd -n) is registered as the audit daemon, "
                + "and the kernel sends its records to one registered process only; stop it first: systemctl stop "
                + "auditd (and systemctl disable auditd, so that it does not start again at boot)")
        let other = AuditNetlinkError(
            .alreadyRegistered(pid: 99, command: "python3", commandLine: "python3 /opt/agent.py"), errno: EEXIST,
            operation: "AUDIT_SET pid=7")
        #expect(other.description.contains("process 99 (python3: python3 /opt/agent.py)"))
        #expect(other.description.contains("systemctl status 99 names the unit"))
        #expect(!error.description.contains("journald") && !other.description.contains("journald"))
    }

    @Test func theOwnerIsReadFromProcWithItsCommandLine() {
        let me = RegisteredAuditDaemon.lookup(UInt32(getpid()))
        #expect(me.command != nil)
        #expect(me.commandLine?.contains("swift-auditPackageTests") == true, "\(me)")
        #expect(RegisteredAuditDaemon.lookup(0).description == "0")
    }
}
