internal import CAuditNetlink
internal import Glibc

/// The one place where AuditNetlink calls into the C library, so that EINTR handling and errno
/// capture are written once.
enum Syscall {
    /// The calling thread's errno.
    static var errno: Int32 { Glibc.errno }

    /// Runs `body` until it does not fail with EINTR; returns its result or `-errno`.
    @inline(__always)
    static func retryingOnInterrupt<R: BinaryInteger>(_ body: () -> R) -> (result: R, errno: Int32) {
        while true {
            let result = body()
            if result >= 0 { return (result, 0) }
            let error = Glibc.errno
            if error != EINTR { return (result, error) }
        }
    }
}

/// The text `strerror` gives for an errno, with its symbolic name when known.
package func describeErrno(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    if let name = errnoName(code) { return "\(name) (\(text))" }
    return text
}

/// Symbolic names of the errnos the audit interface returns in practice.
package func errnoName(_ code: Int32) -> String? {
    switch code {
    case EPERM: "EPERM"
    case ENOENT: "ENOENT"
    case ESRCH: "ESRCH"
    case EINTR: "EINTR"
    case EIO: "EIO"
    case EBADF: "EBADF"
    case EAGAIN: "EAGAIN"
    case ENOMEM: "ENOMEM"
    case EACCES: "EACCES"
    case EFAULT: "EFAULT"
    case EBUSY: "EBUSY"
    case EEXIST: "EEXIST"
    case EINVAL: "EINVAL"
    case ENOSPC: "ENOSPC"
    case ERANGE: "ERANGE"
    case ENOSYS: "ENOSYS"
    case EOPNOTSUPP: "EOPNOTSUPP"
    case ECONNREFUSED: "ECONNREFUSED"
    case ENOBUFS: "ENOBUFS"
    case EPROTONOSUPPORT: "EPROTONOSUPPORT"
    case EAFNOSUPPORT: "EAFNOSUPPORT"
    case EMSGSIZE: "EMSGSIZE"
    case ETIMEDOUT: "ETIMEDOUT"
    default: nil
    }
}
