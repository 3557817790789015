import AuditNetlink
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The built daemon against the real kernel: rules fire, events reach the outputs, signals work.
/// Serialised, under the kernel-test lock, restoring the kernel state after each test.
@Suite(.serialized, .requires(.kernel))
struct DaemonEndToEndTests {
    static let key = "swift-audit-e2e"

    /// A configuration with the given output sections and small, test-friendly intervals.
    static func configuration(_ outputs: String, extra: String = "") -> String {
        """
        # written by DaemonEndToEndTests
        end_of_event_timeout = 500ms
        status_interval = 200ms
        loss_report_interval = 200ms
        \(extra)
        \(outputs)
        """
    }

    static func fileOutput(_ name: String, _ path: String, extra: String = "") -> String {
        "output.\(name).type = file\noutput.\(name).path = \(path)\n\(extra)"
    }

    static func addRule() throws {
        let result = try runProcess(
            "/sbin/auditctl",
            ["-a", "always,exit", "-F", "arch=\(HostSyscalls.arch)", "-S", "getppid", "-F", "a0=0x7e57b00c", "-k", key])
        if result.status != 0 { throw DaemonError("auditctl failed: \(result.standardError)") }
    }

    /// The daemon started on one file output (`events`) and `extra` settings, with the suite's rule
    /// added. Keep `directory` alive while the test runs.
    static func startWithFileOutput(extra: String) throws -> (
        directory: TemporaryDirectory, events: String, daemon: DaemonProcess
    ) {
        let directory = try TemporaryDirectory()
        let events = directory.file("events.json")
        let config = try directory.write(
            "swift-audit.conf", configuration(fileOutput("main", events), extra: extra))
        let daemon = try DaemonProcess(arguments: ["run", "--config", config])
        try addRule()
        return (directory, events, daemon)
    }

    /// The events of `path` that the test's syscalls produced.
    static func triggeredEvents(_ path: String) throws -> [[String: Any]] {
        try readJSONLines(path).filter { event in
            guard let messages = event["messages"] as? [[String: Any]] else { return false }
            return messages.contains { ($0["data"] as? String)?.contains("a0=7e57b00c") == true }
        }
    }

    static func statusEvents(_ path: String, type: String) throws -> [[String: Any]] {
        try readJSONLines(path).filter { $0["type"] as? String == type }
    }

    /// The a1 values (the trigger's counter) of the triggered events.
    static func tokens(_ events: [[String: Any]]) -> [Int] {
        events.compactMap { event in
            let messages = event["messages"] as? [[String: Any]] ?? []
            guard let data = messages.first(where: { $0["type"] as? Int == 1300 })?["data"] as? String,
                let field = data.split(separator: " ").first(where: { $0.hasPrefix("a1=") })
            else { return nil }
            return Int(field.dropFirst(3), radix: 16)
        }
    }

