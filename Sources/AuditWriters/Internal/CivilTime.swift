internal import AuditSystem
import Glibc

/// Wall-clock dates for message headers (syslog, GELF), formatted by hand: no Foundation, no
/// locale (RFC 3164 month names are English whatever `LC_TIME` says).
enum CivilTime {
    /// Appends `2024-01-02T03:04:05.678Z` (RFC 3339 in UTC with milliseconds, as RFC 5424's
    /// TIMESTAMP allows); appends the NILVALUE `-` for a time `gmtime_r` cannot represent.
    static func appendRFC3339(seconds: UInt64, milliseconds: UInt16, to output: inout [UInt8]) {
        var parts = tm()
        var time = time_t(clamping: seconds)
        guard gmtime_r(&time, &parts) != nil, parts.tm_year + 1900 <= 9999 else {
            output.append(UInt8(ascii: "-"))
            return
        }
        appendDigits(Int(parts.tm_year) + 1900, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mon) + 1, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendDigits(Int(parts.tm_mday), width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        appendDigits(Int(parts.tm_hour), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &output)
        output.append(UInt8(ascii: "."))
        appendDigits(Int(min(milliseconds, 999)), width: 3, to: &output)
        output.append(UInt8(ascii: "Z"))
    }

    /// Appends `Jan  2 03:04:05` (RFC 3164's TIMESTAMP: local time, English month, the day padded
    /// with a space). A time `localtime_r` cannot represent is replaced by the current time.
    static func appendRFC3164(seconds: UInt64, to output: inout [UInt8]) {
        var parts = tm()
        var time = time_t(clamping: seconds)
        if localtime_r(&time, &parts) == nil {
            time = time_t(clamping: SystemClock.realtime().seconds)
            guard localtime_r(&time, &parts) != nil else {
                output.append(contentsOf: "Jan  1 00:00:00".utf8)
                return
            }
        }
        let month = Int(parts.tm_mon)
        output.append(contentsOf: monthNames[(0..<12).contains(month) ? month : 0].utf8)
        output.append(UInt8(ascii: " "))
        let day = Int(parts.tm_mday)
        if day < 10 { output.append(UInt8(ascii: " ")) }
        appendDigits(day, width: 1, to: &output)
        output.append(UInt8(ascii: " "))
        appendDigits(Int(parts.tm_hour), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_min), width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendDigits(Int(parts.tm_sec), width: 2, to: &output)
    }

    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// Appends a non-negative `value` in decimal, zero-padded to at least `width` digits.
    static func appendDigits(_ value: Int, width: Int, to output: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = max(0, value)
        repeat {
            digits.append(0x30 &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        } while rest > 0
        if digits.count < width {
            output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count))
        }
        output.append(contentsOf: digits.reversed())
    }
}

/// Appends `value` in decimal.
func appendDecimal(_ value: UInt64, to output: inout [UInt8]) {
    var scale: UInt64 = 1
    while scale <= value / 10 { scale &*= 10 }
    var rest = value
    while true {
        output.append(0x30 &+ UInt8(truncatingIfNeeded: rest / scale))
        rest %= scale
        if scale == 1 { break }
        scale /= 10
    }
}

/// Appends `value` in decimal, with a leading `-` when negative.
func appendDecimal(_ value: Int64, to output: inout [UInt8]) {
    if value < 0 { output.append(UInt8(ascii: "-")) }
    appendDecimal(value.magnitude, to: &output)
}
