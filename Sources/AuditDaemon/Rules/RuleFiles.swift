package import AuditConfig
package import AuditRules
internal import Glibc

/// Rules files as the daemon and `swift-audit rules` read them: a file, or a directory whose
/// `*.rules` files are taken in byte order (as augenrules concatenates /etc/audit/rules.d), each
/// passing the same ownership and mode checks as the configuration.
package enum RuleFiles {
    /// What reading produced: the sources in order, and every problem and warning as text
    /// naming the file.
    package struct Reading: Sendable {
        /// The files' contents, in load order.
        package var sources: [RuleSource] = []
        /// Files or directories that could not be used (each names the path and the reason).
        package var problems: [String] = []
        /// Things worth telling the operator that do not stop the load.
        package var warnings: [String] = []
    }

    /// Reads each path: a file, or a directory of `*.rules` files.
    package static func read(_ paths: [String]) -> Reading {
        var reading = Reading()
        for path in paths {
            var info = stat()
            let isDirectory = stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            var files = [path]
            if isDirectory {
                do {
                    let listing = try ConfigFile.rulesFiles(inDirectory: path)
                    reading.warnings += listing.warnings.map(\.description)
                    files = listing.files
                    if files.isEmpty { reading.warnings.append("\(path): no *.rules files in this directory") }
                } catch {
                    reading.problems.append(error.description)
                    continue
                }
            }
            for file in files {
                do {
                    let contents = try ConfigFile.read(path: file)
                    reading.warnings += contents.warnings.map(\.description)
                    reading.sources.append(RuleSource(name: file, bytes: contents.bytes))
                } catch {
                    reading.problems.append(error.description)
                }
            }
        }
        return reading
    }

    /// The paths a configuration names: `rules_file` first, then `rules_dir`.
    package static func paths(of settings: RuleSettings) -> [String] {
        [settings.file, settings.directory].compactMap { $0 }
    }
}
