internal import AuditSystem
internal import Glibc

extension RuleLoader {
    /// Finds the commands the kernel is sure to refuse, without asking it, and adds them to
    /// ``RuleLoadPlan/kernelRefusals`` (or, after `-i`, to the warnings: the load would skip them).
    ///
    /// Walks the commands as the kernel takes them: an added rule is remembered until `-D` (with
    /// its key filter) or `-d` removes it, and adding an identical one again is EEXIST (the kernel
    /// compares the whole rule, `-A`'s prepend flag included, which is what comparing the encoded
    /// blobs does). A rule whose path the kernel looks up when adding it is ENOENT when the path is
    /// missing: a watch's (`-w`, `path=`) and an `exe=`'s parent directory, a `dir=` itself. Only
    /// what is certain is reported: rules already in the kernel are unknown here, and paths are
    /// looked up only when the environment can (``RuleEnvironment/pathExists``).
    func predictKernelRefusals(_ plan: inout RuleLoadPlan) {
        var loaded: [(blob: [UInt8], rule: AuditRule, location: RuleLocation)] = []
        var ignoring = false
        var continuing = false
        for command in plan.commands {
            switch command.kind {
            case .ignoreErrors:
                ignoring = true
            case .continueOnErrors:
                ignoring = true
                continuing = true
            case .deleteAllRules(let key):
                loaded.removeAll { entry in key.map { entry.rule.matchesKeyFilter($0) } ?? true }
            case .deleteRule(let rule):
                guard let blob = try? rule.encoded() else { continue }
                loaded.removeAll { $0.blob == blob }
            case .addRule(let rule):
                guard let blob = try? rule.encoded() else { continue }
                let detail: (errno: Int32, text: String)
                if let first = loaded.first(where: { $0.blob == blob }) {
                    detail = (
                        EEXIST,
                        "an identical rule is already loaded (by \(first.location); start the rules with -D to replace them)"
                    )
                } else if let missing = missingPath(of: rule) {
                    detail = (ENOENT, Self.addHint(ENOENT, rule) + ": \(missing) does not exist")
                } else {
                    loaded.append((blob, rule, command.location))
                    continue
                }
                let text = Self.commandText(command.kind, host: environment.machine)
                let message = "the kernel will refuse \(text): \(Errno(rawValue: detail.errno)); \(detail.text)"
                if ignoring && !continuing {
                    plan.warnings.append(
                        RuleWarning(location: command.location, message: message + " (skipped after -i)"))
                } else {
                    plan.kernelRefusals.append(RuleError(location: command.location, token: text, message: message))
                }
            default:
                break
            }
        }
    }

    /// The first path the kernel looks up for `rule` that does not exist, or nil.
    private func missingPath(of rule: AuditRule) -> String? {
        guard let exists = environment.pathExists else { return nil }
        for condition in rule.fields {
            guard case .string(let bytes) = condition.value else { continue }
            let path = String(decoding: bytes, as: UTF8.self)
            let looked: String
            switch condition.field {
            case .watch, .executable: looked = Self.parentDirectory(of: path)
            case .directory: looked = path
            default: continue
            }
            if !exists(looked) { return looked }
        }
        return nil
    }

    /// `/a/b` for `/a/b/c`, `/` for `/c`.
    static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/"), slash != trimmed.startIndex else { return "/" }
        return String(trimmed[..<slash])
    }
}
