import AuditNetlink
import AuditTestSupport
import Foundation
import Glibc
import Testing

/// The built `swift-audit` binary as an operator runs it: output, messages and exit codes.
@Suite struct CommandLineTests {
    static var binary: String { TestEnvironment.executable.path }

    @Test func helpExplainsEverySubcommand() throws {
        let help = try runProcess(Self.binary, ["--help"])
        #expect(help.status == 0)
        for command in ["run", "replay", "status", "set"] { #expect(help.standardOutput.contains(command)) }
        let set = try runProcess(Self.binary, ["help", "set"])
        #expect(set.standardOutput.contains("backlog-wait-time"))
        #expect(set.standardOutput.contains("jiffies"))
    }

    @Test(arguments: [
        (["set", "--enabled", "2"], "--confirm-lock"),
        (["set", "--failure", "panic"], "--confirm-panic"),
        (["set", "--enabled", "7"], "expected 0 (off), 1 (on) or 2"),
        (["set", "--failure", "loud"], "expected silent (0), printk (1) or panic (2)"),
        (["set"], "nothing to set"),
    ])
    func dangerousOrInvalidSettingsAreRefusedBeforeTouchingTheKernel(arguments: [String], message: String) throws {
        let result = try runProcess(Self.binary, arguments)
        #expect(result.status == 64, "usage error")
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }

    /// The daemon's log lines carry journald's `<N>` priority prefix only when stderr is the
    /// journal: systemd says so with JOURNAL_STREAM=DEVICE:INODE of the stream it connected to
    /// stderr (systemd.exec(5)). On a terminal, a pipe or a file they are plain text, also when a
    /// JOURNAL_STREAM inherited from a parent names another stream.
    @Test func logLinesCarryPriorityPrefixesOnlyWhenStderrIsTheJournal() throws {
        let directory = try TemporaryDirectory()
        let script = """
            exec 2>"$1"
            if [ "$2" = match ]; then export JOURNAL_STREAM="$(stat -c %d:%i "$1")"
            elif [ "$2" = other ]; then export JOURNAL_STREAM=1:2
            else unset JOURNAL_STREAM; fi
            exec "$3" replay "$4"
            """
        var lines: [String: String] = [:]
        for mode in ["match", "other", "unset"] {
            let log = directory.file("\(mode).log")
            let result = try runProcess(
                "/bin/sh", ["-c", script, "sh", log, mode, Self.binary, directory.file("absent.bin")])
            #expect(result.status != 0)
            lines[mode] = try String(contentsOfFile: log, encoding: .utf8)
        }
        #expect(lines["match"]?.hasPrefix("<3>capture cannot be read") == true, "\(lines)")
        #expect(lines["other"]?.hasPrefix("capture cannot be read") == true, "\(lines)")
        #expect(lines["unset"]?.hasPrefix("capture cannot be read") == true, "\(lines)")
    }

    @Test func checkConfigPrintsTheEffectiveConfigurationOfTheExample() throws {
        let example = TestEnvironment.repositoryRoot.appendingPathComponent("config/swift-audit.conf").path
        let directory = try TemporaryDirectory()
        // The example must be root-owned and not writable by others to pass the file checks, as
        // installed; the copy is.
        let copy = try directory.write("swift-audit.conf", try String(contentsOfFile: example, encoding: .utf8))
        let result = try runProcess(Self.binary, ["run", "--check-config", "--config", copy])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("backlog_limit = 8192"))
        #expect(result.standardOutput.contains("output.main.path = /var/log/swift-audit/events.json"))
    }

