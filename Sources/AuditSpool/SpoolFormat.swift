/// The bytes of the spool's files: segment entries and the position file.
///
/// # Segment files
/// `NNNNNNNNNNNNNNNN.seg` (16 decimal digits, the segment's sequence number), nothing but entries
/// back to back, each a 24-byte header and its payload:
///
/// | offset | size | field                                                        |
/// |-------:|-----:|--------------------------------------------------------------|
/// | 0      | 4    | magic `SPL1` (0x53 0x50 0x4C 0x31)                           |
/// | 4      | 4    | payload length, little-endian                                |
/// | 8      | 8    | append time, milliseconds since the epoch, little-endian     |
/// | 16     | 4    | CRC-32C of the payload, little-endian                        |
/// | 20     | 4    | CRC-32C of bytes 0…19, little-endian                         |
///
/// The header has its own checksum so that a damaged length is never trusted: a reader that
/// found a bad header cannot know where the next entry starts, and stops (a torn tail is cut off,
/// a damaged middle skips to the next segment).
///
/// # Position file
/// `position`: magic `SAPOS001`, the sequence number of the segment being read and the byte offset
/// of its first unconsumed entry (both little-endian UInt64), then the CRC-32C of those 24 bytes.
/// Written to `position.tmp` and renamed over `position`, so it is always the old or the new one.
package enum SpoolFormat {
    /// The entry header's length.
    package static let headerSize = 24
    /// `SPL1`.
    package static let magic: [UInt8] = [0x53, 0x50, 0x4C, 0x31]
    /// No entry is larger (a length above it is damage, not data): 1 GiB.
    package static let maximumPayload = 1 << 30
    /// `SAPOS001`.
    static let positionMagic: [UInt8] = Array("SAPOS001".utf8)
    /// The position file's length.
    static let positionSize = 28

    /// A segment's file name: `0000000000000042.seg`.
    package static func segmentName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".seg"
    }

    /// The sequence number in a segment file name, or nil for any other name.
    package static func segmentSequence(_ name: String) -> UInt64? {
        let bytes = Array(name.utf8)
        guard bytes.count == 20, bytes[16...].elementsEqual(".seg".utf8) else { return nil }
        var value: UInt64 = 0
        for byte in bytes[..<16] {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value &* 10 &+ UInt64(byte - 0x30)
        }
        return value
    }

    /// Appends one entry (header and payload) for `payload`, stamped `time`.
    package static func appendEntry(_ payload: UnsafeRawBufferPointer, time: UInt64, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: magic)
        appendLittleEndian(UInt32(payload.count), to: &buffer)
        appendLittleEndian(time, to: &buffer)
        appendLittleEndian(CRC32C.checksum(payload), to: &buffer)
        let headerChecksum = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        appendLittleEndian(headerChecksum, to: &buffer)
        buffer.append(contentsOf: payload)
    }

    /// What a parsed entry header says.
    package struct Header: Hashable, Sendable {
        /// The payload's length.
        package var length: Int
        /// The append time, milliseconds since the epoch.
        package var time: UInt64
        /// The payload's CRC-32C.
        package var payloadChecksum: UInt32
    }

    /// Why parsing stopped before the end of the bytes.
    package enum Damage: Error, Hashable, Sendable {
        /// Fewer than 24 bytes remain.
        case truncatedHeader
        /// The magic is wrong.
        case badMagic
        /// The header's checksum does not match.
        case badHeaderChecksum
        /// The length exceeds `maximumPayload`.
        case oversizedLength
        /// The payload runs past the end.
        case truncatedPayload
        /// The payload's checksum does not match.
        case badPayloadChecksum
    }

    /// Parses the header at the start of `bytes` (at least `headerSize` of them).
    package static func header(_ bytes: UnsafeRawBufferPointer) -> Result<Header, Damage> {
        guard bytes.count >= headerSize else { return .failure(.truncatedHeader) }
        guard bytes[0] == magic[0], bytes[1] == magic[1], bytes[2] == magic[2], bytes[3] == magic[3] else {
            return .failure(.badMagic)
        }
        let stored = littleEndian(UInt32.self, bytes, at: 20)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<20])) == stored else {
            return .failure(.badHeaderChecksum)
        }
        let length = Int(littleEndian(UInt32.self, bytes, at: 4))
        guard length <= maximumPayload else { return .failure(.oversizedLength) }
        return .success(
            Header(
                length: length, time: littleEndian(UInt64.self, bytes, at: 8),
                payloadChecksum: littleEndian(UInt32.self, bytes, at: 16)))
    }

    /// One entry found by `parse`.
    package struct Entry: Hashable, Sendable {
        /// Where its header starts.
        package var offset: Int
        /// Its header.
        package var header: Header
        /// Where its payload starts.
        package var payloadOffset: Int { offset + headerSize }
        /// Where the next entry starts.
        package var end: Int { offset + headerSize + header.length }
    }

    /// What `parse` found.
    package struct Parsed: Hashable, Sendable {
        /// The valid entries, in order.
        package var entries: [Entry] = []
        /// Where the valid entries end: the end of the last one, or the start offset.
        package var end: Int
        /// Why parsing stopped before the end of the bytes; nil when every byte belongs to an entry.
        package var damage: Damage?
    }

    /// The entries of segment bytes from `offset` on, each checked (magic, header checksum, length,
    /// payload checksum), up to the first damage, at most `limit` entries. Total: any bytes give
    /// an answer, nothing traps (the libFuzzer target `SpoolSegments` feeds it damaged files).
    package static func parse(_ bytes: UnsafeRawBufferPointer, from offset: Int = 0, limit: Int = .max) -> Parsed {
        var parsed = Parsed(end: max(0, min(offset, bytes.count)))
        var position = parsed.end
        while position < bytes.count, parsed.entries.count < limit {
            switch header(UnsafeRawBufferPointer(rebasing: bytes[position...])) {
            case .failure(let damage):
                parsed.damage = damage
                return parsed
            case .success(let header):
                let payloadStart = position + headerSize
                guard bytes.count - payloadStart >= header.length else {
                    parsed.damage = .truncatedPayload
                    return parsed
                }
                let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + header.length)])
                guard CRC32C.checksum(payload) == header.payloadChecksum else {
                    parsed.damage = .badPayloadChecksum
                    return parsed
                }
                parsed.entries.append(Entry(offset: position, header: header))
                position = payloadStart + header.length
                parsed.end = position
            }
        }
        return parsed
    }

    /// The position file's bytes for (`sequence`, `offset`).
    static func encodePosition(sequence: UInt64, offset: UInt64) -> [UInt8] {
        var bytes = positionMagic
        appendLittleEndian(sequence, to: &bytes)
        appendLittleEndian(offset, to: &bytes)
        appendLittleEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    /// The (`sequence`, `offset`) in position file bytes, or nil when they are not a valid one.
    package static func decodePosition(_ bytes: [UInt8]) -> (sequence: UInt64, offset: UInt64)? {
        guard bytes.count == positionSize, bytes.starts(with: positionMagic) else { return nil }
        return bytes.withUnsafeBytes { raw in
            guard
                CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<24])) == littleEndian(UInt32.self, raw, at: 24)
            else { return nil }
            return (littleEndian(UInt64.self, raw, at: 8), littleEndian(UInt64.self, raw, at: 16))
        }
    }
}

/// Appends `value` in little-endian byte order.
func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
    var value = value.littleEndian
    withUnsafeBytes(of: &value) { buffer.append(contentsOf: $0) }
}

/// The little-endian `T` at `offset` of `bytes` (which must hold it).
func littleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
    var value: T = 0
    for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(bytes[offset + index]) }
    return value
}
