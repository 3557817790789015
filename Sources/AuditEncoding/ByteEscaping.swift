/// The inverse of the percent escape that ``JSONWriter`` applies to string values, so that consumers
/// (and our tests) can recover the exact bytes the kernel sent.
///
/// A value that is well-formed UTF-8 is written as it is (JSON escapes only). A value that is not is
/// written in percent mode: each byte that is not part of a well-formed UTF-8 sequence, and each `%`,
/// replaced by `%XX` (see ``JSONWriter`` for why); the event's message then carries
/// `"encoding":"percent"`. For those values, after a JSON decoder has undone the JSON escapes,
/// ``decode(_:)`` undoes the percent escapes. In a shell:
/// `jq -r .messages[0].data | python3 -c 'import sys,urllib.parse; sys.stdout.buffer.write(
/// urllib.parse.unquote_to_bytes(sys.stdin.read().rstrip("\n")))'`.
package enum ByteEscaping {
    /// Recovers the original bytes from the UTF-8 of a decoded JSON string value.
    ///
    /// Throws when a `%` is not followed by two hex digits, which our encoder never writes.
    package static func decode(_ utf8: some Collection<UInt8>) throws(ByteEscapingError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count)
        var iterator = utf8.makeIterator()
        var offset = 0
        while let byte = iterator.next() {
            if byte != UInt8(ascii: "%") {
                output.append(byte)
                offset += 1
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
            else {
                throw ByteEscapingError(offset: offset)
            }
            output.append(high << 4 | low)
            offset += 3
        }
        return output
    }

    /// Recovers the original bytes from a decoded JSON string value.
    package static func decode(_ text: String) throws(ByteEscapingError) -> [UInt8] {
        try decode(text.utf8)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// A `%` in a string value that is not followed by two hex digits.
package struct ByteEscapingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The UTF-8 offset of the bad `%` in the decoded string.
    package var offset: Int

    /// An error for the `%` at `offset`.
    package init(offset: Int) { self.offset = offset }

    /// Describes the bad escape and where it is.
    package var description: String {
        "malformed percent escape at UTF-8 offset \(offset): expected '%' followed by two hex digits"
    }
}
