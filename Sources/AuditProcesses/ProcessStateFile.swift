internal import AuditEvents
package import AuditSystem
internal import Glibc

/// Why a state file was not used. It carries the path, the line and the line's first bytes, so
/// the daemon's message says what was wrong where; a file that fails any check is ignored whole.
package struct ProcessStateError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Hashable, Sendable {
        /// The file could not be read.
        case read(SystemFile.ReadError)
        /// The file could not be written (the step: `open`, `write`, `fsync`, `rename`).
        case write(step: String, Errno)
        /// Not a state file of this version.
        case header
        /// Written in another boot: its pids name other processes now.
        case otherBoot(file: String, current: String)
        /// A line that does not parse (what was expected).
        case line(String)
        /// The trailer's count or checksum does not match the lines (a cut or altered file).
        case checksum
    }

    package var kind: Kind

    /// True when the file is not there: a first start, not a problem.
    package var isMissingFile: Bool {
        if case .read(.open(let errno)) = kind { return errno.rawValue == 2 }  // ENOENT
        return false
    }
    package var path: String
    /// The 1-based line, when one is at fault.
    package var line: Int?
    /// The first bytes of that line (at most 120).
    package var text: [UInt8]

    package init(_ kind: Kind, path: String, line: Int? = nil, text: some Collection<UInt8> = [UInt8]()) {
        self.kind = kind
        self.path = path
        self.line = line
        self.text = Array(text.prefix(120))
    }

    package var description: String {
        let place = line.map { "\(path):\($0)" } ?? path
        let shown = text.isEmpty ? "" : ": \"\(String(decoding: text, as: UTF8.self))\""
        switch kind {
        case .read(let error): return "\(place): cannot read the process state file (\(error)); starting without it"
        case .write(let step, let errno): return "\(place): cannot write the process state file (\(step): \(errno))"
        case .header: return "\(place): not a swift-audit process state file (v1)\(shown); ignored"
        case .otherBoot(let file, let current):
            return "\(place): written in boot \(file), this is boot \(current): its pids mean nothing now; ignored"
        case .line(let what): return "\(place): \(what)\(shown); the state file is ignored"
        case .checksum:
            return "\(place): count or checksum mismatch (cut or altered)\(shown); the state file is ignored"
        }
    }
}

/// The process table's state file: a line format, one entry per line, every byte field in hex so
/// that no path or argument can break a line. Written whole to `PATH.tmp`, synced and renamed, so
/// a reader sees the old file or the new one; read strictly: any line that does not parse, a
/// missing trailer, a wrong count or checksum (FNV-1a 64 of every byte before the trailer), or
/// another boot's id rejects the whole file.
///
/// ```
/// swift-audit process table v1
/// boot <boot_id>
/// clock <ms>
/// P <pid> <ppid|-> <l|x|p> <lastSeen> <goneSince> <eventID|-> <exe> <comm> <cwd> <container> <runtime>
///   <pod> <unit> <truncated 0|1> <sha256> <script> <envCount> [<name> <value>]… <argc|-> [<arg>]…
/// end <entries> <checksum>
/// ```
/// (one line per entry; byte fields are hex, `-` for none, `.` for empty).
enum ProcessStateFile {
    static let header = "swift-audit process table v1"
    /// The largest file read back (a full default table with full arguments is about 30 MiB).
    static let sizeLimit = 256 << 20

