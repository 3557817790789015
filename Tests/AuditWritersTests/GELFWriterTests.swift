import AuditEncoding
import AuditEvents
import AuditNetlink
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

@Suite(.serialized) struct GELFWriterTests {
    static let names: GELFWriter.SyscallNamer = { arch, number in
        arch == 0xC000_003E && number == 59 ? "execve" : nil
    }

    static let queue = OutputQueueConfiguration(
        capacity: 10_000, retryInitialDelay: .milliseconds(20), retryMaximumDelay: .milliseconds(200))

    /// Receives, reassembles, decompresses and validates every GELF datagram on `socket`
    /// (`datagrams` already received first).
    static func documents(from socket: BoundSocket, expecting count: Int, datagrams: [[UInt8]] = []) throws -> (
        documents: [JSONValue], chunks: Int
    ) {
        var assembler = GELFChunkAssembler()
        for datagram in datagrams { try assembler.add(datagram) }
        let deadline = monotonicMilliseconds() + 10_000
        while assembler.messages.count < count, monotonicMilliseconds() < deadline {
            guard let datagram = socket.receive(milliseconds: 500) else { break }
            try assembler.add(datagram)
        }
        #expect(assembler.incomplete == 0, "no half-received message")
        let documents = try assembler.messages.map { try JSONValue.parse(decompressGELF($0)) }
        for document in documents {
            let problems = gelfProblems(document)
            #expect(problems.isEmpty, "\(problems)")
        }
        return (documents, assembler.chunkCount)
    }

    static func items(count: Int, longEvery: Int = 1000, longBytes: Int = 0, directory: TemporaryDirectory)
        -> [OutputItem]
    {
        var encoder = EventEncoder(users: testUserDirectory(directory))
        return (1...count).map { number in
            encodedItem(
                execveEvent(serial: UInt32(number), argumentBytes: number % longEvery == 0 ? longBytes : number % 40),
                encoder: &encoder)
        }
    }

    // MARK: The document

