package import AuditEvents
package import AuditProcesses

/// The JSON layout of an output's events (`output.NAME.format`, `swift-audit parse --format`).
package enum EventFormat: String, Hashable, Sendable, CaseIterable {
    /// go-audit's layout: the kernel's record text unchanged (``EventEncoder``). The default.
    case raw
    /// laurel's layout: one object per event, one key per record type, values typed and
    /// translated, argv reassembled (``EnrichedEventEncoder``).
    case enriched
    /// The Elastic Common Schema, normalized as Auditbeat's `auditd` module does
    /// (``EcsEventEncoder``).
    case ecs
}

/// Encodes events in one ``EventFormat``: what the processing stage and `swift-audit parse` hold
/// per format in use.
package struct EventFormatter: Sendable {
    /// The layout this formatter writes.
    package let format: EventFormat
    // One of them is set, by `format`; optionals rather than an enum with payloads so that
    // encoding mutates the encoder in place (no copy of its caches per event).
    private var raw: EventEncoder?
    private var enriched: EnrichedEventEncoder?
    private var ecs: EcsEventEncoder?

    /// A formatter for `format`; `hostname` as in ``EventEncoder/init(hostname:users:)``, `groups`
    /// the group names of the enriched and ECS formats (an /etc/group reader by default), `ecs` the
    /// options of the ECS format.
    package init(
        format: EventFormat, hostname: String? = nil, users: UserDirectory, groups: UserDirectory? = nil,
        ecs options: EcsEventEncoder.Options = EcsEventEncoder.Options()
    ) {
        self.format = format
        switch format {
        case .raw: raw = EventEncoder(hostname: hostname, users: users)
        case .enriched:
            enriched = EnrichedEventEncoder(
                hostname: hostname, users: users, groups: groups ?? UserDirectory(path: "/etc/group"))
        case .ecs:
            ecs = EcsEventEncoder(
                hostname: hostname, users: users, groups: groups ?? UserDirectory(path: "/etc/group"),
                options: options)
        }
    }

    /// Appends `event` as one JSON line, ending in `\n`, to `writer`; `context` is its process's
    /// context from the process table (the enriched and ECS formats write it; raw has no place
    /// for it).
    package mutating func encode(_ event: AuditEvent, context: ProcessContext? = nil, into writer: inout JSONWriter) {
        switch format {
        case .raw: raw!.encode(event, into: &writer)
        case .enriched: enriched!.encode(event, context: context, into: &writer)
        case .ecs: ecs!.encode(event, context: context, into: &writer)
        }
    }
}
