internal import AuditSystem

/// Errno names and auditd's reading of a SYSCALL record's `exit=`.
///
/// The names are AuditSystem's generated `ErrnoTable` (the kernel's generic list, the one
/// auditctl and libauparse use); the messages are the C library's `strerror`, as auditd prints
/// them on the same machine.
package enum ErrnoNames {
    /// The symbolic name of a positive errno (`2` → `ENOENT`), or nil for a number without one.
    package static func name(_ number: Int) -> String? {
        guard number > 0, number < descriptions.count else { return nil }
        return names[number]
    }

    /// auditd's text for the `exit=` of a failed call: `ENOENT(No such file or directory)` for -2.
    ///
    /// Nil when auditd prints the value as it is: zero, a positive return value, or a negative one
    /// that is no errno (auditd 3.0.9 prints `(null)(Unknown error 41)` there; we keep the number).
    package static func exitDescription(_ exit: Int64) -> String? {
        guard exit < 0, exit > -Int64(descriptions.count) else { return nil }
        return descriptions[Int(-exit)]
    }

    /// Names by number, built once from the generated table so that a lookup is an array index.
    private static let names: [String?] = {
        let highest = ErrnoTable.namesByNumber.keys.max() ?? 0
        return (0...highest).map { ErrnoTable.namesByNumber[$0] }
    }()

    /// `NAME(message)` by number, built once: the strings auditd prints, without a per-lookup format.
    private static let descriptions: [String?] = names.enumerated().map { number, name in
        name.map { "\($0)(\(Errno(rawValue: Int32(number)).message))" }
    }
}