    @Test func everyTriggeredSyscallBecomesExactlyOneEventInTheFile() throws {
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            try triggerSyscalls(count: 500)
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            #expect(try client.status().pid == 0, "the daemon unregisters on SIGTERM")

            let triggered = try Self.triggeredEvents(events)
            #expect(triggered.count == 500)
            #expect(Set(Self.tokens(triggered)) == Set(0..<500))
            for event in triggered.prefix(20) {
                let messages = try #require(event["messages"] as? [[String: Any]])
                #expect(messages.first?["type"] as? Int == 1300)
                #expect(messages.contains { $0["type"] as? Int == 1327 }, "PROCTITLE kept")
                #expect(!messages.contains { $0["type"] as? Int == 1320 }, "EOE is not written")
                #expect((messages.first?["data"] as? String)?.contains("key=\"\(Self.key)\"") == true)
                #expect(event["sequence"] is Int)
                let timestamp = try #require(event["timestamp"] as? String)
                #expect(timestamp.range(of: #"^\d+\.\d{3}$"#, options: .regularExpression) != nil)
                #expect(event["uid_map"] is [String: Any])
            }
            let sequences = try readJSONLines(events).compactMap { $0["sequence"] as? Int }
            #expect(sequences == sequences.sorted(), "events leave in serial order")
            #expect(try Self.statusEvents(events, type: "swift-audit.start").count == 1)
            let stop = try #require(try Self.statusEvents(events, type: "swift-audit.stop").first)
            #expect(stop["sender_pid"] as? Int == Int(getpid()))
            #expect(
                try Self.statusEvents(events, type: "swift-audit.loss").filter {
                    $0["reason"] as? String != "ring_stall"
                }.isEmpty)
        }
    }

    @Test func loadsItsRulesFileWithoutAuditctlAndClearsThemAtExit() throws {
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let rules = try directory.write(
                "test.rules",
                "# rules for the test\n-D\n-a always,exit -F arch=\(HostSyscalls.arch) -S getppid -F a0=0x7e57b00c -k \(Self.key)\n"
            )
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(
                    Self.fileOutput("main", events), extra: "rules_file = \(rules)\nrules_at_exit = clear"))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try waitFor { try client.listRules().count == 1 }
            try triggerSyscalls(count: 100)
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            #expect(try Self.triggeredEvents(events).count == 100)
            let loaded = try #require(try Self.statusEvents(events, type: "swift-audit.rules").first)
            #expect(loaded["result"] as? String == "applied")
            #expect(loaded["added"] as? Int == 1)
            #expect(try client.listRules().isEmpty, "rules_at_exit = clear")
        }
    }

    @Test func aRulesFileThatDoesNotParseStopsTheStartWithExitSix() throws {
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let rules = try directory.write("bad.rules", "-a always,exit -S getppid -F uidd=0\n")
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(
                    Self.fileOutput("main", directory.file("events.json")), extra: "rules_file = \(rules)"))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config], waitForRegistration: false)
            #expect(try daemon.waitForExit(timeout: 15) == 6)
            #expect(daemon.log.contains("\(rules):1:"), "\(daemon.log)")
            #expect(daemon.log.contains("uidd"))
            #expect(try client.status().pid == 0, "it never registered")
            #expect(try client.listRules().isEmpty)
        }
    }

    @Test func twoOutputsEachReceiveEveryEvent() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let first = directory.file("first.json")
            let second = directory.file("second.json")
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(
                    Self.fileOutput("first", first)
                        + Self.fileOutput("second", second, extra: "output.second.mode = 0640\n")))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            try triggerSyscalls(count: 300)
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            #expect(try Self.triggeredEvents(first).count == 300)
            #expect(try Self.triggeredEvents(second).count == 300)
            var info = stat()
            stat(second, &info)
            #expect(info.st_mode & 0o777 == 0o640)
            stat(first, &info)
            #expect(info.st_mode & 0o777 == 0o600, "default mode")
        }
    }

    @Test func sigusr1ReopensTheFileAfterLogrotateRenamedIt() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            try triggerSyscalls(count: 100, token: 0)
            try waitFor { try Self.triggeredEvents(events).count == 100 }
            #expect(rename(events, events + ".1") == 0)
            daemon.signal(SIGUSR1)
            try waitFor { FileManager.default.fileExists(atPath: events) }
            try triggerSyscalls(count: 100, token: 1000)
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            let rotated = Self.tokens(try Self.triggeredEvents(events + ".1"))
            let current = Self.tokens(try Self.triggeredEvents(events))
            #expect(Set(rotated) == Set(0..<100))
            #expect(Set(current) == Set(1000..<1100))
        }
    }

    @Test func sighupAppliesAValidConfigurationAndKeepsTheRunningOneOnAnInvalidOne() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let first = directory.file("first.json")
            let second = directory.file("second.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("first", first)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            try triggerSyscalls(count: 50, token: 0)

            try directory.write(
                "swift-audit.conf",
                Self.configuration(Self.fileOutput("first", first) + Self.fileOutput("second", second)))
            daemon.signal(SIGHUP)
            try waitFor { try Self.statusEvents(first, type: "swift-audit.reload").count == 1 }
            try triggerSyscalls(count: 50, token: 100)

            try directory.write(
                "swift-audit.conf", Self.configuration(Self.fileOutput("first", first)) + "\nbacklog_limit = lots\n")
            daemon.signal(SIGHUP)
            try waitFor { try Self.statusEvents(first, type: "swift-audit.reload").count == 2 }
            #expect(daemon.log.contains("swift-audit.conf:"), "the error names the file and line")
            #expect(daemon.log.contains("backlog_limit"))
            try triggerSyscalls(count: 50, token: 200)
            #expect(try daemon.stop() == 0, "\(daemon.log)")

            let reloads = try Self.statusEvents(first, type: "swift-audit.reload")
            #expect(reloads.map { $0["result"] as? String } == ["ok", "failed"])
            #expect(
                Set(Self.tokens(try Self.triggeredEvents(first)))
                    == Set((0..<50).map { $0 } + (100..<150) + (200..<250)))
            // The second output exists from the first reload on, and survives the failed one.
            #expect(Set(Self.tokens(try Self.triggeredEvents(second))) == Set((100..<150).map { $0 } + (200..<250)))
        }
    }

    @Test func tellsSystemdWhenItIsReadyReloadingAndStopping() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let receiver = try NotifySocket(path: directory.file("notify.sock"))
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(
                arguments: ["run", "--config", config],
                environment: ["NOTIFY_SOCKET": receiver.path, "WATCHDOG_USEC": "400000"])
            var messages = try receiver.receive(until: { $0.contains("READY=1") })
            #expect(messages.contains { $0.contains("STATUS=events") })
            messages = try receiver.receive(until: { $0.contains("WATCHDOG=1") })
            daemon.signal(SIGHUP)
            messages = try receiver.receive(until: { $0.contains("READY=1") })
            #expect(messages.contains { $0.contains("RELOADING=1") && $0.contains("MONOTONIC_USEC=") })
            daemon.signal(SIGTERM)
            messages = try receiver.receive(until: { $0.contains("STOPPING=1") })
            #expect(try daemon.waitForExit(timeout: 15) == 0)
        }
    }

    @Test func aRecordedRunReplaysToTheSameEvents() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let capture = directory.file("capture.bin")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config, "--record", capture])
            try Self.addRule()
            try triggerSyscalls(count: 200)
            #expect(try daemon.stop() == 0, "\(daemon.log)")

            let replayed = directory.file("replayed.json")
            #expect(FileManager.default.createFile(atPath: replayed, contents: nil))
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: replayed))
            let replay = Process()
            replay.executableURL = TestEnvironment.executable
            replay.arguments = ["replay", capture]
            replay.standardOutput = output
            try replay.run()
            replay.waitUntilExit()
            try output.close()
            #expect(replay.terminationStatus == 0)

            let live = try Self.triggeredEvents(events)
            let again = try Self.triggeredEvents(replayed)
            #expect(live.count == 200)
            #expect(again.count == 200)
            func key(_ event: [String: Any]) -> String {
                let messages = (event["messages"] as? [[String: Any]] ?? []).map {
                    "\($0["type"] ?? ""):\($0["data"] ?? "")"
                }
                return "\(event["sequence"] ?? "")|\(event["timestamp"] ?? "")|" + messages.joined(separator: "|")
            }
            #expect(Set(live.map(key)) == Set(again.map(key)), "the replay gives the very events the live run wrote")
        }
    }

    @Test func syslogAndGELFOutputsReceiveEveryEventBesideTheFile() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let syslog = try UDPReceiver()
            let gelf = try UDPReceiver()
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(
                    Self.fileOutput("main", events)
                        + "output.relay.type = syslog\noutput.relay.target = udp\noutput.relay.address = 127.0.0.1:\(syslog.port)\n"
                        + "output.graylog.type = gelf\noutput.graylog.address = 127.0.0.1:\(gelf.port)\n"))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            try triggerSyscalls(count: 200)
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            #expect(try Self.triggeredEvents(events).count == 200)

            let syslogMessages = syslog.drain().map { String(decoding: $0, as: UTF8.self) }.filter {
                $0.contains("a0=7e57b00c")
            }
            #expect(syslogMessages.count == 200)
            if let first = syslogMessages.first {
                // RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID - {json}
                #expect(first.hasPrefix("<182>1 "), "local6.info")
                let json = try #require(first.firstIndex(of: "{").map { String(first[$0...]) })
                #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
            }
            let documents = try UDPReceiver.assembleGELF(gelf.drain()).compactMap {
                try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
            }
            let audited = documents.filter { ($0["_event"] as? String)?.contains("a0=7e57b00c") == true }
            #expect(audited.count == 200)
            if let document = audited.first {
                #expect(document["version"] as? String == "1.1")
                #expect((document["short_message"] as? String)?.isEmpty == false)
                #expect(document["timestamp"] is Double || document["timestamp"] is Int)
                #expect(document["_key"] as? String == Self.key)
            }
        }
    }

    @Test func sigtermMidBurstLosesNothingBetweenSocketAndFile() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            // backlog_wait_time: producers wait instead of losing records in the kernel.
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(Self.fileOutput("main", events), extra: "backlog_wait_time = 15000"))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            let load = Process()
            load.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            load.arguments = [
                "python3", "-c",
                "import ctypes\ns=ctypes.CDLL(None).syscall\nfor i in range(8000): s(\(HostSyscalls.getppid), 0x7e57b00c, i, 0, 0)",
            ]
            try load.run()
            // The tests run the debug build, whose processing is far slower than the release
            // build's: it still drains everything it received before it exits.
            try waitFor { try Self.triggeredEvents(events).count > 1000 }
            #expect(try daemon.stop(timeout: 60) == 0, "\(daemon.log)")
            load.waitUntilExit()

            let stop = try #require(try Self.statusEvents(events, type: "swift-audit.stop").first)
            // Every datagram the reader took from the socket went through the pipeline, and every
            // event it produced is a line in the file.
            #expect((stop["datagrams_received"] as? Int ?? 0) > 1000, "the stop event reports the reader's counters")
            #expect((stop["datagrams_received"] as? Int ?? -1) <= (stop["datagrams_processed"] as? Int ?? -2))
            let lines = try readJSONLines(events).filter { $0["sequence"] != nil }
            #expect(lines.count == stop["events"] as? Int)
            let tokens = Self.tokens(try Self.triggeredEvents(events))
            #expect(Set(tokens).count == tokens.count, "no event twice")
            #expect(tokens.count > 1000)
        }
    }

    /// Bursts that arrive while the reader naps: with `backlog_wait_time` above 0 the small nap
    /// buffer fills and kauditd waits (counted), and every event still arrives; with 0 the buffer
    /// is never lowered. (Bursts of 150 events, 450 records, fill the 128 KiB that a 64K nap
    /// buffer allows many times over, and fit the 8192-record backlog.)
    @Test(arguments: [15000, 0])
    func kauditdWaitsDuringNapsOnlyWhenTheBacklogMakesTasksWait(backlogWaitTime: Int) throws {
        try withKernelAudit { _ in
            let (directory, events, daemon) = try Self.startWithFileOutput(
                extra: "backlog_wait_time = \(backlogWaitTime)\nbacklog_limit = 8192\nnap_socket_buffer = 64K")
            defer { withExtendedLifetime(directory) {} }
            let bursts = 40
            let perBurst = 150
            let load = try runPython(
                "import ctypes,time\ns=ctypes.CDLL(None).syscall\n"
                    + "for b in range(\(bursts)):\n"
                    + "    for i in range(\(perBurst)): s(\(HostSyscalls.getppid), 0x7e57b00c, b * 1000 + i, 0, 0)\n"
                    + "    time.sleep(0.03)\n", [])
            #expect(load.status == 0, "\(load.standardError)")
            try waitFor(timeout: 60) { try Self.triggeredEvents(events).count >= bursts * perBurst }
            #expect(try daemon.stop(timeout: 60) == 0, "\(daemon.log)")

            let tokens = Self.tokens(try Self.triggeredEvents(events))
            #expect(tokens.count == bursts * perBurst && Set(tokens).count == tokens.count)
            let stop = try #require(try Self.statusEvents(events, type: "swift-audit.stop").first)
            let pauses = try #require(stop["kauditd_pauses"] as? Int)
            if backlogWaitTime > 0 {
                #expect(pauses > 0, "the nap buffer never filled")
            } else {
                #expect(pauses == 0)
            }
        }
    }

    @Test func eventsLoggedOnTwoCPUsAtOnceAreNeitherLostNorLate() throws {
        // Two processes at full speed on two CPUs: the kernel numbers an event before it queues
        // its records, so one event regularly overtakes the one numbered below it. That is
        // reordering, not loss: no serial_gap, no `late` flag, serials in order in the file.
        try withKernelAudit { _ in
            // A wide window: a producer preempted between taking its serial and queueing its
            // records on this busy 2-CPU machine must not make the test flaky (unit tests cover the
            // 5 ms default; with reorder_window = 0 this test fails).
            let (directory, events, daemon) = try Self.startWithFileOutput(
                extra: "backlog_wait_time = 15000\nbacklog_limit = 8192\nreorder_window = 50ms")
            defer { withExtendedLifetime(directory) {} }
            let perProcess = 10000
            let loads = try (0..<2).map { index in
                let load = Process()
                load.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                load.arguments = [
                    "python3", "-c",
                    "import ctypes\ns=ctypes.CDLL(None).syscall\n"
                        + "for i in range(\(perProcess)): s(\(HostSyscalls.getppid), 0x7e57b00c, \(index * 100_000) + i, 0, 0)",
                ]
                try load.run()
                return load
            }
            for load in loads { load.waitUntilExit() }
            try waitFor(timeout: 60) { try Self.triggeredEvents(events).count >= 2 * perProcess }
            #expect(try daemon.stop(timeout: 60) == 0, "\(daemon.log)")

            let triggered = try Self.triggeredEvents(events)
            let tokens = Self.tokens(triggered)
            #expect(tokens.count == 2 * perProcess && Set(tokens).count == tokens.count)
            let gaps = try Self.statusEvents(events, type: "swift-audit.loss").filter {
                $0["reason"] as? String == "serial_gap"
            }
            #expect(gaps.isEmpty, "\(gaps)")
            let flagged = triggered.filter { ($0["flags"] as? [String])?.isEmpty == false }
            #expect(flagged.isEmpty, "\(flagged.prefix(3))")
            let serials = triggered.compactMap { $0["sequence"] as? Int }
            #expect(serials.count == triggered.count)
            #expect(zip(serials, serials.dropFirst()).allSatisfy { $0 < $1 }, "events leave in serial order")
        }
    }

    @Test func stopsPromptlyAfterBeingFrozenWithAFullSocketBuffer() throws {
        // The deregistration trap (audit-userspace #203): with our socket full, the kernel's
        // AUDIT_REPLACE to us blocks forever unless we keep reading while we unregister.
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(Self.fileOutput("main", events), extra: "socket_buffer = 64K\nbacklog_wait_time = 0")
            )
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            daemon.signal(SIGSTOP)
            try triggerSyscalls(count: 5000)
            daemon.signal(SIGCONT)
            daemon.signal(SIGTERM)
            let started = Date()
            #expect(try daemon.waitForExit(timeout: 15) == 0, "\(daemon.log)")
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(try client.status().pid == 0)
            // What the kernel could not deliver while we were frozen is reported, not hidden.
            let losses = try Self.statusEvents(events, type: "swift-audit.loss").compactMap { $0["reason"] as? String }
            let delivered = try Self.triggeredEvents(events).count
            #expect(delivered == 5000 || losses.contains("kernel_lost") || losses.contains("enobufs"), "\(losses)")
        }
    }

    @Test func datagramsFromAnyoneButTheKernelAreRefused() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            // A root helper (CAP_NET_ADMIN may send to any port) forges SYSCALL records to every
            // audit socket of the daemon, found through /proc/net/netlink and the daemon's fds.
            // The kernel must refuse each one: the daemon's sockets are connected to it.
            let forge = try runPython(
                """
                import errno, os, socket, struct, sys
                pid = int(sys.argv[1])
                inodes = set()
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["): inodes.add(link[8:-1])
                ports = []
                for line in open("/proc/net/netlink").read().splitlines()[1:]:
                    cols = line.split()
                    if cols[1] == "9" and cols[-1] in inodes: ports.append(int(cols[2]) & 0xffffffff)
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
                s.bind((0, 0))
                body = b"audit(1.000:1): arch=c000003e syscall=59 forged=swift-audit-spoof-test"
                outcomes = {}
                for port in ports:
                    for i in range(100):
                        try:
                            s.sendto(struct.pack("=IHHII", 16 + len(body), 1300, 0, i, 0) + body, (port, 0))
                            outcome = "sent"
                        except OSError as e:
                            outcome = errno.errorcode[e.errno]
                        outcomes[outcome] = outcomes.get(outcome, 0) + 1
                print(len(ports), " ".join(f"{k}={v}" for k, v in sorted(outcomes.items())))
                """, [String(daemon.pid)])
            #expect(forge.status == 0, "\(forge.standardError)")
            let fields = forge.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            let ports = Int(fields.first ?? "") ?? 0
            #expect(ports >= 1)
            #expect(fields.dropFirst() == ["ECONNREFUSED=\(100 * ports)"], "\(forge.standardOutput)")
            // The daemon still works, and stops cleanly.
            try waitFor { try Self.statusEvents(events, type: "swift-audit.start").count == 1 }
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            let text = try String(contentsOfFile: events, encoding: .utf8)
            #expect(!text.contains("swift-audit-spoof-test"), "no forged record reaches an output")
        }
    }

    @Test func recordsLongerThanTheReadersHeadsArriveByteForByte() throws {
        // The reader receives each datagram into a 1 KiB head and spills the rest into a buffer of
        // its own: user messages of 40 bytes to the kernel's limit (8560) must come out whole and
        // unchanged. The daemon is stopped while they are sent, so that they wait in its socket
        // and short and long ones arrive in one receive batch, each in a slot of its own.
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            let lengths = [40, 900, 990, 1000, 1010, 1100, 2047, 4000, 60, 8000, 8559, 70]
            let texts = lengths.enumerated().map { index, length in
                let prefix = "swift-audit-long-\(index)-"
                let filler = (0..<(length - prefix.count)).map { alphabet[($0 * 7 + index) % alphabet.count] }
                return prefix + String(filler)
            }
            daemon.signal(SIGSTOP)
            let send = try runPython(
                """
                import socket, struct, sys
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9)
                s.bind((0, 0))
                for i, text in enumerate(sys.argv[1:]):
                    body = text.encode() + b"\\0"
                    # AUDIT_USER_MSG (1112) with NLM_F_REQUEST, to the kernel
                    s.sendto(struct.pack("=IHHII", 16 + len(body), 1112, 1, i + 1, 0) + body, (0, 0))
                """, texts)
            daemon.signal(SIGCONT)
            #expect(send.status == 0, "\(send.standardError)")
            try waitFor {
                let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
                return text.contains("swift-audit-long-\(lengths.count - 1)-")
            }
            #expect(try daemon.stop() == 0, "\(daemon.log)")
            let received = try readJSONLines(events).flatMap { event in
                (event["messages"] as? [[String: Any]] ?? []).filter { $0["type"] as? Int == 1112 }
                    .compactMap { $0["data"] as? String }
            }
            for (index, text) in texts.enumerated() {
                let matching = received.filter { $0.contains("swift-audit-long-\(index)-") }
                #expect(matching.count == 1, "message \(index) (\(text.count) bytes) arrives once")
                #expect(matching.first?.contains("msg='\(text)'") == true, "message \(index) arrives whole")
            }
        }
    }

    @Test func restartsCleanlyAfterBeingKilled() throws {
        // Restart=on-failure after a SIGKILL: the kernel still names the dead pid; the new daemon
        // must register over it (the kernel drops a registration it can no longer reach).
        try withKernelAudit { client in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let config = try directory.write("swift-audit.conf", Self.configuration(Self.fileOutput("main", events)))
            let first = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            first.signal(SIGKILL)
            _ = try first.waitForExit(timeout: 10)
            #expect(try client.status().pid == UInt32(first.pid), "the kernel still names the killed daemon")
            let second = try DaemonProcess(arguments: ["run", "--config", config])
            #expect(second.log.contains("gone"), "\(second.log)")
            try triggerSyscalls(count: 100, token: 5000)
            #expect(try second.stop() == 0, "\(second.log)")
            #expect(Set(Self.tokens(try Self.triggeredEvents(events))).isSuperset(of: Set(5000..<5100)))
        }
    }

    @Test func aFullDiskCostsOnlyItsOwnOutputAndIsReported() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let disk = directory.file("disk")
            #expect(mkdir(disk, 0o700) == 0)
            let mounted = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=128k,mode=0700", "tmpfs", disk])
            try #require(mounted.status == 0, "mount tmpfs: \(mounted.standardError)")
            defer { _ = try? runProcess("/bin/umount", ["-l", disk]) }
            let full = disk + "/events.json"
            let other = directory.file("other.json")
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(Self.fileOutput("small", full) + Self.fileOutput("big", other)))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            try Self.addRule()
            // About 500 bytes per event: 1000 events overflow the 128K disk several times over.
            try triggerSyscalls(count: 1000)
            try waitFor {
                try Self.statusEvents(other, type: "swift-audit.loss").contains {
                    $0["reason"] as? String == "writer_drop" && $0["output"] as? String == "small"
                } || daemon.log.contains("failing")
            }
            // Space comes back: the writer resumes on its own (oldest queued events first).
            #expect(truncate(full, 0) == 0)
            try waitFor(timeout: 20) { daemon.log.contains("output recovered") }
            _ = try daemon.stop(timeout: 30)
            #expect(try Self.triggeredEvents(other).count == 1000, "the other output keeps every event")
            #expect(daemon.log.contains("output failing"), "\(daemon.log)")
            #expect(try !Self.triggeredEvents(full).isEmpty, "writing resumed after space came back")
            // Whatever the small disk holds is whole lines only.
            let text = try String(contentsOfFile: full, encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"))
        }
    }

    /// A collector that is down: its queue fills, its drops are reported, and then the reports
    /// stop. The loss events it drops in turn are the daemon's own lines, not audit events; counted
    /// as drops, each report would cause the next one, once per `loss_report_interval` for ever.
    @Test func lossEventsThatADeadOutputDropsAreNotReportedAgain() throws {
        try withKernelAudit { _ in
            let (directory, events, daemon) = try Self.startWithFileOutput(
                extra: "output.net.type = gelf\noutput.net.transport = tcp\n"
                    + "output.net.address = 127.0.0.1:9\noutput.net.queue_size = 64")
            defer { withExtendedLifetime(directory) {} }
            try triggerSyscalls(count: 300)
            func netDrops() throws -> [[String: Any]] {
                try Self.statusEvents(events, type: "swift-audit.loss").filter {
                    $0["reason"] as? String == "writer_drop" && $0["output"] as? String == "net"
                }
            }
            try waitFor(timeout: 30) { try Self.triggeredEvents(events).count == 300 && !netDrops().isEmpty }
            usleep(400_000)
            let settled = try netDrops()
            usleep(1_000_000)  // five report intervals
            #expect(try netDrops().count == settled.count, "a dropped loss event was reported as a new drop")
            #expect(try daemon.stop(timeout: 30) == 0, "\(daemon.log)")
            // The total is audit events only: at least the 300 - 64 that the full queue refused.
            let total = try #require(settled.last?["total"] as? Int)
            #expect(total >= 300 - 64 && total <= 300 + 2, "\(settled)")
        }
    }

    @Test func aStalledOutputDoesNotStallTheFileOutput() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let events = directory.file("events.json")
            let fifo = directory.file("stalled.fifo")
            #expect(mkfifo(fifo, 0o600) == 0)
            // Opened read-write so the open does not wait for a reader; nobody ever reads it.
            let stalled = open(fifo, O_RDWR | O_CLOEXEC)
            defer { close(stalled) }
            let config = try directory.write(
                "swift-audit.conf",
                Self.configuration(
                    Self.fileOutput("main", events) + "output.console.type = stdout\noutput.console.queue_size = 64\n"))
            let daemon = try DaemonProcess(
                arguments: ["run", "--config", config],
                standardOutput: FileHandle(fileDescriptor: stalled, closeOnDealloc: false))
            try Self.addRule()
            try triggerSyscalls(count: 3000)
            _ = try daemon.stop(timeout: 30)
            #expect(try Self.triggeredEvents(events).count == 3000, "the file output keeps every event")
            let drops = try Self.statusEvents(events, type: "swift-audit.loss").filter {
                $0["reason"] as? String == "writer_drop" && $0["output"] as? String == "console"
            }
            #expect(!drops.isEmpty, "the stalled output's drops are reported as loss events")
        }
    }
}

