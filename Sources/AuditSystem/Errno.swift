internal import Glibc

/// An errno value: the one type every module uses to carry, name and explain a failed system call.
///
/// Four bytes, no allocation: it is thrown (typed throws) by the wrappers in `SystemCall` and
/// stored in the modules' own error types as its `rawValue`.
@frozen
package struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    /// The errno number (`EPERM` = 1…).
    package var rawValue: Int32

    @inlinable
    package init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno, read right after the failed call.
    @inlinable
    package static var current: Errno { Errno(rawValue: Glibc.errno) }

    /// The symbolic name (`EACCES`), from the kernel's generic errno list; nil for a number it
    /// does not hold.
    package var name: String? { ErrnoTable.namesByNumber[Int(rawValue)] }

    /// The C library's text for it (`strerror`: "Permission denied").
    package var message: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }

    /// `EACCES (Permission denied)`; the message alone for a number without a name.
    package var description: String {
        if let name { return "\(name) (\(message))" }
        return message
    }

    /// The number for a name such as `EPERM` or `ewouldblock` (aliases included), or nil.
    package static func number(named name: some StringProtocol) -> Int32? {
        ErrnoTable.number(of: name).map { Int32($0) }
    }
}

/// Errno names and numbers (`-F exit=-EPERM`, listing exit values, error messages). The table
/// itself is generated (`ErrnoTable.swift`, by scripts/gen-syscall-tables.sh).
package enum ErrnoTable {
    /// Names (and the aliases EWOULDBLOCK, EDEADLOCK) to numbers.
    package static let numbersByName: [String: Int] = {
        var result: [String: Int] = [:]
        for (number, name) in pairs(source) where result[name] == nil { result[name] = number }
        for line in aliasSource.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let number = result[String(parts[1])] else { continue }
            result[String(parts[0])] = number
        }
        return result
    }()

    /// Numbers to their canonical (first) name.
    package static let namesByNumber: [Int: String] = {
        var result: [Int: String] = [:]
        for (number, name) in pairs(source) where result[number] == nil { result[number] = name }
        return result
    }()

    /// The errno number for a name such as `EPERM` (case-insensitive), or nil.
    package static func number(of name: some StringProtocol) -> Int? { numbersByName[name.uppercased()] }

    private static func pairs(_ text: String) -> [(Int, String)] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, let number = Int(parts[0]) else { return nil }
            return (number, String(parts[1]))
        }
    }
}
