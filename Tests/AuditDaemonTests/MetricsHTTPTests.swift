import AuditDaemon
import Testing

/// The metrics listener's request reading, byte by byte: what a scraper sends is served, and
/// everything else is recognised as early as it can be.
@Suite struct MetricsHTTPTests {
    func examine(_ text: String) -> MetricsHTTP.Request { MetricsHTTP.examine(Array(text.utf8)) }

    @Test func aScrapersRequestIsReadWithoutItsQueryString() {
        #expect(
            examine("GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9477\r\nAccept: text/plain\r\n\r\n")
                == .complete(method: "GET", path: "/metrics"))
        #expect(examine("HEAD / HTTP/1.0\n\n") == .complete(method: "HEAD", path: "/"))
    }

    @Test func aHeadThatIsRightSoFarWaitsForMoreBytes() {
        for prefix in [
            "", "G", "GET", "GET ", "GET /met", "GET /metrics ", "GET /metrics HTT", "GET /metrics HTTP/1.1",
            "GET /metrics HTTP/1.1\r", "GET /metrics HTTP/1.1\r\nHost: x", "GET /metrics HTTP/1.1\r\nHost: x\r\n",
        ] {
            #expect(examine(prefix) == .incomplete, "\(prefix.debugDescription)")
        }
    }

    @Test func garbageIsRecognisedBeforeTheHeadEnds() {
        // A TLS ClientHello, an SSH banner, lower-case methods, a target that is not a path, HTTP/2,
        // control bytes in a header, a header without a colon, two spaces.
        let garbage: [[UInt8]] = [
            [0x16, 0x03, 0x01, 0x00, 0xA5], Array("SSH-2.0-OpenSSH_9.2\r\n".utf8), Array("get /metrics".utf8),
            Array("GET metrics HTTP/1.1\r\n\r\n".utf8), Array("GET /metrics HTTP/2.0\r\n\r\n".utf8),
            Array("GET /metrics HTTP/1.1\r\nX: a\u{1}b\r\n\r\n".utf8),
            Array("GET /metrics HTTP/1.1\r\nnocolon\r\n".utf8),
            Array("GET  /metrics".utf8), Array("GET /metrics HTTP/1.1 extra\r\n".utf8), [0, 0, 0, 0],
            Array("GET /m\u{7F}".utf8), Array("\r\n\r\n".utf8),
        ]
        for bytes in garbage { #expect(MetricsHTTP.examine(bytes) == .malformed, "\(bytes)") }
    }

    @Test func aHeadLargerThanEightKiBIsRefused() {
        let padding = String(repeating: "a", count: MetricsHTTP.maximumHeadBytes)
        #expect(examine("GET /metrics HTTP/1.1\r\nX-Padding: \(padding)") == .tooLarge)
        #expect(examine("GET /metrics HTTP/1.1\r\nX-Padding: \(padding)\r\n\r\n") == .tooLarge)
        // Just under the limit is served.
        let fits = String(repeating: "a", count: MetricsHTTP.maximumHeadBytes - 100)
        #expect(examine("GET /metrics HTTP/1.1\r\nX: \(fits)\r\n\r\n") == .complete(method: "GET", path: "/metrics"))
    }

    @Test func eachRequestGetsItsStatus() {
        func status(_ request: MetricsHTTP.Request) -> (Int, String) {
            let (code, bytes) = MetricsHTTP.response(to: request) { Array("metric 1\n".utf8) }
            return (code, String(decoding: bytes, as: UTF8.self))
        }
        let ok = status(.complete(method: "GET", path: "/metrics"))
        #expect(ok.0 == 200)
        #expect(ok.1.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(ok.1.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(ok.1.contains("Content-Length: 9\r\nConnection: close\r\n\r\nmetric 1\n"))
        let head = status(.complete(method: "HEAD", path: "/metrics"))
        #expect(head.0 == 200 && head.1.hasSuffix("Content-Length: 9\r\nConnection: close\r\n\r\n"), "no body")
        let post = status(.complete(method: "POST", path: "/metrics"))
        #expect(post.0 == 405 && post.1.contains("Allow: GET, HEAD\r\n"))
        #expect(status(.complete(method: "GET", path: "/")).0 == 404)
        #expect(status(.complete(method: "GET", path: "/metrics/")).0 == 404)
        #expect(status(.malformed).0 == 400)
        #expect(status(.tooLarge).0 == 431)
        #expect(status(.incomplete).0 == 408)
    }
}
