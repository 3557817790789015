/// One kernel audit rule: the decoded form of `struct audit_rule_data`.
///
/// A value type that mirrors the kernel layout field for field, so that a rule read back from the
/// kernel (`AUDIT_LIST_RULES`) and re-encoded gives the identical blob, which the kernel needs to
/// delete it (`AUDIT_DEL_RULE` matches rules by content).
///
/// The corresponding kernel structure is `struct audit_rule_data` in `<linux/audit.h>`.
public struct AuditRule: Hashable, Sendable {
    /// The filter list the rule is on (`exit`, `user`, `exclude`…).
    public var list: RuleList
    /// What the rule does when it matches (`always`, `never`).
    public var action: RuleAction
    /// True for `-A` (insert at the head of the list); the kernel clears it once the rule is in place.
    public var prepend: Bool
    /// The syscalls (or io_uring operations) the rule applies to.
    public var syscalls: SyscallMask
    /// The conditions, in order; string values carry their bytes, keys are `\u{1}`-joined.
    public var fields: [RuleCondition]

    /// Makes a rule from its parts.
    public init(
        list: RuleList, action: RuleAction, prepend: Bool = false, syscalls: SyscallMask = SyscallMask(),
        fields: [RuleCondition] = []
    ) {
        self.list = list
        self.action = action
        self.prepend = prepend
        self.syscalls = syscalls
        self.fields = fields
    }

    /// The rule's filter keys (auditctl joins several `-k` with `\u{1}` into one key field).
    public var keys: [String] {
        var result: [String] = []
        for condition in fields where condition.field == .filterKey {
            guard case .string(let bytes) = condition.value else { continue }
            for part in bytes.split(separator: RuleLimits.keySeparator, omittingEmptySubsequences: true) {
                result.append(String(decoding: part, as: UTF8.self))
            }
        }
        return result
    }

    /// True when auditctl's `-D -k key` / `-l -k key` would select this rule: the key text contains
    /// `key` as a substring (auditctl uses `strstr` on the whole joined key field).
    public func matchesKeyFilter(_ key: String) -> Bool {
        if key.isEmpty { return true }
        let needle = Array(key.utf8)
        for condition in fields where condition.field == .filterKey {
            guard case .string(let bytes) = condition.value else { continue }
            if bytes.containsSubsequence(needle) { return true }
        }
        return false
    }
}

/// One `field op value` condition of a rule (`-F auid>=1000`, `-C uid!=euid`, the key…).
public struct RuleCondition: Hashable, Sendable {
    /// Which kernel field is compared (`AUDIT_UID`…).
    public var field: RuleField
    /// How it is compared.
    public var op: RuleOperator
    /// The value: a number, or for string fields (paths, keys, labels) their bytes.
    public var value: RuleValue

    /// Makes a condition.
    public init(field: RuleField, op: RuleOperator, value: RuleValue) {
        self.field = field
        self.op = op
        self.value = value
    }
}

/// The value of a rule condition as the kernel stores it.
public enum RuleValue: Hashable, Sendable {
    /// A 32-bit value (`values[i]`); negative numbers are stored two's complement, as the kernel does.
    case number(UInt32)
    /// A string field's bytes (its length goes in `values[i]`, the bytes in `buf`).
    case string([UInt8])
}

/// The 2048-bit syscall mask of a rule (`mask[AUDIT_BITMASK_SIZE]`).
public struct SyscallMask: Hashable, Sendable {
    /// The 64 mask words, in kernel order (bit `n` is word `n / 32`, bit `n % 32`).
    public var words: [UInt32]

    /// The number of syscall numbers a mask can hold (`AUDIT_BITMASK_SIZE * 32`).
    public static let capacity = 2048

    /// An empty mask (no syscall).
    public init() { words = Array(repeating: 0, count: 64) }

    /// A mask from its 64 words; missing words are zero, extra words are ignored.
    public init(words: [UInt32]) {
        var padded = Array(words.prefix(64))
        padded.append(contentsOf: repeatElement(0, count: 64 - padded.count))
        self.words = padded
    }

    /// The mask auditctl builds for `-S all` (every bit set, including the class bits).
    public static var all: SyscallMask { SyscallMask(words: Array(repeating: .max, count: 64)) }

    /// True when auditctl's listing prints `-S all`: the first 63 words are all ones (the last word
    /// holds the kernel's syscall-class bits, which it clears on the way in).
    public var isAll: Bool { words.prefix(63).allSatisfy { $0 == .max } }

    /// True when no bit is set.
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// Sets the bit of syscall `number`; returns false (and changes nothing) when it is out of range.
    @discardableResult
    public mutating func insert(_ number: Int) -> Bool {
        guard number >= 0, number < Self.capacity else { return false }
        words[number / 32] |= 1 << UInt32(number % 32)
        return true
    }

    /// True when syscall `number` is in the mask.
    public func contains(_ number: Int) -> Bool {
        guard number >= 0, number < Self.capacity else { return false }
        return words[number / 32] & (1 << UInt32(number % 32)) != 0
    }

    /// The syscall numbers in the mask, ascending.
    public var numbers: [Int] {
        var result: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<32 where word & (1 << UInt32(bit)) != 0 {
                result.append(index * 32 + bit)
            }
        }
        return result
    }

    /// The mask as the kernel stores and returns it: the 16 syscall-class bits at the top of the
    /// last word are cleared (and, for `-S all`, their classes are already included).
    ///
    /// Use it to compare a rule built here with one read back from the kernel.
    public var kernelNormalized: SyscallMask {
        var copy = self
        copy.words[63] &= 0x0000_FFFF
        return copy
    }
}

/// Limits auditctl and the kernel place on rules.
public enum RuleLimits {
    /// `AUDIT_MAX_FIELDS`: fields a kernel rule can hold.
    public static let maxKernelFields = 64
    /// auditctl refuses a 64th field (`field_count >= AUDIT_MAX_FIELDS - 1`), so rules hold at most 63.
    public static let maxFields = 63
    /// `AUDIT_MAX_KEY_LEN`: bytes of all keys of a rule together, separators included.
    public static let maxKeyLength = 256
    /// `PATH_MAX`: bytes of a string field (path, dir, exe, labels); paths must be shorter.
    public static let maxStringLength = 4096
    /// `NAME_MAX`: bytes of the last component of a watched path.
    public static let maxNameLength = 255
    /// The separator auditctl puts between several keys of one rule (`AUDIT_KEY_SEPARATOR`).
    public static let keySeparator: UInt8 = 0x01
    /// Bytes of the fixed part of `struct audit_rule_data`, before `buf`.
    public static let fixedSize = 1040
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > count { return false }
        var start = 0
        while start + needle.count <= count {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
