// libFuzzer target: arbitrary text through the configuration parser and the filter rule parser.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). Each input is used
// three ways:
// - as a whole configuration file (`DaemonConfiguration.parse(bytes:file:users:)`, what
//   `--check-config` and a reload run): it must give a configuration or a `ConfigError`, never a
//   trap; a configuration must render (`render()`, the `--check-config` text) to a file that parses
//   back to an equal configuration, as `render()` promises;
// - line by line as filter conditions: `KEY = VALUE` with the last dot-separated part of KEY a
//   filter key (`filter.x.saddr = …` or just `saddr = …`) goes to `FilterCondition.parse` with
//   that key, any other line to the key its length picks; a condition that parses becomes a
//   rule, compiled (`EventFilter`) and evaluated on a few events, some made of the input's lines;
// - each value as an address pattern (`AddressPattern(parsing:)`).
// Errors are values; a Swift trap is a crash to libFuzzer.
//
// Regular expressions go through the filter's repetition budget (`RegexBudget`): without it,
// glibc's regcomp(3) took gigabytes for `a{1,16000}` or `a` and 20 `+`, which this target found.
//
// Every event tried ends with an EOE record whose body is one NUL byte: ASan's interceptor of
// regexec(3) checks `strlen(string) + 1` bytes of the subject even with REG_STARTEND, which makes
// glibc read only the given range (PosixRegex matches records in place, unterminated), so without
// a NUL at the end of the event's storage every `regex` condition is a false heap overflow. Seeds (Fuzz/FilterConfig/seeds.sh)
// are the example configuration, with its commented keys and filter section switched on, and
// the configuration blocks of docs/configuration.md.
import AuditConfig
import AuditEvents
import AuditFilters
import AuditNetlink

let users = UserLookup.table(["root": 0, "daemon": 1, "alice": 1000, "nobody": 65534])

/// Events every condition is tried on: a kernel event with the fields the conditions read, and a
/// user-space one.
let fixedEvents: [AuditEvent] = {
    var exec = AuditEvent(id: AuditEventID(seconds: 1_700_000_000, milliseconds: 1, serial: 42))
    exec.append(
        type: .syscall,
        body: Array(
            ("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid=2 "
                + "auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 "
                + "comm=\"curl\" exe=\"/usr/bin/curl\" subj=unconfined key=\"net\"").utf8))
    exec.append(type: .sockaddr, body: Array("saddr=02000050C0A80001000000000000000000".utf8))
    exec.append(type: .sockaddr, body: Array("saddr=0A0001BB0000000020010DB8000000000000000000000001000000".utf8))
    exec.append(type: .proctitle, body: Array("proctitle=6375726C006578616D706C652E6F7267".utf8))
    var user = AuditEvent(id: AuditEventID(seconds: 1_700_000_001, milliseconds: 2, serial: 43))
    user.append(
        type: AuditMessageType(1112),
        body: Array(
            ("pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" "
                + "hostname=? addr=192.0.2.7 terminal=ssh res=failed'").utf8))
    return [terminated(exec), terminated(user)]
}()

/// `event` with a last EOE record of one NUL byte (see the top of the file).
func terminated(_ event: AuditEvent) -> AuditEvent {
    var event = event
    event.append(type: .endOfEvent, body: [0])
    return event
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFilterConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    wholeFile(bytes)

    let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    var linesEvent = AuditEvent(id: AuditEventID(seconds: 1, milliseconds: 0, serial: 1))
    let types: [AuditMessageType] = [.syscall, .path, .sockaddr, AuditMessageType(1100), .execve, .cwd]
    for (index, line) in lines.prefix(32).enumerated() {
        linesEvent.append(type: types[index % types.count], body: line)
    }
    for (index, line) in lines.prefix(64).enumerated() {
        condition(String(decoding: line, as: UTF8.self), index: index, extra: linesEvent)
    }
    return 0
}

/// The input as a configuration file.
func wholeFile(_ bytes: [UInt8]) {
    let parsed: ParsedConfiguration
    do {
        parsed = try DaemonConfiguration.parse(bytes: bytes, file: "fuzz.conf", users: users)
    } catch {
        for diagnostic in error.diagnostics { _ = diagnostic.description }
        _ = error.description
        return
    }
    for warning in parsed.warnings { _ = warning.description }
    let rendered = parsed.configuration.render()
    let again: ParsedConfiguration
    do {
        again = try DaemonConfiguration.parse(rendered, file: "rendered.conf", users: users)
    } catch {
        preconditionFailure("the rendered configuration does not parse: \(error)\n--- rendered:\n\(rendered)")
    }
    precondition(again.configuration == parsed.configuration, "the rendered configuration parses differently")
    _ = parsed.configuration.filterPlan.outputs.map { parsed.configuration.filterPlan.describeOrder(of: $0) }
}

/// One line as a filter condition, compiled into a rule and evaluated.
func condition(_ line: String, index: Int, extra: AuditEvent) {
    let fields = FilterField.allCases
    var field = fields[line.utf8.count % fields.count]
    var value = Substring(line)
    if let equals = line.firstIndex(of: "=") {
        let key = line[..<equals].split(separator: ".", omittingEmptySubsequences: false).last ?? ""
        value = line[line.index(after: equals)...]
        if let named = FilterField(rawValue: String(key.trimmingBlanks)) { field = named }
        value = value.trimmingBlanks
        if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
    }
    let text = String(value)
    _ = AddressPattern(parsing: text)?.description
    guard let condition = try? FilterCondition.parse(field, text, users: users.resolve) else { return }
    _ = condition.description
    let rule = FilterRule(name: "r", action: index % 2 == 0 ? .drop : .keep, conditions: [condition])
    let plan = FilterPlan(
        rules: [rule], global: index % 3 == 0 ? ["r"] : [],
        outputs: [OutputFilters(name: "a", rules: ["r"]), OutputFilters(name: "b", selection: .filteredOutBy("a"))])
    guard var filter = try? EventFilter(plan) else { return }
    for event in fixedEvents + [terminated(extra)] {
        filter.evaluate(event)
        _ = filter.delivers(toOutput: 0)
        _ = filter.delivers(toOutput: 1)
    }
    let statistics = filter.statistics
    precondition(statistics.events == 3, "events miscounted")
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingBlanks: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
