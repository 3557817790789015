import AuditEncoding
import AuditWriters

/// The value grammars shared by all keys, each with the text that tells the operator what is accepted.
/// Every parser here is total: it returns a problem for any input, never traps.
enum Values {
    typealias Parsed<T> = Result<T, ValueProblem>

    static let uint32RangeText = "0…2^32-1"

    /// A decimal integer in `range`.
    static func integer(_ text: String, in range: ClosedRange<Int>) -> Parsed<Int> {
        let expected = "expected an integer \(range.lowerBound)…\(range.upperBound)"
        guard let value = parseDecimal(text), value <= UInt64(Int.max), range.contains(Int(value)) else {
            return .failure(ValueProblem(expected))
        }
        return .success(Int(value))
    }

    /// A decimal integer 0…2^32-1.
    static func uint32(_ text: String) -> Parsed<UInt32> {
        guard let value = parseDecimal(text), value <= UInt64(UInt32.max) else {
            return .failure(ValueProblem("expected an integer \(uint32RangeText)"))
        }
        return .success(UInt32(value))
    }

    /// `yes` or `no` (any case).
    static func bool(_ text: String) -> Parsed<Bool> {
        switch text.lowercased() {
        case "yes": .success(true)
        case "no": .success(false)
        default: .failure(ValueProblem("expected yes or no"))
        }
    }

    /// One of `choices` (any case).
    static func choice<T>(_ text: String, _ choices: [(String, T)]) -> Parsed<T> {
        let lower = text.lowercased()
        if let match = choices.first(where: { $0.0 == lower }) { return .success(match.1) }
        return .failure(ValueProblem("expected " + listOfChoices(choices.map(\.0))))
    }

