package import AuditEncoding
import AuditEvents
import AuditNetlink

/// An `OutputItem` as a spool entry's payload and back: the JSON line and, when the item carries
/// it, the structured event.
///
/// Why the event too: the network writers take fields from it (syslog's MSGID and `types=`,
/// GELF's `_syscall`, `_record_types` and the `_uid`… fields). An item read back from the spool
/// must make the same message as the item that went in, or a collector outage would change what
/// the central tier sees. The event's records are its raw bytes, so the cost is about the line's
/// size again, on disk only, and only during an outage.
///
/// Layout, little-endian: `u8 version (1)`, `u8 hasEvent`, `u32 lineLength`, line; with an event:
/// `u64 seconds`, `u16 milliseconds`, `u32 serial`, `u8 completion`, `u8 flags`, `u32 records`, then
/// per record `u16 type`, `u32 bodyLength`, body.
package enum SpoolItemCodec {
    /// The payload for `item`.
    package static func encode(_ item: OutputItem, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        let event = item.event
        bytes.append(1)
        bytes.append(event == nil ? 0 : 1)
        append(UInt32(item.lineCount), to: &bytes)
        item.withLineBytes { bytes.append(contentsOf: $0) }
        guard let event else { return }
        append(event.id.seconds, to: &bytes)
        append(event.id.milliseconds, to: &bytes)
        append(event.id.serial, to: &bytes)
        let completion: UInt8 =
            switch event.completion {
            case .endOfEvent: 0
            case .standalone: 1
            case .timeout: 2
            case .eviction: 3
            case .shutdown: 4
            }
        bytes.append(completion)
        bytes.append(event.flags.rawValue)
        append(UInt32(event.count), to: &bytes)
        for record in event.records {
            append(record.type.rawValue, to: &bytes)
            append(UInt32(record.body.count), to: &bytes)
            bytes.append(contentsOf: record.body)
        }
    }

    /// The item in `payload`, or nil when the bytes are not a payload of this layout (which a
    /// checksummed entry never is, unless written by another version).
    package static func decode(_ payload: [UInt8]) -> OutputItem? {
        var reader = Reader(bytes: payload)
        guard reader.byte() == 1, let hasEvent = reader.byte(), let lineLength = reader.integer(UInt32.self),
            let line = reader.bytes(Int(lineLength))
        else { return nil }
        guard hasEvent == 1 else { return hasEvent == 0 && reader.atEnd ? OutputItem(line: Array(line)) : nil }
        guard let seconds = reader.integer(UInt64.self), let milliseconds = reader.integer(UInt16.self),
            let serial = reader.integer(UInt32.self), let completionCode = reader.byte(), let flags = reader.byte(),
            let count = reader.integer(UInt32.self)
        else { return nil }
        var event = AuditEvent(id: AuditEventID(seconds: seconds, milliseconds: milliseconds, serial: serial))
        event.completion =
            switch completionCode {
            case 0: .endOfEvent
            case 1: .standalone
            case 2: .timeout
            case 3: .eviction
            default: .shutdown
            }
        event.flags = AuditEvent.Flags(rawValue: flags)
        for _ in 0..<count {
            guard let type = reader.integer(UInt16.self), let length = reader.integer(UInt32.self),
                let body = reader.bytes(Int(length))
            else { return nil }
            event.append(type: AuditMessageType(rawValue: type), body: body)
        }
        guard reader.atEnd else { return nil }
        return OutputItem(line: Array(line), event: event)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        var value = value.littleEndian
        withUnsafeBytes(of: &value) { bytes.append(contentsOf: $0) }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - offset >= size else { return nil }
            var value: T = 0
            for index in (0..<size).reversed() { value = value << 8 | T(bytes[offset + index]) }
            offset += size
            return value
        }

        mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, bytes.count - offset >= count else { return nil }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }
    }
}
