import Foundation

/// Plain string handling of audit.log text, independent of the product's parser, so that tests of
/// `AuditLogReader` and `swift-audit parse` compare two implementations.
public enum AuditLogText {
    /// The event key of every record line: `NODE|SECONDS.MILLIS:SERIAL` (`NODE` empty without a
    /// `node=` prefix), in line order. Lines that are not records are left out: blank lines,
    /// comments (`#`), ausearch separators, lines without `msg=audit(…)` or whose identity is
    /// not `digits.digits:digits`, and `EOE` lines (an event's end, never one of its records).
    public static func recordKeys(_ bytes: [UInt8]) -> [String] {
        var keys: [String] = []
        for line in bytes.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            var rest = Substring(text)
            var node = ""
            if rest.hasPrefix("node=") {
                guard let space = rest.firstIndex(of: " ") else { continue }
                node = String(rest[rest.index(rest.startIndex, offsetBy: 5)..<space])
                rest = rest[rest.index(after: space)...]
            }
            guard rest.hasPrefix("type="), !rest.hasPrefix("type=EOE "),
                let open = rest.range(of: "msg=audit("), let close = rest[open.upperBound...].firstIndex(of: ")")
            else { continue }
            let id = rest[open.upperBound..<close]
            let parts = id.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].allSatisfy(\.isNumber), !parts[1].isEmpty else { continue }
            let time = parts[0].split(separator: ".", omittingEmptySubsequences: false)
            guard time.count == 2, time.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { continue }
            keys.append(node + "|" + id)
        }
        return keys
    }
}
