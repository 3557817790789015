package import AuditConfig
import AuditSystem
internal import Glibc

/// `swift-audit stats`: the running daemon's metrics, fetched from its listener or textfile, read
/// back and printed for a person.
///
/// Why scrape rather than ask the daemon some other way: the metrics are the one place the
/// numbers are put together, so `stats` shows exactly what Prometheus sees, and needs no second
/// interface into the daemon.
package struct MetricsReport: Sendable {
    /// One sample of the exposition.
    package struct Sample: Hashable, Sendable {
        package var name: String
        package var labels: [String: String]
        package var value: Double
    }

    /// Every sample, in exposition order.
    package var samples: [Sample]

    /// Reads the text exposition format (comments skipped; a line that does not parse is skipped
    /// too: this prints for a person, the tests check the format with Prometheus's own parser).
    package init(parsing text: String) {
        samples = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let sample = Self.sample(line) { samples.append(sample) }
        }
    }

    private static func sample(_ line: Substring) -> Sample? {
        var labels: [String: String] = [:]
        let name: Substring
        var rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = line[..<brace]
            rest = line[line.index(after: brace)...]
            while !rest.hasPrefix("}") {
                guard let equals = rest.firstIndex(of: "="), rest[equals...].dropFirst().hasPrefix("\"") else {
                    return nil
                }
                let label = String(rest[..<equals])
                var value = ""
                var index = rest.index(equals, offsetBy: 2)
                var escaped = false
                while index < rest.endIndex {
                    let character = rest[index]
                    if escaped {
                        value.append(character == "n" ? "\n" : character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                    index = rest.index(after: index)
                }
                guard index < rest.endIndex else { return nil }
                labels[label] = value
                rest = rest[rest.index(after: index)...]
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
                guard !rest.isEmpty else { return nil }
            }
            rest = rest.dropFirst()
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = line[..<space]
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first, let value = Double(first) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }

    /// The value of `name` with exactly `labels`.
    package func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The samples of `name`.
    package func samples(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    // MARK: For a person

    /// The report: the daemon, the kernel, events, loss, then one line per output.
    package func text(source: String, now: UInt64 = SystemClock.realtimeMilliseconds()) -> String {
        func int(_ name: String, _ labels: [String: String] = [:]) -> String {
            value(name, labels).map { String(Int64($0)) } ?? "?"
        }
        func number(_ name: String, _ labels: [String: String] = [:]) -> Int64 { Int64(value(name, labels) ?? 0) }
        var lines: [String] = []
        let build = samples("swift_audit_build_info").first?.labels ?? [:]
        var head = "swift-audit \(build["version"] ?? "?") (commit \(build["commit"] ?? "?"))"
        if let start = value("swift_audit_start_time_seconds") {
            head += ", up " + Self.duration(seconds: max(0, Int64(now / 1000) - Int64(start)))
        }
        lines.append(head + ", metrics from \(source)")
        guard value("swift_audit_events_total") != nil else {
            lines.append("the daemon has not published its counters yet")
            return lines.joined(separator: "\n") + "\n"
        }
        if value("swift_audit_kernel_backlog") != nil {
            lines.append(
                "kernel        registered \(number("swift_audit_kernel_registered") == 1 ? "yes" : "NO"), "
                    + "enabled \(int("swift_audit_kernel_enabled")), "
                    + "backlog \(int("swift_audit_kernel_backlog")) of \(int("swift_audit_kernel_backlog_limit")), "
                    + "lost \(int("swift_audit_kernel_lost_total")) (the kernel's counter), "
                    + "tasks waited \(int("swift_audit_kernel_backlog_wait_time_actual_jiffies_total")) jiffies")
        }
        lines.append(
            "events        \(int("swift_audit_events_total")) (\(int("swift_audit_records_total")) records) "
                + "from \(int("swift_audit_datagrams_received_total")) datagrams; "
                + "\(int("swift_audit_events_filtered_total")) filtered out; "
                + "reloads \(int("swift_audit_reloads_total", ["result": "applied"])) "
                + "(\(int("swift_audit_reloads_total", ["result": "failed"])) failed)")
        lines.append(
            "reassembler   \(int("swift_audit_reassembler_in_flight_events")) in flight "
                + "(peak \(int("swift_audit_reassembler_in_flight_peak_events"))), "
                + "evicted \(int("swift_audit_reassembler_evicted_events_total")), "
                + "timed out \(int("swift_audit_reassembler_timed_out_events_total")), "
                + "late records \(int("swift_audit_reassembler_late_records_total"))")
        if value("swift_audit_process_table_entries") != nil {
            lines.append(
                "process table \(int("swift_audit_process_table_entries")) entries "
                    + "(peak \(int("swift_audit_process_table_peak_entries"))), "
                    + "evicted \(int("swift_audit_process_table_evictions_total"))")
        }
        var losses = samples("swift_audit_loss_total").filter { $0.value > 0 }.map {
            "\($0.labels["reason"] ?? "?") \(Int64($0.value))"
        }
        losses += samples("swift_audit_output_loss_total").filter { $0.value > 0 }.map {
            "\($0.labels["reason"] ?? "?") \(Int64($0.value)) (\($0.labels["output"] ?? "?"))"
        }
        lines.append("loss          " + (losses.isEmpty ? "none" : losses.joined(separator: ", ")))
        let outputs = samples("swift_audit_output_up").compactMap { $0.labels["output"] }
        if !outputs.isEmpty {
            var table: [[String]] = [
                ["output", "state", "received", "emitted", "filtered", "dropped", "bytes", "queue"]
            ]
            var notes: [String] = []
            for name in outputs {
                let output = ["output": name]
                table.append([
                    name, number("swift_audit_output_up", output) == 1 ? "ok" : "FAILING",
                    int("swift_audit_output_events_received_total", output),
                    int("swift_audit_output_events_emitted_total", output),
                    int("swift_audit_output_events_filtered_total", output),
                    int("swift_audit_output_loss_total", ["output": name, "reason": "writer_drop"]),
                    Self.bytes(number("swift_audit_output_bytes_total", output)),
                    "\(int("swift_audit_output_queue_events", output))/\(int("swift_audit_output_queue_capacity_events", output))"
                        + " (peak \(int("swift_audit_output_queue_peak_events", output)))",
                ])
                if value("swift_audit_output_spool_events", output) != nil {
                    notes.append(
                        "  \(name): spool \(int("swift_audit_output_spool_events", output)) events, "
                            + Self.bytes(number("swift_audit_output_spool_bytes", output)) + ", oldest "
                            + Self.duration(seconds: number("swift_audit_output_spool_oldest_age_seconds", output)))
                }
                var activity: [String] = []
                for (metric, label) in [
                    ("swift_audit_output_reconnects_total", "reconnects"),
                    ("swift_audit_output_connect_failures_total", "failed connects"),
                    ("swift_audit_output_write_errors_total", "write errors"),
                    ("swift_audit_output_resent_events_total", "resent"),
                ] where number(metric, output) > 0 {
                    activity.append("\(label) \(number(metric, output))")
                }
                if !activity.isEmpty { notes.append("  \(name): " + activity.joined(separator: ", ")) }
            }
            lines.append("")
            lines += Self.columns(table)
            lines += notes
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Left-aligned columns, two spaces apart.
    static func columns(_ rows: [[String]]) -> [String] {
        let widths = rows.reduce(into: [Int]()) { widths, row in
            for (index, cell) in row.enumerated() {
                if index >= widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count + 2) }
            }
            return line
        }
    }

    /// `1.2 MiB`, `512 B`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(count) B" }
        let tenths = Int64((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// `3d 4h`, `2h 14m`, `5m 3s`, `42s`.
    static func duration(seconds: Int64) -> String {
        let days = seconds / 86400
        let hours = seconds % 86400 / 3600
        let minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(seconds % 60)s" }
        return "\(seconds)s"
    }
}

/// Why the metrics could not be fetched.
package struct MetricsFetchError: Error, Hashable, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Fetches the exposition from a running daemon.
package enum MetricsClient {
    /// `GET /metrics` from `address` (within `timeoutMilliseconds` in all), the body on 200.
    package static func fetch(_ address: MetricsListenAddress, timeoutMilliseconds: UInt64 = 5000)
        throws(MetricsFetchError) -> String
    {
        let deadline = SystemClock.monotonicMilliseconds() + timeoutMilliseconds
        func left() -> Int32 {
            let now = SystemClock.monotonicMilliseconds()
            return Int32(clamping: now >= deadline ? 0 : deadline - now)
        }
        func failure(_ what: String, _ code: Int32 = errno) -> MetricsFetchError {
            MetricsFetchError("\(address): \(what): \(Errno(rawValue: code))")
        }
        let flags = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let descriptor = socket(address.family, flags, 0)
        guard descriptor >= 0 else { throw failure("socket") }
        let connected = address.withSocketAddress { connect(descriptor, $0, $1) }
        defer { SystemCall.close(descriptor) }
        if connected != 0 {
            guard errno == EINPROGRESS || errno == EAGAIN else { throw failure("connect") }
            guard SystemCall.waitUntilWritable(descriptor, milliseconds: left()) else {
                throw MetricsFetchError("\(address): connect: timed out")
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 { throw failure("connect", code) }
        }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        let (_, sendError) = request.withUnsafeBytes { bytes in
            SystemCall.writeAll(bytes) { (rest) throws(Errno) in
                guard SystemCall.waitUntilWritable(descriptor, milliseconds: left()) else {
                    throw Errno(rawValue: ETIMEDOUT)
                }
                return try SystemCall.send(descriptor, rest, flags: Int32(MSG_NOSIGNAL))
            }
        }
        if let sendError { throw MetricsFetchError("\(address): send: \(sendError)") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = (try? SystemCall.poll(&entry, count: 1, milliseconds: left())) ?? 0
            guard ready > 0 else { throw MetricsFetchError("\(address): no complete answer in time") }
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw failure("recv")
            }
            if count == 0 { break }
            response += buffer[..<count]
            guard response.count < 64 << 20 else { throw MetricsFetchError("\(address): the answer is too large") }
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = response.indices.first(where: { response[$0...].starts(with: separator) }) else {
            throw MetricsFetchError("\(address): not an HTTP answer")
        }
        let statusLine = String(decoding: response[..<headEnd].prefix { $0 != 13 }, as: UTF8.self)
        guard statusLine.hasPrefix("HTTP/1.1 200 ") || statusLine.hasPrefix("HTTP/1.0 200 ") else {
            throw MetricsFetchError("\(address): \(statusLine)")
        }
        return String(decoding: response[(headEnd + 4)...], as: UTF8.self)
    }
}
