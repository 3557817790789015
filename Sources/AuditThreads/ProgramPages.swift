internal import CAuditThreads

/// The executable's own read-only pages (machine code, constant data).
///
/// Why: start-up runs a lot of code that a running daemon never needs again (configuration
/// parsing, the rule compiler, kernel set-up, parts of the runtime), and the kernel maps code in
/// 64 KiB blocks around every page touched, so those pages would stay in the resident set for
/// years. Releasing them once the daemon runs costs one minor fault per page the hot path touches
/// again (no I/O: the pages stay in the page cache) and leaves the resident set at what the
/// pipeline really uses.
package enum ProgramPages {
    /// Drops this process's mappings of the main program's read-only segments
    /// (`MADV_DONTNEED`); returns how many bytes of address space that covered.
    ///
    /// Safe while other threads run: those pages are never written, so dropping them only means
    /// they are mapped again from the file on their next use. Writable segments (data, RELRO,
    /// whose pages hold relocations and state) are never touched.
    @discardableResult
    package static func releaseResidentCode() -> Int {
        Int(caudit_release_program_pages())
    }
}
