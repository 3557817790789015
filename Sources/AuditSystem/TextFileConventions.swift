/// How swift-audit's text files (the configuration and rules files) treat what Windows editors
/// write: one rule for both kinds of file, so an operator meets the same behaviour everywhere.
///
/// - A UTF-8 byte-order mark (EF BB BF) at the very start is skipped, with one warning that names
///   it: otherwise it is glued to the first key or option (`\u{FEFF}backlog_limit`, an unknown
///   option `\u{FEFF}-D`) and the errors that follow never mention the real cause.
/// - A line may end in CR LF: the CR before the LF (or before the end of the file) is dropped. A
///   CR anywhere else stays an error, as every other control character.
package enum TextFileConventions {
    /// The bytes of a UTF-8 byte-order mark.
    package static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The warning for a skipped byte-order mark (the caller adds file and line).
    package static let byteOrderMarkWarning =
        "the file starts with a UTF-8 byte-order mark (bytes EF BB BF); it is skipped "
        + "(save the file as UTF-8 without a BOM to silence this)"

    /// How many bytes of `bytes` a leading byte-order mark takes: 3 or 0.
    package static func byteOrderMarkLength(_ bytes: some Collection<UInt8>) -> Int {
        bytes.starts(with: byteOrderMark) ? byteOrderMark.count : 0
    }

    /// `line` without the CR of a CR LF line end.
    package static func droppingLineEndCR(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        line.last == 0x0D ? line.dropLast() : line
    }
}
