internal import AuditSystem
internal import Glibc

/// Reads a capture of netlink datagrams: repeated `[u32 little-endian length][datagram]`, the
/// format of `../shared/corpus/local/*.bin` and of `swift-audit run --record`.
///
/// The framing is the same for unicast and multicast captures; what differs is the datagram's
/// own `nlmsg_len`, which `NetlinkMessage.decode` handles. A frame's datagram is handed out whole,
/// including the 16-byte `nlmsghdr` with the sender's `portID`: whether a datagram not sent by
/// the kernel (portID != 0) is accepted is the pipeline's decision, not the reader's.
///
/// Streams the file through one buffer with `read(2)` (no Foundation, no per-frame allocation):
/// each `Frame` is a slice of that buffer, valid until it is dropped; keeping it across `next()`
/// is safe but makes the reader copy its buffer on the next refill.
public struct CaptureReader: ~Copyable {
    /// Frames announcing more than this are rejected as corrupt: a netlink audit datagram is at
    /// most 16 + 8970 bytes, and trusting a garbage length would allocate up to 4 GiB.
    public static let maximumDatagramSize = 1 << 20

    /// One frame of the capture.
    public struct Frame: Sendable {
        /// The byte offset of the frame (its length field) in the capture.
        public var offset: UInt64
        /// The datagram, starting with its `nlmsghdr`.
        public var datagram: ArraySlice<UInt8>

        /// Creates a frame value.
        public init(offset: UInt64, datagram: ArraySlice<UInt8>) {
            self.offset = offset
            self.datagram = datagram
        }
    }

    /// The file's path, or the name given for a descriptor or bytes; used in errors.
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    /// Unconsumed bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    /// The capture offset of `buffer[0]`.
    private var bufferOffset: UInt64 = 0
    private var atEndOfFile = false

    /// Opens a capture file for streaming.
    ///
    /// - Throws: `CaptureError` with `.open(errno:)`.
    public init(path: String, bufferSize: Int = 1 << 16) throws(CaptureError) {
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY | O_CLOEXEC) } catch {
            throw CaptureError(kind: .open(errno: error.rawValue), path: path, offset: 0)
        }
        self.path = path
        self.descriptor = fd
        self.ownsDescriptor = true
        self.buffer = [UInt8](repeating: 0, count: max(4096, bufferSize))
    }

    /// Streams from a descriptor the caller owns and closes (a pipe, standard input).
    public init(fileDescriptor: Int32, name: String, bufferSize: Int = 1 << 16) {
        self.path = name
        self.descriptor = fileDescriptor
        self.ownsDescriptor = false
        self.buffer = [UInt8](repeating: 0, count: max(4096, bufferSize))
    }

    /// Streams from a descriptor the caller owns and closes, of which the caller already read
    /// `alreadyRead` (to tell what the input is, see ``AuditFileKind``): those bytes come first.
    public init(fileDescriptor: Int32, name: String, alreadyRead: [UInt8], bufferSize: Int = 1 << 16) {
        self.path = name
        self.descriptor = fileDescriptor
        self.ownsDescriptor = false
        var buffer = alreadyRead
        buffer.append(contentsOf: repeatElement(0, count: max(4096, bufferSize)))
        self.buffer = buffer
        self.end = alreadyRead.count
    }

    /// Reads a capture already in memory (a whole file read at once, or bytes built by a test).
    public init(bytes: [UInt8], name: String = "<memory>") {
        self.path = name
        self.descriptor = -1
        self.ownsDescriptor = false
        self.buffer = bytes
        self.end = bytes.count
        self.atEndOfFile = true
    }

    deinit {
        if ownsDescriptor { SystemCall.close(descriptor) }
    }

    /// The capture offset of the next frame.
    public var offset: UInt64 { bufferOffset + UInt64(start) }

    /// Returns the next frame, or nil at a clean end of the capture.
    ///
    /// - Throws: `CaptureError` when the capture ends inside a frame (`.truncatedLength`,
    ///   `.truncatedDatagram`), a frame is implausibly long (`.oversizedFrame`), or `read(2)`
    ///   fails; `offset` is where the bad frame starts. The reader stays at that frame.
    public mutating func next() throws(CaptureError) -> Frame? {
        guard try fill(atLeast: 4) else {
            let available = end - start
            if available == 0 { return nil }
            throw CaptureError(kind: .truncatedLength(available: available), path: path, offset: offset)
        }
        let length =
            UInt32(buffer[start]) | UInt32(buffer[start + 1]) << 8 | UInt32(buffer[start + 2]) << 16
            | UInt32(buffer[start + 3]) << 24
        guard length <= UInt32(Self.maximumDatagramSize) else {
            throw CaptureError(kind: .oversizedFrame(declared: length), path: path, offset: offset)
        }
        let total = 4 + Int(length)
        guard try fill(atLeast: total) else {
            throw CaptureError(
                kind: .truncatedDatagram(declared: length, available: end - start - 4), path: path, offset: offset)
        }
        let frame = Frame(offset: offset, datagram: buffer[(start + 4)..<(start + total)])
        start += total
        return frame
    }

    /// Makes at least `count` unconsumed bytes available; false if the file ends first.
    private mutating func fill(atLeast count: Int) throws(CaptureError) -> Bool {
        while end - start < count {
            if atEndOfFile { return false }
            if buffer.count - start < count {
                compact()
                if buffer.count < count {
                    buffer.append(contentsOf: repeatElement(0, count: count - buffer.count))
                }
            }
            let fd = descriptor
            let from = end
            let got: Int
            do { got = try SystemCall.read(fd, into: &buffer, from: from) } catch {
                throw CaptureError(kind: .read(errno: error.rawValue), path: path, offset: offset)
            }
            if got == 0 { atEndOfFile = true }
            end += got
        }
        return true
    }

    /// Moves the unconsumed bytes to the front of the buffer.
    private mutating func compact() {
        guard start > 0 else { return }
        let (from, length) = (start, end - start)
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress, length > 0 else { return }
            memmove(base, base + from, length)
        }
        bufferOffset += UInt64(start)
        start = 0
        end = length
    }
}