    /// `run --check-config` runs the checks start-up runs before it touches the kernel, on the same
    /// code: the rule files (read, parsed, what the kernel is sure to refuse, `-e 2`/`-f 2`
    /// without their confirmation), the file outputs' owner and group, their directories. A
    /// config that checks clean starts (RestartPreventExitStatus=6 would otherwise keep it down).
    @Test(arguments: [
        ("rules_file = DIR/absent.rules\n", "DIR/absent.rules: does not exist"),
        ("rules_file = DIR/typo.rules\n", "DIR/typo.rules:2:31: unknown syscall \"execvee\""),
        ("rules_file = DIR/twice.rules\n", "DIR/twice.rules:2:1: the kernel will refuse"),
        ("rules_dir = DIR/lock.d\n", "DIR/lock.d/99-finalize.rules:1:1: -e 2: "),
        ("output.main.owner = no-such-user-swift-audit\n", "output \"main\": owner \"no-such-user-swift-audit\""),
        ("output.main.group = no-such-group-swift-audit\n", "output \"main\": group \"no-such-group-swift-audit\""),
        ("output.other.type = file\noutput.other.path = DIR/plain/sub/events.json\n", "DIR/plain is not a directory"),
    ])
    func checkConfigRefusesWhatStartUpWouldRefuse(line: String, message: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write("typo.rules", "-D\n-a always,exit -F arch=b64 -S execvee -k exec\n", mode: 0o644)
        try directory.write(
            "twice.rules",
            "-a always,exit -F arch=b64 -S execve -k exec\n-a always,exit -F arch=b64 -S execve -k exec\n",
            mode: 0o644)
        try FileManager.default.createDirectory(atPath: directory.file("lock.d"), withIntermediateDirectories: false)
        try directory.write("lock.d/99-finalize.rules", "-e 2\n", mode: 0o644)
        try directory.write("plain", "a file, not a directory\n")
        let config = try directory.write(
            "swift-audit.conf",
            "output.main.type = file\noutput.main.path = \(directory.file("events.json"))\n"
                + line.replacingOccurrences(of: "DIR", with: directory.path))
        let result = try runProcess(Self.binary, ["run", "--check-config", "--config", config])
        #expect(result.status == 6, "\(result.standardError)")
        let expected = message.replacingOccurrences(of: "DIR", with: directory.path)
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }

    /// A missing output directory is created at start (0700, like auditd's packaging makes
    /// /var/log/audit); `--check-config` says it will be, and warns about outputs outside the
    /// paths the shipped unit lets the daemon write (ReadWritePaths=).
    @Test func checkConfigSaysAMissingOutputDirectoryWillBeCreatedAndWarnsOutsideTheUnitsPaths() throws {
        let directory = try TemporaryDirectory()
        let events = directory.file("new/sub/events.json")
        let config = try directory.write(
            "swift-audit.conf", "output.main.type = file\noutput.main.path = \(events)\n")
        let result = try runProcess(Self.binary, ["run", "--check-config", "--config", config])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(
            result.standardError.contains(
                "output \"main\": \(directory.file("new")) and \(directory.file("new/sub")) do not exist; "
                    + "start-up creates them (mode 0700)"), "\(result.standardError)")
        #expect(
            result.standardError.contains(
                "warning: output \"main\": \(events) is outside the paths the systemd unit lets swift-audit write "
                    + "(/var/log/swift-audit, /var/lib/swift-audit)"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("new")), "a check creates nothing")

