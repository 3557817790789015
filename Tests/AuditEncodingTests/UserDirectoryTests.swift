import AuditEncoding
import AuditTestSupport
import Testing

@Suite struct UserDirectoryTests {
    static let second: UInt64 = 1_000_000_000

    func name(_ users: UserDirectory, _ uid: UInt32) -> String? {
        users.name(for: uid).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func parsesPasswdLinesAndSkipsUnusableOnes() {
        let text = """
            root:x:0:0:root:/root:/bin/bash
            # a comment

            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            +nisuser::::::
            -other::::::
            nouid:x::5::/:/bin/sh
            neg:x:-1:5::/:/bin/sh
            big:x:4294967296:5::/:/bin/sh
            :x:7:7::/:/bin/sh
            short:x
            first:x:1000:1000::/home/first:/bin/sh
            second:x:1000:1000::/home/second:/bin/sh
            max:x:4294967294:1::/:/bin/sh
            crlf:x:42:42::/:/bin/sh\r
            """
        let (names, skipped) = UserDirectory.parse(Array(text.utf8))
        #expect(
            names.mapValues { String(decoding: $0, as: UTF8.self) } == [
                0: "root", 1: "daemon", 1000: "first", 4_294_967_294: "max", 42: "crlf",
            ])
        #expect(skipped == 7)
    }

    @Test func readsTheFileAtStart() throws {
        let fixture = try PasswdFixture()
        defer { fixture.directory.remove() }
        #expect(fixture.users.lastError == nil)
        #expect(fixture.users.loadCount == 1)
        #expect(fixture.users.count == 2)
        #expect(name(fixture.users, 1000) == "cloudsdk")
        #expect(name(fixture.users, 1) == nil)
    }

    /// Low uids are looked up by position and uids above the largest are answered at once; both
    /// must agree with the file, at the edges of the positional range, and after a re-read that
    /// drops names.
    @Test func looksUpUidsOnBothSidesOfThePositionalRange() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(
            "r:x:0:0::/:/bin/sh\nl:x:4095:1::/:/bin/sh\nh:x:4096:1::/:/bin/sh\nf:x:70000:1::/:/bin/sh\n"
                + "m:x:4294967294:1::/:/bin/sh\n", to: "passwd")
        var users = UserDirectory(path: directory.file("passwd"), refreshInterval: .zero)
        let expected: [UInt32: String?] = [
            0: "r", 1: nil, 4094: nil, 4095: "l", 4096: "h", 4097: nil, 69_999: nil, 70_000: "f",
            70_001: nil, 4_294_967_294: "m", 4_294_967_295: nil,
        ]
        for (uid, want) in expected {
            #expect(name(users, uid) == want, "uid \(uid)")
        }
        try directory.write("r:x:0:0::/:/bin/sh\n", to: "passwd", byRename: true)
        users.refreshIfDue(now: UserDirectory.monotonicNow())
        #expect(users.loadCount == 2)
        for uid: UInt32 in [4095, 4096, 70_000, 4_294_967_294] {
            #expect(name(users, uid) == nil, "uid \(uid) after the re-read")
        }
        #expect(name(users, 0) == "r")
    }

    @Test func rereadsAfterARenameButOnlyOncePerInterval() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a:x:1:1::/:/bin/sh\n", to: "passwd")
        var users = UserDirectory(path: directory.file("passwd"), refreshInterval: .seconds(60))
        let start = UserDirectory.monotonicNow()
        #expect(name(users, 1) == "a")

        // Same size, new inode: only a rename tells.
        try directory.write("b:x:1:1::/:/bin/sh\n", to: "passwd", byRename: true)
        users.refreshIfDue(now: start + 30 * Self.second)
        #expect(name(users, 1) == "a", "checked before the interval elapsed")
        #expect(users.loadCount == 1)

        users.refreshIfDue(now: start + 61 * Self.second)
        #expect(name(users, 1) == "b")
        #expect(users.loadCount == 2)

        // Nothing changed: a stat, no re-read.
        users.refreshIfDue(now: start + 200 * Self.second)
        #expect(users.loadCount == 2)
    }

    @Test func rereadsAfterAnInPlaceWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a:x:1:1::/:/bin/sh\n", to: "passwd")
        var users = UserDirectory(path: directory.file("passwd"), refreshInterval: .zero)
        try directory.write("a:x:1:1::/:/bin/sh\nnew:x:2:2::/:/bin/sh\n", to: "passwd")
        users.refreshIfDue()
        #expect(name(users, 2) == "new")
        #expect(users.loadCount == 2)
    }

    @Test func keepsTheLastNamesWhenTheFileDisappearsAndRecoversLater() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a:x:1:1::/:/bin/sh\n", to: "passwd")
        var users = UserDirectory(path: directory.file("passwd"), refreshInterval: .zero)
        directory.removeFile("passwd")
        users.refreshIfDue()
        #expect(name(users, 1) == "a")
        let error = try #require(users.lastError)
        #expect(error.operation == .stat)
        #expect(error.description.contains(directory.file("passwd")))

        try directory.write("c:x:3:3::/:/bin/sh\n", to: "passwd")
        users.refreshIfDue()
        #expect(users.lastError == nil)
        #expect(name(users, 3) == "c")
        #expect(name(users, 1) == nil)
    }

    @Test func aMissingFileAtStartIsReportedNotFatal() {
        let users = UserDirectory(path: "/nonexistent/swift-audit/passwd")
        #expect(users.count == 0)
        #expect(users.lastError?.operation == .open)
        #expect(users.lastError?.errno == 2)
        #expect(users.lastError?.description.contains("/nonexistent/swift-audit/passwd") == true)
    }

    @Test func theEncoderSeesChangedNames() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("old:x:1000:1000::/:/bin/sh\n", to: "passwd")
        var encoder = EventEncoder(users: UserDirectory(path: directory.file("passwd"), refreshInterval: .zero))
        var output: [UInt8] = []
        encoder.encode(makeEvent(serial: 1, [(1300, "uid=1000")]), into: &output)
        try directory.write("renamed:x:1000:1000::/:/bin/sh\n", to: "passwd", byRename: true)
        encoder.encode(makeEvent(serial: 2, [(1300, "uid=1000")]), into: &output)
        let lines = output.split(separator: 0x0A)
        #expect(try JSON.decode(DecodedEvent.self, lines[0]).uidMap == ["1000": "old"])
        #expect(try JSON.decode(DecodedEvent.self, lines[1]).uidMap == ["1000": "renamed"])
    }
}
