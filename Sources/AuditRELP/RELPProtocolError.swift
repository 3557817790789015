/// Why bytes from a RELP server cannot be accepted, with where and what they were.
///
/// Any of these ends the session: the protocol has no way to resynchronise a stream after a
/// framing error (doc/relp.html, "Error handling": the peer that detects it closes the
/// connection), so the writer disconnects and sends again what was not acknowledged.
package struct RELPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    package enum Kind: Hashable, Sendable {
        /// TXNR is not 1…9 digits followed by a space.
        case badTransactionNumber
        /// COMMAND is not 1…32 letters followed by a space.
        case badCommand
        /// DATALEN is not 1…9 digits followed by a space (or by the trailer when 0).
        case badDataLength
        /// DATALEN is larger than a response may be (`limit`).
        case dataTooLong(length: Int, limit: Int)
        /// The byte after DATA is not the LF trailer.
        case missingTrailer
        /// The data of an `rsp` does not start with a 3-digit status followed by SP, LF or the end.
        case badResponseStatus
        /// An `rsp` for a transaction that is not waiting for one.
        case unexpectedTransaction(UInt32)
        /// A command a client never receives (only `rsp` and hints with txnr 0 are allowed).
        case unexpectedCommand
        /// The server's offers lack `relp_version`, or are not `name[=value,…]` lines.
        case badOffers
        /// The server does not accept the `syslog` command.
        case syslogRefused
    }

    /// What was wrong.
    package var kind: Kind
    /// Where in the stream of received bytes the frame with the problem starts.
    package var offset: Int
    /// Up to 64 bytes of the offending input, from the start of its frame.
    package var excerpt: [UInt8]

    package init(_ kind: Kind, offset: Int = 0, excerpt: some Collection<UInt8>) {
        self.kind = kind
        self.offset = offset
        self.excerpt = Array(excerpt.prefix(64))
    }

    /// "RELP: bad DATALEN at byte 12: 1 rsp x…", with non-printable bytes escaped.
    package var description: String {
        let what =
            switch kind {
            case .badTransactionNumber: "bad TXNR"
            case .badCommand: "bad COMMAND"
            case .badDataLength: "bad DATALEN"
            case .dataTooLong(let length, let limit): "DATALEN \(length) exceeds the limit of \(limit) bytes"
            case .missingTrailer: "no LF after DATA"
            case .badResponseStatus: "rsp without a 3-digit status"
            case .unexpectedTransaction(let number): "rsp for txnr \(number), which is not waiting for one"
            case .unexpectedCommand: "a command a client does not accept"
            case .badOffers: "the server's offers are malformed or lack relp_version"
            case .syslogRefused: "the server does not offer the syslog command"
            }
        return "RELP: \(what) at byte \(offset): \"\(Self.escaped(excerpt))\""
    }

    /// Printable ASCII as is, other bytes as `\n`, `\xHH`.
    static func escaped(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"): text += "\\n"
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789abcdef".utf8)
                text += "\\x"
                text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return text
    }
}
