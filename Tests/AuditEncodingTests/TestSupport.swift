import AuditEncoding
import AuditTestSupport
import FoundationEssentials
import Glibc
import Testing

/// One decoded audit event line.
struct DecodedEvent: Decodable {
    struct Message: Decodable {
        var type: Int
        var data: String
        /// `"percent"` when `data` was not UTF-8 and is percent-escaped.
        var encoding: String?

        /// The record's original bytes.
        func bytes() throws -> [UInt8] {
            encoding == "percent" ? try ByteEscaping.decode(data) : Array(data.utf8)
        }
    }

    var sequence: UInt64
    var timestamp: String
    var messages: [Message]
    var uidMap: [String: String]
    var hostname: String?

    enum CodingKeys: String, CodingKey {
        case sequence, timestamp, messages, hostname
        case uidMap = "uid_map"
    }
}

/// Errors of the test helpers themselves.
struct TestSupportError: Error, CustomStringConvertible {
    var description: String
}

enum JSON {
    /// Decodes one line (with or without its `\n`) with Foundation's decoder.
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: some Collection<UInt8>) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Wraps the bytes in a JSON object with `JSONWriter` and decodes the value back.
    static func roundTripString(_ input: [UInt8]) throws -> (json: [UInt8], decoded: String, percentMode: Bool) {
        var writer = JSONWriter()
        let percentMode = writer.appendString(input)
        let json = Array(writer.bytes)
        let object = Array("{\"s\":".utf8) + json + Array("}".utf8)
        let decoded = try decode([String: String].self, object)
        guard let value = decoded["s"] else { throw TestSupportError(description: "no value decoded") }
        return (json, value, percentMode)
    }

    /// The original bytes of a decoded string value: percent-decoded only when written in percent mode.
    static func recover(_ decoded: String, percentMode: Bool) throws -> [UInt8] {
        percentMode ? try ByteEscaping.decode(decoded) : Array(decoded.utf8)
    }
}

/// The corpus captures the encoding tests read.
extension Corpus {
    /// The names of the `*.unicast.tsv` captures in `local/`.
    static func unicastCaptures() -> [String] {
        var names: [String] = []
        if let directory = opendir(path("local")) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name.hasSuffix(".unicast.tsv") { names.append(name) }
            }
            closedir(directory)
        }
        return names.sorted()
    }

    /// One `TYPE<TAB>PAYLOAD` line of a capture, with the escapes undone.
    struct Message {
        var line: Int
        var type: UInt16
        var payload: [UInt8]
    }

    /// Parses a capture (`\\ \t \n \r \xHH` escapes, see the corpus README).
    static func parseTSV(_ content: [UInt8], file: String) throws -> [Message] {
        var messages: [Message] = []
        for (number, line) in content.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            guard let tab = line.firstIndex(of: 0x09),
                let type = UInt16(String(decoding: line[line.startIndex..<tab], as: UTF8.self))
            else { throw TestSupportError(description: "\(file):\(number + 1): no TYPE<TAB>") }
            var payload: [UInt8] = []
            var index = tab + 1
            while index < line.endIndex {
                let byte = line[index]
                guard byte == UInt8(ascii: "\\") else {
                    payload.append(byte)
                    index += 1
                    continue
                }
                guard index + 1 < line.endIndex else {
                    throw TestSupportError(description: "\(file):\(number + 1): dangling backslash")
                }
                switch line[index + 1] {
                case UInt8(ascii: "\\"):
                    payload.append(0x5C)
                    index += 2
                case UInt8(ascii: "t"):
                    payload.append(0x09)
                    index += 2
                case UInt8(ascii: "n"):
                    payload.append(0x0A)
                    index += 2
                case UInt8(ascii: "r"):
                    payload.append(0x0D)
                    index += 2
                case UInt8(ascii: "x"):
                    guard index + 3 < line.endIndex,
                        let value = UInt8(String(decoding: line[(index + 2)...(index + 3)], as: UTF8.self), radix: 16)
                    else { throw TestSupportError(description: "\(file):\(number + 1): bad \\x escape") }
                    payload.append(value)
                    index += 4
                default:
                    throw TestSupportError(description: "\(file):\(number + 1): unknown escape")
                }
            }
            messages.append(Message(line: number + 1, type: type, payload: payload))
        }
        return messages
    }
}
