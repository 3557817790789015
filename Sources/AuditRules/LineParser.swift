internal import AuditSystem

/// The argument of an option: the rest of its word (`-Fuid=0`) or the next word.
struct OptionArgument {
    var bytes: [UInt8]
    var columns: [Int]
    var column: Int

    var text: String { String(decoding: bytes, as: UTF8.self) }

    init(token: RuleToken, dropping prefix: Int) {
        bytes = Array(token.bytes.dropFirst(prefix))
        columns = Array(token.columns.dropFirst(prefix))
        column = columns.first ?? token.column + prefix
    }

    /// The column of byte `offset` of the argument (or just past its end).
    func column(at offset: Int) -> Int {
        if offset < columns.count { return columns[offset] }
        return (columns.last.map { $0 + 1 }) ?? column
    }
}

/// Parses one line of auditctl options into commands, the way auditctl's option loop does, with
/// the kernel's own validity checks added so that mistakes show up before anything is loaded.
struct LineParser {
    let file: String
    let line: Int
    let environment: RuleEnvironment

    private(set) var commands: [RuleCommand] = []
    private(set) var errors: [RuleError] = []
    private(set) var warnings: [RuleWarning] = []

    private enum Operation { case add, prepend, delete }

    // The rule being built (auditctl's `rule_new` and its `_audit_*added` flags).
    private var operation: Operation?
    private var operationLocation: RuleLocation?
    private var list: RuleList?
    private var action: RuleAction?
    private var ruleOptions = 0
    private var machine: AuditMachine?
    private var syscallAdded = false
    private var permissionAdded = false
    private var executableAdded = false
    private var fileSystemAdded = false
    private var mask = SyscallMask()
    private var fields: [RuleCondition] = []
    private var key: [UInt8] = []
    private var tokens: [RuleToken] = []
    private var lineFailed = false
    /// Set when -a/-A/-d/-w/-W itself failed: the options that build on it are skipped silently,
    /// so one mistake gives one error.
    private var ruleBroken = false

    init(file: String, line: Int, environment: RuleEnvironment) {
        self.file = file
        self.line = line
        self.environment = environment
    }

    private var hasArchField: Bool { fields.contains { $0.field == .arch } }

    private func location(_ column: Int) -> RuleLocation { RuleLocation(file: file, line: line, column: column) }

    private mutating func fail(_ column: Int, _ token: String, _ message: String, expected: String? = nil) {
        lineFailed = true
        errors.append(RuleError(location: location(column), token: token, message: message, expected: expected))
    }

    private mutating func warn(_ column: Int, _ message: String) {
        warnings.append(RuleWarning(location: location(column), message: message))
    }

    // MARK: - Option scanning (getopt_long with auditctl's option string)

    private static let optionsWithArgument = Set("CefrbaAdSFmRwWkpq".utf8)
    private static let optionsWithoutArgument = Set("hicslDvt".utf8)
    private static let longOptions: [(name: String, takesArgument: Bool)] = [
        ("loginuid-immutable", false), ("backlog_wait_time", true), ("reset-lost", false),
        ("reset_backlog_wait_time_actual", false), ("signal", true),
    ]

