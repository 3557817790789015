/// auditd's reading of a personality (SYSCALL `per=`, personality's first argument).
///
/// auditd looks up the low byte (PER_MASK) among the personalities whose value has no flag bits
/// (<linux/personality.h>: PER_LINUX, PER_BSD, PER_LINUX32, PER_RISCOS, PER_OSF4, PER_HPUX), and of
/// the flags prints ADDR_NO_RANDOMIZE only, as `|~ADDR_NO_RANDOMIZE`. The other personas (PER_SVR4,
/// …) carry flag bits in their definition and so never match: auditd prints them as unknown too.
package enum PersonalityNames {
    /// The flag `setarch -R` sets; the only one auditd prints.
    package static let addressNoRandomize: UInt64 = 0x0040000

    /// The name of a personality's low byte (`8` → `PER_LINUX32`), or nil.
    package static func name(_ value: UInt64) -> String? {
        switch value & 0xff {
        case 0x00: "PER_LINUX"
        case 0x06: "PER_BSD"
        case 0x08: "PER_LINUX32"
        case 0x0c: "PER_RISCOS"
        case 0x0f: "PER_OSF4"
        case 0x10: "PER_HPUX"
        default: nil
        }
    }

    /// `PER_LINUX`, `PER_LINUX|~ADDR_NO_RANDOMIZE`, else `unknown-personality(0x…)` with the value
    /// as logged (hex).
    package static func interpretation(_ value: UInt64, logged text: some StringProtocol) -> String {
        guard let name = name(value) else { return "unknown-personality(0x\(text))" }
        return value & addressNoRandomize != 0 ? name + "|~ADDR_NO_RANDOMIZE" : name
    }
}
