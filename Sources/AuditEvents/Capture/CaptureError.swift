import AuditNetlink
internal import AuditSystem

/// A capture file that cannot be opened, read or written, or whose framing is broken.
///
/// Names the file and the byte offset of the frame, so an operator can cut a capture at the last
/// good frame (`head -c OFFSET`).
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// `open(2)` failed with this errno.
        case open(errno: Int32)
        /// `read(2)` failed with this errno.
        case read(errno: Int32)
        /// `write(2)` failed with this errno.
        case write(errno: Int32)
        /// The file ends inside a frame's 4-byte length (`available` bytes of it are there).
        case truncatedLength(available: Int)
        /// The file ends inside a datagram: `declared` bytes announced, `available` present.
        case truncatedDatagram(declared: UInt32, available: Int)
        /// A frame announces more bytes than any netlink datagram can hold: the file is not a
        /// capture, or it is corrupt here.
        case oversizedFrame(declared: UInt32)
        /// A datagram given to the writer is larger than a frame can describe.
        case datagramTooLarge(size: Int)
    }

    /// What went wrong.
    public var kind: Kind
    /// The file's path, or a caller-chosen name for a descriptor or an in-memory capture.
    public var path: String
    /// The byte offset of the frame concerned (for open errors: 0).
    public var offset: UInt64

    /// Creates an error.
    public init(kind: Kind, path: String, offset: UInt64) {
        self.kind = kind
        self.path = path
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch kind {
        case .open(let errno): what = "cannot open: \(Errno(rawValue: errno))"
        case .read(let errno): what = "read failed: \(Errno(rawValue: errno))"
        case .write(let errno): what = "write failed: \(Errno(rawValue: errno))"
        case .truncatedLength(let available):
            what = "truncated frame: \(available) of 4 length bytes"
        case .truncatedDatagram(let declared, let available):
            what = "truncated frame: \(available) of \(declared) datagram bytes"
        case .oversizedFrame(let declared):
            what = "frame length \(declared) exceeds \(CaptureReader.maximumDatagramSize) bytes"
        case .datagramTooLarge(let size):
            what = "datagram of \(size) bytes does not fit a frame"
        }
        return "\(path): \(what) at byte offset \(offset)"
    }
}
