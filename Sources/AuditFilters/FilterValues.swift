internal import AuditNetlink
internal import AuditRules

/// Why a condition's value is refused: the text after `key = "value": ` in a configuration error.
package struct FilterValueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong and what is accepted.
    package var message: String

    /// Wraps a message.
    package init(_ message: String) { self.message = message }

    package var description: String { message }
}

extension FilterCondition {
    /// Checks and resolves a condition's value as the configuration writes it.
    ///
    /// Lists are comma-separated (`uid = root,daemon`, or quoted with spaces: `"root, daemon"`);
    /// any value of the list may match. A `regex` is one expression (its commas are its own).
    /// Syscall names are resolved to their numbers on every architecture this build has a table
    /// for; `users` resolves a user name to its uid (the configuration reads /etc/passwd) and
    /// returns nil for an unknown name.
    package static func parse(
        _ field: FilterField, _ text: String, users: (String) -> UInt32? = { _ in nil }
    ) throws(FilterValueError) -> FilterCondition {
        let matcher: Matcher
        switch field {
        case .all:
            guard text.lowercased() == "yes" else {
                throw FilterValueError("expected yes: all = yes makes the rule match every event")
            }
            matcher = .all
        case .key: matcher = .keys(try items(text).map { item throws(FilterValueError) in try keyPattern(item) })
        case .type: matcher = .types(try items(text).map { item throws(FilterValueError) in try typeRange(item) })
        case .syscall: matcher = .syscalls(try syscalls(items(text)))
        case .arch: matcher = .arches(try items(text).map { item throws(FilterValueError) in try arch(item) })
        case .success:
            switch text.lowercased() {
            case "yes": matcher = .success(true)
            case "no": matcher = .success(false)
            default: throw FilterValueError("expected yes or no")
            }
        case .uid, .auid, .euid:
            matcher = .ids(try items(text).map { item throws(FilterValueError) in try userID(item, users: users) })
        case .exe, .comm:
            matcher = .strings(try items(text).map { item throws(FilterValueError) in try bytePattern(item) })
        case .saddr:
            matcher = .addresses(
                try items(text).map { item throws(FilterValueError) in
                    guard let pattern = AddressPattern(parsing: item) else {
                        throw FilterValueError(
                            "\"\(item)\" is not an address pattern: expected a CIDR and/or a port, such as "
                                + "10.0.0.0/8, 192.0.2.7:22, fe80::/10, [2001:db8::/32]:443 or :53")
                    }
                    if let family = pattern.family, pattern.network != hostBits(item, family) {
                        throw FilterValueError(
                            "\"\(item)\" has host bits set after the prefix length: write the network "
                                + "(\(pattern)), or the address alone to match one host")
                    }
                    return pattern
                })
        case .regex:
            guard !text.isEmpty else { throw FilterValueError("expected a regular expression") }
            do {
                _ = try PosixRegex(text)
            } catch {
                throw FilterValueError("not a POSIX extended regular expression: \(error.message)")
            }
            matcher = .regex(text)
        }
        return FilterCondition(field: field, text: text, matcher: matcher)
    }

    /// The comma-separated items of a list, blanks around them removed; refuses empty items.
    static func items(_ text: String) throws(FilterValueError) -> [String] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            String(part.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        }
        guard !parts.contains(where: \.isEmpty) else {
            throw FilterValueError("expected a comma-separated list without empty items")
        }
        return parts
    }

    static func keyPattern(_ item: String) throws(FilterValueError) -> BytePattern? {
        if item == "(null)" { return nil }
        return try bytePattern(item)
    }

    static func bytePattern(_ item: String) throws(FilterValueError) -> BytePattern {
        if item.hasSuffix("*") {
            return BytePattern(bytes: Array(item.utf8.dropLast()), isPrefix: true)
        }
        return BytePattern(bytes: Array(item.utf8), isPrefix: false)
    }

    static func typeRange(_ item: String) throws(FilterValueError) -> ClosedRange<UInt16> {
        func one(_ text: Substring) throws(FilterValueError) -> UInt16 {
            if let number = UInt16(text) { return number }
            if let type = AuditMessageType(name: text) { return type.rawValue }
            throw FilterValueError(
                "\"\(text)\" is not a record type: expected a name such as SYSCALL or USER_LOGIN, a number, "
                    + "or a range of numbers such as 1100-1199")
        }
        let bounds = item.split(separator: "-", maxSplits: 1)
        if bounds.count == 2, let low = UInt16(bounds[0]), let high = UInt16(bounds[1]) {
            guard low <= high else { throw FilterValueError("the range \(item) is empty (\(low) > \(high))") }
            return low...high
        }
        let value = try one(Substring(item))
        return value...value
    }

    static func syscalls(_ items: [String]) throws(FilterValueError) -> Set<SyscallSelector> {
        var selectors = Set<SyscallSelector>()
        for item in items {
            if let number = Int(item), number >= 0 {
                selectors.insert(SyscallSelector(arch: nil, number: number))
                continue
            }
            var found = false
            for machine in AuditMachine.all {
                if let number = machine.syscalls.number(of: item) {
                    selectors.insert(SyscallSelector(arch: machine.elf, number: number))
                    found = true
                }
            }
            guard found else {
                throw FilterValueError(
                    "unknown syscall \"\(item)\": no architecture's table has it (names as ausyscall prints them, "
                        + "or a number)")
            }
        }
        return selectors
    }

    static func arch(_ item: String) throws(FilterValueError) -> ArchSelector {
        switch item.lowercased() {
        case "b64": return .bits64
        case "b32": return .bits32
        default: break
        }
        if let machine = AuditMachine(name: item) { return .exact(machine.elf) }
        var hex = Substring(item.lowercased())
        if hex.hasPrefix("0x") { hex = hex.dropFirst(2) }
        if !hex.isEmpty, hex.count <= 8, let value = UInt32(hex, radix: 16), AuditMachine(elf: value) != nil {
            return .exact(value)
        }
        let names = AuditMachine.all.map(\.name).joined(separator: ", ")
        throw FilterValueError(
            "unknown architecture \"\(item)\": expected b64, b32, a machine (\(names)) or its AUDIT_ARCH value "
                + "in hex (c000003e)")
    }

    static func userID(_ item: String, users: (String) -> UInt32?) throws(FilterValueError) -> UInt32 {
        if item.lowercased() == "unset" { return UInt32.max }
        if item.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let value = UInt32(item) else { throw FilterValueError("the id \(item) is larger than 4294967295") }
            return value
        }
        guard let value = users(item) else {
            throw FilterValueError(
                "unknown user \"\(item)\": not in the local passwd file (write the uid, or unset for 4294967295)")
        }
        return value
    }

    /// The pattern's address as written (before masking), to tell a network from a host address
    /// with host bits set.
    private static func hostBits(_ item: String, _ family: AddressPattern.Family) -> UInt128? {
        var text = Substring(item)
        if text.hasPrefix("[") { text = text.dropFirst().prefix { $0 != "]" } }
        if family == .inet, let colon = text.firstIndex(of: ":") { text = text[..<colon] }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        return family == .inet ? AddressPattern.parseInet(String(text)) : AddressPattern.parseInet6(String(text))
    }
}
