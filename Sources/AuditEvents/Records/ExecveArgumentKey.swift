/// What an EXECVE record's field name is: how the kernel spreads a program's arguments over one
/// or more EXECVE records (`audit_log_execve_info`).
///
/// `argc=` comes first; an argument is `aN=` whole, or, when it is long, `aN_len=` (its length)
/// followed by parts `aN[0]=`, `aN[1]=`… that may continue in the next record. Anything else is
/// `other`. Every reader of argv (the enriched and ECS encoders, the process table) classifies
/// keys the same way, through this.
public enum ExecveArgumentKey: Hashable, Sendable {
    /// `argc`.
    case argc
    /// `aN`: a whole argument.
    case whole
    /// `aN_len`: the length of an argument given in parts.
    case length
    /// `aN[i]`: one part.
    case part
    /// Any other name.
    case other

    /// The kind of `key` (a field name's bytes).
    @inlinable
    public static func classify(_ key: UnsafeRawBufferPointer) -> ExecveArgumentKey {
        if key.count == 4, key[0] == 0x61, key[1] == 0x72, key[2] == 0x67, key[3] == 0x63 { return .argc }
        guard key.count >= 2, key[0] == UInt8(ascii: "a") else { return .other }
        var index = 1
        while index < key.count, (0x30...0x39).contains(key[index]) { index += 1 }
        guard index > 1 else { return .other }
        if index == key.count { return .whole }
        if key[index] == UInt8(ascii: "["), key[key.count - 1] == UInt8(ascii: "]") { return .part }
        if key.count - index == 4, key[index] == UInt8(ascii: "_"), key[index + 1] == UInt8(ascii: "l") {
            return .length
        }
        return .other
    }
}
