import AuditEncoding
import Glibc

/// Several complete messages back to back in one buffer: the parts of a split syslog event, the
/// chunks of a GELF document.
package struct MessageList: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [Int] = []

    /// The number of complete messages.
    package var count: Int { ends.count }
    /// True when there is none.
    package var isEmpty: Bool { ends.isEmpty }

    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// Appends to the message being built.
    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Appends to the message being built.
    mutating func append(contentsOf other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    /// Ends the message being built.
    mutating func finishMessage() { ends.append(bytes.count) }

    /// Where message `index` lies in `bytes`.
    func range(_ index: Int) -> Range<Int> { (index == 0 ? 0 : ends[index - 1])..<ends[index] }

    /// The bytes of message `index`.
    package func message(_ index: Int) -> ArraySlice<UInt8> { bytes[range(index)] }

    /// Runs `body` with the bytes of message `index`.
    func withMessage<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let range = range(index)
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// The datagrams of one item that did not all go out (the socket stalled, the receiver went away
/// mid-item): the rest is sent first when the worker hands the same item back, so a split event
/// or a chunked GELF document is never sent twice or renumbered.
struct PendingDatagrams: Sendable {
    /// The item's line, to recognise it.
    var line: [UInt8]
    var messages: MessageList
    /// The first message not yet sent.
    var next: Int
}

/// How sending some datagrams ended.
package enum DatagramResult: Sendable, Hashable {
    /// All sent.
    case sent(bytes: Int)
    /// Stopped at message `index` with `errno`; `bytes` went out before it.
    case failed(index: Int, errno: Int32, bytes: Int)
}

extension NetworkLink {
    /// Sends `messages[from...]` as datagrams. On UDP, an ECONNREFUSED (the port-unreachable
    /// answer to an earlier datagram, reported on this send, which did not go out) is counted in
    /// `activity.refusedDatagrams` and the send is retried, up to twice.
    mutating func sendDatagrams(_ messages: MessageList, from start: Int, countRefusals: Bool) -> DatagramResult {
        var bytes = 0
        var index = start
        var refusals = 0
        while index < messages.count {
            let code = messages.withMessage(index) { sendDatagram($0) }
            if code == 0 {
                bytes += messages.range(index).count
                index += 1
                continue
            }
            if code == ECONNREFUSED && countRefusals {
                activity.refusedDatagrams += 1
                refusals += 1
                if refusals <= 2 { continue }
            }
            return .failed(index: index, errno: code, bytes: bytes)
        }
        return .sent(bytes: bytes)
    }
}

/// What a framer made of one item.
enum FrameOutcome {
    /// The frame was appended; `activity` (a truncation) counts once the frame is sent.
    case framed(WriterActivity)
    /// The item cannot be sent by this output (`isRetryable == false`).
    case rejected(WriterError)
}

/// Turns items into stream frames (syslog octet-counting or newline, GELF NUL-terminated).
protocol StreamFramer {
    /// Appends `item` as one frame, framing included, to `buffer`.
    mutating func appendFrame(_ item: OutputItem, to buffer: inout [UInt8]) -> FrameOutcome
}

/// Writes items to a stream link in large batches, never leaving half a frame behind on a live
/// connection.
///
/// When a send stalls mid-frame (a collector that stopped reading), the rest of that frame is
/// kept and sent before anything else on the same connection: the item it belongs to is not
/// reported as written, and when the worker hands it back it counts as done once the rest is
/// out. When the connection breaks instead, the receiver discards the incomplete frame with the
/// connection and the item is sent again, whole, on the next one.
struct StreamSender: Sendable {
    /// Bytes gathered before a `send(2)`.
    static let batchBytes = 256 << 10

    private var buffer: [UInt8] = []
    private var itemEnds: [Int] = []
    private var itemActivity: [WriterActivity] = []
    private var tail: Tail?

    /// The unsent rest of a frame.
    private struct Tail {
        var line: [UInt8]
        var rest: [UInt8]
        var frameBytes: Int
        var generation: Int
        var activity: WriterActivity
    }

    /// Writes `items` in order; see `EventWriter.write` for the contract.
    mutating func write<Framer: StreamFramer>(
        _ items: ArraySlice<OutputItem>, link: inout NetworkLink, framer: inout Framer
    ) throws(WriterError) -> WriteOutcome {
        var outcome = WriteOutcome()
        var done = 0
        func failure(_ error: WriterError) -> WriterError {
            outcome.activity += link.takeActivity()
            return error.after(items: done, bytes: outcome.bytes, activity: outcome.activity)
        }
        link.dropIfPeerClosed()
        if let pending = tail, pending.generation != link.generation || !link.isConnected {
            tail = nil  // the connection that held the half frame is gone, and the half frame with it
        }
        do {
            try link.connect()
        } catch {
            throw failure(error)
        }
        if var pending = tail {
            let (sent, code) = pending.rest.withUnsafeBytes { link.sendStream($0) }
            if code != 0 {
                pending.rest.removeFirst(sent)
                if code == EAGAIN { tail = pending } else { tail = nil; link.disconnect() }
                throw failure(streamError(code, link: link))
            }
            tail = nil
            if let first = items.first, first.line == pending.line {
                done = 1
                outcome.bytes += pending.frameBytes
                outcome.activity += pending.activity
            }
        }
        var index = items.startIndex + done
        while index < items.endIndex {
            buffer.removeAll(keepingCapacity: true)
            itemEnds.removeAll(keepingCapacity: true)
            itemActivity.removeAll(keepingCapacity: true)
            var rejection: WriterError?
            while index < items.endIndex, buffer.count < Self.batchBytes {
                let start = buffer.count
                switch framer.appendFrame(items[index], to: &buffer) {
                case .framed(let activity):
                    itemEnds.append(buffer.count)
                    itemActivity.append(activity)
                    index += 1
                case .rejected(let error):
                    buffer.removeSubrange(start...)
                    rejection = error
                }
                if rejection != nil { break }
            }
            let (sent, code) = buffer.withUnsafeBytes { link.sendStream($0) }
            let complete = code == 0 ? itemEnds.count : completeFrames(within: sent)
            for position in 0..<complete { outcome.activity += itemActivity[position] }
            let completeEnd = complete == 0 ? 0 : itemEnds[complete - 1]
            done += complete
            outcome.bytes += completeEnd
            if code != 0 {
                if sent > completeEnd, code == EAGAIN {
                    let itemIndex = items.startIndex + done
                    tail = Tail(
                        line: items[itemIndex].line, rest: Array(buffer[sent..<itemEnds[complete]]),
                        frameBytes: itemEnds[complete] - completeEnd, generation: link.generation,
                        activity: itemActivity[complete])
                } else if code != EAGAIN {
                    link.disconnect()
                }
                throw failure(streamError(code, link: link))
            }
            if let rejection { throw failure(rejection) }
        }
        outcome.activity += link.takeActivity()
        return outcome
    }

    /// How many frames lie entirely within the first `offset` bytes.
    private func completeFrames(within offset: Int) -> Int {
        var low = 0
        var high = itemEnds.count
        while low < high {
            let middle = (low + high) / 2
            if itemEnds[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// At close: sends the rest of a frame cut short, if its connection is still up, so the
    /// receiver does not see a torn frame. Returns false when it could not.
    mutating func finishTail(link: inout NetworkLink) -> Bool {
        guard let pending = tail else { return true }
        tail = nil
        guard link.isConnected, pending.generation == link.generation else { return true }
        let (_, code) = pending.rest.withUnsafeBytes { link.sendStream($0) }
        return code == 0
    }
}

/// The retryable error for a failed stream or datagram send.
func streamError(_ code: Int32, link: NetworkLink) -> WriterError {
    WriterError(
        code: code == EAGAIN ? .stalled : .write, target: link.target, errno: code,
        detail: code == EAGAIN
            ? "nothing accepted for \(link.sendTimeout) ms" : (link.tls == nil ? "" : link.lastTLSFailure))
}
