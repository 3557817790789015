/// One named output (`output.NAME.*` in the file): where events go, with its own bounded queue so a
/// slow output never delays the others.
package struct OutputConfiguration: Hashable, Sendable {
    /// What kind of output this is, with the settings of that kind.
    package enum Kind: Hashable, Sendable {
        /// JSON lines appended to a file.
        case file(FileOutput)
        /// JSON lines on standard output.
        case stdout
        /// Syslog messages to `/dev/log`, UDP or TCP.
        case syslog(SyslogOutput)
        /// GELF documents to Graylog over UDP or TCP.
        case gelf(GELFOutput)
    }

    /// The `NAME` in `output.NAME.*`: lower-case letters, digits, `_` and `-`; used in counters and
    /// loss events.
    package var name: String
    /// `enabled`: a disabled output is parsed and validated but gets no events.
    package var enabled: Bool
    /// `queue_size`: events queued for this output at most; beyond it new events are dropped and counted.
    package var queueSize: Int
    /// The output's kind and kind-specific settings.
    package var kind: Kind

    /// An enabled output with the default queue of 8192 events.
    package init(name: String, enabled: Bool = true, queueSize: Int = 8192, kind: Kind) {
        self.name = name
        self.enabled = enabled
        self.queueSize = queueSize
        self.kind = kind
    }

    /// The `type` value of the kind: `file`, `stdout`, `syslog` or `gelf`.
    package var typeName: String {
        switch kind {
        case .file: "file"
        case .stdout: "stdout"
        case .syslog: "syslog"
        case .gelf: "gelf"
        }
    }
}

/// A JSON-lines file output.
package struct FileOutput: Hashable, Sendable {
    /// `path`: absolute path of the file; reopened on SIGUSR1.
    package var path: String
    /// `mode`: permission bits for a new file (never writable by others).
    package var mode: UInt32
    /// `owner`: the file's owner, by name or number; `nil` keeps the daemon's user.
    package var owner: AccountID?
    /// `group`: the file's group, by name or number; `nil` keeps the daemon's group.
    package var group: AccountID?
    /// `max_size`: bytes after which the file is rotated; 0 rotates only on SIGUSR1 (logrotate).
    package var maxSize: Int
    /// `num_logs`: files kept by size rotation, the current one included.
    package var numLogs: Int
    /// `flush` and `flush_interval`: when written data is forced to disk.
    package var flush: FlushPolicy

    /// A file output with the defaults: 0600, daemon's user and group, no size rotation, 5 logs,
    /// fsync every second.
    package init(
        path: String,
        mode: UInt32 = 0o600,
        owner: AccountID? = nil,
        group: AccountID? = nil,
        maxSize: Int = 0,
        numLogs: Int = 5,
        flush: FlushPolicy = .interval(.seconds(1))
    ) {
        self.path = path
        self.mode = mode
        self.owner = owner
        self.group = group
        self.maxSize = maxSize
        self.numLogs = numLogs
        self.flush = flush
    }
}

/// A user or group as written in the file: resolved to an id when the output opens, so that a
/// name added to `/etc/passwd` later works after a reload.
package enum AccountID: Hashable, Sendable, CustomStringConvertible {
    /// A name to look up (`getpwnam`/`getgrnam`).
    case name(String)
    /// A numeric id, used as is.
    case id(UInt32)

    /// The name, or the number in decimal.
    package var description: String {
        switch self {
        case .name(let name): name
        case .id(let id): String(id)
        }
    }
}

/// When a file output forces its data to disk; the data reaches the page cache on every batch in all
/// three cases, so a daemon crash loses nothing already written, only a power loss can.
package enum FlushPolicy: Hashable, Sendable {
    /// Never call `fdatasync`; the kernel writes back when it likes.
    case none
    /// `fdatasync` at most once per interval, when data was written since the last one.
    case interval(Duration)
    /// `fdatasync` after every write batch (slowest, smallest window).
    case every
}

