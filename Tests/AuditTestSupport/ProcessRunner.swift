import Foundation

/// What a finished child process left behind.
public struct ProcessOutput: Sendable {
    /// Its exit status (or the signal number for a signalled exit).
    public var status: Int32
    /// Everything it wrote to stdout.
    public var standardOutput: String
    /// Everything it wrote to stderr.
    public var standardError: String
}

/// Runs a command to completion and collects its output (tests only).
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
    -> ProcessOutput
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes fully before waiting, so a chatty child never blocks on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus,
        standardOutput: String(decoding: outData, as: UTF8.self),
        standardError: String(decoding: errData, as: UTF8.self))
}

/// Runs `python3 -c CODE ARGS…` to completion (the test machines have python3).
public func runPython(_ code: String, _ arguments: [String] = []) throws -> ProcessOutput {
    try runProcess("/usr/bin/env", ["python3", "-c", code] + arguments)
}
