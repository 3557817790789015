import AuditEncoding
import AuditTestSupport
import AuditWriters
import Glibc
import Testing

@Suite struct FileWriterTests {
    @Test func appendsOneLinePerItemAfterExistingContent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let existing = Array("{\"old\":true}\n".utf8)
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o600)
        _ = existing.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)

        var writer = try FileWriter(configuration: .init(path: path))
        #expect(writer.name == "file \(path)")
        let batch = items(0..<3)
        let outcome = try writer.write(batch[...])
        #expect(outcome.bytes == batch.reduce(0) { $0 + $1.line.count + 1 })
        #expect(outcome.rotations == 0)
        _ = try writer.write(items(3..<5)[...])
        try writer.close()

        let content = try #require(readFile(path))
        #expect(content.starts(with: existing))
        let parsed = try #require(eventNumbers(inFile: path))
        #expect(parsed.numbers == [0, 1, 2, 3, 4])
        #expect(parsed.torn == 0)
        #expect(parsed.foreign == 1)
    }

    @Test func aFileLeftMidLineByAnEarlierRunIsTerminatedAndReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let torn = Array(eventLine(0)[0..<40])
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o600)
        _ = torn.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)

        var writer = try FileWriter(configuration: .init(path: path))
        let first = try writer.write(items(1..<3)[...])
        #expect(first.warning?.code == .tornLine)
        #expect(first.warning?.description.contains(path) == true)
        let second = try writer.write(items(3..<4)[...])
        #expect(second.warning == nil, "reported once")
        try writer.close()
        let parsed = try #require(eventNumbers(inFile: path))
        #expect(parsed.numbers == [1, 2, 3])
        #expect(parsed.foreign == 1, "the fragment stays, on a line of its own")
        #expect(parsed.torn == 0)
        #expect(readFile(path)?.starts(with: torn + [UInt8(ascii: "\n")]) == true)
    }

    @Test(arguments: [UInt32(0o600), 0o640, 0o666, 0o400])
    func aCreatedFileGetsExactlyTheConfiguredMode(mode: UInt32) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path, mode: mode))
        _ = try writer.write(items(0..<1)[...])
        try writer.close()
        #expect(permissionBits(path) == mode)
        #expect(eventNumbers(inFile: path)?.numbers == [0])
    }

    @Test func anExistingFileKeepsItsMode() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        close(open(path, O_WRONLY | O_CREAT, 0o600))
        chmod(path, 0o640)
        var writer = try FileWriter(configuration: .init(path: path, mode: 0o600))
        try writer.close()
        #expect(permissionBits(path) == 0o640)
    }

    /// Someone else's file, or one anybody may edit, is not taken for the trail (issue #22: the
    /// trail was appended to a 0666 file of `nobody` in a 0777 directory).
    @Test func anExistingFileOfAnotherUserOrWritableByOthersIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        close(open(path, O_WRONLY | O_CREAT, 0o600))
        #expect(chown(path, 65534, 65534) == 0)
        #expect(throws: WriterError.self) { try FileWriter(configuration: .init(path: path)) }
        do {
            _ = try FileWriter(configuration: .init(path: path))
        } catch {
            #expect(error.code == .unsafePlacement)
            #expect(error.description.contains("belongs to uid 65534"), "\(error)")
        }
        #expect(chown(path, 0, 0) == 0)
        #expect(chmod(path, 0o666) == 0)
        do {
            _ = try FileWriter(configuration: .init(path: path))
            Issue.record("a world-writable file was accepted")
        } catch {
            #expect(error.code == .unsafePlacement)
            #expect(error.description.contains("writable by others"), "\(error)")
        }
        #expect(readFile(path) == [], "nothing was written into it")
        var writer = try FileWriter(configuration: .init(path: path, mode: 0o666))
        try writer.close()
    }

    @Test(arguments: [UInt32(0o777), 0o770, 0o1777])
    func aDirectoryWritableByGroupOrOthersIsRefused(mode: UInt32) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(chmod(directory.path, mode_t(mode)) == 0)
        let path = directory.file("events.json")
        do {
            _ = try FileWriter(configuration: .init(path: path))
            Issue.record("a directory of mode \(String(mode, radix: 8)) was accepted")
        } catch {
            #expect(error.code == .unsafePlacement)
            #expect(error.description.contains("chmod go-w"), "\(error)")
        }
        #expect(access(path, F_OK) != 0, "no file was created")
    }

    @Test func aCreatedFileGetsTheConfiguredGroup() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path, mode: 0o640, group: .id(getgid())))
        try writer.close()
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_gid == getgid())
        #expect(status.st_mode & 0o777 == 0o640)
    }

    @Test(arguments: [true, false])
    func refusesASymlinkAtThePathAndLeavesTheVictimAlone(dangling: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let victim = directory.file("victim")
        let path = directory.file("events.json")
        if !dangling {
            let descriptor = open(victim, O_WRONLY | O_CREAT, 0o644)
            _ = write(descriptor, "secret", 6)
            close(descriptor)
        }
        #expect(symlink(victim, path) == 0)
        let error = #expect(throws: WriterError.self) {
            _ = try FileWriter(configuration: .init(path: path))
        }
        #expect(error?.code == .symbolicLink)
        #expect(error?.errno == ELOOP)
        #expect(error?.description.contains(path) == true)
        if dangling {
            #expect(!exists(victim), "the symlink's target must not be created")
        } else {
            #expect(readFile(victim) == Array("secret".utf8))
            #expect(permissionBits(victim) == 0o644)
        }
    }

    @Test func refusesAFifoWithoutBlockingAndADirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let fifoError = #expect(throws: WriterError.self) {
            _ = try FileWriter(configuration: .init(path: fifo))
        }
        #expect(fifoError?.code == .notRegularFile)
        let directoryError = #expect(throws: WriterError.self) {
            _ = try FileWriter(configuration: .init(path: directory.path))
        }
        #expect(directoryError?.code == .notRegularFile || directoryError?.code == .configuration)
        let missing = #expect(throws: WriterError.self) {
            _ = try FileWriter(configuration: .init(path: directory.file("no/such/dir/events.json")))
        }
        #expect(missing?.code == .open)
        #expect(missing?.errno == ENOENT)
    }

    @Test(arguments: [
        FileWriter.Configuration(path: ""),
        FileWriter.Configuration(path: "/tmp/dir/"),
        FileWriter.Configuration(path: "/tmp/x", mode: 0o10600),
        FileWriter.Configuration(path: "/tmp/x", numLogs: 0),
        FileWriter.Configuration(path: "/tmp/x", numLogs: 1000),
        FileWriter.Configuration(path: "/tmp/x", maxFileSize: 0),
        FileWriter.Configuration(path: "/tmp/x", flush: .interval(.zero)),
    ])
    func refusesInvalidConfigurations(configuration: FileWriter.Configuration) {
        let error = #expect(throws: WriterError.self) {
            _ = try FileWriter(configuration: configuration)
        }
        #expect(error?.code == .configuration)
        #expect(error?.isRetryable == false)
    }

    @Test func reopenAfterARenameWritesToANewFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path))
        _ = try writer.write(items(0..<3)[...])
        #expect(rename(path, directory.file("events.json.1")) == 0)
        _ = try writer.write(items(3..<4)[...])  // still the renamed file, as with logrotate
        try writer.reopen()
        _ = try writer.write(items(4..<6)[...])
        try writer.close()
        #expect(eventNumbers(inFile: directory.file("events.json.1"))?.numbers == [0, 1, 2, 3])
        #expect(eventNumbers(inFile: path)?.numbers == [4, 5])
        #expect(permissionBits(path) == 0o600)
    }

    @Test func aFailedReopenKeepsWritingToTheOldFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path))
        _ = try writer.write(items(0..<1)[...])
        #expect(rename(path, directory.file("old")) == 0)
        #expect(symlink(directory.file("victim"), path) == 0)
        let error = #expect(throws: WriterError.self) { try writer.reopen() }
        #expect(error?.code == .symbolicLink)
        _ = try writer.write(items(1..<2)[...])
        try writer.close()
        #expect(eventNumbers(inFile: directory.file("old"))?.numbers == [0, 1])
        #expect(!exists(directory.file("victim")))
    }

    @Test(arguments: [(3, false), (4, true), (1, false)])
    func sizeRotationKeepsNumLogsFilesReadOnly(numLogs: Int, withGroup: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        let limit = 1000
        var writer = try FileWriter(
            configuration: .init(
                path: path, group: withGroup ? .id(getgid()) : nil, maxFileSize: limit, numLogs: numLogs))
        var rotations = 0
        for start in stride(from: 0, to: 100, by: 7) {
            let outcome = try writer.write(items(start..<min(100, start + 7))[...])
            rotations += outcome.rotations
        }
        try writer.close()

        // 100 lines of 101 bytes, 9 per file: 12 files were started, so 11 rotations.
        #expect(rotations == 11)
        var files = [path]
        for index in 1..<numLogs { files.append("\(path).\(index)") }
        #expect(!exists("\(path).\(numLogs)"), "never more than numLogs files")
        for (index, file) in files.enumerated() {
            let parsed = try #require(eventNumbers(inFile: file), "missing \(file)")
            #expect(parsed.torn == 0)
            #expect((readFile(file)?.count ?? .max) <= limit)
            if index > 0 {
                #expect(permissionBits(file) == (withGroup ? 0o440 : 0o400), "\(file)")
            } else {
                #expect(permissionBits(file) == 0o600)
            }
        }
        // Oldest file first, the lines are one contiguous run ending with the last event.
        var all: [Int] = []
        for file in files.reversed() { all += eventNumbers(inFile: file)?.numbers ?? [] }
        #expect(all == Array((100 - all.count)..<100))
        #expect(all.count == (numLogs - 1) * 9 + 1)
    }

    @Test func aLineLargerThanTheLimitGoesIntoAFileOfItsOwn() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path, maxFileSize: 500, numLogs: 3))
        _ = try writer.write(items(0..<2)[...])
        _ = try writer.write([OutputItem(line: eventLine(2, size: 2000))][...])
        _ = try writer.write(items(3..<4)[...])
        try writer.close()
        #expect(eventNumbers(inFile: "\(path).2")?.numbers == [0, 1])
        #expect(eventNumbers(inFile: "\(path).1")?.numbers == [2])
        #expect(eventNumbers(inFile: path)?.numbers == [3])
    }

    @Test(arguments: [FileWriter.FlushPolicy.everyWrite, .interval(.milliseconds(1)), .none])
    func everyFlushPolicyWritesTheSameLines(policy: FileWriter.FlushPolicy) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("events.json")
        var writer = try FileWriter(configuration: .init(path: path, flush: policy, syncMethod: .full))
        #expect(writer.maintenanceInterval == (policy == .interval(.milliseconds(1)) ? .milliseconds(1) : nil))
        for start in stride(from: 0, to: 50, by: 10) {
            let outcome = try writer.write(items(start..<start + 10)[...])
            #expect(outcome.warning == nil)
            try writer.performMaintenance()
        }
        try writer.flush()
        try writer.close()
        #expect(eventNumbers(inFile: path)?.numbers == Array(0..<50))
    }
}
