// ReadMulticast: print the kernel's audit records from the read-only multicast group.
//
//     swift build --product ReadMulticast
//     sudo .build/debug/ReadMulticast              # until Ctrl-C
//     sudo .build/debug/ReadMulticast --count 10   # stop after 10 records
//
// The socket joins AUDIT_NLGRP_READLOG, which needs CAP_AUDIT_READ and nothing else: the program
// does not register as the audit daemon, sends no control request and leaves the kernel's rules
// and settings alone, so it runs beside auditd, journald or swift-audit. The kernel copies to the
// group every record it sends to the registered daemon (or would print to the kernel log when no
// daemon is registered); it only produces records for its rules and for user-space messages.
//
// Uses only the AuditNetlink library product and Glibc.

import AuditNetlink
import Glibc
import Synchronization

/// Writes `text` to standard error (file descriptor 2; Glibc's `stderr` is shared mutable state).
func printError(_ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

/// Set by the SIGINT/SIGTERM handler; the receive loop checks it between waits.
let stopRequested = Atomic<Bool>(false)

/// The most records to print; nil prints until interrupted.
func parseCount(_ arguments: [String]) -> Int?? {
    var rest = arguments.dropFirst()
    var count: Int?
    while let argument = rest.popFirst() {
        switch argument {
        case "--count", "-n":
            guard let value = rest.popFirst(), let number = Int(value), number >= 0 else { return nil }
            count = number
        case "--help", "-h":
            print("usage: ReadMulticast [--count N]")
            exit(0)
        default:
            return nil
        }
    }
    return .some(count)
}

guard let limit = parseCount(CommandLine.arguments) else {
    printError("usage: ReadMulticast [--count N]   (N >= 0)\n")
    exit(64)
}
if limit == 0 { exit(0) }

let socket: AuditSocket
do {
    socket = try AuditSocket.open(mode: .multicast)
} catch {
    printError("ReadMulticast: \(error)\n")
    exit(error.kind == .permissionDenied(capability: "CAP_AUDIT_READ") ? 4 : 1)
}
defer { socket.close() }

signal(SIGINT) { _ in stopRequested.store(true, ordering: .relaxed) }
signal(SIGTERM) { _ in stopRequested.store(true, ordering: .relaxed) }

// One buffer for every datagram: a record is at most 8970 bytes of text plus the 16-byte header.
let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 8)
defer { buffer.deallocate() }

var printed = 0
var overflows = 0
while !stopRequested.load(ordering: .relaxed), printed < limit ?? Int.max {
    let result: AuditSocket.ReceiveResult
    do {
        // A bounded wait, so that Ctrl-C is seen within a quarter of a second.
        result = try socket.receive(into: buffer, timeoutMilliseconds: 250)
    } catch {
        printError("ReadMulticast: \(error)\n")
        exit(1)
    }
    switch result {
    case .message(let message, _):
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[message.payload]), as: UTF8.self)
        print("\(message.type) (\(message.type.rawValue)): \(text)")
        printed += 1
    case .overflow:
        // The socket's buffer overflowed: the kernel dropped copies meant for us. Keep reading.
        overflows += 1
        printError("ReadMulticast: ENOBUFS, records were lost\n")
    case .rejected(let sender, _):
        printError("ReadMulticast: ignored a datagram from port \(sender), not the kernel\n")
    case .malformed(let error, _):
        printError("ReadMulticast: ignored a malformed datagram: \(error)\n")
    case .timedOut:
        continue
    }
}
printError("ReadMulticast: \(printed) record(s), \(overflows) overflow(s)\n")