        // Start-up creates them: `replay` starts the same outputs (an empty capture, nothing to replay).
        let capture = try directory.write("empty.bin", "")
        let replay = try runProcess(Self.binary, ["replay", "--config", config, capture])
        #expect(replay.status == 0, "\(replay.standardError)")
        var info = stat()
        #expect(stat(directory.file("new/sub"), &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700)
        #expect(FileManager.default.fileExists(atPath: events))
    }

    /// The unit's writable paths and the daemon's idea of them are one list; the unit creates the
    /// log directory (LogsDirectory=) so a fresh machine starts.
    @Test func theUnitCreatesTheLogDirectoryAndAllowsWritingOnlyThere() throws {
        let unit = try String(
            contentsOfFile: TestEnvironment.repositoryRoot.appendingPathComponent("contrib/swift-audit.service").path,
            encoding: .utf8)
        let lines = unit.split(separator: "\n").map(String.init)
        #expect(lines.contains("LogsDirectory=swift-audit"))
        #expect(lines.contains("LogsDirectoryMode=0700"))
        #expect(lines.filter { $0.hasPrefix("ReadWritePaths=") } == ["ReadWritePaths=/var/log/swift-audit"])
        #expect(lines.contains("StateDirectory=swift-audit"), "spools and the process state under /var/lib/swift-audit")
        let example = try String(
            contentsOfFile: TestEnvironment.repositoryRoot.appendingPathComponent("config/swift-audit.conf").path,
            encoding: .utf8)
        #expect(example.contains("ReadWritePaths=/var/log/swift-audit"))
    }

    @Test func invalidConfigurationsExitSixNamingFileLineAndValue() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write(
            "bad.conf",
            "backlog_limit = lots\nnot_a_key = 1\noutput.main.type = file\noutput.main.path = relative.json\n")
        let result = try runProcess(Self.binary, ["run", "--config", config])
        #expect(result.status == 6)
        #expect(result.standardError.contains("\(config):1: backlog_limit"))
        #expect(result.standardError.contains("\(config):2:"))
        #expect(result.standardError.contains("not_a_key"))
        #expect(result.standardError.contains("\(config):4:"))
    }

    /// `run`'s plain command line skips ArgumentParser (see `DaemonCommandLine`); what it does not
    /// match must still get ArgumentParser's usage errors and help.
    @Test(arguments: [
        (["run", "--log-level", "verbose"], "expected trace, debug, info, notice, warning, error or critical"),
        (["run", "--config"], "Missing value for '--config <config>'"),
        (["run", "--no-such-option"], "Unknown option '--no-such-option'"),
    ])
    func runArgumentsOutsideThePlainStartGetTheParsersErrors(arguments: [String], message: String) throws {
        let result = try runProcess(Self.binary, arguments)
        #expect(result.status == 64, "usage error")
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }

    @Test func runHelpStillComesFromTheParser() throws {
        let result = try runProcess(Self.binary, ["run", "--help"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("--log-level"))
        #expect(result.standardOutput.contains("SIGUSR1 reopens file outputs"))
    }

    @Test func aWorldWritableConfigurationIsRefused() throws {
        let directory = try TemporaryDirectory()
        let config = try directory.write("open.conf", "output.main.type = stdout\n", mode: 0o666)
        let result = try runProcess(Self.binary, ["run", "--check-config", "--config", config])
        #expect(result.status == 6)
        #expect(result.standardError.contains("writable"))
    }

    @Test(.requires(.corpus))
    func replayWritesTheEventsOfACaptureAsJSONLines() throws {
        try TestRequirement.corpus.check()
        let result = try runProcess(Self.binary, ["replay", Corpus.path("local/exec.unicast.bin")])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count > 10)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["sequence"] is Int)
            #expect(object?["messages"] is [[String: Any]])
        }
    }

    /// The kernel's LOGIN records (1006, a login setting the loginuid) belong to their events and
    /// auditd logs them; the default configuration must not drop them (it did, with a type window
    /// from 1100). The same scenario's audit.log, written by auditd, counts them.
    @Test(.requires(.corpus), arguments: ["exec", "file_watch", "misc_kernel"])
    func replayWithTheDefaultConfigurationKeepsEveryLoginRecordAuditdLogged(scenario: String) throws {
        let log = String(decoding: try Corpus.read("local/\(scenario).audit.log"), as: UTF8.self)
        let logged = log.split(separator: "\n").filter { $0.hasPrefix("type=LOGIN ") }.count
        try #require(logged > 0, "the capture holds LOGIN records")
        let result = try runProcess(Self.binary, ["replay", Corpus.path("local/\(scenario).unicast.bin")])
        #expect(result.status == 0, "\(result.standardError)")
        var emitted = 0
        for line in result.standardOutput.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let messages = object?["messages"] as? [[String: Any]] ?? []
            emitted += messages.filter { $0["type"] as? Int == 1006 }.count
        }
        #expect(emitted == logged)
    }

    @Test(.requires(.corpus))
    func replayOfDamagedCapturesNeverCrashes() throws {
        let original = try Corpus.read("local/misc_kernel.unicast.bin")
        let directory = try TemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            var bytes = original
            // Flip bytes inside datagrams (headers, lengths, payloads), and cut some files short.
            for _ in 0..<(1 + round % 12) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
            }
            if round % 5 == 4 { bytes.removeLast(Int.random(in: 1...min(500, bytes.count - 1), using: &generator)) }
            let path = directory.file("damaged-\(round).bin")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try runProcess(Self.binary, ["replay", path])
            // 0, or 1 when a frame length runs past the end of the file; never a signal (crash).
            #expect(result.status == 0 || result.status == 1, "round \(round): \(result.standardError)")
            for line in result.standardOutput.split(separator: "\n") {
                #expect(
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil,
                    "round \(round): not JSON: \(line)")
            }
        }
    }

    /// A capture frame: `[u32 little-endian length][datagram]`.
    static func frame(_ datagram: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(datagram.count).littleEndian, Array.init) + datagram
    }

    /// A unicast datagram as kauditd sends it (`nlmsg_len` = the payload's length).
    static func record(type: UInt16, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        return withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init)
            + withUnsafeBytes(of: type.littleEndian, Array.init) + [UInt8](repeating: 0, count: 10) + payload
    }

    /// Frames too short for a netlink header are what the daemon counts as `malformed_datagram`:
    /// `replay` drops them too, says how many on standard error, and still exits 0 when the
    /// capture held valid records (they went out, as the live daemon goes on). A capture that
    /// starts with such frames is not recognised as a capture at all (exit 1).
    @Test func replayCountsAndReportsDatagramsTooShortToBeNetlink() throws {
        let directory = try TemporaryDirectory()
        var capture = Self.frame(Self.record(type: 1300, "audit(1700000000.000:7): arch=c000003e syscall=110"))
        capture += Self.frame(Self.record(type: 1320, "audit(1700000000.000:7): "))
        var garbage: [UInt8] = []
        for index in 0..<10_000 { garbage += Self.frame([UInt8](repeating: 0x41, count: index % 16)) }
        let path = directory.file("mixed.bin")
        try Data(capture + garbage).write(to: URL(fileURLWithPath: path))
        let replayed = try runProcess(Self.binary, ["replay", path])
        #expect(replayed.status == 0, "\(replayed.standardError)")
        #expect(replayed.standardError.contains("10000 malformed datagram"), "\(replayed.standardError)")
        let events = replayed.standardOutput.split(separator: "\n")
        #expect(events.count == 1)
        #expect(events.first?.contains("\"sequence\":7") == true)

        let onlyGarbage = directory.file("garbage.bin")
        try Data(garbage).write(to: URL(fileURLWithPath: onlyGarbage))
        let refused = try runProcess(Self.binary, ["replay", onlyGarbage])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("not a capture"), "\(refused.standardError)")
    }

    /// One serial with 20,000 records: the event is cut at the default 10,000 records, marked, and
    /// the cut is reported (without a bound, 100,000 such records made one 24 MB line).
    @Test func replayCutsAnOversizedEventWithAMarker() throws {
        let directory = try TemporaryDirectory()
        var capture = Self.frame(Self.record(type: 1300, "audit(1700000000.000:9): arch=c000003e syscall=59"))
        let path = Self.frame(Self.record(type: 1302, "audit(1700000000.000:9): item=0 name=\"/x\""))
        for _ in 0..<19_999 { capture += path }
        capture += Self.frame(Self.record(type: 1320, "audit(1700000000.000:9): "))
        let file = directory.file("huge.bin")
        try Data(capture).write(to: URL(fileURLWithPath: file))
        let result = try runProcess(Self.binary, ["replay", file])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count == 1)
        let event = try #require(
            lines.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect((event["messages"] as? [Any])?.count == 10_000)
        #expect(event["flags"] as? [String] == ["truncated"])
        #expect(event["dropped_records"] as? Int == 10_000)
        #expect(result.standardError.contains("1 event(s) cut at max_event_records"), "\(result.standardError)")
    }

    /// `replay -` reads the capture from standard input, through a pipe (which cannot be read
    /// twice: what was read to tell the kind is kept); standard input cannot be given twice.
    @Test func replayReadsACaptureFromStandardInput() throws {
        let directory = try TemporaryDirectory()
        var capture = Self.frame(Self.record(type: 1300, "audit(1700000000.000:7): arch=c000003e syscall=110"))
        capture += Self.frame(Self.record(type: 1320, "audit(1700000000.000:7): "))
        capture += Self.frame(Self.record(type: 1100, "audit(1700000000.001:8): pid=1 msg='op=PAM:auth'"))
        let path = directory.file("capture.bin")
        try Data(capture).write(to: URL(fileURLWithPath: path))
        let direct = try runProcess(Self.binary, ["replay", path])
        #expect(direct.status == 0)
        #expect(direct.standardOutput.split(separator: "\n").count == 2)
        let piped = try runProcess("/bin/sh", ["-c", "cat \"$1\" | \"$0\" replay -", Self.binary, path])
        #expect(piped.status == 0, "\(piped.standardError)")
        #expect(piped.standardOutput == direct.standardOutput)

        let twice = try runProcess(Self.binary, ["replay", "-", "-"])
        #expect(twice.status == 64, "\(twice.standardError)")
        #expect(twice.standardError.contains("standard input"), "\(twice.standardError)")
        let help = try runProcess(Self.binary, ["replay", "--help"])
        #expect(help.standardOutput.contains("- for standard input"), "\(help.standardOutput)")
    }

    @Test(.requires(.systemdAnalyze))
    func unitFileVerifiesAndIsHardened() throws {
        try TestRequirement.systemdAnalyze.check()
        let unit = TestEnvironment.repositoryRoot.appendingPathComponent("contrib/swift-audit.service").path
        let directory = try TemporaryDirectory()
        // verify wants ExecStart's binary to exist: point it at the one just built.
        let text = try String(contentsOfFile: unit, encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/sbin/swift-audit", with: Self.binary)
        let copy = try directory.write("swift-audit.service", text, mode: 0o644)
        let verify = try runProcess("/usr/bin/systemd-analyze", ["verify", copy])
        #expect(verify.status == 0)
        #expect(verify.standardError.isEmpty, "\(verify.standardError)")
        let security = try runProcess("/usr/bin/systemd-analyze", ["security", "--offline=true", copy])
        let score = security.standardOutput.split(separator: "\n").last { $0.contains("Overall exposure level") }
            .flatMap { line in line.split(separator: " ").compactMap { Double($0) }.first }
        let exposure = try #require(score, "\(security.standardOutput)")
        #expect(exposure <= 3.0, "exposure \(exposure); Debian's auditd.service scores 8.9")
    }
}