    static func encode(_ entries: [ProcessTable.Entry], boot: String, clock: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + entries.count * 256)
        func text(_ string: String) { out.append(contentsOf: string.utf8) }
        func space() { out.append(0x20) }
        func bytes(_ value: [UInt8]?) {
            space()
            guard let value else { return out.append(0x2D) }
            if value.isEmpty { return out.append(0x2E) }
            AuditHex.encode(value, into: &out)
        }
        func string(_ value: String?) { bytes(value.map { Array($0.utf8) }) }
        text("\(header)\nboot \(boot)\nclock \(clock)\n")
        for entry in entries {
            let info = entry.info
            text("P \(info.pid) \(info.ppid.map(String.init) ?? "-") ")
            switch entry.state {
            case .live: text("l")
            case .exited: text("x")
            case .provisional: text("p")
            }
            text(" \(entry.lastSeen) \(entry.goneSince) \(info.eventID.map { "\($0)" } ?? "-")")
            bytes(info.executable)
            bytes(info.command)
            bytes(info.workingDirectory)
            string(info.containerID)
            string(info.containerRuntime?.rawValue)
            string(info.podUID)
            string(info.unit)
            text(info.argumentsTruncated ? " 1" : " 0")
            bytes(info.executableSHA256)
            bytes(info.script)
            text(" \(info.environment?.count ?? 0)")
            for variable in info.environment ?? [] {
                bytes(variable.name)
                bytes(variable.value)
            }
            if let arguments = info.arguments {
                text(" \(arguments.count)")
                for argument in arguments { bytes(argument) }
            } else {
                text(" -")
            }
            out.append(0x0A)
        }
        let checksum = fnv1a(out[...])
        text("end \(entries.count) \(String(checksum, radix: 16))\n")
        return out
    }

    /// The entries of a state file, checked whole; `path` only names it in errors.
    static func decode(_ bytes: [UInt8], path: String, currentBoot: String?) throws(ProcessStateError) -> (
        entries: [ProcessTable.Entry], clock: UInt64
    ) {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        guard lines.last?.isEmpty == true else {
            throw ProcessStateError(.checksum, path: path, line: lines.count, text: lines.last ?? [])
        }
        lines.removeLast()
        guard lines.count >= 4, lines[0].elementsEqual(header.utf8) else {
            throw ProcessStateError(.header, path: path, line: 1, text: lines.first ?? [])
        }
        guard lines[1].starts(with: "boot ".utf8) else {
            throw ProcessStateError(.line("expected `boot <id>`"), path: path, line: 2, text: lines[1])
        }
        let boot = String(decoding: lines[1].dropFirst(5), as: UTF8.self)
        if let currentBoot, boot != currentBoot {
            throw ProcessStateError(.otherBoot(file: boot, current: currentBoot), path: path, line: 2, text: lines[1])
        }
        guard lines[2].starts(with: "clock ".utf8),
            let clock = number(lines[2].dropFirst(6)).flatMap(UInt64.init(exactly:))
        else { throw ProcessStateError(.line("expected `clock <ms>`"), path: path, line: 3, text: lines[2]) }

        // The trailer: count and checksum of everything before it.
        let trailer = lines[lines.count - 1]
        let words = trailer.split(separator: 0x20)
        let bodyEnd = bytes.count - trailer.count - 1
        guard words.count == 3, words[0].elementsEqual("end".utf8), let declared = number(words[1]),
            let checksum = UInt64(String(decoding: words[2], as: UTF8.self), radix: 16),
            declared == Int64(lines.count - 4), checksum == fnv1a(bytes[..<bodyEnd])
        else { throw ProcessStateError(.checksum, path: path, line: lines.count, text: trailer) }

        var entries: [ProcessTable.Entry] = []
        entries.reserveCapacity(lines.count - 4)
        for index in 3..<(lines.count - 1) {
            do throws(LineError) {
                entries.append(try entry(lines[index]))
            } catch {
                throw ProcessStateError(.line(error.expected), path: path, line: index + 1, text: lines[index])
            }
        }
        return (entries, clock)
    }

    struct LineError: Error {
        var expected: String
    }

    /// One `P …` line.
    static func entry(_ line: ArraySlice<UInt8>) throws(LineError) -> ProcessTable.Entry {
        var words = line.split(separator: 0x20, omittingEmptySubsequences: false)[...]
        func next(_ what: String) throws(LineError) -> ArraySlice<UInt8> {
            guard let word = words.popFirst() else { throw LineError(expected: "a line cut before \(what)") }
            return word
        }
        func integer(_ what: String) throws(LineError) -> Int64 {
            guard let value = number(try next(what)) else { throw LineError(expected: "a number for \(what)") }
            return value
        }
        func bytes(_ what: String) throws(LineError) -> [UInt8]? {
            let word = try next(what)
            if word.elementsEqual([0x2D]) { return nil }
            if word.elementsEqual([0x2E]) { return [] }
            guard let decoded = word.withUnsafeBytes({ try? AuditHex.decode($0) }), !decoded.isEmpty else {
                throw LineError(expected: "hex digits for \(what)")
            }
            return decoded
        }
        func string(_ what: String) throws(LineError) -> String? {
            guard let value = try bytes(what) else { return nil }
            guard let text = String(validating: value, as: UTF8.self) else {
                throw LineError(expected: "UTF-8 for \(what)")
            }
            return text
        }
        guard try next("the tag").elementsEqual([0x50]) else { throw LineError(expected: "`P` first") }
        guard let pid = Int32(exactly: try integer("pid")), pid > 0 else { throw LineError(expected: "a pid above 0") }
        let ppidWord = try next("ppid")
        var ppid: Int32?
        if !ppidWord.elementsEqual([0x2D]) {
            guard let value = number(ppidWord).flatMap(Int32.init(exactly:)), value >= 0 else {
                throw LineError(expected: "a ppid")
            }
            ppid = value
        }
        let state: ProcessTable.State
        switch Array(try next("state")) {
        case [0x6C]: state = .live
        case [0x78]: state = .exited
        case [0x70]: state = .provisional
        default: throw LineError(expected: "a state l, x or p")
        }
        guard let lastSeen = UInt64(exactly: try integer("lastSeen")),
            let goneSince = UInt64(exactly: try integer("goneSince"))
        else { throw LineError(expected: "times of 0 or more") }
        let idWord = try next("the event id")
        var eventID: AuditEventID?
        if !idWord.elementsEqual([0x2D]) {
            guard let id = parseEventID(idWord) else { throw LineError(expected: "an event id sec.ms:serial") }
            eventID = id
        }
        var info = ProcessInfo(pid: pid, ppid: ppid, eventID: eventID)
        info.executable = try bytes("exe")
        info.command = try bytes("comm")
        info.workingDirectory = try bytes("cwd")
        info.containerID = try string("container")
        if let runtime = try string("runtime") {
            guard let known = ContainerRuntime(rawValue: runtime) else { throw LineError(expected: "a known runtime") }
            info.containerRuntime = known
        }
        info.podUID = try string("pod")
        info.unit = try string("unit")
        switch Array(try next("truncated")) {
        case [0x30]: info.argumentsTruncated = false
        case [0x31]: info.argumentsTruncated = true
        default: throw LineError(expected: "0 or 1 for truncated")
        }
        info.executableSHA256 = try bytes("sha256")
        if let digest = info.executableSHA256, digest.count != 32 { throw LineError(expected: "a 32-byte sha256") }
        info.script = try bytes("script")
        let variables = try integer("the variable count")
        guard (0...64).contains(variables) else { throw LineError(expected: "at most 64 variables") }
        if variables > 0 {
            var environment: [EnvironmentVariable] = []
            for _ in 0..<variables {
                guard let name = try bytes("a variable name"), let value = try bytes("a variable value") else {
                    throw LineError(expected: "a variable name and value")
                }
                environment.append(EnvironmentVariable(name: name, value: value))
            }
            info.environment = environment
        }
        let argcWord = try next("argc")
        if !argcWord.elementsEqual([0x2D]) {
            guard let argc = number(argcWord), (0...4096).contains(argc) else {
                throw LineError(expected: "an argument count up to 4096")
            }
            var arguments: [[UInt8]] = []
            for _ in 0..<argc {
                guard let argument = try bytes("an argument") else { throw LineError(expected: "an argument") }
                arguments.append(argument)
            }
            info.arguments = arguments
        }
        guard words.isEmpty else { throw LineError(expected: "nothing after the arguments") }
        var entry = ProcessTable.Entry(info: info, generation: 0, lastSeen: lastSeen)
        entry.goneSince = goneSince
        entry.state = state
        return entry
    }

    static func parseEventID(_ word: ArraySlice<UInt8>) -> AuditEventID? {
        guard let dot = word.firstIndex(of: 0x2E), let colon = word.firstIndex(of: 0x3A), dot < colon,
            let seconds = number(word[..<dot]).flatMap(UInt64.init(exactly:)),
            let millis = number(word[(dot + 1)..<colon]).flatMap(UInt16.init(exactly:)), millis < 1000,
            let serial = number(word[(colon + 1)...]).flatMap(UInt32.init(exactly:))
        else { return nil }
        return AuditEventID(seconds: seconds, milliseconds: millis, serial: serial)
    }

    static func number(_ word: ArraySlice<UInt8>) -> Int64? {
        word.withUnsafeBytes { EventText.decimal($0) }
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// Writes `bytes` to `path` atomically: `PATH.tmp` (mode 0600), fsync, rename, fsync of the
    /// directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ProcessStateError) {
        let temporary = path + ".tmp"
        let descriptor: Int32
        do { descriptor = try SystemCall.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o600) } catch
        {
            throw ProcessStateError(.write(step: "open", error), path: temporary)
        }
        let written = bytes.withUnsafeBytes { SystemCall.writeAll(descriptor, $0) }
        if let error = written.error {
            SystemCall.close(descriptor)
            unlink(temporary)
            throw ProcessStateError(.write(step: "write", error), path: temporary)
        }
        do { try SystemCall.synchronize(descriptor, dataOnly: false) } catch {
            SystemCall.close(descriptor)
            unlink(temporary)
            throw ProcessStateError(.write(step: "fsync", error), path: temporary)
        }
        SystemCall.close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = Errno.current
            unlink(temporary)
            throw ProcessStateError(.write(step: "rename", error), path: path)
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        if let fd = try? SystemCall.open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) {
            try? SystemCall.synchronize(fd, dataOnly: false)
            SystemCall.close(fd)
        }
    }
}

