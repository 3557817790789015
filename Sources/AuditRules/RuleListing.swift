internal import AuditSystem

extension AuditRule {
    /// The line `auditctl -l` prints for this rule (without the newline), byte for byte as
    /// auditctl 3.0.9 formats it.
    ///
    /// `host` names syscalls of rules without an `arch` field, as auditctl uses the machine it runs
    /// on. Strings are emitted as their raw bytes, as auditctl does; see ``auditctlListingBytes(host:)``
    /// when a path or key may not be UTF-8.
    public func auditctlListing(host: AuditMachine) -> String {
        String(decoding: auditctlListingBytes(host: host), as: UTF8.self)
    }

    /// The `auditctl -l` line as bytes, so that non-UTF-8 paths and keys survive unchanged.
    public func auditctlListingBytes(host: AuditMachine) -> [UInt8] {
        var out = ListingWriter()
        let watch = isWatch
        if !watch {
            out.append("-a \(action.name ?? "(null)"),\(listingListName)")
            var machine: AuditMachine? = host
            for condition in fields where condition.field == .arch {
                guard case .number(let value) = condition.value else { continue }
                let op = condition.op.symbol ?? "(null)"
                if let archMachine = AuditMachine(elf: value) {
                    out.append(" -F arch\(op)\(archMachine.bitnessName)")
                    machine = archMachine
                } else {
                    out.append(" -F arch\(op)0x\(String(value, radix: 16, uppercase: true))")
                    machine = nil
                }
            }
            appendSyscalls(to: &out, machine: machine)
        }
        for condition in fields where condition.field != .arch {
            appendCondition(condition, watch: watch, to: &out)
        }
        return out.bytes
    }

    /// auditctl's list name for the full `flags` value (`(null)` when it has none, as printf does;
    /// that includes a blob still carrying `AUDIT_FILTER_PREPEND`, which the kernel never returns).
    private var listingListName: String {
        prepend ? "(null)" : (list.name ?? "(null)")
    }

    /// auditctl prints a rule as `-w path -p perms -k key` when it only has path/dir, perm and key
    /// fields, has a perm field, and covers all syscalls.
    var isWatch: Bool {
        var hasPermission = false
        for condition in fields {
            switch condition.field {
            case .permission: hasPermission = true
            case .filterKey, .directory, .watch: break
            default: return false
            }
        }
        let filter = list.rawValue & 0x07
        let coversAll =
            filter == RuleList.user.rawValue || filter == RuleList.task.rawValue
            || filter == RuleList.exclude.rawValue || syscalls.isAll
        return hasPermission && coversAll
    }

    private func appendSyscalls(to out: inout ListingWriter, machine: AuditMachine?) {
        let filter = list.rawValue & 0x07
        if filter == RuleList.user.rawValue || filter == RuleList.task.rawValue
            || filter == RuleList.exclude.rawValue || filter == RuleList.filesystem.rawValue
        {
            return
        }
        if syscalls.isAll {
            out.append(" -S all")
            return
        }
        let table: SyscallTable? = filter == RuleList.ioUring.rawValue ? SyscallTable.ioUring : machine?.syscalls
        var first = true
        for number in syscalls.numbers {
            let name = table?.name(of: number) ?? String(number)
            out.append(first ? " -S \(name)" : ",\(name)")
            first = false
        }
    }

    private func appendCondition(_ condition: RuleCondition, watch: Bool, to out: inout ListingWriter) {
        let field = condition.field
        let op = condition.op.symbol ?? "(null)"
        let number: UInt32
        switch condition.value {
        case .string(let bytes):
            appendString(field: field, op: op, bytes: bytes, watch: watch, to: &out)
            return
        case .number(let value):
            number = value
        }
        if field == .fieldCompare {
            if let entry = FieldComparisons.table.first(where: { $0.0 == number }) {
                out.append(" -C \(entry.1)\(op)\(entry.2)")
            }
            return
        }
        guard let name = field.name else {
            out.append(" f\(field.rawValue)\(op)\(Int32(bitPattern: number))")
            return
        }
        let signed = Int32(bitPattern: number)
        switch field {
        case .messageType:
            if let typeName = AuditMessageTypeNames.name(of: number) {
                out.append(" -F \(name)\(op)\(typeName)")
            } else {
                out.append(" -F \(name)\(op)\(signed)")
            }
        case .permission:
            let letters = PermissionBits.text(number)
            out.append(watch ? " -p \(letters)" : " -F perm=\(letters)")
        case .inode:
            out.append(" -F \(name)\(op)\(number)")
        case .argument0, .argument1, .argument2, .argument3:
            out.append(" -F \(name)\(op)0x\(String(number, radix: 16, uppercase: true))")
        case .exit:
            if signed < 0, let errnoName = ErrnoTable.namesByNumber[-Int(signed)] {
                out.append(" -F \(name)\(op)-\(errnoName)")
            } else {
                out.append(" -F \(name)\(op)\(signed)")
            }
        case .fileSystemType:
            if let entry = FileSystemTypeNames.table.first(where: { $0.1 == number }) {
                out.append(" -F \(name)\(op)\(entry.0)")
            } else {
                out.append(" -F \(name)\(op)\(signed)")
            }
        default:
            out.append(" -F \(name)\(op)\(signed)")
        }
    }

    private func appendString(field: RuleField, op: String, bytes: [UInt8], watch: Bool, to out: inout ListingWriter) {
        switch field {
        case .watch:
            out.append(watch ? "-w " : " -F path=")
            out.append(bytes)
        case .directory:
            out.append(watch ? "-w " : " -F dir=")
            out.append(bytes)
        case .filterKey:
            for part in bytes.split(separator: RuleLimits.keySeparator, omittingEmptySubsequences: true) {
                out.append(watch ? " -k " : " -F key=")
                out.append(Array(part))
            }
        case .executable:
            out.append(" -F exe=")
            out.append(bytes)
        default:
            out.append(" -F \(field.name ?? "f\(field.rawValue)")\(op)")
            out.append(bytes)
        }
    }
}

/// Builds a listing line as bytes.
struct ListingWriter {
    var bytes: [UInt8] = []
    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
}
