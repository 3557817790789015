/// Capability numbers and sets as auditd prints them: `capability=21` in an AVC record is
/// `sys_admin`; a set such as CAPSET's `cap_pe=` or BPRM_FCAPS's `pp=` (hex bit mask) lists the
/// names joined by `,`, and `none` for the empty set. The names are generated (CapabilityTable.swift).
package enum CapabilityNames {
    /// The highest capability number this table knows (`checkpoint_restore`, 40, as of Linux 6.x).
    package static var lastCapability: Int { names.count - 1 }

    /// The name of a capability (`0` → `chown`), or nil for a number the table does not hold.
    package static func name(_ number: Int) -> String? {
        number >= 0 && number < names.count ? names[number] : nil
    }

    /// auditd's text for a capability number: its name, else `unknown-capability(N)`, the number
    /// as logged (`hexadecimal` when it came from a syscall argument, then with `0x`).
    package static func interpretation(_ number: UInt64, logged text: some StringProtocol, hexadecimal: Bool) -> String
    {
        if number < UInt64(names.count) { return names[Int(number)] }
        return "unknown-capability(\(hexadecimal ? "0x" : "")\(text))"
    }

    /// auditd's text for a capability set: the names of its bits in number order joined by `,`;
    /// `none` when no known bit is set (bits above `lastCapability` are ignored, as auditd does).
    package static func setInterpretation(_ mask: UInt64) -> String {
        let known = names.count >= 64 ? mask : mask & ((1 << UInt64(names.count)) - 1)
        if known == 0 { return "none" }
        var text = ""
        var rest = known
        while rest != 0 {
            let bit = rest.trailingZeroBitCount
            if !text.isEmpty { text += "," }
            text += names[bit]
            rest &= rest - 1
        }
        return text
    }
}
