internal import AuditSystem
internal import CAuditThreads
import Glibc

/// A plain POSIX thread running one closure: the pipeline's stages are long-lived threads, not
/// tasks, so that a stage blocked in `recv` or parked on the ring never holds a cooperative-pool
/// thread (and Foundation's `Thread` is not allowed in Sources/).
package struct SystemThread: Sendable {
    /// The pthread handle, valid until `join`.
    private let handle: pthread_t

    /// Why a thread could not be started: `pthread_create`'s error number and the thread's name.
    package struct SpawnError: Error, Hashable, Sendable, CustomStringConvertible {
        /// The error number `pthread_create` returned (EAGAIN when out of threads or memory).
        package var errno: Int32
        /// The name the thread would have had.
        package var name: String

        /// The thread name and the system's text for the errno.
        package var description: String {
            "cannot start thread '\(name)': \(Errno(rawValue: errno))"
        }
    }

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept, as `comm` shows them
    /// in `/proc` and `top -H`).
    package static func spawn(
        name: String,
        _ body: @escaping @Sendable () -> Void
    ) throws(SpawnError) -> SystemThread {
        let box = Unmanaged.passRetained(ThreadStart(name: name, body: body))
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { argument in
                guard let argument else { return nil }
                let start = Unmanaged<ThreadStart>.fromOpaque(argument).takeRetainedValue()
                setCurrentThreadName(start.name)
                start.body()
                return nil
            }, box.toOpaque())
        guard result == 0 else {
            box.release()
            throw SpawnError(errno: result, name: name)
        }
        return SystemThread(handle: handle)
    }

    /// Sets the calling thread's nice value (Linux schedules threads, so this is per thread).
    /// Raising priority (negative values) needs CAP_SYS_NICE; without it the call fails quietly
    /// and the thread keeps the process's priority.
    package static func setCurrentPriority(nice: Int32) {
        _ = caudit_set_thread_nice(nice)
    }

    /// Waits for the thread to finish. Call exactly once (or `detach`).
    package func join() {
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread finish on its own (one stuck in a blocking write at shutdown). Call exactly
    /// once instead of `join`.
    package func detach() {
        _ = pthread_detach(handle)
    }
}

/// What a new thread needs, passed through `pthread_create`'s single pointer.
private final class ThreadStart: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// Names the calling thread through `/proc/thread-self/comm`: `pthread_setname_np` is a GNU
/// extension that Swift's Glibc module does not export. Failure only costs the name.
private func setCurrentThreadName(_ name: String) {
    guard let descriptor = try? SystemCall.open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC) else { return }
    // No trailing newline: the kernel keeps every byte written, and a "\n" would end up in
    // `ps`, `perf` and the `comm=` field of this thread's own audit records.
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
    SystemCall.close(descriptor)
}
