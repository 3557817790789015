import AuditSystem
internal import Glibc

/// The directories of file outputs: created at start when missing, checked by `--check-config`.
///
/// Why create them: the shipped configuration writes to /var/log/swift-audit/, and a first start on
/// a fresh machine failed with ENOENT. auditd's packaging creates /var/log/audit 0700 root; the
/// daemon does the same for every missing directory of an output path (the unit's
/// `LogsDirectory=swift-audit` also creates the shipped one), and logs each one it creates. An
/// existing directory is never changed: an operator who lets a group read the logs
/// (`output.NAME.group`) creates the directory with the mode that group needs.
package enum OutputDirectories {
    /// What start-up will find for a file's directory.
    package enum State: Hashable, Sendable {
        /// The directory exists.
        case exists
        /// These directories are missing, outermost first; start-up creates them.
        case missing([String])
        /// Start-up cannot create it: the reason names the path that is in the way.
        case blocked(String)
    }

    /// The mode of the directories start-up creates.
    package static let mode: UInt32 = 0o700

    /// The paths the shipped systemd unit (contrib/swift-audit.service) lets the daemon write
    /// under `ProtectSystem=strict`: `ReadWritePaths=` (the logs) and `StateDirectory=` (spools,
    /// the process state file); a test keeps the two equal.
    package static let serviceWritablePaths = ["/var/log/swift-audit", "/var/lib/swift-audit"]

    /// Whether `path` is inside ``serviceWritablePaths``.
    package static func isServiceWritable(_ path: String) -> Bool {
        serviceWritablePaths.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The state of the directory that holds the file at `path` (an absolute path).
    package static func state(forFile path: String) -> State {
        var missing: [String] = []
        var directory = parent(of: path)
        while true {
            var info = stat()
            if stat(directory, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    return .blocked("\(directory) is not a directory, so \(parent(of: path)) cannot be created")
                }
                return missing.isEmpty ? .exists : .missing(missing.reversed())
            }
            let code = errno
            // ENOTDIR: a component above is a file; walking up finds it and says so.
            guard code == ENOENT || code == ENOTDIR else {
                return .blocked("\(directory) cannot be examined: \(Errno(rawValue: code))")
            }
            missing.append(directory)
            directory = parent(of: directory)
        }
    }

    /// Creates the missing directories of the file at `path` (mode 0700, owned by the daemon's
    /// user: root) and returns them, outermost first; a directory another process creates
    /// meanwhile is taken as it is.
    package static func create(forFile path: String) throws(DaemonError) -> [String] {
        switch state(forFile: path) {
        case .exists:
            return []
        case .blocked(let reason):
            throw DaemonError(reason)
        case .missing(let directories):
            for directory in directories where mkdir(directory, mode_t(mode)) != 0 && errno != EEXIST {
                throw DaemonError("cannot create the directory \(directory): \(Errno(rawValue: errno))")
            }
            return directories
        }
    }

    /// What `--check-config` says about the directory of an output's file: nil when it exists,
    /// else a note (start-up will create it) or an error (it cannot).
    package static func check(output name: String, path: String) -> (note: String?, error: String?) {
        switch state(forFile: path) {
        case .exists:
            return (nil, nil)
        case .missing(let directories):
            let list =
                directories.count == 1
                ? directories[0]
                : directories.dropLast().joined(separator: ", ")
                    + " and " + (directories.last ?? "")
            let verb = directories.count == 1 ? "does" : "do"
            let pronoun = directories.count == 1 ? "it" : "them"
            return ("output \"\(name)\": \(list) \(verb) not exist; start-up creates \(pronoun) (mode 0700)", nil)
        case .blocked(let reason):
            return (nil, "output \"\(name)\": \(reason)")
        }
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
