/// auditd's reading of a file mode: PATH `mode=` (octal), mknod's mode argument, and the short form
/// of chmod/mkdir/open's permission arguments.
package enum FileModes {
    /// The file type of a mode as auditd names it (`file`, `dir`, `character`, `block`, `fifo`,
    /// `link`, `socket`), or nil when the type bits hold none of them (a bare permission mode).
    package static func typeName(_ mode: UInt32) -> String? {
        switch mode & 0o170000 {
        case 0o100000: "file"
        case 0o040000: "dir"
        case 0o020000: "character"
        case 0o060000: "block"
        case 0o010000: "fifo"
        case 0o120000: "link"
        case 0o140000: "socket"
        default: nil
        }
    }

    /// `file,644`, `dir,sticky,777`, `file,suid,sgid,755`; for unknown type bits their octal digits
    /// (`000,644` for a mode without a type), as auditd prints them.
    package static func interpretation(_ mode: UInt32) -> String {
        var text = typeName(mode) ?? octal((mode & 0o170000) >> 12, digits: 3)
        appendSpecialBits(mode, to: &text, leadingComma: true)
        text += ","
        text += octal(mode & 0o777, digits: 3)
        return text
    }

    /// The short form auditd uses for permission arguments (chmod, mkdir, open with O_CREAT):
    /// `0644`, `suid,0755`, `suid,sgid,sticky,0777`. The type bits are ignored.
    package static func shortInterpretation(_ mode: UInt32) -> String {
        var text = ""
        appendSpecialBits(mode, to: &text, leadingComma: false)
        if !text.isEmpty { text += "," }
        text += "0"
        text += octal(mode & 0o777, digits: 3)
        return text
    }

    /// Parses a mode as the PATH record logs it (octal, `0100644`); nil for anything else.
    package static func parseOctal(_ text: some StringProtocol) -> UInt32? {
        var value: UInt32 = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 11 else { return nil }
            value = value << 3 | UInt32(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return digits == 0 ? nil : value
    }

    private static func appendSpecialBits(_ mode: UInt32, to text: inout String, leadingComma: Bool) {
        for (bit, name) in [(UInt32(0o4000), "suid"), (0o2000, "sgid"), (0o1000, "sticky")] where mode & bit != 0 {
            if leadingComma || !text.isEmpty { text += "," }
            text += name
        }
    }

    /// Octal digits, zero-padded to at least `digits` (three octal digits fit a small string).
    private static func octal(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 8)
        return text.count >= digits ? text : String(repeating: "0", count: digits - text.count) + text
    }
}
