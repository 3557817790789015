import AuditConfig
import AuditTestSupport
import Glibc
import Testing

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let validConfig = "backlog_limit = 100\n" + stdoutOutput

/// The one refusal a load must produce.
func fileRefusal(_ path: String, policy: ConfigFilePolicy = ConfigFilePolicy()) -> ConfigDiagnostic? {
    do {
        let loaded = try DaemonConfiguration.load(path: path, policy: policy)
        Issue.record("loaded \(path): \(loaded)")
        return nil
    } catch {
        #expect(error.diagnostics.count == 1)
        return error.diagnostics.first
    }
}

@Suite(.serialized) struct ConfigFileTests {
    @Test func loadsAValidFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", validConfig, mode: 0o640)
        let loaded = try DaemonConfiguration.load(path: path)
        #expect(loaded.configuration == defaultsWithStdout { $0.audit.backlogLimit = 100 })
        #expect(loaded.warnings == [])
    }

    @Test func parseErrorsNameTheLoadedPath() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", stdoutOutput + "backlog_limit = abc\n")
        let diagnostic = fileRefusal(path)
        #expect(diagnostic?.description == "\(path):2: backlog_limit = \"abc\": expected an integer 0…2^32-1")
    }

    @Test(arguments: [0o666 as mode_t, 0o602, 0o622])
    func refusesAWorldWritableFile(mode: mode_t) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", validConfig, mode: mode)
        let diagnostic = fileRefusal(path)
        #expect(diagnostic?.kind == .file)
        #expect(diagnostic?.file == path)
        #expect(diagnostic?.line == nil)
        #expect(diagnostic?.message.contains("world-writable") == true, "\(String(describing: diagnostic))")
        #expect(diagnostic?.description.hasPrefix("\(path): is world-writable (mode 0") == true)
    }

    @Test func warnsAboutAGroupWritableFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", validConfig, mode: 0o620)
        let loaded = try DaemonConfiguration.load(path: path)
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings.first?.kind == .warning)
        #expect(loaded.warnings.first?.message.contains("group-writable (mode 0620)") == true)
    }

    @Test func refusesAFileOwnedByAnUntrustedUser() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", validConfig)
        // Owned by us, but the policy trusts only uid 4242.
        let diagnostic = fileRefusal(path, policy: ConfigFilePolicy(allowedOwners: [4242]))
        #expect(
            diagnostic?.message.contains("is owned by uid \(geteuid()), not by uid 4242") == true,
            "\(String(describing: diagnostic))")
    }

    @Test(.requires(.root))  // chown to another user needs root
    func refusesAFileOwnedByUid1000UnderTheDefaultPolicy() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("c.conf", validConfig)
        #expect(chown(path, 1000, 1000) == 0)
        let diagnostic = fileRefusal(path)
        #expect(
            diagnostic?.message.contains("is owned by uid 1000, not by root") == true,
            "\(String(describing: diagnostic))")
    }

    @Test func refusesASymlinkEvenToAValidFile() throws {
        let directory = try TemporaryDirectory()
        let target = try directory.write("c.conf", validConfig)
        let link = directory.path + "/link.conf"
        #expect(symlink(target, link) == 0)
        let diagnostic = fileRefusal(link)
        #expect(diagnostic?.message.contains("is a symbolic link") == true, "\(String(describing: diagnostic))")
    }

    @Test func refusesAFIFOWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.path + "/fifo.conf"
        #expect(mkfifo(fifo, 0o600) == 0)
        let diagnostic = fileRefusal(fifo)
        #expect(
            diagnostic?.message.contains("is a FIFO (named pipe), not a regular file") == true,
            "\(String(describing: diagnostic))")
    }

    @Test func refusesADirectory() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/dir.conf"
        #expect(mkdir(path, 0o700) == 0)
        let diagnostic = fileRefusal(path)
        #expect(
            diagnostic?.message.contains("is a directory, not a regular file") == true,
            "\(String(describing: diagnostic))")
    }

    @Test func refusesAMissingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/missing.conf"
        let diagnostic = fileRefusal(path)
        #expect(diagnostic?.description == "\(path): does not exist")
    }

    @Test func refusesAFileLargerThanThePolicyAllows() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("big.conf", validConfig + String(repeating: "#\n", count: 600))
        let diagnostic = fileRefusal(path, policy: ConfigFilePolicy(maximumSize: 1000))
        #expect(diagnostic?.message.contains("at most 1000") == true, "\(String(describing: diagnostic))")
    }

    @Test func listsRulesFilesInByteOrder() throws {
        let directory = try TemporaryDirectory()
        let rules = directory.path + "/rules.d"
        #expect(mkdir(rules, 0o750) == 0)
        for name in ["20-b.rules", "10-a.rules", "B.rules", ".hidden.rules", "notes.txt"] {
            try directory.write("rules.d/" + name, "-D\n")
        }
        let listed = try ConfigFile.rulesFiles(inDirectory: rules)
        #expect(listed.files == ["10-a.rules", "20-b.rules", "B.rules"].map { rules + "/" + $0 })
        #expect(listed.warnings == [])
    }

    @Test func refusesAWorldWritableOrSymlinkedRulesDirectory() throws {
        let directory = try TemporaryDirectory()
        let rules = directory.path + "/rules.d"
        #expect(mkdir(rules, 0o700) == 0)
        #expect(chmod(rules, 0o777) == 0)
        #expect(throws: ConfigError.self) { try ConfigFile.rulesFiles(inDirectory: rules) }
        #expect(chmod(rules, 0o700) == 0)
        let link = directory.path + "/rules-link"
        #expect(symlink(rules, link) == 0)
        do {
            _ = try ConfigFile.rulesFiles(inDirectory: link)
            Issue.record("a symlinked rules directory was accepted")
        } catch {
            #expect(error.diagnostics.first?.message.contains("symbolic link") == true, "\(error)")
        }
        let file = try directory.write("c.conf", "x")
        do {
            _ = try ConfigFile.rulesFiles(inDirectory: file)
            Issue.record("a file was accepted as a rules directory")
        } catch {
            #expect(error.diagnostics.first?.message.contains("not a directory") == true, "\(error)")
        }
    }

    @Test func readsAFileUnchanged() throws {
        let directory = try TemporaryDirectory()
        let text = String(repeating: "# line of text\n", count: 5000)  // several read chunks
        let path = try directory.write("c.conf", text)
        let contents = try ConfigFile.read(path: path)
        #expect(contents.bytes == Array(text.utf8))
    }
}