/// Polls `condition` every 20 ms for at most `timeout` seconds.
func waitFor(timeout: Double = 10, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw DaemonError("condition not met within \(timeout) s")
}

/// A UDP socket on 127.0.0.1 that collects datagrams as text.
final class UDPReceiver {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.descriptor = descriptor
        var size: Int32 = 8 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if bound != 0 { throw DaemonError("cannot bind a UDP port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Every datagram received so far.
    func drain() -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
            }
            if count <= 0 { return messages }
            messages.append(Array(buffer[0..<count]))
        }
    }

    /// GELF messages from datagrams: whole ones as they are, chunked ones (magic 0x1e 0x0f,
    /// 8-byte id, sequence, count) joined in sequence order once complete.
    static func assembleGELF(_ datagrams: [[UInt8]]) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var chunks: [[UInt8]: [Int: [UInt8]]] = [:]
        var counts: [[UInt8]: Int] = [:]
        for datagram in datagrams {
            guard datagram.count > 12, datagram[0] == 0x1e, datagram[1] == 0x0f else {
                messages.append(datagram)
                continue
            }
            let id = Array(datagram[2..<10])
            chunks[id, default: [:]][Int(datagram[10])] = Array(datagram[12...])
            counts[id] = Int(datagram[11])
            if let parts = chunks[id], parts.count == counts[id] {
                messages.append(parts.keys.sorted().flatMap { parts[$0] ?? [] })
                chunks[id] = nil
            }
        }
        return messages
    }

    deinit { close(descriptor) }
}

