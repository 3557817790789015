internal import Glibc

/// A POSIX extended regular expression compiled by glibc's `regcomp`, matched on bytes in place.
///
/// Chosen over Swift's `Regex` by measurement (docs/design.md, "Filters"): `regexec` with
/// `REG_STARTEND` matches a record's bytes where they lie, at 0.5–1.7 µs per record, where `Regex`
/// needs a `String` per record and took 26–64 µs. The daemon never calls `setlocale`, so the C
/// locale applies: bytes are bytes, and `.` matches any byte but NUL.
///
/// `regexec` on one compiled expression is safe from several threads (glibc locks inside); the
/// processing stage uses it from one.
final class PosixRegex: @unchecked Sendable {
    private let compiled: UnsafeMutablePointer<regex_t>

    struct CompileError: Error {
        var message: String
    }

    /// Compiles `pattern` (`REG_EXTENDED | REG_NOSUB`).
    init(_ pattern: String) throws(CompileError) {
        // Compiled into a local first: a class whose init throws after its properties are set
        // still runs deinit, which must not free what regcomp never filled.
        if let problem = RegexBudget.problem(pattern) { throw CompileError(message: problem) }
        let candidate = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = regcomp(candidate, pattern, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var buffer = [CChar](repeating: 0, count: 256)
            let message = buffer.withUnsafeMutableBufferPointer { text in
                _ = regerror(status, candidate, text.baseAddress, text.count)
                return String(cString: text.baseAddress!)
            }
            candidate.deallocate()
            throw CompileError(message: message)
        }
        compiled = candidate
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    /// True when the expression matches somewhere in `buffer[range]` (`^` and `$` anchor at the
    /// range's ends). No copy, no terminating NUL needed.
    func matches(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var match = regmatch_t(rm_so: 0, rm_eo: regoff_t(range.count))
        guard let base = buffer.baseAddress else {
            // An empty buffer has no address; an empty record is matched as the empty string.
            return regexec(compiled, "", 1, &match, REG_STARTEND) == 0
        }
        let text = (base + range.lowerBound).assumingMemoryBound(to: CChar.self)
        return regexec(compiled, text, 1, &match, REG_STARTEND) == 0
    }
}