    @Test func theDocumentSummarisesTheEventAndCarriesItWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var encoder = EventEncoder(users: testUserDirectory(directory))
        let item = encodedItem(execveEvent(serial: 77, exeHex: true), encoder: &encoder)
        var builder = GELFDocumentBuilder(host: "web1", level: 6, syscallName: Self.names)
        builder.prepare(item)
        builder.build(item, keep: nil)
        let document = try JSONValue.parse(builder.document)
        #expect(gelfProblems(document).isEmpty, "\(gelfProblems(document))")
        #expect(document["host"]?.string == "web1")
        #expect(document["short_message"]?.string == "SYSCALL execve by uid 1000 (alice) exe=/tmp/my tool key=exec")
        #expect(document["timestamp"]?.number == 1_700_000_077.123)
        #expect(document["level"]?.number == 6)
        #expect(document["_sequence"]?.number == 77)
        #expect(document["_record_types"]?.string == "SYSCALL,EXECVE,CWD,PATH,PROCTITLE")
        #expect(document["_syscall"]?.string == "execve")
        #expect(document["_arch"]?.string == "c000003e")
        #expect(document["_success"]?.string == "yes")
        #expect(document["_exit"]?.number == 0)
        #expect(document["_pid"]?.number == 4242)
        #expect(document["_uid"]?.number == 1000)
        #expect(document["_auid"]?.number == 1000)
        #expect(document["_uid_name"]?.string == "alice")
        #expect(document["_exe"]?.string == "/tmp/my tool", "hex decoded")
        #expect(document["_comm"]?.string == "ls")
        #expect(document["_key"]?.string == "exec")
        #expect(document["_cwd"]?.string == "/home/alice")
        #expect(document["_event"]?.string.map { Array($0.utf8) } == item.line, "the line, byte for byte")
        #expect(document["_id"] == nil)
    }

    @Test func unknownSyscallsAreNamedByNumberAndUnprintableHexIsKept() throws {
        var event = AuditEvent(id: AuditEventID(seconds: 1_700_000_000, milliseconds: 5, serial: 3))
        event.append(
            type: AuditMessageType(1300),
            body: Array(
                "arch=c000003e syscall=999 success=no exit=-13 pid=1 uid=0 auid=4294967295 comm=6C730A1B exe=\"/bin/x\" key=6B3101766B32"
                    .utf8))
        let item = OutputItem(line: Array("{\"sequence\":3}".utf8), event: event)
        var builder = GELFDocumentBuilder(host: "h", level: 5, syscallName: Self.names)
        builder.prepare(item)
        builder.build(item, keep: nil)
        let document = try JSONValue.parse(builder.document)
        #expect(document["_syscall"]?.string == "999")
        #expect(document["_comm"]?.string == "6C730A1B", "ls\\n\\e is not printable: the kernel's hex stays")
        #expect(document["_key"]?.string == "k1,vk2", "several keys, joined")
        #expect(document["level"]?.number == 5)
        let short = try #require(document["short_message"]?.string)
        #expect(short == "SYSCALL 999 by uid 0 exe=/bin/x key=k1,vk2 failed exit=-13")
        #expect(!short.contains("\n"))
    }

    @Test func daemonLinesAreSummarisedByTheirTypeAndLossIsAWarning() throws {
        let line = Array(
            "{\"type\":\"swift-audit.loss\",\"timestamp\":\"1700000000.250\",\"reason\":\"enobufs\",\"count\":3,\"total\":5}"
                .utf8)
        let item = OutputItem(line: line)
        var builder = GELFDocumentBuilder(host: "h", level: 6, syscallName: nil)
        builder.prepare(item)
        builder.build(item, keep: nil)
        let document = try JSONValue.parse(builder.document)
        #expect(gelfProblems(document).isEmpty)
        #expect(document["short_message"]?.string == "swift-audit.loss reason=enobufs count=3 total=5")
        #expect(document["level"]?.number == 4)
        #expect(document["timestamp"]?.number == 1_700_000_000.25)
        #expect(document["_type"]?.string == "swift-audit.loss")
        #expect(document["_event"]?.string.map { Array($0.utf8) } == line)
    }

    @Test func aShortenedEventSaysSoAndKeepsItsStart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let item = Self.items(count: 1, longEvery: 1, longBytes: 10_000, directory: directory)[0]
        var builder = GELFDocumentBuilder(host: "h", level: 6, syscallName: nil)
        builder.prepare(item)
        builder.build(item, keep: 1000)
        let document = try JSONValue.parse(builder.document)
        #expect(document["_event_truncated"]?.number == Double(item.line.count))
        let event = try #require(document["_event"]?.string)
        let marker = "[swift-audit truncated 1000/\(item.line.count) seq=1] "
        #expect(event.hasPrefix(marker))
        #expect(Array(event.utf8.dropFirst(marker.utf8.count)) == Array(item.line.prefix(1000)))
    }

    // MARK: Chunks

    /// Chunks delivered in any order, two messages interleaved, still reassemble.
    @Test func chunkReassemblyToleratesAnyOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = try BoundSocket(type: SOCK_DGRAM, port: 0)
        defer { receiver.close() }
        let items = Self.items(count: 2, longEvery: 1, longBytes: 20_000, directory: directory)
        var writer = try GELFWriter(
            configuration: .init(
                host: "127.0.0.1", port: receiver.port, transport: .udp(compression: .none, chunkSize: 600)))
        _ = try writer.write(items[...])
        try writer.close()
        var datagrams = receiver.receiveAll()
        #expect(datagrams.count > 60)
        #expect(datagrams.allSatisfy { $0.count <= 600 && $0[0] == 0x1E && $0[1] == 0x0F })
        var generator = SystemRandomNumberGenerator()
        for round in 0..<5 {
            datagrams.shuffle(using: &generator)
            var assembler = GELFChunkAssembler()
            for datagram in datagrams { try assembler.add(datagram) }
            #expect(assembler.messages.count == 2, "round \(round)")
            let events = try assembler.messages.map { try JSONValue.parse($0)["_event"]?.string.map { Array($0.utf8) } }
            let identical = Set(events.compactMap { $0 }) == Set(items.map(\.line))
            #expect(identical)
        }
        // The ids of the two messages differ, and each message's sequence numbers are 0..<count.
        let ids = Set(datagrams.map { Array($0[2..<10]) })
        #expect(ids.count == 2)
    }

    @Test(arguments: [GELFWriter.Configuration.Compression.none, .gzip, .zlib])
    func udpDocumentsArriveValidWithEveryCompression(compression: GELFWriter.Configuration.Compression) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = try BoundSocket(type: SOCK_DGRAM, port: 0)
        defer { receiver.close() }
        let items = Self.items(count: 120, longEvery: 20, longBytes: 30_000, directory: directory)
        var writer = try GELFWriter(
            configuration: .init(
                host: "127.0.0.1", port: receiver.port, transport: .udp(compression: compression, chunkSize: 1420)),
            syscallName: Self.names)
        // Ten at a time, reading in between, so no receive buffer overflows (UDP would drop).
        var datagrams: [[UInt8]] = []
        var activity = WriterActivity()
        for start in stride(from: 0, to: items.count, by: 10) {
            activity += try writer.write(items[start..<(start + 10)]).activity
            datagrams += receiver.receiveAll(quietMilliseconds: 50)
        }
        try writer.close()
        #expect(activity.oversizeTruncated == 0)
        let (documents, chunks) = try Self.documents(from: receiver, expecting: 120, datagrams: datagrams)
        #expect(documents.count == 120)
        if compression == .none { #expect(chunks >= 6, "the long events were chunked") }
        let events = documents.compactMap { $0["_event"]?.string.map { Array($0.utf8) } }
        let identical = events == items.map(\.line)
        #expect(identical, "every event, byte for byte, in order (\(events.count) of \(items.count))")
        #expect(
            documents.allSatisfy {
                $0["short_message"]?.string?.hasPrefix("SYSCALL execve by uid 1000 (alice)") == true
            })
    }

    /// 128 chunks at most: an event beyond them is shortened with the marker, and counted.
    @Test(arguments: [GELFWriter.Configuration.Compression.none, .gzip])
    func oversizeDocumentsAreShortenedToFit128Chunks(compression: GELFWriter.Configuration.Compression) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = try BoundSocket(type: SOCK_DGRAM, port: 0)
        defer { receiver.close() }
        // Letters from a generator: compression shrinks them less than 2:1.
        var generator = SystemRandomNumberGenerator()
        let noise = String(
            (0..<200_000).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &generator))) })
        var event = execveEvent(serial: 5)
        event.append(type: AuditMessageType(1309), body: Array("a9=\"\(noise)\"".utf8))
        var encoder = EventEncoder(users: testUserDirectory(directory))
        let item = encodedItem(event, encoder: &encoder)
        var writer = try GELFWriter(
            configuration: .init(
                host: "127.0.0.1", port: receiver.port, transport: .udp(compression: compression, chunkSize: 512)))
        let outcome = try writer.write([item][...])
        try writer.close()
        #expect(outcome.activity.oversizeTruncated == 1)
        let (documents, chunks) = try Self.documents(from: receiver, expecting: 1)
        #expect(documents.count == 1)
        #expect(chunks <= 128)
        #expect(chunks > 64, "the limit is used, not wasted")
        let document = try #require(documents.first)
        #expect(document["_event_truncated"]?.number == Double(item.line.count))
        let text = try #require(document["_event"]?.string)
        #expect(text.hasPrefix("[swift-audit truncated "))
        let kept = Int(text.dropFirst(23).prefix { $0 != "/" }) ?? -1
        #expect(kept > 0)
        #expect(Array(text.utf8.drop { $0 != UInt8(ascii: "]") }.dropFirst(2)) == Array(item.line.prefix(kept)))
    }

    // MARK: TCP

    @Test(arguments: [false, true])
    func tcpDocumentsAreNULTerminated(ipv6: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let collector = try TCPCollector(ipv6: ipv6)
        try collector.start()
        defer { collector.stop() }
        let items = Self.items(count: 200, longEvery: 50, longBytes: 100_000, directory: directory)
        let writer = try GELFWriter(
            configuration: .init(
                host: ipv6 ? "::1" : "127.0.0.1", port: collector.port, transport: .tcp, maxTCPDocument: 65536),
            syscallName: Self.names)
        #expect(writer.name == (ipv6 ? "gelf tcp [::1]:\(collector.port)" : "gelf tcp 127.0.0.1:\(collector.port)"))
        let worker = try OutputWorker(writer, configuration: Self.queue)
        for item in items { worker.enqueue(item) }
        let report = worker.close(drainTimeout: .seconds(10))
        #expect(report.counters.written == 200)
        #expect(report.counters.activity.oversizeTruncated == 4)
        #expect(waitUntil { collector.bytes.filter { $0 == 0 }.count == 200 })
        let frames = collector.bytes.split(separator: 0, omittingEmptySubsequences: false)
        #expect(frames.count == 201 && frames.last?.isEmpty == true, "every document ends in NUL")
        for (frame, item) in zip(frames, items) {
            let document = try JSONValue.parse(frame)
            #expect(gelfProblems(document).isEmpty)
            #expect(frame.count <= 65536)
            if item.line.count > 60_000 {
                #expect(document["_event"]?.string?.hasPrefix("[swift-audit truncated ") == true)
            } else {
                #expect(document["_event"]?.string.map { Array($0.utf8) } == item.line)
            }
        }
    }

    @Test func udpOverIPv6Loopback() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = try BoundSocket(type: SOCK_DGRAM, port: 0, ipv6: true)
        defer { receiver.close() }
        let items = Self.items(count: 10, directory: directory)
        var writer = try GELFWriter(configuration: .init(host: "::1", port: receiver.port))
        _ = try writer.write(items[...])
        try writer.close()
        let (documents, _) = try Self.documents(from: receiver, expecting: 10)
        #expect(documents.count == 10)
    }

    /// An independent decoder: a Python receiver (zlib, json) reassembles, decompresses and
    /// checks the documents.
    @Test(.requires(.python3), arguments: [GELFWriter.Configuration.Compression.gzip, .zlib])
    func aPythonReceiverAcceptsTheDocuments(compression: GELFWriter.Configuration.Compression) throws {
        try TestRequirement.python3.check()
        let python = HostTools.python3 ?? "python3"
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try freePort()
        let script = directory.file("receiver.py")
        #expect(writeText(Self.pythonReceiver, to: script))
        let output = directory.file("receiver.out")
        let child = try ChildProcess(python, [script, String(port), "40"], outputPath: output)
        defer { child.terminate() }
        #expect(waitUntil(seconds: 10) { portIsBound(port, tcp: false) })
        let items = Self.items(count: 40, longEvery: 10, longBytes: 40_000, directory: directory)
        var writer = try GELFWriter(
            configuration: .init(
                host: "127.0.0.1", port: port, transport: .udp(compression: compression, chunkSize: 1200)))
        _ = try writer.write(items[...])
        try writer.close()
        #expect(waitUntil(seconds: 10) { !child.isRunning })
        let result = String(decoding: readFile(output) ?? [], as: UTF8.self)
        #expect(result.contains("documents=40 problems=0"), "\(result)")
    }

    static let pythonReceiver = #"""
        import gzip, json, re, socket, sys, zlib
        port, expected = int(sys.argv[1]), int(sys.argv[2])
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", port))
        s.settimeout(10)
        partial, documents, problems = {}, [], []
        while len(documents) < expected:
            data = s.recv(70000)
            if data[:2] == b"\x1e\x0f":
                mid, seq, count = data[2:10], data[10], data[11]
                if not (0 <= seq < count <= 128): problems.append("bad chunk header")
                partial.setdefault(mid, {})[seq] = data[12:]
                if len(partial[mid]) < count: continue
                data = b"".join(partial.pop(mid)[i] for i in range(count))
            if data[:2] == b"\x1f\x8b": data = gzip.decompress(data)
            elif data[:1] == b"\x78": data = zlib.decompress(data)
            doc = json.loads(data)
            documents.append(doc)
            if doc.get("version") != "1.1": problems.append("version")
            if not doc.get("host") or not doc.get("short_message"): problems.append("host/short_message")
            if not isinstance(doc.get("timestamp"), (int, float)): problems.append("timestamp")
            if "_id" in doc: problems.append("_id")
            for key in doc:
                if key.startswith("_") and not re.fullmatch(r"[\w\.\-]*", key): problems.append(key)
            json.loads(doc["_event"])
        print(f"documents={len(documents)} problems={len(problems)} {problems[:5]}")
        """#
}