extension ProcessTable {
    /// Writes the table to `path` (at stop), atomically; see ``ProcessStateFile``.
    package func saveState(to path: String) throws(ProcessStateError) {
        let bytes = ProcessStateFile.encode(snapshotEntries(), boot: ProcReader.bootID() ?? "unknown", clock: clock)
        try ProcessStateFile.writeAtomically(bytes, to: path)
    }

    /// Reads a state file written by ``saveState(to:)`` (at start, after ``seedFromProc(now:)``)
    /// and adds its entries for the pids the table does not hold; returns how many. A file that
    /// fails any check changes nothing and throws what was wrong.
    @discardableResult
    package mutating func restoreState(from path: String) throws(ProcessStateError) -> Int {
        let bytes: [UInt8]
        do { bytes = try SystemFile.read(path: path, limit: ProcessStateFile.sizeLimit) } catch {
            throw ProcessStateError(.read(error), path: path)
        }
        let decoded = try ProcessStateFile.decode(bytes, path: path, currentBoot: ProcReader.bootID())
        return restore(decoded.entries, clock: decoded.clock)
    }
}

extension ProcessTable {
    /// Decodes a state file's bytes and returns how many entries it holds (its boot not checked):
    /// for the fuzz target and tests. With `seal`, a valid trailer (`end COUNT CHECKSUM`) is first
    /// appended to `bytes`, so that arbitrary lines get past the checksum to the line parser.
    package static func decodeStateFile(_ bytes: [UInt8], seal: Bool) throws(ProcessStateError) -> Int {
        var input = bytes
        if seal {
            if input.last != 0x0A { input.append(0x0A) }
            let entries = input.split(separator: 0x0A).filter { $0.starts(with: [UInt8(ascii: "P"), 0x20]) }.count
            let checksum = ProcessStateFile.fnv1a(input[...])
            input.append(contentsOf: "end \(entries) \(String(checksum, radix: 16))\n".utf8)
        }
        return try ProcessStateFile.decode(input, path: "fuzz", currentBoot: nil).entries.count
    }
}
