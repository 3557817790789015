import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditProcesses
import AuditTestSupport
import FoundationEssentials
import Glibc
import Testing

/// The ECS format: aucoalesce's goldens, the field types of every corpus event, bytes that come back.
@Suite struct EcsEventEncoderTests {
    // MARK: Helpers

    static let users = UserDirectory(path: "/nonexistent/passwd")
    static let groups = UserDirectory(path: "/nonexistent/group")

    static func encoder(includeRaw: Bool = false, hostname: String? = nil) -> EcsEventEncoder {
        EcsEventEncoder(
            hostname: hostname, users: users, groups: groups, options: EcsEventEncoder.Options(includeRaw: includeRaw))
    }

    static func encode(
        _ event: AuditEvent, context: ProcessContext? = nil, encoder: inout EcsEventEncoder
    ) throws -> OrderedJSON {
        var writer = JSONWriter()
        encoder.encode(event, context: context, into: &writer)
        let bytes = Array(writer.bytes)
        #expect(bytes.last == UInt8(ascii: "\n"))
        #expect(bytes.filter { $0 == UInt8(ascii: "\n") }.count == 1, "one line per event")
        return try OrderedJSON.parse(bytes)
    }

    /// The events of audit.log text, through the audit.log reader.
    static func logEvents(_ text: String) -> [AuditEvent] {
        var reader = AuditLogReader()
        var events: [AuditEvent] = []
        reader.consume(Array(text.utf8)) { _, event in events.append(event) }
        reader.finish { _, event in events.append(event) }
        return events
    }

    static func value(_ json: OrderedJSON, _ path: String) -> OrderedJSON? {
        var current: OrderedJSON? = json
        for part in path.split(separator: ".") { current = current?[String(part)] }
        return current
    }

    static func string(_ json: OrderedJSON, _ path: String) -> String? {
        value(json, path)?.stringValue
    }

    static func strings(_ json: OrderedJSON, _ path: String) -> [String]? {
        value(json, path)?.arrayValue?.compactMap(\.stringValue)
    }

    // MARK: aucoalesce goldens

    /// One test case of aucoalesce's testdata: its name and raw lines.
    struct GoldenInput {
        var name: String
        var text: String
    }

