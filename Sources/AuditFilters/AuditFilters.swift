// Keep/drop rules for events (see docs/design.md, "Filters", and docs/configuration.md, "Filters").
//
// The pieces:
// - `FilterRule`, `FilterCondition`: one named rule as the configuration writes it, its values
//   already checked and resolved (syscall names to numbers per architecture, user names to uids).
// - `FilterPlan`: which rules run, in which order: the global list, then each output's own list,
//   and which outputs take the events another output filters out.
// - `EventFilter`: the plan compiled for the processing thread, evaluated once per event without
//   allocating, with its counters (`FilterCounters`).

/// What a rule does with an event it matches.
package enum FilterAction: String, Hashable, Sendable, CaseIterable {
    /// The event goes on (to the next list, or to the output); later rules of the list are not tried.
    case keep
    /// The event is filtered out: it does not reach the output (or, in the global list, any output
    /// except those that take filtered events).
    case drop
}

/// What a condition looks at. The raw value is the configuration key (`filter.NAME.uid`).
package enum FilterField: String, Hashable, Sendable, CaseIterable {
    /// Every event: a catch-all rule (`all = yes`), for lists that keep a few kinds and drop the rest.
    case all
    /// The rule key (`key=`, as `ausearch -k` reads it); `(null)` for events without one.
    case key
    /// A record type of the event (names, numbers, ranges).
    case type
    /// The `SYSCALL` record's syscall, by name (resolved per architecture) or number.
    case syscall
    /// The `SYSCALL` record's architecture.
    case arch
    /// `success=` of the `SYSCALL` record, or else `res=` of a user-space record.
    case success
    /// The real user id.
    case uid
    /// The login user id (`unset` when no login set it).
    case auid
    /// The effective user id.
    case euid
    /// The executable's path (`exe=`).
    case exe
    /// The command name (`comm=`).
    case comm
    /// The `SOCKADDR` record's address: CIDR and/or port.
    case saddr
    /// An extended regular expression (POSIX ERE) on a record's text.
    case regex
}

/// One condition of a rule: a field and the values it accepts (any of them).
package struct FilterCondition: Hashable, Sendable, CustomStringConvertible {
    /// What the condition looks at.
    package var field: FilterField
    /// The value as written in the configuration, for `--check-config` and messages.
    package var text: String
    /// The checked, resolved values.
    package var matcher: Matcher

    /// The values a condition accepts, in the form the evaluator compares.
    package enum Matcher: Hashable, Sendable {
        /// Every event.
        case all
        /// Rule keys: exact or prefix; `nil` stands for "no key".
        case keys([BytePattern?])
        /// Record types, as closed ranges of type numbers.
        case types([ClosedRange<UInt16>])
        /// Syscalls as (architecture, number) pairs; an architecture of `nil` matches any.
        case syscalls(Set<SyscallSelector>)
        /// Architectures.
        case arches([ArchSelector])
        /// `success=yes` (true) or `success=no` (false).
        case success(Bool)
        /// User ids.
        case ids([UInt32])
        /// Exact strings or prefixes (exe, comm).
        case strings([BytePattern])
        /// Socket addresses: networks and/or ports.
        case addresses([AddressPattern])
        /// A POSIX extended regular expression (checked by `regcomp` when the condition was made).
        case regex(String)
    }

    /// Creates a condition from values already checked; normally made by ``parse(_:_:users:)``.
    package init(field: FilterField, text: String, matcher: Matcher) {
        self.field = field
        self.text = text
        self.matcher = matcher
    }

    /// `field = text`.
    package var description: String { "\(field.rawValue) = \(text)" }
}

/// A string to compare with a record value's bytes (after hex decoding): exact, or a prefix.
package struct BytePattern: Hashable, Sendable {
    /// The bytes to compare.
    package var bytes: [UInt8]
    /// True when the value only has to start with `bytes` (written with a trailing `*`).
    package var isPrefix: Bool

    /// Creates a pattern.
    package init(bytes: [UInt8], isPrefix: Bool) {
        self.bytes = bytes
        self.isPrefix = isPrefix
    }
}

