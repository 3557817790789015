import AuditEvents
import AuditNetlink
import AuditProcesses

/// x86_64 syscall numbers the table follows.
enum X86 {
    static let execve = 59
    static let clone = 56
    static let fork = 57
    static let vfork = 58
    static let clone3 = 435
    static let exit = 60
    static let exitGroup = 231
    static let execveat = 322
    static let read = 0
}

/// An event from records given as (type, body), as the reassembler builds them.
func makeEvent(serial: UInt32, milliseconds: UInt64 = 1_795_345_044_640, _ records: [(UInt16, String)]) -> AuditEvent {
    var event = AuditEvent(
        id: AuditEventID(seconds: milliseconds / 1000, milliseconds: UInt16(milliseconds % 1000), serial: serial))
    for (type, body) in records {
        event.append(type: AuditMessageType(type), body: Array(body.utf8))
    }
    return event
}

/// A SYSCALL record body shaped like the kernel's (x86_64 unless `arch` says otherwise).
func syscallRecord(
    _ number: Int, pid: Int32, ppid: Int32, success: Bool = true, exit: Int64 = 0, a0: String = "0",
    comm: String = "sh", exe: String = "/usr/bin/dash", arch: String = "c000003e"
) -> String {
    "arch=\(arch) syscall=\(number) success=\(success ? "yes" : "no") exit=\(exit) a0=\(a0) a1=0 a2=0 a3=0 items=0 "
        + "ppid=\(ppid) pid=\(pid) auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 "
        + "comm=\"\(comm)\" exe=\"\(exe)\" subj=unconfined key=(null)"
}

/// Builds events with increasing serials and times (one millisecond apart by default).
struct EventFactory {
    var serial: UInt32 = 1000
    var time: UInt64 = 1_795_345_044_000

    mutating func next(_ records: [(UInt16, String)], after milliseconds: UInt64 = 1) -> AuditEvent {
        serial &+= 1
        time += milliseconds
        return makeEvent(serial: serial, milliseconds: time, records)
    }

    /// A successful execve with its EXECVE, CWD and PATH records.
    mutating func exec(
        pid: Int32, ppid: Int32, exe: String, comm: String, argv: [String], cwd: String = "/home/alice",
        after milliseconds: UInt64 = 1
    ) -> AuditEvent {
        let arguments = argv.enumerated().map { index, argument in
            argument.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 })
                ? "a\(index)=\"\(argument)\"" : "a\(index)=\(hex(argument))"
        }
        return next(
            [
                (1300, syscallRecord(X86.execve, pid: pid, ppid: ppid, comm: comm, exe: exe)),
                (1309, "argc=\(argv.count) " + arguments.joined(separator: " ")),
                (1307, "cwd=\"\(cwd)\""),
                (
                    1302,
                    "item=0 name=\"\(exe)\" inode=254176 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"
                ),
                (1327, "proctitle=\(hex(argv.joined(separator: "\0")))"),
            ], after: milliseconds)
    }

    /// A fork-family syscall of `pid` returning `child`.
    mutating func fork(
        _ number: Int = X86.clone, pid: Int32, ppid: Int32, child: Int32, flags: String = "1200011",
        comm: String = "sh", exe: String = "/usr/bin/dash", after milliseconds: UInt64 = 1
    ) -> AuditEvent {
        next(
            [(1300, syscallRecord(number, pid: pid, ppid: ppid, exit: Int64(child), a0: flags, comm: comm, exe: exe))],
            after: milliseconds)
    }

    /// exit_group of `pid`.
    mutating func exit(
        pid: Int32, ppid: Int32, comm: String = "sh", exe: String = "/usr/bin/dash", after milliseconds: UInt64 = 1
    ) -> AuditEvent {
        next([(1300, syscallRecord(X86.exitGroup, pid: pid, ppid: ppid, comm: comm, exe: exe))], after: milliseconds)
    }
}

/// Upper-case hex of a string's UTF-8, as the kernel writes untrusted strings.
func hex(_ text: String) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    for byte in text.utf8 {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Bytes of a string.
func b(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The text of optional bytes.
func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