    /// The `tests:` map of an aucoalesce YAML file (`name: |` or `name: >` blocks of record lines).
    static func goldenInputs(_ path: String) throws -> [GoldenInput] {
        let content = try String(decoding: readFile(path), as: UTF8.self)
        var inputs: [GoldenInput] = []
        for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("    ") {
                let record = line.drop { $0 == " " }
                if !inputs.isEmpty, record.hasPrefix("type=") { inputs[inputs.count - 1].text += record + "\n" }
            } else if line.hasPrefix("  "), !line.hasPrefix("  #"), let colon = line.lastIndex(of: ":") {
                var name = line[..<colon].drop { $0 == " " }
                if name.hasPrefix("\""), name.hasSuffix("\"") { name = name.dropFirst().dropLast() }
                inputs.append(GoldenInput(name: String(name), text: ""))
            }
        }
        return inputs
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw TestSupportError(description: "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[..<count]
        }
        return bytes
    }

    struct Golden: Decodable {
        struct Event: Decodable {
            struct Summary: Decodable {
                struct Actor: Decodable {
                    var primary: String?
                    var secondary: String?
                }
                struct Object: Decodable {
                    var type: String?
                    var primary: String?
                    var secondary: String?
                }
                var actor: Actor
                var action: String?
                var object: Object?
                var how: String?
            }
            struct ECS: Decodable {
                struct Event: Decodable {
                    var kind: String?
                    var category: [String]?
                    var type: [String]?
                    var outcome: String?
                }
                var event: Event
            }
            var result: String?
            var summary: Summary
            var ecs: ECS
        }
        var test_name: String
        var event: Event
    }

    static let goldenFiles = [
        "random-internet", "rhel-7-linux-3.10.0", "ubuntu-16.04-linux-4.13.0", "ubuntu-16.10-linux-4.8.0",
        "ubuntu-17.04-linux-4.10.0", "ubuntu-20.04.6-linux-5.15.0-1034-gcp", "ubuntu-21.10-linux-5.13",
        "ubuntu-24.04-linux-6.8.0",
    ]

    /// Where this encoder deliberately differs from the goldens: test name, field, what we write
    /// instead, and why.
    static let documentedDifferences: [String: [String: (String?, String)]] = [
        // aucoalesce converts the raw st_mode into Go's os.FileMode, whose type bits are elsewhere:
        // every object with a mode becomes "file". We name the real type.
        "make-device": ["object.type": ("directory", "the PATH chosen (item 0, objtype=PARENT) is a directory")],
        "mount syscall": ["object.type": ("directory", "the mount point is a directory (mode 040755)")],
    ]

    /// The fields compared, as (name, golden value, our value).
    static func comparisons(_ golden: Golden.Event, _ json: OrderedJSON) -> [(String, String?, String?)] {
        let outcome = golden.result.map { $0 == "fail" ? "failure" : $0 }
        return [
            (
                "event.category", golden.ecs.event.category?.joined(separator: ","),
                strings(json, "event.category")?.joined(separator: ",")
            ),
            (
                "event.type", golden.ecs.event.type?.joined(separator: ","),
                strings(json, "event.type")?.joined(separator: ",")
            ),
            ("event.kind", golden.ecs.event.kind ?? "event", string(json, "event.kind")),
            ("action", golden.summary.action, string(json, "event.action")),
            ("summary.action", golden.summary.action, string(json, "auditd.summary.action")),
            ("outcome", outcome, string(json, "event.outcome")),
            ("result", golden.result, string(json, "auditd.result")),
            ("actor.primary", golden.summary.actor.primary, string(json, "auditd.summary.actor.primary")),
            ("actor.secondary", golden.summary.actor.secondary, string(json, "auditd.summary.actor.secondary")),
            ("object.type", golden.summary.object?.type, string(json, "auditd.summary.object.type")),
            ("object.primary", golden.summary.object?.primary, string(json, "auditd.summary.object.primary")),
            ("object.secondary", golden.summary.object?.secondary, string(json, "auditd.summary.object.secondary")),
            ("how", golden.summary.how, string(json, "auditd.summary.how")),
        ]
    }

    @Test("Every aucoalesce golden event gets the same category, type, action, outcome and summary")
    func aucoalesceGoldens() throws {
        var encoder = Self.encoder()
        var events = 0
        var agreeing = 0
        var differences: [String] = []
        for file in Self.goldenFiles {
            let base = Corpus.path("go-libaudit/aucoalesce-testdata/\(file)")
            let inputs = try Self.goldenInputs(base + ".yaml")
            let goldens = try JSONDecoder().decode([Golden].self, from: Data(Self.readFile(base + ".json.golden")))
            #expect(!goldens.isEmpty)
            for golden in goldens {
                guard let input = inputs.first(where: { $0.name == golden.test_name }) else {
                    Issue.record("\(file): no input for \(golden.test_name)")
                    continue
                }
                let parsed = Self.logEvents(input.text)
                try #require(parsed.count == 1, "\(golden.test_name): \(parsed.count) events")
                let json = try Self.encode(parsed[0], encoder: &encoder)
                events += 1
                var agrees = true
                for (field, expected, actual) in Self.comparisons(golden.event, json) {
                    if let (documented, _) = Self.documentedDifferences[golden.test_name]?[field] {
                        #expect(actual == documented, "\(golden.test_name) \(field): documented difference changed")
                        differences.append("\(golden.test_name) \(field)")
                        continue
                    }
                    if expected != actual {
                        agrees = false
                        Issue.record(
                            "\(file) \(golden.test_name) \(field): expected \(expected ?? "nil"), got \(actual ?? "nil")"
                        )
                    }
                }
                if agrees { agreeing += 1 }
            }
        }
        #expect(events == 48)
        #expect(agreeing == events)
        #expect(differences.count == Self.documentedDifferences.values.map(\.count).reduce(0, +))
    }

    // MARK: Corpus and schema

    /// The ECS (and `auditd.*`) type of every field the encoder writes.
    enum FieldType {
        case keyword, long, ip, date, keywordArray, objectArray
    }

    static let schema: [String: FieldType] = {
        var schema: [String: FieldType] = [
            "@timestamp": .date, "event.kind": .keyword, "event.module": .keyword, "event.category": .keywordArray,
            "event.type": .keywordArray, "event.action": .keyword, "event.outcome": .keyword, "event.sequence": .long,
            "event.original": .keywordArray, "ecs.version": .keyword, "host.name": .keyword, "tags": .keywordArray,
            "process.pid": .long, "process.executable": .keyword, "process.name": .keyword, "process.title": .keyword,
            "process.args": .keywordArray, "process.args_count": .long, "process.working_directory": .keyword,
            "process.parent.pid": .long, "process.parent.executable": .keyword, "process.parent.name": .keyword,
            "process.parent.args": .keywordArray, "process.parent.args_count": .long,
            "process.parent.working_directory": .keyword, "file.path": .keyword, "file.inode": .keyword,
            "file.device": .keyword, "file.mode": .keyword, "file.type": .keyword, "file.uid": .keyword,
            "file.gid": .keyword, "file.owner": .keyword, "file.group": .keyword, "network.direction": .keyword,
            "container.id": .keyword, "systemd.unit": .keyword, "auditd.message_type": .keyword,
            "auditd.sequence": .long, "auditd.result": .keyword, "auditd.session": .keyword,
            "auditd.completion": .keyword, "auditd.paths": .objectArray,
        ]
        for side in ["source", "destination"] {
            schema["\(side).ip"] = .ip
            schema["\(side).port"] = .long
            schema["\(side).path"] = .keyword
            schema["\(side).address"] = .keyword
        }
        for entity in [
            "user", "user.audit", "user.effective", "user.saved", "user.filesystem", "user.group",
            "user.effective.group", "user.saved.group", "user.filesystem.group", "user.target", "user.target.group",
            "user.changes", "group",
        ] {
            schema["\(entity).id"] = .keyword
            schema["\(entity).name"] = .keyword
        }
        for field in [
            "actor.primary", "actor.secondary", "action", "object.type", "object.primary", "object.secondary", "how",
        ] {
            schema["auditd.summary.\(field)"] = .keyword
        }
        return schema
    }()

    static let categories: Set<String> = [
        "api", "authentication", "configuration", "database", "driver", "email", "file", "host", "iam",
        "intrusion_detection", "library", "malware", "network", "package", "process", "registry", "session",
        "threat", "vulnerability", "web",
    ]
    static let types: Set<String> = [
        "access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied", "end", "error",
        "group", "indicator", "info", "installation", "protocol", "start", "user",
    ]

    /// Problems of one document against ``schema`` and ECS's allowed values.
    static func schemaProblems(_ json: OrderedJSON, path: String = "") -> [String] {
        guard case .object(let members) = json else { return ["\(path): not an object"] }
        var problems: [String] = []
        if Set(members.map(\.key)).count != members.count { problems.append("\(path): duplicate keys") }
        for (key, value) in members {
            let name = path.isEmpty ? key : "\(path).\(key)"
            if name.hasPrefix("auditd.data.") {
                if case .object = value {
                    problems += schemaProblems(value, path: name)
                } else if value.stringValue == nil {
                    problems.append("\(name): not a keyword")
                }
                continue
            }
            guard let type = schema[name] else {
                if case .object = value {
                    problems += schemaProblems(value, path: name)
                } else {
                    problems.append("\(name): not in the schema")
                }
                continue
            }
            switch type {
            case .keyword:
                if value.stringValue == nil { problems.append("\(name): not a keyword") }
            case .long:
                guard case .number(let text) = value, Int64(text) != nil else {
                    problems.append("\(name): not a long")
                    continue
                }
            case .ip:
                var address = in6_addr()
                guard let text = value.stringValue,
                    inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
                else {
                    problems.append("\(name): not an ip")
                    continue
                }
            case .date:
                guard let text = value.stringValue, text.count == 24, text.hasSuffix("Z"),
                    text.utf8.enumerated().allSatisfy({ index, byte in
                        [4, 7].contains(index)
                            ? byte == UInt8(ascii: "-")
                            : index == 10
                                ? byte == UInt8(ascii: "T")
                                : [13, 16].contains(index)
                                    ? byte == UInt8(ascii: ":")
                                    : index == 19
                                        ? byte == UInt8(ascii: ".") : index == 23 || (0x30...0x39).contains(byte)
                    })
                else {
                    problems.append("\(name): not a date")
                    continue
                }
            case .keywordArray:
                guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    problems.append("\(name): not an array of keywords")
                    continue
                }
            case .objectArray:
                guard let items = value.arrayValue else {
                    problems.append("\(name): not an array")
                    continue
                }
                for item in items {
                    guard case .object(let fields) = item, fields.allSatisfy({ $0.value.stringValue != nil }) else {
                        problems.append("\(name): not an array of objects of keywords")
                        continue
                    }
                }
            }
        }
        if path.isEmpty {
            for category in strings(json, "event.category") ?? [] where !categories.contains(category) {
                problems.append("event.category \(category): not an ECS category")
            }
            for type in strings(json, "event.type") ?? [] where !types.contains(type) {
                problems.append("event.type \(type): not an ECS type")
            }
            if let kind = string(json, "event.kind"), !["event", "alert"].contains(kind) {
                problems.append("event.kind \(kind)")
            }
            if let outcome = string(json, "event.outcome"), !["success", "failure", "unknown"].contains(outcome) {
                problems.append("event.outcome \(outcome)")
            }
            if let direction = string(json, "network.direction"), !["ingress", "egress"].contains(direction) {
                problems.append("network.direction \(direction)")
            }
            if (strings(json, "event.category") ?? []).count != (strings(json, "event.type") ?? []).count
                && strings(json, "event.category") == nil
            {
                problems.append("event.type without event.category")
            }
        }
        return problems
    }

    static let scenarios = ["exec", "file_watch", "misc_kernel", "module", "mount", "ptrace", "user_mgmt"]

    @Test("Every event of the local audit.log files is valid JSON with the ECS field types", arguments: scenarios)
    func auditLogSchema(scenario: String) throws {
        var reader = AuditLogReader()
        var events: [AuditEvent] = []
        let bytes = try Self.readFile(Corpus.path("local/\(scenario).audit.log"))
        reader.consume(bytes) { _, event in events.append(event) }
        reader.finish { _, event in events.append(event) }
        #expect(!events.isEmpty)
        var encoder = Self.encoder(includeRaw: true, hostname: "host.example")
        for event in events {
            let json = try Self.encode(event, encoder: &encoder)
            let problems = Self.schemaProblems(json)
            #expect(problems.isEmpty, "\(event.id): \(problems)")
        }
    }

    @Test("Every event of the local captures is valid JSON with the ECS field types", arguments: scenarios)
    func captureSchema(scenario: String) throws {
        var reassembler = Reassembler(configuration: .init(minType: AuditMessageType(1000), clock: .recordTimestamps))
        var reader = try CaptureReader(path: Corpus.path("local/\(scenario).unicast.bin"))
        var events: [AuditEvent] = []
        while let frame = try reader.next() {
            let message = try frame.datagram.withUnsafeBytes { try NetlinkMessage.decode($0) }
            guard message.type.isAuditRecord else { continue }
            frame.datagram.withUnsafeBytes { datagram in
                reassembler.push(
                    type: message.type, payload: UnsafeRawBufferPointer(rebasing: datagram[message.payload]), now: 0
                ) { events.append($0) }
            }
        }
        reassembler.flushAll { events.append($0) }
        #expect(!events.isEmpty)
        var encoder = Self.encoder()
        var categorized = 0
        for event in events {
            let json = try Self.encode(event, encoder: &encoder)
            let problems = Self.schemaProblems(json)
            #expect(problems.isEmpty, "\(event.id): \(problems)")
            if Self.strings(json, "event.category") != nil { categorized += 1 }
        }
        #expect(categorized > 0)
    }

    @Test("A field the schema does not know fails the schema check")
    func schemaCheckFails() throws {
        let json = try OrderedJSON.parse(Array(#"{"process":{"pid":"12"},"event":{"category":["nope"]},"x":1}"#.utf8))
        let problems = Self.schemaProblems(json)
        #expect(problems.contains("process.pid: not a long"))
        #expect(problems.contains("x: not in the schema"))
        #expect(problems.contains("event.category nope: not an ECS category"))
    }

    // MARK: Fields

    static let execve = """
        type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 \
        items=2 ppid=100 pid=200 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 \
        tty=pts0 ses=3 comm="ls" exe="/usr/bin/ls" subj=unconfined key=6578656301646F6E65
        type=EXECVE msg=audit(1700000000.123:42): argc=3 a0="ls" a1=2D2D636F6C6F723D6175746F a2_len=6 a2[0]="ab" a2[1]=63646566
        type=CWD msg=audit(1700000000.123:42): cwd="/home/alice"
        type=PATH msg=audit(1700000000.123:42): item=0 name="/usr/bin/ls" inode=12 dev=08:01 mode=0104755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
        type=PATH msg=audit(1700000000.123:42): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=13 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
        type=PROCTITLE msg=audit(1700000000.123:42): proctitle=6C73002D2D636F6C6F723D6175746F

        """

    @Test("An execve becomes process.start with args, the file, the user ids and the rule keys as tags")
    func execveFields() throws {
        var encoder = Self.encoder()
        let events = Self.logEvents(Self.execve)
        try #require(events.count == 1)
        let json = try Self.encode(events[0], encoder: &encoder)
        #expect(Self.string(json, "@timestamp") == "2023-11-14T22:13:20.123Z")
        #expect(Self.strings(json, "event.category") == ["process"])
        #expect(Self.strings(json, "event.type") == ["start"])
        #expect(Self.string(json, "event.action") == "executed")
        #expect(Self.value(json, "event.sequence") == .number("42"))
        #expect(Self.strings(json, "process.args") == ["ls", "--color=auto", "abcdef"])
        #expect(Self.value(json, "process.args_count") == .number("3"))
        #expect(Self.value(json, "process.pid") == .number("200"))
        #expect(Self.value(json, "process.parent.pid") == .number("100"))
        #expect(Self.string(json, "process.title") == "ls --color=auto")
        #expect(Self.string(json, "process.working_directory") == "/home/alice")
        #expect(Self.string(json, "file.path") == "/usr/bin/ls")
        #expect(Self.string(json, "file.mode") == "0755")
        #expect(Self.string(json, "user.id") == "1000")
        #expect(Self.string(json, "user.effective.id") == "0")
        #expect(Self.string(json, "user.audit.id") == "1000")
        #expect(Self.strings(json, "tags") == ["exec", "done"])
        #expect(Self.string(json, "auditd.session") == "3")
        #expect(Self.string(json, "auditd.data.syscall") == "execve")
        #expect(Self.string(json, "auditd.data.arch") == "x86_64")
        #expect(Self.value(json, "auditd.data.uid") == nil, "ids are user.* fields, not data")
        #expect(Self.value(json, "event.original") == nil)
        #expect(Self.schemaProblems(json).isEmpty)
    }

    @Test("include_raw adds the records as event.original, and the host name goes to host.name")
    func includeRaw() throws {
        var encoder = Self.encoder(includeRaw: true, hostname: "web-1")
        let json = try Self.encode(Self.logEvents(Self.execve)[0], encoder: &encoder)
        let original = try #require(Self.strings(json, "event.original"))
        #expect(original.count == 6)
        #expect(original.first?.hasPrefix("type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e") == true)
        #expect(Self.string(json, "host.name") == "web-1")
    }

    @Test("A connect names the destination address, port and direction")
    func connectDestination() throws {
        let text = """
            type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=42 success=no exit=-111 a0=3 a1=1 a2=10 a3=0 items=0 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="curl" exe="/usr/bin/curl" key=(null)
            type=SOCKADDR msg=audit(1700000000.000:7): saddr=020000507F0000010000000000000000
            type=SYSCALL msg=audit(1700000001.000:8): arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=1 a2=10 a3=0 items=0 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="nc" exe="/usr/bin/nc" key=(null)
            type=SOCKADDR msg=audit(1700000001.000:8): saddr=01002F72756E2F782E736F636B00

            """
        var encoder = Self.encoder()
        let events = Self.logEvents(text)
        try #require(events.count == 2)
        let inet = try Self.encode(events[0], encoder: &encoder)
        #expect(Self.string(inet, "destination.ip") == "127.0.0.1")
        #expect(Self.value(inet, "destination.port") == .number("80"))
        #expect(Self.string(inet, "network.direction") == "egress")
        #expect(Self.string(inet, "event.outcome") == "failure")
        #expect(Self.string(inet, "auditd.summary.object.primary") == "127.0.0.1")
        #expect(Self.value(inet, "auditd.session") == nil, "an unset session is left out")
        #expect(Self.value(inet, "tags") == nil)
        let unix = try Self.encode(events[1], encoder: &encoder)
        #expect(Self.string(unix, "destination.path") == "/run/x.sock")
        #expect(Self.string(unix, "auditd.data.socket.family") == "unix")
        #expect(Self.schemaProblems(inet).isEmpty && Self.schemaProblems(unix).isEmpty)
    }

    @Test("A rule loaded by auditctl is an audit configuration change, not a network connection")
    func ruleChangeIsNoConnection() throws {
        let text = """
            type=CONFIG_CHANGE msg=audit(1700000000.000:9): auid=4294967295 ses=4294967295 op=add_rule key="exec" list=4 res=1
            type=SYSCALL msg=audit(1700000000.000:9): arch=c000003e syscall=44 success=yes exit=1064 a0=3 a1=7ffd2841f180 a2=428 a3=0 items=0 ppid=1 pid=2 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="auditctl" exe="/usr/sbin/auditctl" key=(null)
            type=SOCKADDR msg=audit(1700000000.000:9): saddr=100000000000000000000000
            type=PROCTITLE msg=audit(1700000000.000:9): proctitle=617564697463746C002D52002F746D702F782E72756C6573

            """
        var encoder = Self.encoder()
        let events = Self.logEvents(text)
        try #require(events.count == 1)
        let json = try Self.encode(events[0], encoder: &encoder)
        #expect(Self.string(json, "event.action") == "changed-audit-configuration")
        #expect(Self.strings(json, "event.category")?.contains("configuration") == true)
        #expect(Self.strings(json, "event.category")?.contains("network") == false)
        #expect(Self.value(json, "network.direction") == nil)
        #expect(Self.value(json, "destination") == nil)
        #expect(Self.string(json, "process.executable") == "/usr/sbin/auditctl")
        #expect(Self.schemaProblems(json).isEmpty)
    }

    @Test("The process context gives process.parent, container.id and systemd.unit")
    func processContext() throws {
        let context = ProcessContext(
            process: ProcessInfo(pid: 200, containerID: String(repeating: "ab", count: 32), unit: "nginx.service"),
            parent: ProcessInfo(
                pid: 100, executable: Array("/bin/bash".utf8), command: Array("bash".utf8),
                arguments: [Array("bash".utf8), Array("-c".utf8), [0xFF, 0x25]]))
        var encoder = Self.encoder()
        let json = try Self.encode(Self.logEvents(Self.execve)[0], context: context, encoder: &encoder)
        #expect(Self.value(json, "process.parent.pid") == .number("100"))
        #expect(Self.string(json, "process.parent.executable") == "/bin/bash")
        #expect(Self.string(json, "process.parent.name") == "bash")
        #expect(Self.strings(json, "process.parent.args") == ["bash", "-c", "%ff%25"])
        #expect(Self.string(json, "container.id") == String(repeating: "ab", count: 32))
        #expect(Self.string(json, "systemd.unit") == "nginx.service")
        #expect(Self.schemaProblems(json).isEmpty)
    }

    @Test("A user-space login maps the actor to user and the account to user.effective, addr to source.ip")
    func userLogin() throws {
        let text = """
            type=USER_LOGIN msg=audit(1493046015.752:42120): pid=18981 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=46.160.144.250 terminal=ssh res=failed'

            """
        var encoder = Self.encoder()
        let json = try Self.encode(Self.logEvents(text)[0], encoder: &encoder)
        #expect(Self.strings(json, "event.category") == ["authentication"])
        #expect(Self.string(json, "event.outcome") == "failure")
        #expect(Self.value(json, "user.id") == nil, "the actor (auid) is unset")
        #expect(Self.string(json, "user.effective.name") == "root")
        #expect(Self.string(json, "source.ip") == "46.160.144.250")
        #expect(Self.string(json, "network.direction") == "ingress")
        #expect(Self.string(json, "auditd.data.terminal") == "ssh")
        #expect(Self.value(json, "auditd.data.addr") == nil)
        #expect(Self.value(json, "auditd.data.hostname") == nil, "? is no value")
        #expect(Self.schemaProblems(json).isEmpty)
    }

    // MARK: Bytes

    @Test("Any bytes in an executable, a command name, a path and an argument come back by percent-decoding")
    func bytesRoundTrip() throws {
        var random = SplitMix64(seed: 19)
        var encoder = Self.encoder()
        for _ in 0..<200 {
            let length = Int(random.next() % 40) + 1
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let hex = bytes.map { String($0, radix: 16, uppercase: true).leftPadded(2) }.joined()
            let text = """
                type=SYSCALL msg=audit(1700000000.000:9): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\(hex) exe=\(hex) key=(null)
                type=EXECVE msg=audit(1700000000.000:9): argc=1 a0=\(hex)
                type=PATH msg=audit(1700000000.000:9): item=0 name=\(hex) inode=1 dev=00:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL

                """
            let events = Self.logEvents(text)
            try #require(events.count == 1)
            let json = try Self.encode(events[0], encoder: &encoder)
            for field in ["process.executable", "process.name", "file.path", "auditd.summary.how"] {
                let value = try #require(Self.string(json, field), "\(field)")
                #expect(try ByteEscaping.decode(value) == bytes, "\(field) of \(hex)")
            }
            let argument = try #require(Self.strings(json, "process.args")?.first)
            #expect(try ByteEscaping.decode(argument) == bytes)
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
