import AuditEvents
import AuditRules

/// auditd's names for a record's `arch=` (the `AUDIT_ARCH_*` value) and for its `syscall=` number
/// on that architecture, from the rule compiler's generated tables (`ausyscall --dump`), so that
/// a rule and the events it produces use the same names.
package enum ArchitectureNames {
    /// The name auditd prints for `arch` (`x86_64` for `c000003e`), or nil for an unknown value.
    package static func name(arch: UInt32) -> String? {
        AuditMachine(elf: arch)?.name
    }

    /// The name of system call `number` on `arch` (`execve` for 59 on x86_64), or nil when the
    /// architecture or the number is unknown.
    package static func syscallName(arch: UInt32, number: Int) -> String? {
        guard number >= 0, let machine = AuditMachine(elf: arch) else { return nil }
        return machine.syscalls.name(of: number)
    }

    /// True when `arch` is little-endian (`__AUDIT_ARCH_LE`): the byte order of the binary
    /// structures the kernel hex-encodes for that architecture, such as a socket address's family.
    package static func isLittleEndian(arch: UInt32) -> Bool {
        arch & 0x4000_0000 != 0
    }

    /// Parses `arch=` text (`c000003e`, without `0x`), or nil. The record's own bytes: the
    /// generic version below, called across modules unspecialized, cost ~600 instructions a call
    /// (callgrind), for every SYSCALL record of the process table and the encoders.
    package static func parse(_ text: UnsafeRawBufferPointer) -> UInt32? {
        guard !text.isEmpty, text.count <= 8 else { return nil }
        var value: UInt32 = 0
        for byte in text {
            guard let digit = AuditHex.digit(byte) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Parses `arch=` text (`c000003e`, without `0x`), or nil.
    package static func parse(_ text: some Collection<UInt8>) -> UInt32? {
        guard !text.isEmpty, text.count <= 8 else { return nil }
        var value: UInt32 = 0
        for byte in text {
            guard let digit = AuditHex.digit(byte) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