    /// A byte count: digits with an optional binary suffix `K`, `M` or `G` (any case); `allowZero`
    /// admits 0 below `range`.
    static func size(_ text: String, in range: ClosedRange<Int>, allowZero: Bool) -> Parsed<Int> {
        let rangeText = (allowZero ? "0 or " : "") + "\(renderSize(range.lowerBound))…\(renderSize(range.upperBound))"
        let expected = "expected a size in bytes with an optional K, M or G suffix, \(rangeText)"
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        switch digits.last {
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { digits = digits.dropLast() }
        guard let number = parseDecimal(digits) else { return .failure(ValueProblem(expected)) }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= UInt64(Int.max) else { return .failure(ValueProblem(expected)) }
        let value = Int(bytes)
        if value == 0 && allowZero { return .success(0) }
        guard range.contains(value) else { return .failure(ValueProblem(expected)) }
        return .success(value)
    }

    /// A duration: a decimal number with an optional unit `ms`, `s`, `m` or `h`; without a unit it is
    /// seconds (auditd's `end_of_event_timeout = 2`). Millisecond precision.
    static func duration(_ text: String, in range: ClosedRange<Duration>) -> Parsed<Duration> {
        let expected =
            "expected a duration such as 2s, 1.5s or 500ms (a bare number is seconds), "
            + "\(renderDuration(range.lowerBound))…\(renderDuration(range.upperBound))"
        guard let milliseconds = parseMilliseconds(text) else { return .failure(ValueProblem(expected)) }
        let value = Duration.milliseconds(milliseconds)
        guard range.contains(value) else { return .failure(ValueProblem(expected)) }
        return .success(value)
    }

    /// A duration in whole milliseconds, for the settings of components whose clocks count
    /// milliseconds (the reassembler): the same grammar, range and messages as ``duration(_:in:)``.
    /// The grammar admits only whole milliseconds, so nothing is rounded; ``renderMilliseconds(_:)``
    /// is the way back.
    static func milliseconds(_ text: String, in range: ClosedRange<Duration>) -> Parsed<UInt64> {
        duration(text, in: range).map { UInt64(AuditConfig.milliseconds($0)) }
    }

    private static func parseMilliseconds(_ text: String) -> Int64? {
        var number = Substring(text.lowercased())
        var unitMilliseconds: UInt64 = 1000
        if number.hasSuffix("ms") {
            unitMilliseconds = 1
            number = number.dropLast(2)
        } else if number.hasSuffix("s") {
            number = number.dropLast()
        } else if number.hasSuffix("m") {
            unitMilliseconds = 60_000
            number = number.dropLast()
        } else if number.hasSuffix("h") {
            unitMilliseconds = 3_600_000
            number = number.dropLast()
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let whole = parseDecimal(parts[0]) else { return nil }
        var total = whole.multipliedReportingOverflow(by: unitMilliseconds)
        guard !total.overflow else { return nil }
        if parts.count == 2 {
            // A fraction must resolve to whole milliseconds: 1.5s yes, 1.0005s and 1.5ms no.
            let fraction = parts[1]
            guard let fractionValue = parseDecimal(fraction), fraction.count <= 9 else { return nil }
            var scale: UInt64 = 1
            for _ in 0..<fraction.count { scale *= 10 }
            let numerator = fractionValue * unitMilliseconds
            guard numerator % scale == 0 else { return nil }
            let sum = total.partialValue.addingReportingOverflow(numerator / scale)
            guard !sum.overflow else { return nil }
            total = (sum.partialValue, false)
        }
        guard total.partialValue <= UInt64(Int64.max) else { return nil }
        return Int64(total.partialValue)
    }

    /// An absolute path without NUL, at most PATH_MAX-1 bytes.
    static func absolutePath(_ text: String) -> Parsed<String> {
        guard text.hasPrefix("/"), text.utf8.count < 4096 else {
            return .failure(ValueProblem("expected an absolute path (starting with /)"))
        }
        return .success(text)
    }

    /// Permission bits written in octal (`0600`, `640`), never writable by others.
    static func mode(_ text: String) -> Parsed<UInt32> {
        let expected = "expected an octal mode 0000…0777 such as 0600 or 0640"
        guard (1...4).contains(text.count), text.allSatisfy({ ("0"..."7").contains($0) }) else {
            return .failure(ValueProblem(expected))
        }
        var value: UInt32 = 0
        for digit in text.utf8 { value = value * 8 + UInt32(digit - 0x30) }
        guard value <= 0o777 else { return .failure(ValueProblem(expected + " (no setuid, setgid or sticky bits)")) }
        guard value & 0o002 == 0 else {
            return .failure(
                ValueProblem("an audit log must not be writable by others: expected a mode such as 0600 or 0640"))
        }
        return .success(value)
    }

    /// A user or group: a number (not -1's 4294967295, which chown reads as "unchanged") or a name of
    /// letters, digits, `_`, `.`, `-` (not starting with `-` or a digit), optionally ending in `$`.
    static func account(_ text: String, what: String) -> Parsed<AccountID> {
        if let number = parseDecimal(text) {
            guard number < UInt64(UInt32.max) else {
                return .failure(ValueProblem("expected a \(what) name or a number 0…4294967294"))
            }
            return .success(.id(UInt32(number)))
        }
        var body = Substring(text)
        if body.hasSuffix("$") { body = body.dropLast() }
        let valid =
            !body.isEmpty && text.utf8.count <= 32
            && body.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": true
                default: false
                }
            } && !body.hasPrefix("-") && !(body.first?.isNumber ?? false)
        guard valid else {
            return .failure(ValueProblem("expected a \(what) name (up to 32 letters, digits, _ . -) or a number"))
        }
        return .success(.name(text))
    }

