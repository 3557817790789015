package import AuditConfig
package import AuditNetlink
import AuditRules
import AuditSystem
internal import Glibc
package import Logging

/// The kernel-facing steps of starting, reloading and stopping: privileges, the audit settings,
/// and registration as the audit daemon.
package enum KernelSetup {
    /// Refuses to start without `CAP_AUDIT_CONTROL` (exit 4, as auditd), naming the capability.
    /// When the capability set cannot be read, it goes on: the kernel refuses what is not allowed
    /// anyway, and this check only words the refusal (see `Capability.isHeld(in:)`).
    package static func checkPrivileges(multicast: Bool = false) throws(DaemonError) {
        if multicast {
            // Joining the group is all it needs; status polls and rules (when allowed) need
            // CAP_AUDIT_CONTROL and are skipped or refused without it.
            guard Capability.auditRead.isEffective else {
                throw DaemonError(
                    "swift-audit run with socket = multicast needs CAP_AUDIT_READ (run it as root, or grant the capability)",
                    status: .privilege)
            }
            return
        }
        guard Capability.auditControl.isEffective else {
            throw DaemonError(
                "swift-audit run needs CAP_AUDIT_CONTROL (run it as root, or grant the capability)",
                status: .privilege)
        }
    }

    /// Makes sure no other live process owns the audit pid: with `takeover`, asks it to stop
    /// (SIGTERM) and waits up to `wait` seconds; otherwise fails naming it.
    package static func claimOwnership(_ client: some DaemonKernel, takeover: Bool, logger: Logger) throws(DaemonError)
    {
        let owner: UInt32
        do { owner = try client.status().pid } catch { throw DaemonError("\(error)") }
        guard owner != 0, owner != UInt32(getpid()) else { return }
        let registered = RegisteredAuditDaemon.lookup(owner)
        guard let command = registered.command else {
            logger.notice("the kernel names pid \(owner) as audit daemon but it is gone; registering over it")
            return
        }
        guard takeover else {
            let orTakeover =
                knownAuditDaemons.contains(command) ? ", or set takeover = yes to have swift-audit stop it" : ""
            throw DaemonError(
                "process \(registered) is registered as the audit daemon; \(registered.howToStop)\(orTakeover)")
        }
        // The kernel keeps naming a daemon that died while no records flowed, and its pid may
        // have been reused: only signal processes that are audit daemons by name.
        guard knownAuditDaemons.contains(command) else {
            throw DaemonError(
                "the kernel names pid \(owner) as the audit daemon, but that process is \(command), "
                    + "not a known audit daemon; not signalling it. Stop the audit daemon by hand")
        }
        logger.warning(
            "takeover: asking the registered audit daemon to stop",
            metadata: ["pid": "\(owner)", "command": "\(command)"])
        kill(pid_t(owner), SIGTERM)
        for _ in 0..<100 {
            usleep(100_000)
            let now = (try? client.status().pid) ?? owner
            if now == 0 || ProcFS.processName(owner) == nil { return }
        }
        throw DaemonError("process \(owner) (\(command)) did not stop within 10 s after SIGTERM")
    }

    /// Process names `takeover` may stop.
    static let knownAuditDaemons: Set<String> = ["auditd", "go-audit", "auditbeat", "swift-audit", "audit-read"]

    /// Applies the configured kernel settings that differ from the kernel's. A locked kernel
    /// (enabled 2) refuses every change: that is reported once and is not an error, since the
    /// daemon must still run and record.
    package static func apply(_ settings: AuditSettings, client: some DaemonKernel, logger: Logger) {
        let status: AuditStatus
        do { status = try client.status() } catch {
            logger.error("cannot read the audit status", metadata: ["error": "\(error)"])
            return
        }
        if status.enabled == .locked {
            logger.warning(
                "the audit configuration is locked (enabled 2) until reboot; kernel settings and rules are left as they are"
            )
            return
        }
        func attempt(_ name: String, _ wanted: UInt32, _ current: UInt32, _ body: () throws(AuditNetlinkError) -> Void)
        {
            guard wanted != current else { return }
            do {
                try body()
                logger.info(
                    "kernel setting applied", metadata: ["setting": "\(name)", "old": "\(current)", "new": "\(wanted)"])
            } catch {
                logger.error(
                    "kernel setting refused",
                    metadata: ["setting": "\(name)", "value": "\(wanted)", "error": "\(error)"])
            }
        }
        attempt("failure", settings.failure.rawValue, status.failure.rawValue) { () throws(AuditNetlinkError) in
            try client.set(AuditStatus(mask: .failure, failure: settings.failure))
        }
        attempt("rate_limit", settings.rateLimit, status.rateLimit) { () throws(AuditNetlinkError) in
            try client.set(AuditStatus(mask: .rateLimit, rateLimit: settings.rateLimit))
        }
        attempt("backlog_limit", settings.backlogLimit, status.backlogLimit) { () throws(AuditNetlinkError) in
            try client.set(AuditStatus(mask: .backlogLimit, backlogLimit: settings.backlogLimit))
        }
        attempt("backlog_wait_time", settings.backlogWaitTime, status.backlogWaitTime) { () throws(AuditNetlinkError) in
            try client.set(AuditStatus(mask: .backlogWaitTime, backlogWaitTime: settings.backlogWaitTime))
        }
        // enabled last: `lock` (2) freezes everything else.
        attempt("enabled", settings.enabled.rawValue, status.enabled.rawValue) { () throws(AuditNetlinkError) in
            try client.set(AuditStatus(mask: .enabled, enabled: settings.enabled))
        }
    }

    /// Opens a socket joined to the multicast group (AUDIT_NLGRP_READLOG) for the reader to own,
    /// and sizes its buffer. Nothing is registered and no kernel setting changes.
    package static func openMulticastSocket(bufferSize: Int, logger: Logger) throws(DaemonError) -> AuditSocket {
        let socket: AuditSocket
        do { socket = try AuditSocket.open(mode: .multicast) } catch {
            if case .permissionDenied = error.kind { throw DaemonError("\(error)", status: .privilege) }
            throw DaemonError("\(error)")
        }
        setBuffer(of: socket, to: bufferSize, logger: logger)
        return socket
    }

    /// Names the registered daemon beside which the multicast reader runs, or says that none is
    /// (then the kernel also prints every record to its log, and drops them at the backlog limit).
    package static func describeRegisteredDaemon(_ client: some DaemonKernel, logger: Logger) {
        guard let pid = try? client.status().pid else { return }
        if pid == 0 {
            logger.notice(
                """
                no audit daemon is registered: the kernel also prints every record to its log, and drops \
                records once its backlog is full (socket = multicast reads copies; it does not register)
                """)
        } else {
            logger.info(
                "reading beside the registered audit daemon",
                metadata: ["daemon": "\(RegisteredAuditDaemon.lookup(pid))"])
        }
    }

    private static func setBuffer(of socket: AuditSocket, to bufferSize: Int, logger: Logger) {
        guard bufferSize > 0 else { return }
        do {
            let granted = try socket.setReceiveBufferSize(bufferSize)
            logger.info(
                "socket receive buffer set", metadata: ["requested": "\(bufferSize)", "kernel_reports": "\(granted)"])
        } catch {
            logger.warning(
                "cannot enlarge the socket receive buffer; bursts may overflow it (ENOBUFS, counted)",
                metadata: ["error": "\(error)"])
        }
    }

    /// Opens the socket the reader will own, sizes its buffer, and registers through it; returns
    /// the socket (the caller owns it) and the records that arrived while registering.
    package static func registerReaderSocket(
        bufferSize: Int, logger: Logger
    ) throws(DaemonError) -> (socket: AuditSocket, pendingRecords: [AuditRawRecord]) {
        let socket: AuditSocket
        do { socket = try AuditSocket.open(mode: .unicast) } catch { throw DaemonError("\(error)") }
        setBuffer(of: socket, to: bufferSize, logger: logger)
        let client = AuditClient(socket: socket)
        do {
            try client.register()
        } catch {
            if case .permissionDenied = error.kind { throw DaemonError("\(error)", status: .privilege) }
            throw DaemonError("\(error)")
        }
        return client.relinquishSocket()
    }
}
