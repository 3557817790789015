internal import AuditSystem
import Glibc

/// Who may own the files swift-audit trusts (its configuration and rule files) and how large they
/// may be.
///
/// The checks follow auditd's (`auditd-config.c`): a file that someone other than root could have
/// written decides what the kernel audits and where the trail goes, so it is refused.
package struct ConfigFilePolicy: Hashable, Sendable {
    /// Owners accepted; a file owned by anyone else is refused.
    package var allowedOwners: Set<UInt32>
    /// Files larger than this are refused (a configuration is a few kilobytes; this stops a
    /// mistaken path such as a log file from being read whole).
    package var maximumSize: Int

    /// The daemon's policy: owned by root or by the daemon's own effective user (the same trust: that
    /// user runs the daemon), at most 1 MiB.
    ///
    /// Pass `allowedOwners` to test the refusal paths, or to accept other owners deliberately.
    package init(allowedOwners: Set<UInt32>? = nil, maximumSize: Int = 1 << 20) {
        self.allowedOwners = allowedOwners ?? [0, geteuid()]
        self.maximumSize = maximumSize
    }
}

/// The bytes of a file that passed the ``ConfigFilePolicy`` checks, with the warnings they raised.
package struct TrustedFileContents: Hashable, Sendable {
    /// The whole file.
    package var bytes: [UInt8]
    /// Looser-than-ideal permissions (group-writable), for the caller to log.
    package var warnings: [ConfigDiagnostic]
}

/// Reading configuration and rule files without trusting the path: no symlinks, FIFOs, devices or
/// directories, nothing world-writable or owned by an untrusted user.
package enum ConfigFile {
    /// Reads `path` after checking what it is, who owns it and its mode.
    ///
    /// The file is opened with `O_NOFOLLOW | O_NONBLOCK` and checked with `fstat` on the open
    /// descriptor, so a swap between check and read is not possible and a FIFO cannot block the
    /// daemon. Refusals name the path and the reason. A missing file is an error (auditd only warns
    /// and starts with defaults; swift-audit's defaults would send events somewhere the operator did
    /// not choose).
    ///
    /// The corresponding C functions are `open`, `fstat` and `read`.
    package static func read(path: String, policy: ConfigFilePolicy = ConfigFilePolicy()) throws(ConfigError)
        -> TrustedFileContents
    {
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) } catch {
            throw fileError(path, describeOpenFailure(path, errno: error.rawValue))
        }
        defer { SystemCall.close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw fileError(path, "cannot be examined: \(Errno(rawValue: errno))")
        }
        var warnings: [ConfigDiagnostic] = []
        try checkOwnerAndMode(path, info, policy: policy, expected: fileTypeRegular, warnings: &warnings)
        guard Int(info.st_size) <= policy.maximumSize else {
            throw fileError(
                path, "is \(info.st_size) bytes; a configuration file may have at most \(policy.maximumSize)")
        }

        do {
            let bytes = try SystemFile.readToEnd(fd, limit: policy.maximumSize, sizeHint: Int(info.st_size))
            return TrustedFileContents(bytes: bytes, warnings: warnings)
        } catch {
            switch error {
            case .open(let code), .read(let code): throw fileError(path, "cannot be read: \(code)")
            case .tooLarge: throw fileError(path, "grew past \(policy.maximumSize) bytes while being read")
            }
        }
    }

    /// The `*.rules` files of a rules directory, augenrules-style: names not starting with `.`, sorted
    /// by their bytes, as absolute paths. The directory itself passes the same owner and mode checks;
    /// each file is checked again when read with ``read(path:policy:)``.
    ///
    /// The corresponding C functions are `open(O_DIRECTORY)`, `fstat` and `readdir`.
    package static func rulesFiles(inDirectory path: String, policy: ConfigFilePolicy = ConfigFilePolicy())
        throws(ConfigError) -> (files: [String], warnings: [ConfigDiagnostic])
    {
        let fd: Int32
        do { fd = try SystemCall.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) } catch {
            throw fileError(path, describeOpenFailure(path, errno: error.rawValue, wantDirectory: true))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            SystemCall.close(fd)
            throw fileError(path, "cannot be examined: \(Errno(rawValue: code))")
        }
        var warnings: [ConfigDiagnostic] = []
        do {
            try checkOwnerAndMode(path, info, policy: policy, expected: fileTypeDirectory, warnings: &warnings)
        } catch {
            SystemCall.close(fd)
            throw error
        }
        guard let directory = fdopendir(fd) else {
            let code = errno
            SystemCall.close(fd)
            throw fileError(path, "cannot be listed: \(Errno(rawValue: code))")
        }
        defer { closedir(directory) }

        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw fileError(path, "cannot be listed: \(Errno(rawValue: errno))") }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            guard name.first != UInt8(ascii: "."), name.count > 6, name.suffix(6).elementsEqual(".rules".utf8) else {
                continue
            }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        var files: [String] = []
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        for name in names {
            guard let text = String(validating: name, as: UTF8.self) else {
                throw fileError(path, "contains a .rules file whose name is not valid UTF-8; rename it")
            }
            files.append(base + "/" + text)
        }
        return (files, warnings)
    }
}