/// A syslog output.
package struct SyslogOutput: Hashable, Sendable {
    /// `target`, `address` and `framing`.
    package var transport: SyslogTransport
    /// `format` and `structured_data`.
    package var format: SyslogFormat
    /// `facility`.
    package var facility: SyslogFacility
    /// `severity`.
    package var severity: SyslogSeverity
    /// `tag`: RFC 5424 APP-NAME / RFC 3164 TAG.
    package var tag: String
    /// `hostname`: the HOSTNAME field; `nil` uses `gethostname()`.
    package var hostname: String?
    /// `oversize`: what happens to a message longer than ``maxMessage``.
    package var oversize: SyslogOversizePolicy
    /// `max_message`: bytes of one syslog message, header included.
    package var maxMessage: Int
    /// `reconnect_min` / `reconnect_max`.
    package var reconnect: ReconnectBackoff

    /// A syslog output with the defaults: `/dev/log`, RFC 5424 without structured data, local6.info,
    /// tag `swift-audit`, split oversize messages at 8192 bytes.
    package init(
        transport: SyslogTransport = .local(path: "/dev/log"),
        format: SyslogFormat = .rfc5424(structuredData: false),
        facility: SyslogFacility = .local6,
        severity: SyslogSeverity = .info,
        tag: String = "swift-audit",
        hostname: String? = nil,
        oversize: SyslogOversizePolicy = .split,
        maxMessage: Int = 8096,
        reconnect: ReconnectBackoff = ReconnectBackoff()
    ) {
        self.transport = transport
        self.format = format
        self.facility = facility
        self.severity = severity
        self.tag = tag
        self.hostname = hostname
        self.oversize = oversize
        self.maxMessage = maxMessage
        self.reconnect = reconnect
    }
}

/// Where syslog messages go.
package enum SyslogTransport: Hashable, Sendable {
    /// A local unix socket (datagram, falling back to stream), `/dev/log` by default.
    case local(path: String)
    /// Remote syslog over UDP (RFC 5426), one message per datagram.
    case udp(NetworkAddress)
    /// Remote syslog over TCP (RFC 6587) with the given framing.
    case tcp(NetworkAddress, framing: SyslogFraming)

    /// The `target` value: `local`, `udp` or `tcp`.
    package var targetName: String {
        switch self {
        case .local: "local"
        case .udp: "udp"
        case .tcp: "tcp"
        }
    }
}

/// How messages are delimited on a syslog TCP stream (RFC 6587).
package enum SyslogFraming: String, Hashable, Sendable, CaseIterable {
    /// `LEN SP MSG`: safe for any content.
    case octetCounting = "octet-counting"
    /// `MSG LF`: what older receivers expect; the event JSON never contains a raw LF.
    case newline
}

/// The syslog header format.
package enum SyslogFormat: Hashable, Sendable {
    /// RFC 5424; optionally with a `[swift-audit@…]` structured-data element.
    case rfc5424(structuredData: Bool)
    /// RFC 3164 (BSD syslog).
    case rfc3164

    /// The `format` value: `rfc5424` or `rfc3164`.
    package var formatName: String {
        switch self {
        case .rfc5424: "rfc5424"
        case .rfc3164: "rfc3164"
        }
    }
}

/// What a syslog output does with a message longer than `max_message`. Every choice counts the
/// message; none is silent.
package enum SyslogOversizePolicy: String, Hashable, Sendable, CaseIterable {
    /// Send it as several messages, each marked with its part number and the event's sequence.
    case split
    /// Send the first `max_message` bytes with a truncation marker.
    case truncate
    /// Do not send it.
    case drop
    /// Send it over TCP to the same address (only for `target = udp`).
    case tcp
}

/// A syslog facility, 0…23 (`kern` … `local7`).
package struct SyslogFacility: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The facility number of the PRI field, 0…23 (immutable so the invariant holds).
    package let rawValue: UInt8

    /// Accepts 0…23.
    package init?(rawValue: UInt8) {
        guard rawValue <= 23 else { return nil }
        self.rawValue = rawValue
    }

    /// Accepts the names of glibc's `<syslog.h>` (`kern`, `user`, … `authpriv`, `ftp`, `local0`…`local7`,
    /// and `security` for `auth`) or a number 0…23.
    package init?(name: String) {
        let lower = name.lowercased()
        if let index = Self.names.firstIndex(where: { $0 == lower }) {
            self.rawValue = UInt8(index)
        } else if lower == "security" {
            self.rawValue = 4
        } else if let number = parseDecimal(lower), number <= 23 {
            self.rawValue = UInt8(number)
        } else {
            return nil
        }
    }

    /// The name (`local6`), or the number for facilities without one (12–15).
    package var description: String {
        let name = Self.names[Int(rawValue)]
        return name.isEmpty ? String(rawValue) : name
    }

    /// local6, the default: free for site use and unlikely to be routed anywhere by accident.
    package static let local6 = SyslogFacility(unchecked: 22)
    /// user (1).
    package static let user = SyslogFacility(unchecked: 1)
    /// authpriv (10).
    package static let authpriv = SyslogFacility(unchecked: 10)

    private init(unchecked rawValue: UInt8) { self.rawValue = rawValue }

    static let names: [String] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "", "", "", "",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ]
}

