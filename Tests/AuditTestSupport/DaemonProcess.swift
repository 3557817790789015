import AuditNetlink
import Foundation
import Glibc

/// The built `swift-audit run` as a child process, for end-to-end tests against the kernel.
public final class DaemonProcess: @unchecked Sendable {  // driven by one test thread
    /// The child.
    public let process: Process
    /// What it writes to stderr (its log), collected as it goes.
    private let errorPipe = Pipe()
    private let collected = NSLock()
    private var errorText = Data()

    /// Starts `swift-audit ARGUMENTS` with stdout going to `standardOutput` (a FileHandle) and
    /// `environment` added to ours; waits until it is registered as the audit daemon.
    public init(
        arguments: [String], standardOutput: FileHandle? = nil, environment: [String: String] = [:],
        waitForRegistration: Bool = true
    ) throws {
        process = Process()
        process.executableURL = TestEnvironment.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.removeValue(forKey: "WATCHDOG_USEC")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = standardOutput ?? FileHandle.nullDevice
        process.standardError = errorPipe
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.collected.lock()
            self.errorText.append(data)
            self.collected.unlock()
        }
        try process.run()
        if waitForRegistration { try waitUntilRegistered() }
    }

    /// The child's pid.
    public var pid: Int32 { process.processIdentifier }

    /// Its log so far.
    public var log: String {
        collected.lock()
        defer { collected.unlock() }
        return String(decoding: errorText, as: UTF8.self)
    }

    /// Waits (≤ 10 s) until the kernel names the child as the audit daemon.
    public func waitUntilRegistered() throws {
        let client = try AuditClient()
        for _ in 0..<200 {
            if try client.status().pid == UInt32(pid) { return }
            if !process.isRunning {
                throw DaemonError("swift-audit exited with \(process.terminationStatus) before registering:\n\(log)")
            }
            usleep(50_000)
        }
        throw DaemonError("swift-audit did not register within 10 s:\n\(log)")
    }

    /// Sends a signal.
    public func signal(_ number: Int32) { kill(pid, number) }

    /// Sends SIGTERM and waits (≤ `timeout` seconds) for the exit status.
    @discardableResult
    public func stop(timeout: Double = 15) throws -> Int32 {
        signal(SIGTERM)
        return try waitForExit(timeout: timeout)
    }

    /// Waits for the child to exit; kills it (and fails) after `timeout` seconds.
    public func waitForExit(timeout: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
            throw DaemonError("swift-audit did not exit within \(timeout) s; killed. Log:\n\(log)")
        }
        errorPipe.fileHandleForReading.readabilityHandler = nil
        collectRemainingLog()
        return process.terminationStatus
    }

    /// Reads what the child wrote to stderr that the readability handler had not taken yet when
    /// it exited (the handler runs asynchronously: without this, a daemon that logs and exits at
    /// once can leave the log empty). Stops at end of file or after 200 ms without data.
    private func collectRemainingLog() {
        let descriptor = errorPipe.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { return }
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            collected.lock()
            errorText.append(contentsOf: chunk[0..<count])
            collected.unlock()
        }
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// A failure of the daemon harness, with the daemon's log.
public struct DaemonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Makes `count` audited-looking calls from a child process: getppid(MAGIC, i, 0, 0). A rule
/// `-F a0=MAGIC` matches them and nothing else on the machine.
public func triggerSyscalls(count: Int, magic: UInt32 = 0x7e57_b00c, token: UInt32 = 0) throws {
    let number = HostSyscalls.getppid
    let output = try runPython(
        "import ctypes,sys\ns=ctypes.CDLL(None).syscall\nfor i in range(int(sys.argv[1])): s(\(number), \(magic), int(sys.argv[2]) + i, 0, 0)",
        [String(count), String(token)])
    if output.status != 0 { throw DaemonError("trigger failed: \(output.standardError)") }
}

/// Syscall numbers and audit arch of this machine.
public enum HostSyscalls {
    static var machine: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// getppid's number.
    public static var getppid: Int { machine == "aarch64" ? 173 : 110 }

    /// The auditctl `-F arch=` value for native calls.
    public static let arch = "b64"
}

/// Reads JSON lines from a file (skipping an incomplete last line).
public func readJSONLines(_ path: String) throws -> [[String: Any]] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var lines: [[String: Any]] = []
    // Only complete lines: the daemon may be writing the last one right now.
    let complete = data.lastIndex(of: UInt8(ascii: "\n")).map { data[...$0] } ?? Data()
    for line in complete.split(separator: UInt8(ascii: "\n")) {
        guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw DaemonError("not a JSON object: \(String(decoding: line, as: UTF8.self))")
        }
        lines.append(object)
    }
    return lines
}