    /// A host name, wherever the configuration takes one (`hostname = user:NAME`, and the syslog
    /// and GELF outputs' `hostname`): 1…255 printable ASCII characters without spaces.
    ///
    /// One rule for all of them: a host name is what an analyst filters and groups events by, so
    /// bidi controls (U+202E makes `web10` display as `01bew`), zero-width and other invisible
    /// characters must not get in through one key when the others refuse them; and the syslog
    /// HOSTNAME field (RFC 5424 PRINTUSASCII) and GELF's `host` cannot carry more anyway.
    static func headerHostname(_ text: String) -> Parsed<String> {
        guard (1...255).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            return .failure(ValueProblem("expected 1…255 printable ASCII characters without spaces"))
        }
        return .success(text)
    }

    /// A syslog tag: 1…48 printable ASCII characters without spaces (RFC 5424 APP-NAME).
    static func tag(_ text: String) -> Parsed<String> {
        guard (1...48).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            return .failure(ValueProblem("expected 1…48 printable ASCII characters without spaces"))
        }
        return .success(text)
    }

    /// `host:port` or `[IPv6]:port`.
    static func networkAddress(_ text: String) -> Parsed<NetworkAddress> {
        guard let address = NetworkAddress(parsing: text) else {
            return .failure(ValueProblem("expected host:port or [IPv6]:port with a port 1…65535"))
        }
        return .success(address)
    }

    /// An absolute path that fits `sockaddr_un.sun_path` (107 bytes and a NUL).
    static func socketPath(_ text: String) -> Parsed<String> {
        guard text.hasPrefix("/"), text.utf8.count <= 107 else {
            return .failure(ValueProblem("expected the absolute path of a unix socket, at most 107 bytes"))
        }
        return .success(text)
    }

    /// A syslog facility name or number.
    static func facility(_ text: String) -> Parsed<UInt8> {
        guard let facility = SyslogNames.facility(text) else {
            return .failure(
                ValueProblem(
                    "expected a facility: kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, "
                        + "authpriv, ftp, local0…local7, or a number 0…23"))
        }
        return .success(facility)
    }

    /// A syslog severity name or number.
    static func severity(_ text: String) -> Parsed<UInt8> {
        guard let severity = SyslogNames.severity(text) else {
            return .failure(ValueProblem("expected emerg, alert, crit, err, warning, notice, info, debug, or 0…7"))
        }
        return .success(severity)
    }

    /// `none`, `hostname`, `fqdn` or `user:NAME`.
    static func hostnameFormat(_ text: String) -> Parsed<HostnameFormat> {
        let expected = "expected none, hostname, fqdn or user:NAME"
        switch text.lowercased() {
        case "none": return .success(.none)
        case "hostname": return .success(.hostname)
        case "fqdn": return .success(.fqdn)
        default:
            guard text.lowercased().hasPrefix("user:") else { return .failure(ValueProblem(expected)) }
            // The same rule as the outputs' `hostname` keys (see `headerHostname`).
            switch headerHostname(String(text.dropFirst(5))) {
            case .success(let name): return .success(.user(name))
            case .failure(let problem):
                let rule =
                    problem.message.hasPrefix("expected ") ? problem.message.dropFirst(9) : Substring(problem.message)
                return .failure(ValueProblem(expected + " with NAME " + rule))
            }
        }
    }
}

/// `a, b or c`.
func listOfChoices(_ choices: [String]) -> String {
    switch choices.count {
    case 0: return ""
    case 1: return choices[0]
    default: return choices.dropLast().joined(separator: ", ") + " or " + (choices.last ?? "")
    }
}

/// The shortest exact spelling of a byte count: `64M`, `1536K`, `1000`.
func renderSize(_ bytes: Int) -> String {
    if bytes == 0 { return "0" }
    for (suffix, shift) in [("G", 30), ("M", 20), ("K", 10)] where bytes % (1 << shift) == 0 {
        return "\(bytes >> shift)\(suffix)"
    }
    return String(bytes)
}

/// Whole milliseconds of a duration (rounded toward zero; configuration durations are whole
/// milliseconds), saturating instead of trapping for durations no parser produces.
func milliseconds(_ duration: Duration) -> Int64 {
    let parts = duration.components
    let (scaled, overflow) = parts.seconds.multipliedReportingOverflow(by: 1000)
    if overflow { return parts.seconds < 0 ? Int64.min : Int64.max }
    let (sum, overflow2) = scaled.addingReportingOverflow(parts.attoseconds / 1_000_000_000_000_000)
    if overflow2 { return parts.seconds < 0 ? Int64.min : Int64.max }
    return sum
}

/// A millisecond count (``Values/milliseconds(_:in:)``) as ``renderDuration(_:)`` writes it.
func renderMilliseconds(_ milliseconds: UInt64) -> String {
    renderDuration(.milliseconds(Int64(clamping: milliseconds)))
}

/// The largest exact unit: `2s`, `500ms`, `5m`, `1h`, `1500ms`.
func renderDuration(_ duration: Duration) -> String {
    let ms = milliseconds(duration)
    if ms != 0 {
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
    }
    return "\(ms)ms"
}