extension DaemonConfiguration {
    /// Reads and parses a configuration file after ``ConfigFile/read(path:policy:)``'s checks; the
    /// warnings of both steps are returned, every error of both is thrown.
    package static func load(path: String, policy: ConfigFilePolicy = ConfigFilePolicy()) throws(ConfigError)
        -> ParsedConfiguration
    {
        let contents = try ConfigFile.read(path: path, policy: policy)
        var parsed = try parse(bytes: contents.bytes, file: path, checkFiles: true)
        parsed.warnings = contents.warnings + parsed.warnings
        return parsed
    }
}

// MARK: - Checks

private let fileTypeMask: UInt32 = 0o170000
private let fileTypeRegular: UInt32 = 0o100000
private let fileTypeDirectory: UInt32 = 0o040000

private func describeType(_ mode: UInt32) -> String {
    switch mode & fileTypeMask {
    case 0o040000: "a directory"
    case 0o010000: "a FIFO (named pipe)"
    case 0o020000: "a character device"
    case 0o060000: "a block device"
    case 0o140000: "a socket"
    case 0o120000: "a symbolic link"
    default: "not a regular file"
    }
}

private func checkOwnerAndMode(
    _ path: String, _ info: stat, policy: ConfigFilePolicy, expected: UInt32, warnings: inout [ConfigDiagnostic]
) throws(ConfigError) {
    let mode = UInt32(info.st_mode)
    if mode & fileTypeMask != expected {
        let wanted = expected == fileTypeDirectory ? "a directory" : "a regular file"
        throw fileError(path, "is \(describeType(mode)), not \(wanted); refused")
    }
    let owner = UInt32(info.st_uid)
    if !policy.allowedOwners.contains(owner) {
        let allowed = policy.allowedOwners.sorted().map { $0 == 0 ? "root" : "uid \($0)" }
        throw fileError(
            path, "is owned by uid \(owner), not by \(listOfChoices(allowed)); refused (chown root \(path))")
    }
    let permissions = mode & 0o7777
    if permissions & 0o002 != 0 {
        throw fileError(
            path, "is world-writable (mode \(octal4(permissions))); refused: anyone could change it (chmod o-w \(path))"
        )
    }
    if permissions & 0o020 != 0 {
        warnings.append(
            ConfigDiagnostic(
                kind: .warning, file: path, line: nil,
                message: "is group-writable (mode \(octal4(permissions))); members of group \(info.st_gid) can change "
                    + "what is audited (chmod g-w \(path))"))
    }
}

private func describeOpenFailure(_ path: String, errno code: Int32, wantDirectory: Bool = false) -> String {
    var info = stat()
    let exists = lstat(path, &info) == 0
    switch code {
    case ENOENT:
        return "does not exist"
    case ELOOP where exists && UInt32(info.st_mode) & fileTypeMask == 0o120000:
        return "is a symbolic link; refused (name the file it points to instead)"
    case ENOTDIR where wantDirectory && exists:
        return "is \(describeType(UInt32(info.st_mode))), not a directory; refused"
    case ENXIO where exists:
        return "is \(describeType(UInt32(info.st_mode))), not a regular file; refused"
    default:
        return "cannot be opened: \(Errno(rawValue: code))"
    }
}

private func fileError(_ path: String, _ reason: String) -> ConfigError {
    ConfigError(diagnostics: [ConfigDiagnostic(kind: .file, file: path, line: nil, message: reason)])
}

func octal4(_ value: UInt32) -> String {
    var digits = String(value, radix: 8)
    while digits.count < 4 { digits = "0" + digits }
    return digits
}

/// `path` made absolute against the current directory (`getcwd`), unchanged if already absolute.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    var buffer = [CChar](repeating: 0, count: 4097)
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    let directory = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var relative = Substring(path)
    while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
    return (directory == "/" ? "" : directory) + "/" + relative
}
