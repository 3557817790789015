import AuditTestSupport
import Foundation
import Glibc
import Testing

/// A small fleet on one machine (issue #20): hosts in network namespaces of their own, each
/// replaying a different capture through a RELP output over mutual TLS, to one central rsyslogd in
/// its own namespace running `contrib/rsyslog-central-relp-tls.conf`.
///
/// No kernel audit is needed (`replay`), but root is (namespaces). The central rsyslogd runs in
/// its own namespace rather than in the root one, so its port (the file's 20514, unchanged) cannot
/// clash with anything on the machine and the hosts can reach nothing but it.
@Suite(.serialized, .requires(.networkNamespaces, .rsyslogRELP, .openssl, .corpus))
struct FleetTests {
    /// Three captures of different content, one per host.
    static let captures = ["local/exec.unicast.bin", "local/file_watch.unicast.bin", "local/user_mgmt.unicast.bin"]
    static let serverName = "central.fleet.test"
    static let contribPath = TestEnvironment.repositoryRoot.path + "/contrib/rsyslog-central-relp-tls.conf"

    /// rsyslogd inside the central namespace, running the contrib file with the test's paths.
    final class Central {
        let process = Process()
        let directory: TemporaryDirectory
        var hostsDirectory: String { directory.file("hosts") }

        init(network: NetworkNamespaces, server: (certificate: String, key: String), ca: String) throws {
            directory = try TemporaryDirectory(prefix: "swift-audit-central")
            var text = try String(contentsOfFile: FleetTests.contribPath, encoding: .utf8)
            for (old, new) in [
                ("/etc/rsyslog-tls/ca.pem", ca), ("/etc/rsyslog-tls/server.pem", server.certificate),
                ("/etc/rsyslog-tls/server.key", server.key), ("/var/log/swift-audit/hosts/", hostsDirectory + "/"),
            ] {
                guard text.contains(old) else {
                    throw DaemonError("the central configuration no longer contains \(old)")
                }
                text = text.replacing(old, with: new)
            }
            // What /etc/rsyslog.conf provides around the drop-in: the work directory.
            try directory.write("rsyslog.conf", "global(workDirectory=\"\(directory.path)\")\n" + text)
            let (executable, arguments) = network.command(
                in: network.central, HostTools.rsyslogd ?? "/usr/sbin/rsyslogd",
                ["-n", "-f", directory.file("rsyslog.conf"), "-i", directory.file("rsyslog.pid")])
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            _ = FileManager.default.createFile(atPath: directory.file("rsyslog.out"), contents: nil)
            let output = FileHandle(forWritingAtPath: directory.file("rsyslog.out"))
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
        }

        /// Starts it and waits until port 20514 listens inside the namespace.
        func start(network: NetworkNamespaces) throws {
            try process.run()
            let (executable, arguments) = network.command(in: network.central, "/bin/cat", ["/proc/net/tcp"])
            // 20514 is 0x5022; state 0A is LISTEN.
            try waitFor(timeout: 10) {
                guard process.isRunning else { throw DaemonError("rsyslogd exited: \(output)") }
                let table = try runProcess(executable, arguments).standardOutput
                return table.split(separator: "\n").contains { $0.contains(":5022 ") && $0.contains(" 0A ") }
            }
        }

        /// SIGKILL (the test process may block SIGTERM, which a child inherits): every event was
        /// written before imrelp acknowledged it (the ruleset's Direct queue), so nothing is lost.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        var output: String { (try? String(contentsOfFile: directory.file("rsyslog.out"), encoding: .utf8)) ?? "" }

        deinit { stop() }
    }

