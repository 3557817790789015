internal import AuditSystem

/// User names by uid, read from a passwd file by the daemon itself and re-read when the file changes.
///
/// Why not `getpwuid`: it goes through NSS, which may load modules, open sockets to sssd or LDAP and
/// block the encoder thread for seconds; and it is not async-signal-safe. So only the local passwd
/// file is consulted: accounts that exist only in a directory service are shown as unknown. The
/// encoder calls ``refreshIfDue()`` once per event; it costs a clock read, and one `stat` per
/// ``refreshInterval``. The file is re-read when its device, inode, size, mtime or ctime changed
/// (a rename by `vipw`/`useradd`, or an in-place write). If a re-read fails, the names loaded last
/// stay in use and ``lastError`` says why, so a transient failure does not turn every name into
/// `UNKNOWN_USER`.
///
/// Parsing follows passwd(5): `name:password:uid:gid:gecos:home:shell`. Blank lines, `#` comments,
/// NIS `+`/`-` entries and lines whose uid is not a decimal 32-bit number are skipped and counted in
/// ``skippedLines``. When two lines share a uid, the first wins, as with `getpwuid`.
package struct UserDirectory: Sendable {
    /// The passwd file this directory reads.
    package let path: String
    /// How long a checked state of the file is trusted before the next `stat`.
    package let refreshInterval: Duration
    /// The most recent failure to read the file, cleared by the next successful read.
    package private(set) var lastError: UserDirectoryError?
    /// The number of successful reads of the file, so that callers can log reloads.
    package private(set) var loadCount = 0
    /// The lines of the last read that were skipped as unusable.
    package private(set) var skippedLines = 0

    private var names: [UInt32: [UInt8]] = [:]
    /// `names` again for the low uids (system accounts and the first users), by position, and the
    /// largest uid: the encoder looks up every uid of every event, and hashing a key costs more
    /// than the rest of the lookup; 4294967295 (unset, in most events) is answered without either.
    private var lowNames: [[UInt8]?] = []
    private var largestUID = -1

    /// Uids below this are kept in `lowNames` too (32 KiB at most).
    private static let lowUIDLimit = 4096
    private var identity: FileIdentity?
    private var lastCheck: UInt64 = 0
    private let intervalNanoseconds: UInt64

    /// The largest passwd file we load; beyond it the read fails with an error rather than exhausting
    /// memory on a corrupt or hostile file.
    package static let sizeLimit = 64 << 20

    /// Reads `path` now (failures are kept in ``lastError``: the daemon may start without names).
    package init(path: String = "/etc/passwd", refreshInterval: Duration = .seconds(5)) {
        self.path = path
        self.refreshInterval = refreshInterval
        intervalNanoseconds = refreshInterval.clampedNanoseconds
        lastCheck = SystemClock.coarseMonotonicNanoseconds()
        reload()
    }

    /// The number of distinct uids known.
    package var count: Int { names.count }

    /// The name of `uid`, as bytes (passwd files are not guaranteed to be UTF-8).
    package func name(for uid: UInt32) -> [UInt8]? {
        if Int(uid) < lowNames.count { return lowNames[Int(uid)] }
        guard Int(uid) <= largestUID else { return nil }
        return names[uid]
    }

    private mutating func indexNames() {
        largestUID = names.keys.max().map { Int($0) } ?? -1
        var low = [[UInt8]?](repeating: nil, count: min(largestUID + 1, Self.lowUIDLimit))
        for (uid, name) in names where Int(uid) < low.count {
            low[Int(uid)] = name
        }
        lowNames = low
    }

    /// Re-reads the file if it changed, checking at most once per ``refreshInterval``.
    package mutating func refreshIfDue() {
        refreshIfDue(now: SystemClock.coarseMonotonicNanoseconds())
    }

    /// The clock ``refreshIfDue()`` uses, in nanoseconds, so that tests can compute times to pass.
    package static func monotonicNow() -> UInt64 {
        SystemClock.coarseMonotonicNanoseconds()
    }

    /// ``refreshIfDue()`` with the monotonic time given, for tests.
    package mutating func refreshIfDue(now: UInt64) {
        guard now &- lastCheck >= intervalNanoseconds else { return }
        lastCheck = now
        do {
            let current = try Syscalls.identity(ofPath: path)
            if current != identity || lastError != nil {
                reload()
            }
        } catch {
            lastError = error
        }
    }

    private mutating func reload() {
        do {
            let (identity, content) = try Syscalls.readFile(path: path, limit: Self.sizeLimit)
            let (names, skipped) = Self.parse(content)
            self.names = names
            indexNames()
            self.identity = identity
            skippedLines = skipped
            lastError = nil
            loadCount += 1
        } catch {
            lastError = error
        }
    }

    /// Parses passwd(5) text into names by uid, and counts the unusable lines.
    package static func parse(_ content: [UInt8]) -> (names: [UInt32: [UInt8]], skipped: Int) {
        var names: [UInt32: [UInt8]] = [:]
        var skipped = 0
        var lineStart = 0
        let colon = UInt8(ascii: ":")
        while lineStart < content.count {
            var lineEnd = lineStart
            while lineEnd < content.count, content[lineEnd] != 0x0A {
                lineEnd += 1
            }
            defer { lineStart = lineEnd + 1 }
            let line = content[lineStart..<lineEnd]
            guard let first = line.first else { continue }
            if first == UInt8(ascii: "#") { continue }
            if first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                skipped += 1
                continue
            }
            // name : password : uid : …
            guard let nameEnd = line.firstIndex(of: colon),
                let passwordEnd = line[(nameEnd + 1)...].firstIndex(of: colon)
            else {
                skipped += 1
                continue
            }
            let uidStart = passwordEnd + 1
            let uidEnd = line[uidStart...].firstIndex(of: colon) ?? line.endIndex
            guard nameEnd > line.startIndex, let uid = decimal(line[uidStart..<uidEnd]) else {
                skipped += 1
                continue
            }
            if names[uid] == nil {
                names[uid] = Array(line[line.startIndex..<nameEnd])
            }
        }
        return (names, skipped)
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt32? {
        guard !digits.isEmpty, digits.count <= 10 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + UInt64(digit)
        }
        return value <= UInt64(UInt32.max) ? UInt32(value) : nil
    }
}

/// A failure to read the passwd file, with the path and the system's reason.
package struct UserDirectoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done.
    package enum Operation: Hashable, Sendable {
        /// `open(2)` failed.
        case open
        /// `stat(2)`/`fstat(2)` failed.
        case stat
        /// `read(2)` failed.
        case read
        /// The file is larger than ``UserDirectory/sizeLimit``.
        case tooLarge(size: Int64, limit: Int)
    }

    /// The file.
    package var path: String
    /// What failed.
    package var operation: Operation
    /// The `errno` value, or 0 when the failure is not a system error.
    package var errno: CInt

    /// Names the file, the operation and the reason.
    package var description: String {
        switch operation {
        case .open: "cannot open \(path): \(Errno(rawValue: errno))"
        case .stat: "cannot stat \(path): \(Errno(rawValue: errno))"
        case .read: "cannot read \(path): \(Errno(rawValue: errno))"
        case .tooLarge(let size, let limit): "\(path) is \(size) bytes, more than the \(limit) bytes we load"
        }
    }
}
