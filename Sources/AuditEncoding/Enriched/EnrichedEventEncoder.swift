package import AuditEvents

/// Turns reassembled events into laurel-compatible JSON lines (placeholder: being written).
package struct EnrichedEventEncoder: Sendable {
    package private(set) var users: UserDirectory
    package private(set) var groups: UserDirectory
    package let hostname: String?

    package init(hostname: String? = nil, users: UserDirectory, groups: UserDirectory) {
        self.hostname = hostname
        self.users = users
        self.groups = groups
    }

    package mutating func encode(_ event: AuditEvent, into writer: inout JSONWriter) {
        var raw = EventEncoder(hostname: hostname, users: users)
        raw.encode(event, into: &writer)
    }
}
