import AuditTestSupport
import Foundation
import Testing

/// `ausearch -i` (Debian package auditd) as an oracle: it interprets with libauparse, the library
/// whose text the interpretation tables reproduce.
enum Ausearch {
    static let path = ["/usr/sbin/ausearch", "/sbin/ausearch", "/usr/bin/ausearch"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let requirement = TestRequirement("ausearch (apt-get install auditd)", isAvailable: path != nil)

    /// One record as ausearch printed it, and as it was logged.
    struct Record {
        var type: String
        /// The interpreted line after `msg=audit(…) : `.
        var interpreted: String
        /// The raw line after `msg=audit(…): `.
        var raw: String
    }

    /// Runs `ausearch -i` over raw record lines, each given a serial of its own (so each is an event
    /// of its own), and returns the records by that serial.
    static func interpret(_ lines: [(type: String, body: String)]) throws -> [Int: Record] {
        try requirement.check()
        guard let path else { return [:] }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var text = ""
        for (index, line) in lines.enumerated() {
            text += "type=\(line.type) msg=audit(1700000000.000:\(index + 1)): \(line.body)\n"
        }
        let file = try directory.write("input.log", text)
        let output = try runProcess(path, ["-i", "-if", file], environment: ["LC_ALL": "C", "TZ": "UTC"])
        var records: [Int: Record] = [:]
        for line in output.standardOutput.split(separator: "\n") {
            guard line.hasPrefix("type="), let open = line.range(of: "msg=audit("),
                let close = line.range(of: ") : ", range: open.upperBound..<line.endIndex)
            else { continue }
            let stamp = line[open.upperBound..<close.lowerBound]
            guard let colon = stamp.lastIndex(of: ":"), let serial = Int(stamp[stamp.index(after: colon)...]),
                serial >= 1, serial <= lines.count
            else { continue }
            let type = String(line.dropFirst(5).prefix { $0 != " " })
            records[serial] = Record(
                type: type, interpreted: String(line[close.upperBound...]), raw: lines[serial - 1].body)
        }
        return records
    }

    /// The value of `key=` in a record line: up to the next space (quotes and a closing `'` of a
    /// user record's msg stripped); nil when the key is not there.
    static func field(_ key: String, in line: String) -> String? {
        var searchStart = line.startIndex
        while let range = line.range(of: key + "=", range: searchStart..<line.endIndex) {
            let atBoundary =
                range.lowerBound == line.startIndex || line[line.index(before: range.lowerBound)] == " "
                || line[line.index(before: range.lowerBound)] == "'"
            if atBoundary {
                var value = line[range.upperBound...].prefix { $0 != " " }
                if value.hasSuffix("'") { value = value.dropLast() }
                if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                    value = value.dropFirst().dropLast()
                }
                return String(value)
            }
            searchStart = range.upperBound
        }
        return nil
    }

    /// `exit=`'s interpreted value, which holds spaces (`ENOENT(No such file or directory)`).
    static func exitField(in line: String) -> String? {
        guard let start = line.range(of: " exit=") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.range(of: " a0=") else { return String(rest.prefix { $0 != " " }) }
        return String(rest[..<end.lowerBound])
    }
}

/// Disagreements collected by a comparison, printed and counted rather than failing one by one.
struct Disagreements {
    var compared = 0
    var lines: [String] = []

    mutating func check(_ what: @autoclosure () -> String, ours: String?, theirs: String?) {
        compared += 1
        if ours != theirs { lines.append("\(what()): ours \(ours ?? "nil"), auditd \(theirs ?? "nil")") }
    }

    func report(_ name: String) {
        if !lines.isEmpty {
            print("\(name): \(lines.count) disagreements of \(compared)")
            for line in lines.prefix(60) { print("  " + line) }
        }
    }
}