    /// The events of `capture`, counted without any network: `swift-audit replay` to a file.
    static func referenceLines(_ capture: String, directory: TemporaryDirectory, name: String) throws -> [String] {
        let path = directory.file("\(name).json")
        let config = try directory.write(
            "\(name).conf", "output.file.type = file\noutput.file.path = \(path)\noutput.file.flush = none\n")
        let result = try runProcess(
            TestEnvironment.executable.path, ["replay", "--config", config, Corpus.path(capture)])
        guard result.status == 0 else { throw DaemonError("replay of \(capture) failed: \(result.standardError)") }
        return try lines(path)
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    @Test(
        """
        Three hosts in network namespaces replay three captures over RELP with mutual TLS to one central \
        rsyslog: each host's file holds every event of its capture once, in order, and nothing else (an event \
        longer than max_message in parts beside it)
        """)
    func aFleetDeliversEveryEventOfEveryHostOnceIntoItsOwnFile() throws {
        try TestRequirement.networkNamespaces.check()
        try TestRequirement.rsyslogRELP.check()
        let certificates = try TestCertificates()
        let server = try certificates.issue(
            "central", extensions: ["subjectAltName=DNS:\(Self.serverName)", "extendedKeyUsage=serverAuth"])
        let network = try NetworkNamespaces(hostCount: Self.captures.count)
        defer { network.remove() }
        let central = try Central(network: network, server: server, ca: certificates.caFile)
        try central.start(network: network)
        defer { central.stop() }

        let directory = try TemporaryDirectory(prefix: "swift-audit-fleet")
        var expected: [String: [String]] = [:]
        var replays: [(host: String, process: Process, log: String)] = []
        for (index, capture) in Self.captures.enumerated() {
            let number = index + 1
            let host = "host-\(number)"
            expected[host] = try Self.referenceLines(capture, directory: directory, name: "reference-\(number)")
            #expect(expected[host]?.isEmpty == false, "\(capture) holds events")
            // Each host its own client certificate, as in a real fleet.
            let client = try certificates.issue(host, extensions: ["extendedKeyUsage=clientAuth"])
            let config = try directory.write(
                "\(host).conf",
                """
                output.central.type = relp
                output.central.target = tls
                output.central.address = \(network.centralAddress(host: number)):20514
                output.central.tls_ca = \(certificates.caFile)
                output.central.tls_cert = \(client.certificate)
                output.central.tls_key = \(client.key)
                output.central.tls_server_name = \(Self.serverName)
                output.central.hostname = \(host)

                """)
            let (executable, arguments) = network.command(
                in: network.hosts[index], TestEnvironment.executable.path,
                ["replay", "--config", config, Corpus.path(capture)])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let log = directory.file("\(host).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle(forWritingAtPath: log)
            replays.append((host, process, log))
        }
        // All hosts at once.
        for replay in replays { try replay.process.run() }
        for replay in replays {
            let deadline = Date().addingTimeInterval(60)
            while replay.process.isRunning, Date() < deadline { usleep(20_000) }
            if replay.process.isRunning { kill(replay.process.processIdentifier, SIGKILL) }
            replay.process.waitUntilExit()
            let log = (try? String(contentsOfFile: replay.log, encoding: .utf8)) ?? ""
            #expect(replay.process.terminationStatus == 0, "\(replay.host): \(log)\nrsyslog: \(central.output)")
        }
        // A replay exits once every event is acknowledged, and the central rsyslog acknowledges after
        // the write: the files are complete now.
        central.stop()

        let files = try FileManager.default.contentsOfDirectory(atPath: central.hostsDirectory).sorted()
        let allowed = Set(expected.keys.flatMap { ["\($0).json", "\($0).parts.log"] })
        #expect(Set(files).isSubset(of: allowed), "one file per host (and its parts), nothing else: \(files)")
        var total = 0
        for (host, lines) in expected.sorted(by: { $0.key < $1.key }) {
            let whole = (try? Self.lines(central.hostsDirectory + "/\(host).json")) ?? []
            let parts = (try? Self.lines(central.hostsDirectory + "/\(host).parts.log")) ?? []
            let (joined, partCount) = Self.reassemble(parts)
            #expect(partCount == parts.count, "\(host): every part once, no stray line")
            // The events that were split are the ones the reference holds longer than max_message;
            // the rest arrive whole, in the capture's order.
            // (Compared first: the lines are long, and a failure should print counts, not them.)
            let wholeInOrder = whole == lines.filter { !joined.contains($0) }
            let splitOnce = joined.sorted() == lines.filter { joined.contains($0) }.sorted()
            #expect(wholeInOrder, "\(host): the \(whole.count) whole events are its capture's, in order")
            #expect(
                splitOnce && joined.count + whole.count == lines.count,
                "\(host): \(whole.count) whole + \(joined.count) split events for the \(lines.count) of its capture")
            total += lines.count
        }
        #expect(total > 0)
    }

    /// Joins `[swift-audit part I/N seq=S] ` lines into whole events, once each: returns the
    /// events complete with every part exactly once, and how many lines they used.
    static func reassemble(_ lines: [String]) -> (events: [String], parts: Int) {
        var pieces: [String: [Int: String]] = [:]
        var totals: [String: Int] = [:]
        var duplicates = 0
        for line in lines {
            guard line.hasPrefix("[swift-audit part "), let close = line.firstIndex(of: "]") else { continue }
            let fields = line[line.index(line.startIndex, offsetBy: 18)..<close].split(separator: " ")
            let numbers = fields.first?.split(separator: "/").compactMap { Int($0) } ?? []
            guard fields.count == 2, numbers.count == 2 else { continue }
            let sequence = String(fields[1])
            if pieces[sequence]?[numbers[0]] != nil { duplicates += 1 }
            pieces[sequence, default: [:]][numbers[0]] = String(line[line.index(close, offsetBy: 2)...])
            totals[sequence] = numbers[1]
        }
        var events: [String] = []
        var used = 0
        for (sequence, parts) in pieces where parts.count == totals[sequence] {
            events.append((1...parts.count).map { parts[$0] ?? "" }.joined())
            used += parts.count
        }
        return (events, duplicates == 0 ? used : -duplicates)
    }
}

/// The central configuration docs/fleet.md shows is the file the fleet test runs.
@Suite struct FleetDocumentationTests {
    @Test func theFleetGuideShowsTheTestedCentralConfigurationVerbatim() throws {
        let root = TestEnvironment.repositoryRoot.path
        let configuration = try String(contentsOfFile: root + "/contrib/rsyslog-central-relp-tls.conf", encoding: .utf8)
        let guide = try String(contentsOfFile: root + "/docs/fleet.md", encoding: .utf8)
        #expect(
            guide.contains("```\n" + configuration + "```\n"),
            "docs/fleet.md must quote contrib/rsyslog-central-relp-tls.conf whole")
    }
}