/// A NOTIFY_SOCKET for the daemon to talk to, as systemd would provide.
final class NotifySocket {
    let path: String
    let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if bound != 0 { throw DaemonError("cannot bind \(path)") }
    }

    /// Collects datagrams until one satisfies `done` (≤ 10 s); returns all of them.
    func receive(until done: (String) -> Bool) throws -> [String] {
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(10)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let message = String(decoding: buffer[0..<count], as: UTF8.self)
            messages.append(message)
            if done(message) { return messages }
        }
        throw DaemonError("no matching notification within 10 s; got \(messages)")
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}

@Suite(.serialized, .requires(.kernel))
struct ProcessContextEndToEndTests {
    /// A shell that starts a shell that starts /bin/true, on the real kernel: the enriched event of
    /// /bin/true names the inner shell as its parent (laurel's `PPID`, with the outer shell as the
    /// parent's parent) and the ECS event has it as `process.parent`. `; :` after each command
    /// keeps dash from replacing itself with its last command (then there would be no chain).
    @Test func aForkExecChainGivesTheRightParentInEnrichedAndECS() throws {
        try withKernelAudit { _ in
            let directory = try TemporaryDirectory()
            let enriched = directory.file("enriched.json")
            let ecs = directory.file("ecs.json")
            let config = try directory.write(
                "swift-audit.conf",
                DaemonEndToEndTests.configuration(
                    DaemonEndToEndTests.fileOutput("enriched", enriched, extra: "output.enriched.format = enriched\n")
                        + DaemonEndToEndTests.fileOutput("ecs", ecs, extra: "output.ecs.format = ecs\n"),
                    extra: "process_state_file = \(directory.file("processes.state"))"))
            let daemon = try DaemonProcess(arguments: ["run", "--config", config])
            let rule = try runProcess(
                "/sbin/auditctl",
                ["-a", "always,exit", "-F", "arch=\(HostSyscalls.arch)", "-S", "execve", "-k", "swift-audit-ctx"])
            try #require(rule.status == 0, "\(rule.standardError)")
            let marker = "ctx-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let chain = try runProcess("/bin/sh", ["-c", "/bin/sh -c \"/bin/true \(marker); :\"; :"])
            #expect(chain.status == 0)
            try waitFor {
                try readJSONLines(enriched).contains { event in
                    ((event["EXECVE"] as? [String: Any])?["ARGV"] as? [String])?.last == marker
                }
            }
            #expect(try daemon.stop() == 0, "\(daemon.log)")

