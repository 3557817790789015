import AuditNetlink
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// `socket = multicast` beside a real auditd: auditd stays the registered daemon, swift-audit reads
/// the kernel's multicast copies, changes no kernel setting, and both see the same events.
@Suite(.serialized, .requires(.kernel, .auditd, .auditctl))
struct DaemonMulticastTests {
    static let key = "swift-audit-multicast"

    /// auditd in the foreground on its own configuration, writing to `log` (as the benchmark runs it).
    static func startAuditd(_ directory: TemporaryDirectory, log: String) throws -> Process {
        let confdir = directory.file("auditd")
        try FileManager.default.createDirectory(atPath: confdir + "/plugins.d", withIntermediateDirectories: true)
        _ = try directory.write(
            "auditd/auditd.conf",
            """
            local_events = yes
            write_logs = yes
            log_file = \(log)
            log_group = root
            log_format = RAW
            flush = INCREMENTAL_ASYNC
            freq = 50
            max_log_file = 1024
            num_logs = 2
            name_format = NONE
            max_log_file_action = IGNORE
            space_left = 2
            space_left_action = IGNORE
            admin_space_left = 1
            admin_space_left_action = IGNORE
            disk_full_action = IGNORE
            disk_error_action = IGNORE
            q_depth = 2000
            overflow_action = IGNORE
            plugin_dir = \(confdir)/plugins.d
            end_of_event_timeout = 2

            """, mode: 0o640)
        let process = Process()
        // Through python3, which resets the signal mask and dispositions the test runner's child
        // inherits (auditd ignored SIGTERM otherwise, and was killed without unregistering).
        // -s enable: auditing on (a test machine may have it off); the test's snapshot puts the
        // flag back afterwards.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import os, signal, sys
            for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGCHLD):
                signal.signal(s, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.execv(sys.argv[1], sys.argv[1:])
            """,
            try #require(HostTools.auditd), "-n", "-s", "enable", "-c", confdir,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Stops auditd with SIGTERM (it unregisters), killing it after 10 s.
    static func stop(_ auditd: Process) {
        guard auditd.isRunning else { return }
        kill(auditd.processIdentifier, SIGTERM)
        for _ in 0..<500 where auditd.isRunning { usleep(20_000) }
        if auditd.isRunning {
            kill(auditd.processIdentifier, SIGKILL)
            auditd.waitUntilExit()
        }
    }

    static func auditctl(_ arguments: [String]) throws {
        let result = try runProcess(try #require(HostTools.auditctl), arguments)
        if result.status != 0 { throw DaemonError("auditctl \(arguments) failed: \(result.standardError)") }
    }

    static let rule = [
        "always,exit", "-F", "arch=\(HostSyscalls.arch)", "-S", "getppid", "-F", "a0=0x7e57b00c", "-k", key,
    ]

    /// Serials of auditd's SYSCALL lines for the test's syscalls.
    static func auditdSerials(_ log: String) throws -> Set<Int> {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        var serials = Set<Int>()
        for line in text.split(separator: "\n") where line.hasPrefix("type=SYSCALL ") && line.contains("a0=7e57b00c") {
            guard let open = line.range(of: "msg=audit("),
                let close = line.range(of: "):", range: open.upperBound..<line.endIndex),
                let colon = line[open.upperBound..<close.lowerBound].lastIndex(of: ":"),
                let serial = Int(line[line.index(after: colon)..<close.lowerBound])
            else { continue }
            serials.insert(serial)
        }
        return serials
    }

    /// Serials of swift-audit's events for the test's syscalls.
    static func swiftAuditSerials(_ path: String) throws -> [Int] {
        try readJSONLines(path).filter { event in
            let messages = event["messages"] as? [[String: Any]] ?? []
            return messages.contains { ($0["data"] as? String)?.contains("a0=7e57b00c") == true }
        }.compactMap { $0["sequence"] as? Int }
    }

    static func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    @Test func readsTheSameEventsAsAuditdAndChangesNoKernelSetting() throws {
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let auditdLog = directory.file("audit.log")
            let auditd = try Self.startAuditd(directory, log: auditdLog)
            defer { Self.stop(auditd) }
            let registered = try Self.waitUntil(seconds: 10) {
                try client.status().pid == UInt32(auditd.processIdentifier)
            }
            try #require(
                registered, "auditd did not register (exit \(auditd.isRunning ? 0 : auditd.terminationStatus))")
            let before = try client.status()

            let events = directory.file("events.json")
            let config = try directory.write(
                "swift-audit.conf",
                """
                socket = multicast
                end_of_event_timeout = 500ms
                status_interval = 200ms
                loss_report_interval = 200ms
                output.main.type = file
                output.main.path = \(events)

                """)
            let daemon = try DaemonProcess(arguments: ["run", "--config", config], waitForRegistration: false)
            let started = try Self.waitUntil(seconds: 10) {
                try readJSONLines(events).contains { $0["type"] as? String == "swift-audit.start" }
            }
            try #require(started, "swift-audit did not start:\n\(daemon.log)")

            try Self.auditctl(["-a"] + Self.rule)
            defer { try? Self.auditctl(["-d"] + Self.rule) }
            try triggerSyscalls(count: 200)
            let all = try Self.waitUntil(seconds: 10) { try Self.swiftAuditSerials(events).count >= 200 }
            let got = try Self.swiftAuditSerials(events).count
            #expect(all, "swift-audit got \(got) of 200")
            let during = try client.status()
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            try Self.auditctl(["-d"] + Self.rule)

            // auditd stayed the registered daemon; nothing swift-audit could set changed.
            #expect(during.pid == UInt32(auditd.processIdentifier))
            let after = try client.status()
            #expect(after.pid == UInt32(auditd.processIdentifier))
            #expect(after.enabled == before.enabled)
            #expect(after.failure == before.failure)
            #expect(after.backlogLimit == before.backlogLimit)
            #expect(after.rateLimit == before.rateLimit)
            #expect(after.backlogWaitTime == before.backlogWaitTime)

            Self.stop(auditd)
            let unregistered = try Self.waitUntil(seconds: 5) { try client.status().pid == 0 }
            let named = try client.status().pid
            #expect(
                unregistered,
                "auditd unregisters on SIGTERM; the kernel names \(named) (auditd was \(auditd.processIdentifier), exit \(auditd.terminationStatus) \(auditd.terminationReason == .uncaughtSignal ? "signal" : "status"))"
            )

            let ours = try Self.swiftAuditSerials(events)
            let theirs = try Self.auditdSerials(auditdLog)
            #expect(ours.count == 200)
            #expect(
                Set(ours) == theirs,
                "swift-audit only: \(Set(ours).subtracting(theirs)); auditd only: \(theirs.subtracting(Set(ours)))")

            let lines = try readJSONLines(events)
            let start = try #require(lines.first { $0["type"] as? String == "swift-audit.start" })
            #expect(start["mode"] as? String == "multicast")
            let stop = try #require(lines.first { $0["type"] as? String == "swift-audit.stop" })
            #expect(stop["mode"] as? String == "multicast")
            #expect(stop["multicast_overruns"] as? Int == 0)
            let losses = lines.filter {
                $0["type"] as? String == "swift-audit.loss" && $0["reason"] as? String != "ring_stall"
            }
            #expect(losses.isEmpty, "\(losses)")
        }
    }
}
