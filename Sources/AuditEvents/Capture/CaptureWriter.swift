internal import AuditSystem
internal import Glibc

/// Appends netlink datagrams to a capture in the `[u32 little-endian length][datagram]` framing
/// that `CaptureReader` reads (`swift-audit run --record FILE`).
///
/// Frames are gathered in a buffer and written with one `write(2)` per buffer-full or `flush()`,
/// because the recorder sits next to the socket reader and must not add a syscall per record.
///
/// Errors follow one rule: `append` throws if and only if the frame was not kept. A failed write
/// keeps the unwritten bytes buffered (up to `maximumBufferedBytes`) and is retried by the next
/// write, so a full disk that recovers loses nothing and leaves no torn frame behind; `append`
/// only counts such failures (`failedWrites`), `flush()` and `close()` throw them. Dropping the
/// writer flushes on a best-effort basis only.
public struct CaptureWriter: ~Copyable {
    /// What to do with an existing file at `path`.
    public enum Disposition: Hashable, Sendable {
        /// Start an empty file (replace what was there).
        case truncate
        /// Add frames at the end of the existing capture.
        case append
        /// Fail with `EEXIST` if the file exists.
        case createNew
    }

    /// The file's path, or the name given for a descriptor; used in errors.
    public let path: String
    private var descriptor: Int32
    private let ownsDescriptor: Bool
    private let bufferSize: Int
    private var buffer: [UInt8] = []
    /// Bytes handed to `write(2)` successfully.
    public private(set) var bytesWritten: UInt64 = 0
    /// Frames appended (written or buffered).
    public private(set) var framesAppended: UInt64 = 0
    /// `write(2)` calls that failed inside `append` (the data stayed buffered).
    public private(set) var failedWrites: UInt64 = 0
    /// Bytes waiting to be written.
    public var bufferedBytes: Int { buffer.count }

    /// The most bytes kept buffered while writes fail; beyond it `append` refuses frames.
    public static let maximumBufferedBytes = 4 << 20

    /// Opens (or creates, with `permissions`) a capture file.
    ///
    /// - Parameter bufferSize: bytes gathered before a write; 0 writes every frame at once.
    /// - Throws: `CaptureError` with `.open(errno:)`.
    public init(
        path: String, disposition: Disposition = .truncate, permissions: UInt32 = 0o600, bufferSize: Int = 1 << 16
    ) throws(CaptureError) {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        switch disposition {
        case .truncate: flags |= O_TRUNC
        case .append: flags |= O_APPEND
        case .createNew: flags |= O_EXCL
        }
        let fd: Int32
        do { fd = try SystemCall.open(path, flags, mode: mode_t(permissions)) } catch {
            throw CaptureError(kind: .open(errno: error.rawValue), path: path, offset: 0)
        }
        self.path = path
        self.descriptor = fd
        self.ownsDescriptor = true
        self.bufferSize = max(0, bufferSize)
        buffer.reserveCapacity(self.bufferSize)
    }

    /// Writes to a descriptor the caller owns and closes.
    public init(fileDescriptor: Int32, name: String, bufferSize: Int = 1 << 16) {
        self.path = name
        self.descriptor = fileDescriptor
        self.ownsDescriptor = false
        self.bufferSize = max(0, bufferSize)
        buffer.reserveCapacity(self.bufferSize)
    }

    deinit {
        if descriptor >= 0 {
            _ = buffer.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
            if ownsDescriptor { SystemCall.close(descriptor) }
        }
    }

    /// Adds one datagram (with its `nlmsghdr`) as a frame.
    ///
    /// - Throws: `CaptureError` when the frame was not kept: the datagram is larger than a frame
    ///   can describe, or the buffer is full and cannot be written.
    public mutating func append(_ datagram: UnsafeRawBufferPointer) throws(CaptureError) {
        guard datagram.count <= CaptureReader.maximumDatagramSize else {
            throw CaptureError(
                kind: .datagramTooLarge(size: datagram.count), path: path,
                offset: bytesWritten + UInt64(buffer.count))
        }
        if !buffer.isEmpty, buffer.count + 4 + datagram.count > max(bufferSize, Self.maximumBufferedBytes) {
            try writeBuffer()
        }
        let length = UInt32(datagram.count)
        buffer.append(UInt8(truncatingIfNeeded: length))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(contentsOf: datagram)
        framesAppended &+= 1
        if buffer.count >= bufferSize {
            do { try writeBuffer() } catch { failedWrites &+= 1 }
        }
    }

    /// Adds one datagram held in an array; see `append(_:)`.
    public mutating func append(_ datagram: [UInt8]) throws(CaptureError) {
        let result: Result<Void, CaptureError> = datagram.withUnsafeBytes { raw in
            do throws(CaptureError) {
                try append(raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Writes the buffered frames.
    ///
    /// - Throws: `CaptureError` with `.write(errno:)`; what was not written stays buffered.
    public mutating func flush() throws(CaptureError) {
        try writeBuffer()
    }

    /// Flushes and closes (if the writer opened the file), reporting errors that dropping the
    /// writer would swallow.
    public consuming func close() throws(CaptureError) {
        defer {
            if ownsDescriptor { SystemCall.close(descriptor) }
            descriptor = -1
            buffer = []
        }
        try writeBuffer()
    }

    private mutating func writeBuffer() throws(CaptureError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        let (done, failure) = buffer.withUnsafeBytes { SystemCall.writeAll(fd, $0) }
        bytesWritten &+= UInt64(done)
        if done == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else {
            buffer.removeFirst(done)
        }
        if let failure {
            throw CaptureError(kind: .write(errno: failure.rawValue), path: path, offset: bytesWritten)
        }
    }
}
