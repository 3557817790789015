/// The little HTTP/1.x the metrics listener speaks: one request head read, one response, close.
///
/// A pure function of the bytes received so far, so every hostile input (garbage, a head that
/// never ends, a huge head) is tested without sockets.
package enum MetricsHTTP {
    /// The most bytes of a request head; beyond it the answer is 431 (a real scraper sends a few
    /// hundred).
    package static let maximumHeadBytes = 8192

    /// What the bytes received so far amount to.
    package enum Request: Hashable, Sendable {
        /// More bytes are needed (no blank line yet, nothing wrong so far).
        case incomplete
        /// A complete head: the method and the path (without a query string).
        case complete(method: String, path: String)
        /// Not HTTP/1.x: 400.
        case malformed
        /// No end of head within ``maximumHeadBytes``: 431.
        case tooLarge
    }

    /// Examines `bytes`, the start of a connection.
    ///
    /// Garbage is found as soon as it arrives, not when the head ends: a request line may hold
    /// only a method token, one space, a target of visible ASCII starting with `/`, one space and
    /// `HTTP/1.0` or `HTTP/1.1`; header lines only visible ASCII, spaces and tabs.
    package static func examine(_ bytes: [UInt8]) -> Request {
        var lineStart = 0
        var lineNumber = 0
        var requestLine: ArraySlice<UInt8> = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                var line = bytes[lineStart..<index]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                if lineNumber == 0 {
                    guard isRequestLine(line, complete: true) else { return .malformed }
                    requestLine = line
                } else if line.isEmpty {
                    guard index < maximumHeadBytes else { return .tooLarge }
                    return parsed(requestLine)
                } else if !isHeaderLine(line) {
                    return .malformed
                }
                lineNumber += 1
                lineStart = index + 1
            }
            index += 1
        }
        if bytes.count >= maximumHeadBytes { return .tooLarge }
        // The partial line so far: the request line can already be wrong.
        var partial = bytes[lineStart...]
        if partial.last == UInt8(ascii: "\r") { partial = partial.dropLast() }
        if lineNumber == 0 {
            guard isRequestLine(partial, complete: false) else { return .malformed }
        } else if partial.contains(where: { !isHeaderByte($0) }) {
            return .malformed
        }
        return .incomplete
    }

    private static func parsed(_ line: ArraySlice<UInt8>) -> Request {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let method = String(decoding: parts[0], as: UTF8.self)
        var target = parts[1]
        if let query = target.firstIndex(of: UInt8(ascii: "?")) { target = target[..<query] }
        return .complete(method: method, path: String(decoding: target, as: UTF8.self))
    }

    /// `METHOD SP /target SP HTTP/1.x`, or a prefix of one when `complete` is false.
    private static func isRequestLine(_ line: ArraySlice<UInt8>, complete: Bool) -> Bool {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count <= 3 else { return false }
        if complete && parts.count != 3 { return false }
        // Method: an upper-case token of 1…16 letters.
        let method = parts[0]
        guard method.count <= 16, method.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
            return false
        }
        if parts.count == 1 { return complete ? false : true }
        guard !method.isEmpty else { return false }
        let target = parts[1]
        if parts.count == 2 && !complete && target.isEmpty { return true }
        guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
        if parts.count == 2 { return true }
        let version = Array(parts[2])
        let expected = Array("HTTP/1.".utf8)
        if !complete && version.count <= expected.count + 1 {
            // A prefix of HTTP/1.0 or HTTP/1.1.
            for (offset, byte) in version.enumerated() {
                if offset < expected.count {
                    guard byte == expected[offset] else { return false }
                } else {
                    guard byte == UInt8(ascii: "0") || byte == UInt8(ascii: "1") else { return false }
                }
            }
            return true
        }
        return version == expected + [UInt8(ascii: "0")] || version == expected + [UInt8(ascii: "1")]
    }

    /// `Name: value` of visible ASCII, spaces and tabs.
    private static func isHeaderLine(_ line: ArraySlice<UInt8>) -> Bool {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return false }
        return line.allSatisfy(isHeaderByte)
    }

    private static func isHeaderByte(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte < 0x7F) || byte == UInt8(ascii: "\t")
    }

    /// The response to a request: the metrics for `GET`/`HEAD /metrics`, an error otherwise.
    package static func response(to request: Request, metrics: () -> [UInt8]) -> (status: Int, bytes: [UInt8]) {
        switch request {
        case .incomplete: return (408, response(408, "Request Timeout", "the request head did not arrive in time\n"))
        case .malformed: return (400, response(400, "Bad Request", "not an HTTP/1.x request\n"))
        case .tooLarge:
            return (
                431,
                response(
                    431, "Request Header Fields Too Large",
                    "the request head is larger than \(maximumHeadBytes) bytes\n")
            )
        case .complete(let method, let path):
            guard method == "GET" || method == "HEAD" else {
                return (
                    405,
                    response(405, "Method Not Allowed", "only GET and HEAD\n", extraHeaders: "Allow: GET, HEAD\r\n")
                )
            }
            guard path == "/metrics" else {
                return (404, response(404, "Not Found", "the metrics are at /metrics\n", head: method == "HEAD"))
            }
            return (
                200,
                response(
                    200, "OK", metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8",
                    head: method == "HEAD"
                )
            )
        }
    }

    private static func response(
        _ status: Int, _ reason: String, _ body: String, extraHeaders: String = "", head: Bool = false
    ) -> [UInt8] {
        response(
            status, reason, Array(body.utf8), contentType: "text/plain; charset=utf-8", extraHeaders: extraHeaders,
            head: head)
    }

    private static func response(
        _ status: Int, _ reason: String, _ body: [UInt8], contentType: String, extraHeaders: String = "",
        head: Bool = false
    ) -> [UInt8] {
        var bytes = Array(
            ("HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
                + extraHeaders + "Connection: close\r\n\r\n").utf8)
        if !head { bytes += body }
        return bytes
    }
}
