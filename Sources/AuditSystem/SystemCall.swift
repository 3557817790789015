package import Glibc

/// The system calls the project makes, each retried on EINTR in one place and failing with a
/// typed ``Errno``.
///
/// Every wrapper is `@inlinable` and `@inline(__always)`: in a release build it compiles to the
/// C call, a compare and the retry branch, the same code as the loops it replaces. Nothing here
/// allocates.
///
/// Not wrapped: `close` is ``close(_:)`` (never retried), and calls whose EINTR means something
/// else (`connect`: the connection goes on asynchronously) stay with their caller. Calls that
/// Glibc does not import (`recvmmsg`, through AuditNetlink's C shim) go through
/// ``retryingOnInterrupt(_:)`` directly.
package enum SystemCall {
    /// Runs `body` (a C call returning -1 and setting errno on failure) until it does not fail
    /// with EINTR; returns its result or throws the errno.
    @inlinable @inline(__always)
    package static func retryingOnInterrupt<R: FixedWidthInteger & SignedInteger>(
        _ body: () -> R
    ) throws(Errno) -> R {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code != EINTR { throw Errno(rawValue: code) }
        }
    }

    /// `read(2)`: how many bytes arrived (0 at end of file).
    @inlinable @inline(__always)
    package static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// `read(2)` into `bytes` from index `offset` to its end (for arrays, whose
    /// `withUnsafeMutableBytes` does not pass a typed error through).
    @inlinable
    package static func read(_ descriptor: Int32, into bytes: inout [UInt8], from offset: Int) throws(Errno) -> Int {
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(Errno) in
                try read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]))
            }
        }
        return try result.get()
    }

    /// `write(2)`: how many bytes the kernel took (possibly fewer than given; see ``writeAll(_:_:)``).
    @inlinable @inline(__always)
    package static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.write(descriptor, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes` with `write(2)`, continuing after short writes and EINTR. Returns how
    /// many bytes were written and, when it stopped early, why (a write that takes nothing counts
    /// as `EIO`). Callers that resume later (the file writer's pending tail) use `written` as
    /// their offset.
    @inlinable
    package static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, error: Errno?)
    {
        writeAll(bytes) { (rest) throws(Errno) in try write(descriptor, rest) }
    }

    /// The write-all loop for any writing call (`write`, `send`…): calls `call` with what is left
    /// until all of `bytes` went out.
    ///
    /// - Parameters:
    ///   - waitingOn: for a non-blocking descriptor: after `EAGAIN`, wait up to
    ///     `stallMilliseconds` for it to become writable and go on; when it does not, stop with
    ///     `EAGAIN`. nil: `EAGAIN` stops at once like any other errno.
    ///   - noProgress: the errno reported when a call takes nothing (`EIO` for files, `EPIPE`
    ///     for streams).
    @inlinable
    package static func writeAll(
        _ bytes: UnsafeRawBufferPointer, waitingOn descriptor: Int32? = nil, stallMilliseconds: Int32 = 0,
        noProgress: Errno = Errno(rawValue: EIO), _ call: (UnsafeRawBufferPointer) throws(Errno) -> Int
    ) -> (written: Int, error: Errno?) {
        var offset = 0
        while offset < bytes.count {
            let count: Int
            do {
                count = try call(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            } catch {
                if let descriptor, error.rawValue == EAGAIN || error.rawValue == EWOULDBLOCK {
                    if waitUntilWritable(descriptor, milliseconds: stallMilliseconds) { continue }
                    return (offset, Errno(rawValue: EAGAIN))
                }
                return (offset, error)
            }
            if count == 0 { return (offset, noProgress) }
            offset += count
        }
        return (offset, nil)
    }

    /// `open(2)` of a path with `flags` and, when `O_CREAT` is among them, `mode`.
    @inlinable @inline(__always)
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> Int32 {
        try retryingOnInterrupt { Glibc.open(path, flags, mode) }
    }

    /// `close(2)`, once: Linux releases the descriptor even when close reports EINTR, so retrying
    /// could close a descriptor another thread has just been given. Errors are not reported
    /// (there is nothing a caller could do with them; `fsync` is where write errors surface).
    @inlinable @inline(__always)
    package static func close(_ descriptor: Int32) {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// `poll(2)`: how many descriptors are ready (0 when `milliseconds` passed first). A signal
    /// restarts the full timeout; callers with a deadline recompute it (see ``waitUntilWritable(_:milliseconds:)``).
    @inlinable @inline(__always)
    package static func poll(_ descriptors: UnsafeMutablePointer<pollfd>, count: Int, milliseconds: Int32) throws(Errno)
        -> Int32
    {
        try retryingOnInterrupt { Glibc.poll(descriptors, nfds_t(count), milliseconds) }
    }

    /// Waits until `descriptor` is writable or `milliseconds` pass (the deadline holds across
    /// signals). True when writable, or when poll failed: the next write then reports the errno.
    package static func waitUntilWritable(_ descriptor: Int32, milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let deadline = SystemClock.monotonicNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
        while true {
            let now = SystemClock.monotonicNanoseconds()
            let left = now >= deadline ? 0 : Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let result = Glibc.poll(&entry, 1, left)
            if result > 0 { return true }
            if result == 0 { return false }
            if Glibc.errno != EINTR { return true }
        }
    }

    /// `send(2)`.
    @inlinable @inline(__always)
    package static func send(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.send(descriptor, bytes.baseAddress, bytes.count, flags) }
    }

    /// `recv(2)`: how many bytes arrived (0: the peer closed the stream).
    @inlinable @inline(__always)
    package static func recv(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, flags: Int32)
        throws(Errno)
        -> Int
    {
        try retryingOnInterrupt { Glibc.recv(descriptor, buffer.baseAddress, buffer.count, flags) }
    }

    /// `sendto(2)`.
    @inlinable @inline(__always)
    package static func sendto(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32,
        address: UnsafePointer<sockaddr>?, addressLength: socklen_t
    ) throws(Errno) -> Int {
        try retryingOnInterrupt {
            Glibc.sendto(descriptor, bytes.baseAddress, bytes.count, flags, address, addressLength)
        }
    }

    /// `recvfrom(2)`: the datagram's length (larger than the buffer with `MSG_TRUNC` when it was cut).
    @inlinable @inline(__always)
    package static func recvfrom(
        _ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, flags: Int32,
        address: UnsafeMutablePointer<sockaddr>?, addressLength: UnsafeMutablePointer<socklen_t>?
    ) throws(Errno) -> Int {
        try retryingOnInterrupt {
            Glibc.recvfrom(descriptor, buffer.baseAddress, buffer.count, flags, address, addressLength)
        }
    }

    /// `fsync(2)`, or `fdatasync(2)` when `dataOnly`.
    @inlinable
    package static func synchronize(_ descriptor: Int32, dataOnly: Bool) throws(Errno) {
        _ = try retryingOnInterrupt { dataOnly ? Glibc.fdatasync(descriptor) : Glibc.fsync(descriptor) }
    }

    /// `fstat(2)`.
    @inlinable
    package static func status(of descriptor: Int32) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingOnInterrupt { Glibc.fstat(descriptor, &result) }
        return result
    }

    /// `stat(2)` of a path (following links).
    @inlinable
    package static func status(ofPath path: String) throws(Errno) -> stat {
        var result = stat()
        _ = try retryingOnInterrupt { stat(path, &result) }
        return result
    }

    /// Blocks SIGPIPE in the calling thread, so a write to a pipe or socket whose reader is gone
    /// fails with EPIPE instead of killing the process (the signal stays pending on this thread).
    package static func blockBrokenPipeSignal() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        _ = pthread_sigmask(SIG_BLOCK, &set, nil)
    }
}