/// `status` and `set` against the kernel, restoring what they change.
@Suite(.serialized, .requires(.kernel))
struct CommandLineKernelTests {
    @Test func statusPrintsTheKernelsNumbersAsJSONAndAsATable() throws {
        try withKernelAudit { client in
            let kernel = try client.status()
            let json = try runProcess(CommandLineTests.binary, ["status", "--json"])
            #expect(json.status == 0)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
            #expect(object["backlog_limit"] as? Int == Int(kernel.backlogLimit))
            #expect(object["pid"] as? Int == 0)
            #expect(object["pid_alive"] as? Bool == false)
            let table = try runProcess(CommandLineTests.binary, ["status"])
            #expect(table.standardOutput.contains("backlog_limit             \(kernel.backlogLimit)"))
            #expect(table.standardOutput.contains("no audit daemon registered"))
        }
    }

    @Test func setAppliesAndConfirmsEachValue() throws {
        try withKernelAudit { client in
            let before = try client.status()
            let wanted = before.backlogLimit == 4321 ? 4322 : 4321
            let result = try runProcess(
                CommandLineTests.binary, ["set", "--backlog-limit", "\(wanted)", "--rate-limit", "0", "--reset-lost"])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("backlog_limit: \(before.backlogLimit) -> \(wanted)"))
            #expect(result.standardOutput.contains("lost: "))
            #expect(try client.status().backlogLimit == wanted)
        }
    }

    @Test func withoutThePrivilegeTheErrorNamesTheCapabilityAndExitsFour() throws {
        let result = try runProcess(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", CommandLineTests.binary, "status"])
        #expect(result.status == 4)
        #expect(result.standardError.contains("CAP_AUDIT_CONTROL"))
    }
}