            let events = try readJSONLines(enriched)
            func execve(_ argv: [String]) -> [String: Any]? {
                events.first { ((($0["EXECVE"] as? [String: Any])?["ARGV"]) as? [String]) == argv }
            }
            let outer = try #require(execve(["/bin/sh", "-c", "/bin/sh -c \"/bin/true \(marker); :\"; :"]))
            let inner = try #require(execve(["/bin/sh", "-c", "/bin/true \(marker); :"]))
            let leaf = try #require(execve(["/bin/true", marker]))
            let outerPID = (outer["SYSCALL"] as? [String: Any])?["pid"] as? Int
            let innerPID = (inner["SYSCALL"] as? [String: Any])?["pid"] as? Int
            let syscall = try #require(leaf["SYSCALL"] as? [String: Any])
            #expect(syscall["ppid"] as? Int == innerPID)
            let parent = try #require(syscall["PPID"] as? [String: Any], "\(syscall)")
            #expect(parent["comm"] as? String == "sh")
            #expect(
                (parent["exe"] as? String)?.hasSuffix("sh") == true
                    || (parent["exe"] as? String)?.hasSuffix("dash") == true)
            #expect(parent["ppid"] as? Int == outerPID, "the parent's parent is the outer shell")
            #expect((syscall["PID"] as? [String: Any])?["EVENT_ID"] as? String == leaf["ID"] as? String)

            // The stop event says how big the table grew and what bounded it.
            let stop = try #require(try DaemonEndToEndTests.statusEvents(enriched, type: "swift-audit.stop").last)
            #expect((stop["processes_peak"] as? Int ?? 0) >= 3, "\(stop)")
            #expect(stop["processes_evicted"] as? Int == 0)
            #expect(stop["process_state_error"] == nil, "\(stop)")
            // Saved at stop, and read back by the next start without complaint.
            #expect(FileManager.default.fileExists(atPath: directory.file("processes.state")))
            let again = try DaemonProcess(arguments: ["run", "--config", config])
            #expect(try again.stop() == 0, "\(again.log)")
            let second = try #require(try DaemonEndToEndTests.statusEvents(enriched, type: "swift-audit.stop").last)
            #expect(second["process_state_error"] == nil, "\(second)")
            #expect((second["processes_restored"] as? Int ?? 0) > 0, "\(second)")

            let ecsEvent = try #require(
                try readJSONLines(ecs).first { event in
                    ((event["process"] as? [String: Any])?["args"] as? [String])?.last == marker
                })
            let process = try #require(ecsEvent["process"] as? [String: Any])
            let ecsParent = try #require(process["parent"] as? [String: Any], "\(process)")
            #expect(ecsParent["pid"] as? Int == innerPID)
            #expect((ecsParent["executable"] as? String)?.contains("sh") == true, "\(ecsParent)")
        }
    }
}
