import AuditNetlink
import AuditTestSupport
import Foundation
import Testing

/// Replays the datagrams captured on a real kernel (`../shared/corpus/local/*.bin`) through the
/// decoder and checks each payload against the capture's `.tsv` twin, byte for byte.
@Suite(.requires(.corpus)) struct CorpusReplayTests {
    static let scenarios = ["exec", "file_watch", "user_mgmt", "mount", "module", "ptrace", "misc_kernel"]
    static let framings = ["unicast", "netlink"]

    /// Splits `[u32 LE length][datagram]…`.
    static func frames(_ data: [UInt8]) -> [ArraySlice<UInt8>]? {
        var frames: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < data.count {
            guard offset + 4 <= data.count else { return nil }
            let length =
                Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3])
                << 24
            offset += 4
            guard offset + length <= data.count else { return nil }
            frames.append(data[offset..<offset + length])
            offset += length
        }
        return frames
    }

    /// Reads `TYPE<TAB>PAYLOAD` lines, undoing the capture's `\\ \t \n \r \xHH` escapes.
    static func tsv(_ data: [UInt8]) -> [(UInt16, [UInt8])] {
        var rows: [(UInt16, [UInt8])] = []
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard line.first != UInt8(ascii: "#"), let tab = line.firstIndex(of: 9),
                let type = UInt16(String(decoding: line[line.startIndex..<tab], as: UTF8.self))
            else { continue }
            var payload: [UInt8] = []
            var index = tab + 1
            while index < line.endIndex {
                let byte = line[index]
                if byte == UInt8(ascii: "\\"), index + 1 < line.endIndex {
                    switch line[index + 1] {
                    case UInt8(ascii: "\\"): payload.append(0x5c); index += 2
                    case UInt8(ascii: "t"): payload.append(9); index += 2
                    case UInt8(ascii: "n"): payload.append(10); index += 2
                    case UInt8(ascii: "r"): payload.append(13); index += 2
                    case UInt8(ascii: "x"):
                        payload.append(
                            UInt8(String(decoding: line[index + 2..<index + 4], as: UTF8.self), radix: 16) ?? 0)
                        index += 4
                    default: payload.append(byte); index += 1
                    }
                } else {
                    payload.append(byte)
                    index += 1
                }
            }
            rows.append((type, payload))
        }
        return rows
    }

    @Test(arguments: scenarios, framings)
    func everyCapturedDatagramDecodesToItsRecordedPayload(scenario: String, framing: String) throws {
        let bin = try Corpus.read("local/\(scenario).\(framing).bin")
        let expected = Self.tsv(try Corpus.read("local/\(scenario).\(framing).tsv"))
        let datagrams = try #require(Self.frames(bin), "capture framing is broken")
        #expect(datagrams.count == expected.count)
        #expect(datagrams.count > 20)
        for (datagram, (type, payload)) in zip(datagrams, expected) {
            let message = try Array(datagram).withUnsafeBytes { try NetlinkMessage.decode($0) }
            #expect(message.type.rawValue == type)
            #expect(Array(Array(datagram)[message.payload]) == payload, "type \(type)")
        }
    }

    @Test func unicastCapturesCarryTheLengthQuirkAndMulticastOnesDoNot() throws {
        for (file, quirk) in [("local/exec.unicast.bin", true), ("local/exec.netlink.bin", false)] {
            let datagrams = try #require(Self.frames(try Corpus.read(file)))
            for datagram in datagrams {
                let bytes = Array(datagram)
                let message = try bytes.withUnsafeBytes { try NetlinkMessage.decode($0) }
                guard message.type.rawValue >= 1100 else { continue }
                let expectedLength = quirk ? bytes.count - 16 : bytes.count
                #expect(Int(message.declaredLength) == expectedLength)
            }
        }
    }

    @Test func truncatedCaptureDatagramsNeverCrash() throws {
        let datagrams = try #require(Self.frames(try Corpus.read("local/misc_kernel.unicast.bin")))
        for datagram in datagrams.prefix(40) {
            let bytes = Array(datagram)
            for cut in stride(from: 0, to: bytes.count, by: 7) {
                let prefix = Array(bytes.prefix(cut))
                let result = prefix.withUnsafeBytes { buffer in
                    Result { () throws(NetlinkDecodeError) in try NetlinkMessage.decode(buffer) }
                }
                if case .success(let message) = result { #expect(message.payload.upperBound <= cut) }
            }
        }
    }
}
