import AuditThreads
import Glibc

/// Monotonic nanoseconds (`CLOCK_MONOTONIC`): every deadline and duration in this module.
@inline(__always)
func monotonicNanoseconds() -> UInt64 { MonotonicClock.nanoseconds() }

extension Duration {
    /// The duration in whole nanoseconds, clamped to 0…UInt64.max.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        guard seconds < 18_000_000_000 else { return .max }  // about 570 years
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }

    /// A duration of `nanoseconds`.
    static func fromNanoseconds(_ nanoseconds: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: nanoseconds))
    }
}

/// The current thread's errno.
var currentErrno: Int32 { errno }

/// `write(2)` that retries on EINTR. Returns the byte count, or -1 with the errno.
func writeRetryingInterrupts(
    _ descriptor: Int32,
    _ bytes: UnsafeRawBufferPointer
) -> (count: Int, errno: Int32) {
    while true {
        let result = write(descriptor, bytes.baseAddress, bytes.count)
        if result >= 0 { return (result, 0) }
        let code = errno
        if code != EINTR { return (-1, code) }
    }
}

/// `send(2)` with MSG_DONTWAIT | MSG_NOSIGNAL, retrying on EINTR.
func sendRetryingInterrupts(
    _ descriptor: Int32,
    _ bytes: UnsafeRawBufferPointer
) -> (count: Int, errno: Int32) {
    while true {
        let result = send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        if result >= 0 { return (result, 0) }
        let code = errno
        if code != EINTR { return (-1, code) }
    }
}

/// Waits until `descriptor` is writable or `milliseconds` pass. True when writable (or in error:
/// the next write reports the errno).
func waitUntilWritable(_ descriptor: Int32, milliseconds: Int32) -> Bool {
    var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
    let deadline = monotonicNanoseconds() &+ UInt64(max(0, milliseconds)) &* 1_000_000
    while true {
        let now = monotonicNanoseconds()
        let left = now >= deadline ? 0 : Int32(clamping: (deadline - now + 999_999) / 1_000_000)
        let result = poll(&entry, 1, left)
        if result > 0 { return true }
        if result == 0 { return false }
        if errno != EINTR { return true }
    }
}

/// `fsync(2)` or `fdatasync(2)`, retrying on EINTR. Returns 0 or the errno.
func synchronize(_ descriptor: Int32, dataOnly: Bool) -> Int32 {
    while true {
        if (dataOnly ? fdatasync(descriptor) : fsync(descriptor)) == 0 { return 0 }
        let code = errno
        if code != EINTR { return code }
    }
}

/// `close(2)` once (Linux releases the descriptor even when close reports EINTR).
func closeDescriptor(_ descriptor: Int32) {
    if descriptor >= 0 { _ = close(descriptor) }
}

/// The symbolic name of an errno value, for messages an operator can search for.
func errnoName(_ code: Int32) -> String {
    switch code {
    case EPERM: "EPERM"
    case ENOENT: "ENOENT"
    case EINTR: "EINTR"
    case EIO: "EIO"
    case ENXIO: "ENXIO"
    case EBADF: "EBADF"
    case EAGAIN: "EAGAIN"
    case ENOMEM: "ENOMEM"
    case EACCES: "EACCES"
    case EEXIST: "EEXIST"
    case ENOTDIR: "ENOTDIR"
    case EISDIR: "EISDIR"
    case EINVAL: "EINVAL"
    case ENFILE: "ENFILE"
    case EMFILE: "EMFILE"
    case EFBIG: "EFBIG"
    case ENOSPC: "ENOSPC"
    case EROFS: "EROFS"
    case EPIPE: "EPIPE"
    case ELOOP: "ELOOP"
    case ENAMETOOLONG: "ENAMETOOLONG"
    case EDQUOT: "EDQUOT"
    case ECONNREFUSED: "ECONNREFUSED"
    case ECONNRESET: "ECONNRESET"
    case ETIMEDOUT: "ETIMEDOUT"
    case EMSGSIZE: "EMSGSIZE"
    case ESTALE: "ESTALE"
    case ENETUNREACH: "ENETUNREACH"
    case EHOSTUNREACH: "EHOSTUNREACH"
    case ENETDOWN: "ENETDOWN"
    case EPROTOTYPE: "EPROTOTYPE"
    case EADDRNOTAVAIL: "EADDRNOTAVAIL"
    case EAFNOSUPPORT: "EAFNOSUPPORT"
    case ENOTCONN: "ENOTCONN"
    case ECONNABORTED: "ECONNABORTED"
    case ENOBUFS: "ENOBUFS"
    case ENOTSOCK: "ENOTSOCK"
    default: "errno \(code)"
    }
}

/// The system's text for an errno value.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "unknown error" }
    return String(cString: text)
}

/// Blocks SIGPIPE in the calling thread, so a write to a pipe or socket whose reader is gone
/// returns EPIPE instead of killing the daemon (the signal stays pending on this thread only).
func blockBrokenPipeSignal() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGPIPE)
    _ = pthread_sigmask(SIG_BLOCK, &set, nil)
}
