internal import Glibc

/// The machine's own name.
package enum SystemHost {
    /// `gethostname(2)` as bytes, or nil when it fails or is empty.
    package static func name() -> [UInt8]? {
        var buffer = [CChar](repeating: 0, count: 256)
        let result = buffer.withUnsafeMutableBufferPointer { gethostname($0.baseAddress!, $0.count - 1) }
        guard result == 0 else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? nil : bytes
    }

    /// The machine's physical memory in bytes (`_SC_PHYS_PAGES` × the page size), or nil when
    /// the system does not say.
    package static var physicalMemoryBytes: Int? {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: size)
        return overflow ? Int.max : bytes
    }
}