/// A syscall number on one architecture (`arch` = `AUDIT_ARCH_*`), or on any (`arch` = nil).
package struct SyscallSelector: Hashable, Sendable {
    /// The `AUDIT_ARCH_*` value, or nil for "any architecture".
    package var arch: UInt32?
    /// The syscall number.
    package var number: Int

    /// Creates a selector.
    package init(arch: UInt32?, number: Int) {
        self.arch = arch
        self.number = number
    }
}

/// An architecture, or all 64-bit or all 32-bit ones.
package enum ArchSelector: Hashable, Sendable {
    /// One `AUDIT_ARCH_*` value.
    case exact(UInt32)
    /// Any 64-bit ABI (`b64`).
    case bits64
    /// Any 32-bit ABI (`b32`).
    case bits32

    func matches(_ arch: UInt32) -> Bool {
        switch self {
        case .exact(let value): arch == value
        case .bits64: arch & 0x8000_0000 != 0
        case .bits32: arch & 0x8000_0000 == 0
        }
    }
}

/// One named rule: an action and the conditions that must all hold.
package struct FilterRule: Hashable, Sendable {
    /// The `NAME` in `filter.NAME.*`.
    package var name: String
    /// What a match does.
    package var action: FilterAction
    /// The conditions, all of which must hold (in ``FilterField`` order).
    package var conditions: [FilterCondition]

    /// Creates a rule; the conditions are put in ``FilterField`` order.
    package init(name: String, action: FilterAction, conditions: [FilterCondition]) {
        self.name = name
        self.action = action
        self.conditions = conditions.sorted {
            FilterField.allCases.firstIndex(of: $0.field)! < FilterField.allCases.firstIndex(of: $1.field)!
        }
    }
}

/// Which events an output receives before its own filters.
package enum OutputSelection: Hashable, Sendable {
    /// Every event, after the global list (the default).
    case all
    /// Exactly the events that output NAME does not get because of filters (the global list's or
    /// its own): laurel's `filterlog`. The global list does not apply to them again.
    case filteredOutBy(String)
}

/// The filters of one output.
package struct OutputFilters: Hashable, Sendable {
    /// The output's name.
    package var name: String
    /// Which events it receives before its own list.
    package var selection: OutputSelection
    /// Its own list, by rule name, tried after the global list.
    package var rules: [String]

    /// Creates an output's filters.
    package init(name: String, selection: OutputSelection = .all, rules: [String] = []) {
        self.name = name
        self.selection = selection
        self.rules = rules
    }
}

/// Every rule and the order they run in: the global list first (for every output that takes all
/// events), then each output's list; within a list the first rule that matches decides, and an
/// event that no rule matches is kept.
package struct FilterPlan: Hashable, Sendable {
    /// Every defined rule, by name (file order).
    package var rules: [FilterRule]
    /// The global list, by rule name.
    package var global: [String]
    /// Per output, in the pipeline's output order.
    package var outputs: [OutputFilters]

    /// Creates a plan.
    package init(rules: [FilterRule] = [], global: [String] = [], outputs: [OutputFilters] = []) {
        self.rules = rules
        self.global = global
        self.outputs = outputs
    }

    /// True when no list has a rule and no output takes filtered events: every output gets every
    /// event, and the processing stage can skip evaluation.
    package var isPassThrough: Bool {
        global.isEmpty && outputs.allSatisfy { $0.rules.isEmpty && $0.selection == .all }
    }

    /// The order an output's events go through, in words (for `--check-config`):
    /// `every event, through filters: a (drop), b (keep); then output.main.filters: c (drop); no
    /// match keeps the event`.
    package func describeOrder(of output: OutputFilters) -> String {
        func list(_ names: [String]) -> String {
            names.map { name in
                let action = rules.first { $0.name == name }?.action.rawValue ?? "?"
                return "\(name) (\(action))"
            }.joined(separator: ", ")
        }
        var steps: [String] = []
        var filtered = !output.rules.isEmpty
        switch output.selection {
        case .all:
            steps.append(global.isEmpty ? "every event" : "every event, through filters: " + list(global))
            filtered = filtered || !global.isEmpty
        case .filteredOutBy(let other):
            steps.append("exactly the events output \"\(other)\" filters out")
        }
        if !output.rules.isEmpty { steps.append("then output.\(output.name).filters: " + list(output.rules)) }
        if filtered { steps.append("no match keeps the event") }
        return steps.joined(separator: "; ")
    }
}
