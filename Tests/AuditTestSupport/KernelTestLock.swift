import Foundation
import Glibc
import Testing

/// Serialises every test that changes the kernel's audit state, across suites and processes.
///
/// Only one process can own the audit pid, and rules and settings are global: tests that touch
/// them take this lock (an `flock` on a file under /run/lock) for their whole duration.
public enum KernelTestLock {
    private static let path = "/run/lock/swift-audit-kernel-tests.lock"

    /// Runs `body` holding the lock.
    public static func withLock<R>(_ body: () throws -> R) throws -> R {
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}

/// Whether this process can use the kernel's audit control interface (root, audit in the kernel).
/// Kernel tests carry `.requires(.kernel)`.
public enum KernelAccess {
    /// Checked once: root and a NETLINK_AUDIT socket that opens.
    public static let available: Bool = {
        guard geteuid() == 0 else { return false }
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue), 9)  // NETLINK_AUDIT
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }()
}