    mutating func parse(_ tokens: [RuleToken]) {
        self.tokens = tokens
        if tokens.first?.bytes == Array("-D".utf8) {
            deleteAll(at: tokens[0].column)
            return
        }
        var strays: [RuleToken] = []
        var index = 0
        var optionCount = 0
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            let bytes = token.bytes
            if bytes == Array("--".utf8) {
                strays.append(contentsOf: tokens[index...])
                break
            }
            if bytes.count > 2, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "-") {
                optionCount += 1
                scanLongOption(token, tokens: tokens, index: &index)
                continue
            }
            guard bytes.count > 1, bytes[0] == UInt8(ascii: "-") else {
                strays.append(token)
                continue
            }
            var position = 1
            while position < bytes.count {
                let option = bytes[position]
                optionCount += 1
                let optionLocation = token.columns[position == 1 ? 0 : position]
                if Self.optionsWithArgument.contains(option) {
                    let argument: OptionArgument
                    if position + 1 < bytes.count {
                        argument = OptionArgument(token: token, dropping: position + 1)
                    } else if index < tokens.count {
                        argument = OptionArgument(token: tokens[index], dropping: 0)
                        index += 1
                    } else {
                        fail(
                            optionLocation, "-" + String(UnicodeScalar(option)),
                            "option -\(Character(UnicodeScalar(option))) needs an argument")
                        break
                    }
                    handle(option: option, argument: argument, at: optionLocation)
                    break
                } else if Self.optionsWithoutArgument.contains(option) {
                    handle(option: option, argument: nil, at: optionLocation)
                    position += 1
                } else {
                    fail(
                        optionLocation, token.text, "unknown option -\(Character(UnicodeScalar(option)))",
                        expected: "one of -a -A -d -w -W -S -F -C -k -p -D -e -f -b -r -i -c -q -t, "
                            + "--backlog_wait_time, --reset-lost, --loginuid-immutable")
                    break
                }
            }
        }
        for stray in strays {
            if stray.bytes.first == UInt8(ascii: "#") {
                fail(
                    stray.column, stray.text,
                    "a comment must start its own line (auditctl reads \"#\" here as a value)",
                    expected: "the comment on a line of its own")
                break
            }
            fail(
                stray.column, stray.text, "unexpected word \"\(stray.text)\" (every value must follow its option)")
        }
        finish(optionCount: optionCount)
    }

    private mutating func scanLongOption(_ token: RuleToken, tokens: [RuleToken], index: inout Int) {
        let body = token.bytes.dropFirst(2)
        let nameBytes = body.prefix { $0 != UInt8(ascii: "=") }
        let name = String(decoding: nameBytes, as: UTF8.self)
        let hasInlineValue = nameBytes.count < body.count
        let exact = Self.longOptions.first { $0.name == name }
        let prefixed = Self.longOptions.filter { $0.name.hasPrefix(name) }
        guard let option = exact ?? (prefixed.count == 1 ? prefixed[0] : nil) else {
            fail(
                token.column, token.text,
                prefixed.count > 1 ? "ambiguous option --\(name)" : "unknown option --\(name)",
                expected: "--backlog_wait_time, --reset-lost, --reset_backlog_wait_time_actual or --loginuid-immutable")
            return
        }
        var argument: OptionArgument?
        if option.takesArgument {
            if hasInlineValue {
                argument = OptionArgument(token: token, dropping: 2 + nameBytes.count + 1)
            } else if index < tokens.count {
                argument = OptionArgument(token: tokens[index], dropping: 0)
                index += 1
            } else {
                fail(token.column, token.text, "option --\(option.name) needs an argument")
                return
            }
        } else if hasInlineValue {
            fail(token.column, token.text, "option --\(option.name) takes no argument")
            return
        }
        handleLong(option.name, argument: argument, at: token.column)
    }

    // MARK: - Options

    private mutating func handle(option: UInt8, argument: OptionArgument?, at column: Int) {
        // Flag options ignore it; options with an argument always get one from the scanner.
        let argument = argument ?? OptionArgument(token: RuleToken(bytes: [], column: column, columns: []), dropping: 0)
        if ruleBroken, Set("SFCkp".utf8).contains(option) { return }
        switch option {
        case UInt8(ascii: "a"): ruleOperation(.add, argument, at: column)
        case UInt8(ascii: "A"): ruleOperation(.prepend, argument, at: column)
        case UInt8(ascii: "d"): ruleOperation(.delete, argument, at: column)
        case UInt8(ascii: "S"): syscalls(argument, at: column)
        case UInt8(ascii: "F"): field(argument, at: column)
        case UInt8(ascii: "C"): comparison(argument, at: column)
        case UInt8(ascii: "k"): keyOption(argument, at: column)
        case UInt8(ascii: "p"): permissions(argument, at: column)
        case UInt8(ascii: "w"): watch(argument, delete: false, at: column)
        case UInt8(ascii: "W"): watch(argument, delete: true, at: column)
        case UInt8(ascii: "e"): enabledOrFailure(argument, enabled: true, at: column)
        case UInt8(ascii: "f"): enabledOrFailure(argument, enabled: false, at: column)
        case UInt8(ascii: "b"):
            if let value = numericSetting(argument, name: "backlog limit", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .setBacklogLimit(value)))
            }
        case UInt8(ascii: "r"):
            if let value = numericSetting(argument, name: "rate limit", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .setRateLimit(value)))
            }
        case UInt8(ascii: "i"):
            if requireAlone("-i", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .ignoreErrors))
            }
        case UInt8(ascii: "c"):
            if requireAlone("-c", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .continueOnErrors))
            }
        case UInt8(ascii: "D"): deleteAll(at: column)
        case UInt8(ascii: "q"):
            if requireAlone("-q", extraTokens: 1, at: column) { makeEquivalent(argument, at: column) }
        case UInt8(ascii: "t"):
            if requireAlone("-t", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .trimSubtrees))
            }
        case UInt8(ascii: "l"): fail(column, "-l", "-l (list rules) is not a rules-file command")
        case UInt8(ascii: "s"): fail(column, "-s", "-s (status) is not a rules-file command")
        case UInt8(ascii: "v"): fail(column, "-v", "-v (version) is not a rules-file command")
        case UInt8(ascii: "h"): fail(column, "-h", "-h (help) is not a rules-file command")
        case UInt8(ascii: "m"): fail(column, "-m", "-m (send a user message) is not a rules-file command")
        case UInt8(ascii: "R"): fail(column, "-R", "nested rule files (-R) are not supported")
        default: fail(column, "-" + String(UnicodeScalar(option)), "unknown option")
        }
    }

    private mutating func handleLong(_ name: String, argument: OptionArgument?, at column: Int) {
        switch name {
        case "backlog_wait_time":
            if let argument, let value = numericSetting(argument, name: "backlog_wait_time", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .setBacklogWaitTime(value)))
            }
        case "reset-lost":
            if requireAlone("--reset-lost", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .resetLostCounter))
            }
        case "reset_backlog_wait_time_actual":
            if requireAlone("--reset_backlog_wait_time_actual", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .resetBacklogWaitTimeActual))
            }
        case "loginuid-immutable":
            if requireAlone("--loginuid-immutable", at: column) {
                commands.append(RuleCommand(location: location(column), kind: .setLoginUIDImmutable))
            }
        default:
            fail(column, "--" + name, "--\(name) is not a rules-file command")
        }
    }

    /// auditctl stops reading a line after these options; here they must stand alone: the option
    /// word, plus its argument (separate or attached) for `-q`.
    private mutating func requireAlone(_ option: String, extraTokens: Int = 0, at column: Int) -> Bool {
        let first = tokens.first?.text ?? ""
        let isLongPrefix = option.hasPrefix("--") && first.hasPrefix("--") && option.hasPrefix(first)
        let separate = tokens.count == 1 + extraTokens && (first == option || isLongPrefix)
        let attached = extraTokens == 1 && tokens.count == 1 && first.hasPrefix(option) && first.count > option.count
        if separate || attached { return true }
        fail(column, option, "\(option) must be the only option on its line")
        return false
    }

    private mutating func deleteAll(at column: Int) {
        let texts = tokens.map(\.text)
        if texts == ["-D"] {
            commands.append(RuleCommand(location: location(column), kind: .deleteAllRules(key: nil)))
        } else if texts.count == 3, texts[0] == "-D", texts[1] == "-k" {
            commands.append(RuleCommand(location: location(column), kind: .deleteAllRules(key: texts[2])))
        } else {
            fail(column, "-D", "-D takes no other option than -k key", expected: "-D or -D -k key")
        }
    }

    private mutating func enabledOrFailure(_ argument: OptionArgument, enabled: Bool, at column: Int) {
        let text = argument.text
        guard text == "0" || text == "1" || text == "2", let value = UInt32(text) else {
            fail(
                argument.column, text,
                enabled
                    ? "enable flag must be 0, 1 or 2, not \"\(text)\""
                    : "failure mode must be 0, 1 or 2, not \"\(text)\"",
                expected: enabled ? "0 (disable), 1 (enable) or 2 (lock)" : "0 (silent), 1 (printk) or 2 (panic)")
            return
        }
        commands.append(
            RuleCommand(location: location(column), kind: enabled ? .setEnabled(value) : .setFailureMode(value)))
    }

    private mutating func numericSetting(_ argument: OptionArgument, name: String, at column: Int) -> UInt32? {
        guard let first = argument.bytes.first, isDigit(first),
            let value = CNumber.unsigned(argument.bytes[...]), value <= UInt64(UInt32.max)
        else {
            fail(
                argument.column, argument.text, "\(name) must be a number, not \"\(argument.text)\"",
                expected: "a decimal, 0x hex or 0 octal number from 0 to 4294967295")
            return nil
        }
        return UInt32(value)
    }

    private mutating func makeEquivalent(_ argument: OptionArgument, at column: Int) {
        let parts = argument.bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            fail(
                argument.column, argument.text, "-q needs mount-point,subtree",
                expected: "two paths separated by one comma")
            return
        }
        commands.append(
            RuleCommand(
                location: location(column),
                kind: .makeEquivalent(
                    mountPoint: String(decoding: parts[0], as: UTF8.self),
                    subtree: String(decoding: parts[1], as: UTF8.self)
                )))
    }

    // MARK: - Rule options

    private static let listActionExpectation =
        "list,action (or action,list) with list exit, task, user, exclude, filesystem or io_uring and action always or never"

    private mutating func ruleOperation(_ kind: Operation, _ argument: OptionArgument, at column: Int) {
        let errorsBefore = errors.count
        defer { if errors.count > errorsBefore { ruleBroken = true } }
        let optionName = kind == .add ? "-a" : kind == .prepend ? "-A" : "-d"
        ruleOptions += 1
        guard ruleOptions == 1 else {
            fail(column, optionName, "only one -a, -A, -d, -w or -W per line")
            return
        }
        let text = argument.text
        if kind != .delete, text.contains("task"), syscallAdded {
            fail(column, optionName, "syscalls were given for the task list, which takes none")
            return
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            fail(argument.column, text, "\"\(text)\" is not list,action", expected: Self.listActionExpectation)
            return
        }
        var foundList: RuleList?
        var foundAction: RuleAction?
        for (index, part) in parts.enumerated() {
            let partColumn = argument.column(at: index == 0 ? 0 : parts[0].utf8.count + 1)
            if let action = Self.action(named: part) {
                guard foundAction == nil else {
                    fail(partColumn, String(part), "two actions in \"\(text)\"", expected: Self.listActionExpectation)
                    return
                }
                foundAction = action
            } else if let list = RuleList.selectable.first(where: { $0.0 == part })?.1 {
                guard foundList == nil else {
                    fail(partColumn, String(part), "two lists in \"\(text)\"", expected: Self.listActionExpectation)
                    return
                }
                foundList = list
            } else if part == "possible" {
                fail(partColumn, "possible", "the action \"possible\" is deprecated", expected: "always or never")
                return
            } else if part == "entry" {
                fail(partColumn, "entry", "the entry list is deprecated and refused by the kernel", expected: "exit")
                return
            } else {
                fail(
                    partColumn, String(part), "unknown list or action \"\(part)\"", expected: Self.listActionExpectation
                )
                return
            }
        }
        guard let foundList, let foundAction else {
            fail(
                argument.column, text, "\"\(text)\" needs one list and one action", expected: Self.listActionExpectation
            )
            return
        }
        if syscallAdded, !Self.listTakesSyscalls(foundList) {
            fail(column, optionName, "the \(foundList) list takes no syscalls (-S)")
            return
        }
        operation = kind
        operationLocation = location(column)
        list = foundList
        action = foundAction
    }

    private static func action(named name: Substring) -> RuleAction? {
        switch name {
        case "always": .always
        case "never": .never
        default: nil
        }
    }

    private static func listTakesSyscalls(_ list: RuleList) -> Bool { list == .exit || list == .ioUring }

    private mutating func syscalls(_ argument: OptionArgument, at column: Int) {
        if let list, !Self.listTakesSyscalls(list) {
            fail(column, "-S", "the \(list) list takes no syscalls (-S)")
            return
        }
        let uring = list == .ioUring
        var table: SyscallTable
        var tableName: String
        var archNote = ""
        var archWasUnknown = false
        if uring {
            table = SyscallTable.ioUring
            tableName = "io_uring"
        } else {
            if machine == nil {
                machine = environment.machine
                archWasUnknown = true
            }
            if archWasUnknown || machine == environment.machine, !hasArchField {
                archNote = " (the host; no -F arch before -S)"
            }
            let current = machine ?? environment.machine
            table = current.syscalls
            tableName = current.name
        }
        var offset = 0
        var mismatched: [String] = []
        for part in argument.bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            defer { offset += part.count + 1 }
            if part.isEmpty { continue }
            let name = String(decoding: part, as: UTF8.self)
            let partColumn = argument.column(at: offset)
            if name == "all" {
                mask = .all
                continue
            }
            if let number = table.number(of: name) {
                mask.insert(number)
                if archWasUnknown, let compat = environment.machine.compat32, compat != environment.machine,
                    compat.syscalls.number(of: name) != number
                {
                    mismatched.append(name)
                }
                continue
            }
            if let first = part.first, isDigit(first) {
                guard let number = CNumber.unsigned(part), number < UInt64(SyscallMask.capacity) else {
                    fail(partColumn, name, "syscall number \(name) is out of range", expected: "0 to 2047")
                    continue
                }
                mask.insert(Int(number))
                continue
            }
            let elsewhere = uring ? [] : AuditMachine.all.filter { $0.syscalls.number(of: name) != nil }.map(\.name)
            let hint = elsewhere.isEmpty ? "" : " (it exists on \(Self.uniqueNames(elsewhere).joined(separator: ", ")))"
            fail(
                partColumn, name,
                "unknown \(uring ? "io_uring operation" : "syscall") \"\(name)\" for \(tableName)\(archNote)\(hint)",
                expected: uring
                    ? "one of \(IOUringOperations.table.map(\.1).joined(separator: ", ")) or a number"
                    : "a syscall name of \(tableName) (see `ausyscall \(tableName) --dump`), a number 0-2047, or all")
        }
        syscallAdded = true
        if !mismatched.isEmpty, operation == .add || operation == .prepend {
            warn(
                argument.column,
                "no arch given: \(mismatched.joined(separator: ",")) has another number in the 32-bit ABI, "
                    + "so the rule also matches a different 32-bit syscall; add -F arch=b64 (and a b32 rule)")
        }
    }

    private static func uniqueNames(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    private mutating func keyOption(_ argument: OptionArgument, at column: Int) {
        guard operation != nil, syscallAdded || permissionAdded || executableAdded || fileSystemAdded else {
            fail(
                column, "-k", "-k needs a rule it can key before it",
                expected: "a watch (-w, -F path=, -F dir=, -F perm=), a syscall (-S), -F exe= or -F fstype= before -k")
            return
        }
        addKey(argument, at: argument.column)
    }

    private mutating func addKey(_ argument: OptionArgument, at column: Int) {
        let value = argument.bytes
        if value.isEmpty { return }
        if value.contains(RuleLimits.keySeparator) {
            fail(column, argument.text, "a key cannot contain the byte 0x01 (auditctl's key separator)")
            return
        }
        let total = key.count + (key.isEmpty ? 0 : 1) + value.count
        guard total <= RuleLimits.maxKeyLength else {
            fail(
                column, argument.text, "keys of this rule add up to \(total) bytes",
                expected: "at most \(RuleLimits.maxKeyLength) bytes for all keys of a rule, separators included")
            return
        }
        if !key.isEmpty { key.append(RuleLimits.keySeparator) }
        key.append(contentsOf: value)
    }

    private mutating func permissions(_ argument: OptionArgument, at column: Int) {
        guard operation != nil else {
            fail(column, "-p", "-p needs a watch (-w) or a rule (-a) before it")
            return
        }
        guard let value = parsePermissions(argument) else { return }
        guard !fields.isEmpty else {
            fail(column, "-p", "-p needs a watch or a field before it", expected: "-w path or -F path=/dir= before -p")
            return
        }
        var updated = false
        for index in fields.indices where fields[index].field == .permission {
            fields[index].value = .number(value)
            updated = true
        }
        if !updated {
            guard fields.count < RuleLimits.maxFields else {
                fail(column, "-p", "too many fields", expected: "at most \(RuleLimits.maxFields) fields per rule")
                return
            }
            fields.append(RuleCondition(field: .permission, op: .equal, value: .number(value)))
        }
        permissionAdded = true
    }

    private mutating func parsePermissions(_ argument: OptionArgument) -> UInt32? {
        let text = argument.text
        guard argument.bytes.count <= 4 else {
            fail(
                argument.column, text, "permission \"\(text)\" is too long",
                expected: "up to 4 of the letters r, w, x, a")
            return nil
        }
        for (offset, byte) in argument.bytes.enumerated()
        where PermissionBits.parse(Substring(String(UnicodeScalar(byte)))) == nil {
            fail(
                argument.column(at: offset), text,
                "permission letter \"\(Character(UnicodeScalar(byte)))\" is not supported",
                expected: "r, w, x or a")
            return nil
        }
        return PermissionBits.parse(Substring(text))
    }

    private mutating func watch(_ argument: OptionArgument, delete: Bool, at column: Int) {
        let errorsBefore = errors.count
        defer { if errors.count > errorsBefore { ruleBroken = true } }
        let option = delete ? "-W" : "-w"
        guard ruleOptions == 0 else {
            fail(column, option, "\(option) cannot be combined with -a, -A, -d or another -w/-W")
            return
        }
        ruleOptions += 1
        var path = argument.bytes
        let text = argument.text
        guard path.count < RuleLimits.maxStringLength else {
            fail(
                argument.column, text, "watch path of \(path.count) bytes is too long",
                expected: "fewer than 4096 bytes")
            return
        }
        guard path.first == UInt8(ascii: "/") else {
            fail(argument.column, text, "watch path \"\(text)\" is not absolute", expected: "a path starting with /")
            return
        }
        let components = path.split(separator: UInt8(ascii: "/"))
        if let last = components.last, last.count > RuleLimits.maxNameLength {
            fail(
                argument.column, text, "last component of the watch path has \(last.count) bytes",
                expected: "at most \(RuleLimits.maxNameLength) bytes")
            return
        }
        if text.contains("..") { warn(argument.column, "relative path notation (..) is not supported in watches") }
        if text.contains("*") || text.contains("?") { warn(argument.column, "wildcards are not supported in watches") }
        if path.count > 2, path.last == UInt8(ascii: "/") {
            while path.count > 1, path.last == UInt8(ascii: "/") { path.removeLast() }
        }
        let pathText = String(decoding: path, as: UTF8.self)
        let field: RuleField = environment.isDirectory(pathText) ? .directory : .watch
        operation = delete ? .delete : .add
        operationLocation = location(column)
        list = .exit
        action = .always
        mask = .all
        syscallAdded = true
        permissionAdded = true
        fields = [
            RuleCondition(field: field, op: .equal, value: .string(path)),
            RuleCondition(field: .permission, op: .equal, value: .number(PermissionBits.all)),
        ]
    }

    private mutating func comparison(_ argument: OptionArgument, at column: Int) {
        let text = argument.text
        let bytes = argument.bytes
        var split: (Int, Int, RuleOperator)?
        if let index = Self.find(Array("!=".utf8), in: bytes) {
            split = (index, 2, .notEqual)
        } else if let index = bytes.firstIndex(of: UInt8(ascii: "=")) {
            split = (index, 1, .equal)
        }
        guard let (index, width, op) = split else {
            fail(argument.column, text, "\"\(text)\" is no field comparison", expected: "field=field or field!=field")
            return
        }
        let leftName = String(decoding: bytes[..<index], as: UTF8.self)
        let rightName = String(decoding: bytes[(index + width)...], as: UTF8.self)
        guard !leftName.isEmpty else {
            fail(argument.column, text, "missing field before the operator", expected: "field=field or field!=field")
            return
        }
        guard !rightName.isEmpty else {
            fail(
                argument.column(at: index + width), text, "missing field after the operator",
                expected: "field=field or field!=field")
            return
        }
        let names = "auid, uid, euid, suid, fsuid, obj_uid, gid, egid, sgid, fsgid or obj_gid"
        guard let left = RuleField.fieldByName[leftName] else {
            fail(argument.column, leftName, "unknown field \"\(leftName)\" in -C", expected: names)
            return
        }
        guard let right = RuleField.fieldByName[rightName] else {
            fail(argument.column(at: index + width), rightName, "unknown field \"\(rightName)\" in -C", expected: names)
            return
        }
        guard list == .exit else {
            fail(
                column, "-C", "-C comparisons can only be used on the exit list",
                expected: "-a always,exit (or never,exit) before -C")
            return
        }
        guard let value = FieldComparisons.value(left, right) else {
            fail(
                argument.column, text, "\(leftName) cannot be compared with \(rightName)",
                expected: "two different fields of the same group: uid (auid, uid, euid, suid, fsuid, obj_uid) "
                    + "or gid (gid, egid, sgid, fsgid, obj_gid)")
            return
        }
        guard fields.count < RuleLimits.maxFields else {
            fail(column, "-C", "too many fields", expected: "at most \(RuleLimits.maxFields) fields per rule")
            return
        }
        fields.append(RuleCondition(field: .fieldCompare, op: op, value: .number(value)))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    // MARK: - -F field op value

    private mutating func field(_ argument: OptionArgument, at column: Int) {
        guard let list else {
            fail(column, "-F", "-F needs a rule before it", expected: "-a list,action (or -w path) before -F")
            return
        }
        let bytes = argument.bytes
        if bytes.starts(with: Array("key=".utf8)) {
            var value = argument
            value.bytes = Array(bytes.dropFirst(4))
            value.columns = Array(argument.columns.dropFirst(4))
            value.column = argument.column(at: 4)
            addKey(value, at: value.column)
            return
        }
        guard fields.count < RuleLimits.maxFields else {
            fail(column, "-F", "too many fields", expected: "at most \(RuleLimits.maxFields) fields per rule")
            return
        }
        var found: (index: Int, symbol: String, op: RuleOperator)?
        for (symbol, op) in RuleOperator.searchOrder {
            if let index = Self.find(Array(symbol.utf8), in: bytes) {
                found = (index, symbol, op)
                break
            }
        }
        let text = argument.text
        guard let found else {
            fail(
                argument.column, text, "missing operator in \"\(text)\"",
                expected: "field=value, or one of the operators !=, <, >, <=, >=, &, &=")
            return
        }
        let name = String(decoding: bytes[..<found.index], as: UTF8.self)
        let valueOffset = found.index + found.symbol.utf8.count
        let valueBytes = Array(bytes[valueOffset...])
        let valueColumn = argument.column(at: valueOffset)
        guard !name.isEmpty else {
            fail(
                argument.column, text, "missing field name before \(found.symbol)",
                expected: "field\(found.symbol)value")
            return
        }
        guard !valueBytes.isEmpty else {
            fail(valueColumn, text, "missing value after \(name)\(found.symbol)", expected: "field\(found.symbol)value")
            return
        }
        guard let field = RuleField.fieldByName[name] else {
            fail(
                argument.column, name, "unknown field \"\(name)\"",
                expected: "one of " + RuleField.names.map(\.0).joined(separator: ", "))
            return
        }
        if field == .filterKey {
            fail(found.index + argument.column, text, "key only takes =", expected: "key=value or -k value")
            return
        }
        if list == .exclude, !Self.excludeFields.contains(field) {
            fail(
                argument.column, name, "\(name) cannot be used on the exclude list",
                expected: "msgtype, pid, uid, gid, auid, subj_user, subj_role, subj_type, subj_sen, subj_clr or exe")
            return
        }
        if list == .filesystem, field != .fileSystemType {
            fail(
                argument.column, name, "\(name) cannot be used on the filesystem list (the kernel refuses it)",
                expected: "fstype (and -k key)")
            return
        }
        let context = FieldContext(
            field: field, name: name, op: found.op, symbol: found.symbol, list: list, column: argument.column,
            valueColumn: valueColumn, operatorColumn: argument.column(at: found.index))
        guard let value = parseValue(valueBytes, context) else { return }
        guard checkKernelOperator(context) else { return }
        fields.append(RuleCondition(field: field, op: found.op, value: value))
    }

    private struct FieldContext {
        var field: RuleField
        var name: String
        var op: RuleOperator
        var symbol: String
        var list: RuleList
        var column: Int
        var valueColumn: Int
        var operatorColumn: Int
    }

    private static let excludeFields: Set<RuleField> = [
        .pid, .uid, .gid, .loginuid, .messageType, .subjectUser, .subjectRole, .subjectType, .subjectSensitivity,
        .subjectClearance, .executable,
    ]

    private mutating func requireList(_ allowed: [RuleList], _ context: FieldContext) -> Bool {
        guard allowed.contains(context.list) else {
            let names = allowed.map(\.description)
            fail(
                context.column, context.name,
                "\(context.name) cannot be used on the \(context.list) list",
                expected: names.count == 1
                    ? "the \(names[0]) list" : "one of the lists " + names.joined(separator: ", "))
            return false
        }
        return true
    }

    private mutating func requireEqualOrNotEqual(_ context: FieldContext) -> Bool {
        guard context.op == .equal || context.op == .notEqual else {
            fail(context.operatorColumn, context.symbol, "\(context.name) only takes = or !=", expected: "= or !=")
            return false
        }
        return true
    }

    private mutating func valueError(_ bytes: [UInt8], _ context: FieldContext, _ message: String, expected: String) {
        fail(context.valueColumn, String(decoding: bytes, as: UTF8.self), message, expected: expected)
    }

    private mutating func parseValue(_ bytes: [UInt8], _ context: FieldContext) -> RuleValue? {
        let text = String(decoding: bytes, as: UTF8.self)
        let field = context.field
        switch field {
        case .uid, .euid, .suid, .fsuid, .loginuid, .objectUID:
            if let number = signedOrUnsigned(bytes) {
                return .number(number)
            }
            if text == "unset" { return .number(.max) }
            if isDigit(bytes[0]) || bytes[0] == UInt8(ascii: "-") {
                valueError(
                    bytes, context, "\(text) is not a valid uid", expected: "a number from -2147483648 to 4294967295")
                return nil
            }
            guard let uid = environment.accounts.users[text] else {
                valueError(
                    bytes, context, "unknown user \"\(text)\"",
                    expected: "a user name from /etc/passwd, a numeric uid, or unset")
                return nil
            }
            return .number(uid)
        case .gid, .egid, .sgid, .fsgid, .objectGID:
            if isDigit(bytes[0]) {
                guard let number = CNumber.unsigned(bytes[...]), number <= UInt64(UInt32.max) else {
                    valueError(bytes, context, "\(text) is not a valid gid", expected: "a number from 0 to 4294967295")
                    return nil
                }
                return .number(UInt32(number))
            }
            guard let gid = environment.accounts.groups[text] else {
                valueError(
                    bytes, context, "unknown group \"\(text)\"",
                    expected: "a group name from /etc/group or a numeric gid")
                return nil
            }
            return .number(gid)
        case .exit:
            guard requireList([.exit], context) else { return nil }
            if let number = signedOrUnsigned(bytes) { return .number(number) }
            if isDigit(bytes[0]) || (bytes.count > 1 && bytes[0] == UInt8(ascii: "-") && isDigit(bytes[1])) {
                valueError(
                    bytes, context, "\(text) is not a valid exit value",
                    expected: "a number or an errno name such as -EPERM")
                return nil
            }
            let negative = bytes[0] == UInt8(ascii: "-")
            let name = negative ? String(text.dropFirst()) : text
            guard let number = ErrnoTable.number(of: name) else {
                valueError(
                    bytes, context, "unknown errno \"\(text)\"",
                    expected: "a number or an errno name such as -EPERM or -EACCES")
                return nil
            }
            return .number(negative ? UInt32(bitPattern: Int32(-number)) : UInt32(number))
        case .messageType:
            guard requireList([.exclude, .user], context) else { return nil }
            if isDigit(bytes[0]) {
                guard let number = CNumber.unsigned(bytes[...]), number <= UInt64(UInt32.max) else {
                    valueError(
                        bytes, context, "\(text) is not a valid message type",
                        expected: "a number or a type name such as SYSCALL")
                    return nil
                }
                return .number(UInt32(number))
            }
            guard let number = AuditMessageTypeNames.number(of: text), number > 0 else {
                valueError(
                    bytes, context, "unknown message type \"\(text)\"",
                    expected: "a type name such as SYSCALL, AVC or CRED_REFR, or a number")
                return nil
            }
            return .number(number)
        case .objectUser, .objectRole, .objectType, .objectLevelLow, .objectLevelHigh, .watch, .directory:
            guard requireList([.exit], context) else { return nil }
            if field == .watch || field == .directory { permissionAdded = true }
            return stringValue(bytes, context)
        case .subjectUser, .subjectRole, .subjectType, .subjectSensitivity, .subjectClearance:
            return stringValue(bytes, context)
        case .executable:
            guard requireEqualOrNotEqual(context) else { return nil }
            executableAdded = true
            return stringValue(bytes, context)
        case .arch:
            if syscallAdded {
                fail(context.column, "arch", "arch must come before -S", expected: "-F arch=… before the first -S")
                return nil
            }
            guard requireEqualOrNotEqual(context) else { return nil }
            guard let resolved = resolveArch(bytes, context) else { return nil }
            machine = resolved
            return .number(resolved.elf)
        case .permission:
            guard requireList([.exit], context) else { return nil }
            guard context.op == .equal else {
                fail(context.operatorColumn, context.symbol, "perm only takes =", expected: "=")
                return nil
            }
            var argument = OptionArgument(
                token: RuleToken(bytes: bytes, column: context.valueColumn, columns: []), dropping: 0)
            argument.columns = bytes.indices.map { context.valueColumn + $0 }
            guard let value = parsePermissions(argument) else { return nil }
            permissionAdded = true
            return .number(value)
        case .fileType:
            guard requireList([.exit], context) else { return nil }
            guard let value = FileTypeNames.table.first(where: { $0.0 == text.lowercased() })?.1 else {
                valueError(
                    bytes, context, "unknown file type \"\(text)\"",
                    expected: FileTypeNames.table.map(\.0).joined(separator: ", "))
                return nil
            }
            return .number(value)
        case .fileSystemType:
            guard requireList([.filesystem], context), requireEqualOrNotEqual(context) else { return nil }
            let value: UInt32
            if isDigit(bytes[0]) {
                guard let number = CNumber.unsigned(bytes[...]), number <= UInt64(UInt32.max) else {
                    valueError(
                        bytes, context, "\(text) is not a valid file system magic number",
                        expected: "a number or tracefs, debugfs")
                    return nil
                }
                value = UInt32(number)
            } else if let known = FileSystemTypeNames.table.first(where: { $0.0 == text.lowercased() })?.1 {
                value = known
            } else {
                valueError(
                    bytes, context, "unknown file system type \"\(text)\"",
                    expected: FileSystemTypeNames.table.map(\.0).joined(separator: ", ") + " or a magic number")
                return nil
            }
            fileSystemAdded = true
            return .number(value)
        case .argument0, .argument1, .argument2, .argument3:
            guard let number = signedOrUnsigned(bytes) else {
                valueError(
                    bytes, context, "\(text) is not a number",
                    expected: "a decimal, 0x hex or 0 octal number, possibly negative")
                return nil
            }
            return .number(number)
        case .sessionID:
            guard requireList([.exclude, .user, .exit], context) else { return nil }
            if text == "unset" { return .number(.max) }
            guard let number = signedOrUnsigned(bytes) else {
                valueError(bytes, context, "\(text) is not a session id", expected: "a number or unset")
                return nil
            }
            return .number(number)
        case .socketAddressFamily:
            guard let number = CNumber.unsigned(bytes[...]), number < 46 else {
                valueError(
                    bytes, context, "\(text) is not an address family number",
                    expected: "a number below 46 (AF_MAX), e.g. 2 for IPv4, 10 for IPv6")
                return nil
            }
            return .number(UInt32(number))
        case .loginuidSet:
            guard requireEqualOrNotEqual(context) else { return nil }
            guard text == "0" || text == "1" else {
                valueError(bytes, context, "loginuid_set must be 0 or 1", expected: "0 or 1")
                return nil
            }
            return .number(text == "1" ? 1 : 0)
        default:
            if [RuleField.deviceMajor, .deviceMinor, .inode, .success, .ppid].contains(field) {
                guard requireList([.exit], context) else { return nil }
            }
            if field == .inode {
                guard requireEqualOrNotEqual(context) else { return nil }
            }
            guard isDigit(bytes[0]), let number = CNumber.unsigned(bytes[...]), number <= UInt64(UInt32.max) else {
                valueError(
                    bytes, context, "value of \(context.name) must be a number",
                    expected: "a decimal, 0x hex or 0 octal number")
                return nil
            }
            return .number(UInt32(number))
        }
    }

    private mutating func stringValue(_ bytes: [UInt8], _ context: FieldContext) -> RuleValue? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard bytes.count <= RuleLimits.maxStringLength else {
            valueError(
                bytes, context, "value of \(context.name) has \(bytes.count) bytes",
                expected: "at most \(RuleLimits.maxStringLength) bytes")
            return nil
        }
        switch context.field {
        case .watch, .directory, .executable:
            guard bytes.first == UInt8(ascii: "/") else {
                valueError(
                    bytes, context, "\(context.name) \"\(text)\" is not absolute (the kernel refuses it)",
                    expected: "a path starting with /")
                return nil
            }
            if context.field != .directory, bytes.count > 1, bytes.last == UInt8(ascii: "/") {
                valueError(
                    bytes, context, "\(context.name) \"\(text)\" ends with / (the kernel refuses it)",
                    expected: context.field == .watch
                        ? "a file path, or dir= for a directory" : "the path of an executable")
                return nil
            }
            if context.field != .executable, context.op != .equal {
                fail(context.operatorColumn, context.symbol, "\(context.name) only takes =", expected: "=")
                return nil
            }
        default:
            break
        }
        return .string(bytes)
    }

    private mutating func resolveArch(_ bytes: [UInt8], _ context: FieldContext) -> AuditMachine? {
        let text = String(decoding: bytes, as: UTF8.self)
        let host = environment.machine
        let lower = text.lowercased()
        if lower == "b64" {
            guard let machine = host.native64 else {
                valueError(bytes, context, "the host (\(host)) has no 64-bit ABI", expected: "b32 or an arch name")
                return nil
            }
            return machine
        }
        if lower == "b32" {
            guard let machine = host.compat32 else {
                valueError(bytes, context, "the host (\(host)) has no 32-bit ABI", expected: "b64 or an arch name")
                return nil
            }
            return machine
        }
        if let machine = AuditMachine(name: text) { return machine }
        let number: UInt64?
        if isDigit(bytes[0]) {
            number = CNumber.unsigned(bytes[...])
        } else {
            number = CNumber.unsigned(bytes[...], base: 16)
        }
        if let number, number <= UInt64(UInt32.max), let machine = AuditMachine(elf: UInt32(number)) { return machine }
        valueError(
            bytes, context, "unknown arch \"\(text)\"",
            expected: "b64, b32, a machine name (" + AuditMachine.aliases.map(\.0).joined(separator: ", ")
                + ") or an AUDIT_ARCH_* number")
        return nil
    }

    /// auditctl's `isdigit → strtoul`, `-digit → strtol` value rule, strictly: the whole value must be
    /// a number, and it must fit 32 bits (negative numbers are stored two's complement).
    private func signedOrUnsigned(_ bytes: [UInt8]) -> UInt32? {
        guard let first = bytes.first else { return nil }
        if isDigit(first) {
            guard let value = CNumber.unsigned(bytes[...]), value <= UInt64(UInt32.max) else { return nil }
            return UInt32(value)
        }
        if first == UInt8(ascii: "-"), bytes.count > 1, isDigit(bytes[1]) {
            guard let magnitude = CNumber.unsigned(bytes.dropFirst()), magnitude <= 0x8000_0000 else { return nil }
            return UInt32(truncatingIfNeeded: -Int64(magnitude))
        }
        return nil
    }

    // MARK: - Kernel checks

    private static let allOperatorFields: Set<RuleField> = [
        .argument0, .argument1, .argument2, .argument3, .personality, .deviceMinor,
    ]
    private static let equalityOnlyFields: Set<RuleField> = [
        .subjectUser, .subjectRole, .subjectType, .objectUser, .objectRole, .objectType, .watch, .directory,
        .filterKey, .loginuidSet, .arch, .fileSystemType, .permission, .fileType, .fieldCompare, .executable,
    ]

    /// The operator checks of the kernel's `audit_field_valid()`.
    private mutating func checkKernelOperator(_ context: FieldContext) -> Bool {
        let field = context.field
        if Self.allOperatorFields.contains(field) { return true }
        if Self.equalityOnlyFields.contains(field) {
            return requireEqualOrNotEqual(context)
        }
        if context.op == .bitMask || context.op == .bitTest {
            fail(
                context.operatorColumn, context.symbol,
                "\(context.name) does not take the bit operator \(context.symbol) (the kernel refuses it)",
                expected: "=, !=, <, >, <= or >=")
            return false
        }
        return true
    }

    // MARK: - End of line

    private mutating func finish(optionCount: Int) {
        defer {
            if lineFailed { commands.removeAll() }
        }
        guard let operation, let list, let action else {
            if syscallAdded, !lineFailed {
                fail(
                    tokens.first?.column ?? 1, tokens.first?.text ?? "", "syscalls (-S) given without a rule",
                    expected: "-a list,action")
            }
            return
        }
        if list != .task, !syscallAdded { mask = .all }
        if !key.isEmpty {
            guard list != .exclude else {
                fail(
                    operationLocation?.column ?? 1, "key", "keys cannot be used on the exclude list",
                    expected: "no -k or key= on exclude rules")
                return
            }
            guard syscallAdded || permissionAdded || executableAdded || fileSystemAdded else {
                fail(
                    operationLocation?.column ?? 1, "key", "a key needs a syscall, watch, exe or fstype in the rule",
                    expected: "-S, -w, -F path=, -F dir=, -F perm=, -F exe= or -F fstype= with the key")
                return
            }
            guard fields.count < RuleLimits.maxFields else {
                fail(
                    operationLocation?.column ?? 1, "key", "too many fields",
                    expected: "at most \(RuleLimits.maxFields) fields per rule")
                return
            }
            fields.append(RuleCondition(field: .filterKey, op: .equal, value: .string(key)))
        }
        guard validateRule(list: list) else { return }
        guard !lineFailed else { return }
        let rule = AuditRule(list: list, action: action, prepend: operation == .prepend, syscalls: mask, fields: fields)
        let kind: RuleCommand.Kind = operation == .delete ? .deleteRule(rule) : .addRule(rule)
        commands.append(RuleCommand(location: operationLocation ?? location(1), kind: kind))
    }

    /// Whole-rule checks the kernel makes (`audit_data_to_entry` and friends).
    private mutating func validateRule(list: RuleList) -> Bool {
        let column = operationLocation?.column ?? 1
        var locators = 0
        var executables = 0
        for condition in fields {
            switch condition.field {
            case .watch, .directory, .inode:
                if condition.field != .inode || condition.op == .equal { locators += 1 }
            case .executable:
                executables += 1
            case .uid, .euid, .suid, .fsuid, .objectUID, .gid, .egid, .sgid, .fsgid, .objectGID:
                if condition.value == .number(.max) {
                    fail(
                        column, condition.field.description,
                        "\(condition.field)=-1 (unset) is an invalid id for the kernel; only auid can be unset",
                        expected: "a real uid/gid, or auid=unset / auid!=unset")
                    return false
                }
            case .loginuid:
                if condition.value == .number(.max), condition.op != .equal, condition.op != .notEqual {
                    fail(
                        column, "auid", "auid unset only takes = or != (the kernel tests loginuid_set)",
                        expected: "auid=unset or auid!=unset")
                    return false
                }
            default:
                break
            }
        }
        if locators > 1 {
            fail(column, "path", "a rule can have only one of path=, dir= and inode= (the kernel refuses more)")
            return false
        }
        if executables > 1 {
            fail(column, "exe", "a rule can have only one exe= (the kernel refuses more)")
            return false
        }
        return true
    }
}

func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

/// C `strtoul(…, 0)` number syntax, strictly: `0x` hex, leading-`0` octal, or decimal, with the
/// whole text consumed.
enum CNumber {
    static func unsigned(_ bytes: some Collection<UInt8>, base fixedBase: Int? = nil) -> UInt64? {
        var digits = Array(bytes)
        guard !digits.isEmpty else { return nil }
        var base = 10
        if let fixedBase {
            base = fixedBase
            if base == 16, digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
                digits.removeFirst(2)
            }
        } else if digits.count > 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
            base = 16
            digits.removeFirst(2)
        } else if digits.count > 1, digits[0] == UInt8(ascii: "0") {
            base = 8
            digits.removeFirst()
        }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            guard digit < UInt64(base) else { return nil }
            let (product, overflow1) = value.multipliedReportingOverflow(by: UInt64(base))
            let (sum, overflow2) = product.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