/// A syslog severity, 0 (`emerg`) … 7 (`debug`).
package enum SyslogSeverity: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 0.
    case emerg = 0
    /// 1.
    case alert
    /// 2.
    case crit
    /// 3.
    case err
    /// 4.
    case warning
    /// 5.
    case notice
    /// 6: the default.
    case info
    /// 7.
    case debug

    /// Accepts the `<syslog.h>` names, the aliases `error`, `warn` and `panic`, or 0…7.
    package init?(name: String) {
        let lower = name.lowercased()
        switch lower {
        case "error": self = .err
        case "warn": self = .warning
        case "panic": self = .emerg
        default:
            if let match = Self.allCases.first(where: { $0.description == lower }) {
                self = match
            } else if let number = parseDecimal(lower), number <= 7, let value = Self(rawValue: UInt8(number)) {
                self = value
            } else {
                return nil
            }
        }
    }

    /// The `<syslog.h>` name.
    package var description: String {
        switch self {
        case .emerg: "emerg"
        case .alert: "alert"
        case .crit: "crit"
        case .err: "err"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        case .debug: "debug"
        }
    }
}

/// A GELF (Graylog) output.
package struct GELFOutput: Hashable, Sendable {
    /// `address`: the Graylog input, `host:port`.
    package var address: NetworkAddress
    /// `transport`, `compression` and `chunk_size`.
    package var transport: GELFTransport
    /// `hostname`: the GELF `host` field; `nil` uses `gethostname()`.
    package var hostname: String?
    /// `reconnect_min` / `reconnect_max`.
    package var reconnect: ReconnectBackoff

    /// A GELF output with the defaults: UDP, uncompressed, 1420-byte chunks.
    package init(
        address: NetworkAddress,
        transport: GELFTransport = .udp(compression: .none, chunkSize: 1420),
        hostname: String? = nil,
        reconnect: ReconnectBackoff = ReconnectBackoff()
    ) {
        self.address = address
        self.transport = transport
        self.hostname = hostname
        self.reconnect = reconnect
    }
}

/// How GELF documents travel.
package enum GELFTransport: Hashable, Sendable {
    /// Chunked UDP: each document in chunks of at most `chunkSize` bytes (12 of them header), at
    /// most 128 chunks, optionally compressed.
    case udp(compression: GELFCompression, chunkSize: Int)
    /// TCP: NUL-terminated documents, never compressed (GELF TCP does not support it).
    case tcp

    /// The `transport` value: `udp` or `tcp`.
    package var transportName: String {
        switch self {
        case .udp: "udp"
        case .tcp: "tcp"
        }
    }
}

/// Compression of a GELF UDP document.
package enum GELFCompression: String, Hashable, Sendable, CaseIterable {
    /// Plain JSON: no CPU spent, more chunks for long events.
    case none
    /// gzip (RFC 1952).
    case gzip
    /// zlib (RFC 1950).
    case zlib
}

/// Reconnection delays of a network output: the first retry waits `minimum`, each failure doubles
/// the wait up to `maximum`.
package struct ReconnectBackoff: Hashable, Sendable {
    /// `reconnect_min`.
    package var minimum: Duration
    /// `reconnect_max`: also the longest time between the collector's return and the reconnection.
    package var maximum: Duration

    /// The defaults: 100 ms, 5 s.
    package init(minimum: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.minimum = minimum
        self.maximum = maximum
    }
}

/// A remote endpoint as written: `host:port`, `[IPv6]:port`; resolved when the output connects so a
/// DNS change is picked up on reconnect.
package struct NetworkAddress: Hashable, Sendable, CustomStringConvertible {
    /// A DNS name, an IPv4 address or an IPv6 address (without brackets).
    package var host: String
    /// 1…65535.
    package var port: UInt16

    /// Wraps a host and port; ``init?(parsing:)`` validates text from a file.
    package init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; `nil` when the host or port is not valid.
    package init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard !host.isEmpty, host.contains(":"),
                host.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." })
            else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard isValidHostName(host) else { return nil }
        }
        guard let port = parseDecimal(portText), port >= 1, port <= 65535 else { return nil }
        self.host = String(host)
        self.port = UInt16(port)
    }

    /// `host:port`, with brackets around an IPv6 host.
    package var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A DNS name or dotted IPv4 address: labels of letters, digits, `-` and `_`, at most 253 bytes.
func isValidHostName(_ host: Substring) -> Bool {
    guard !host.isEmpty, host.utf8.count <= 253 else { return false }
    for label in host.split(separator: ".", omittingEmptySubsequences: false) {
        guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-") else {
            return false
        }
        for byte in label.utf8 {
            let ok =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
            if !ok { return false }
        }
    }
    return true
}

/// A non-negative decimal integer without sign, spaces or leading `+`; `nil` on overflow.
func parseDecimal(_ text: some StringProtocol) -> UInt64? {
    guard !text.isEmpty else { return nil }
    var value: UInt64 = 0
    for byte in text.utf8 {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (plus, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
        if o1 || o2 { return nil }
        value = plus
    }
    return value
}
