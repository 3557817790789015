/// One frame from the server.
package struct RELPIncomingFrame: Sendable, Hashable {
    /// What the frame is.
    package enum Command: Sendable, Hashable {
        /// A response; `status` is its 3-digit code (200 OK, 500 error), nil when its data is
        /// empty (imrelp answers `close` with `rsp 0`).
        case response(status: Int?)
        /// The server's hint that it is closing the session.
        case serverClose
        /// Any other command (its name is `RELPResponseParser.command`).
        case other
    }

    /// The frame's TXNR: the command it answers, or 0 for a hint. 0…999 999 999.
    package var transaction: UInt32
    /// What the frame is.
    package var command: Command
    /// DATALEN.
    package var dataLength: Int
}

/// Splits the bytes a RELP server sends into frames, however they arrive: a frame over several
/// reads, several frames in one read. Bad input is a `RELPProtocolError`, never a trap; DATALEN is
/// bounded by `maximumDataLength`, so a hostile server cannot make the parser buffer more than one
/// frame of that size (plus what one read appends).
///
/// Usage: `append` what was read, then call `next()` until it returns nil (more bytes needed).
/// The data of the frame `next()` returned stays readable (`data`, `responseData`) until the next
/// call of `append`, `next` or `reset`. Buffers are reused: parsing allocates nothing once they
/// have grown.
package struct RELPResponseParser: Sendable {
    /// The most bytes of DATA accepted in one frame. A server's responses are a status line and,
    /// for `open`, a few offers: 64 KiB is far more than any needs.
    package let maximumDataLength: Int
    private var buffer: [UInt8] = []
    /// The first byte not yet parsed.
    private var start = 0
    /// Bytes discarded from the front of `buffer` since the session began (for error offsets).
    private var discarded = 0
    private var lastData: Range<Int> = 0..<0
    private var lastCommand: Range<Int> = 0..<0
    /// The first error: after it the stream cannot be parsed any further.
    private var failure: RELPProtocolError?

    package init(maximumDataLength: Int = 64 << 10) {
        precondition(maximumDataLength >= 0 && maximumDataLength <= RELPFrame.maximumDataLength)
        self.maximumDataLength = maximumDataLength
    }

    /// Bytes received and not yet returned as frames.
    package var bufferedBytes: Int { buffer.count - start }

    /// Forgets everything (a new connection).
    package mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        discarded = 0
        lastData = 0..<0
        lastCommand = 0..<0
        failure = nil
    }

    /// Adds bytes read from the connection.
    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Adds bytes read from the connection.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Drops the bytes already parsed once they are a large part of the buffer.
    private mutating func compact() {
        lastData = 0..<0
        lastCommand = 0..<0
        if start == buffer.count {
            discarded += start
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 4096, start * 2 >= buffer.count {
            discarded += start
            buffer.removeSubrange(0..<start)
            start = 0
        }
    }

    /// The DATA of the frame last returned by `next()`.
    package var data: ArraySlice<UInt8> { buffer[lastData] }

    /// The COMMAND of the frame last returned by `next()`.
    package var command: ArraySlice<UInt8> { buffer[lastCommand] }

    /// For an `rsp`: what follows the status line (`200 OK\n` + this): the server's offers in
    /// the answer to `open`; empty when there is none.
    package var responseData: ArraySlice<UInt8> {
        let data = buffer[lastData]
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { return data[data.endIndex...] }
        return data[(newline + 1)...]
    }

    /// The next complete frame, nil when more bytes are needed. After an error every call
    /// throws the same error.
    package mutating func next() throws(RELPProtocolError) -> RELPIncomingFrame? {
        if let failure { throw failure }
        do {
            return try parse()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func parse() throws(RELPProtocolError) -> RELPIncomingFrame? {
        let frameStart = start
        let end = buffer.count
        var position = frameStart
        func fail(_ kind: RELPProtocolError.Kind) -> RELPProtocolError {
            RELPProtocolError(kind, offset: discarded + frameStart, excerpt: buffer[frameStart..<end])
        }

        // TXNR SP
        var transaction = 0
        var digits = 0
        while position < end, let digit = Self.digit(buffer[position]) {
            digits += 1
            guard digits <= 9 else { throw fail(.badTransactionNumber) }
            transaction = transaction * 10 + digit
            position += 1
        }
        guard position < end else { return nil }
        guard digits > 0, buffer[position] == UInt8(ascii: " ") else { throw fail(.badTransactionNumber) }
        position += 1

        // COMMAND SP
        let commandStart = position
        while position < end, Self.isLetter(buffer[position]) {
            guard position - commandStart < 32 else { throw fail(.badCommand) }
            position += 1
        }
        guard position < end else { return nil }
        guard position > commandStart, buffer[position] == UInt8(ascii: " ") else { throw fail(.badCommand) }
        let commandRange = commandStart..<position
        position += 1

        // DATALEN, then SP DATA LF, or LF alone when DATALEN is 0 (SP LF is tolerated too)
        var length = 0
        digits = 0
        while position < end, let digit = Self.digit(buffer[position]) {
            digits += 1
            guard digits <= 9 else { throw fail(.badDataLength) }
            length = length * 10 + digit
            position += 1
        }
        guard position < end else { return nil }
        guard digits > 0 else { throw fail(.badDataLength) }
        guard length <= maximumDataLength else {
            throw fail(.dataTooLong(length: length, limit: maximumDataLength))
        }
        let dataRange: Range<Int>
        if length == 0 && buffer[position] == UInt8(ascii: "\n") {
            dataRange = position..<position
        } else {
            guard buffer[position] == UInt8(ascii: " ") else { throw fail(.badDataLength) }
            position += 1
            guard end - position > length else { return nil }  // DATA and the trailer
            dataRange = position..<(position + length)
            position += length
        }
        guard buffer[position] == UInt8(ascii: "\n") else { throw fail(.missingTrailer) }
        position += 1

        let kind: RELPIncomingFrame.Command
        if buffer[commandRange].elementsEqual("rsp".utf8) {
            kind = .response(status: try status(of: dataRange, fail))
        } else if buffer[commandRange].elementsEqual("serverclose".utf8) {
            kind = .serverClose
        } else {
            kind = .other
        }
        start = position
        lastData = dataRange
        lastCommand = commandRange
        return RELPIncomingFrame(transaction: UInt32(transaction), command: kind, dataLength: length)
    }

    /// The 3-digit status at the start of an rsp's data; nil for empty data.
    private func status(
        of range: Range<Int>, _ fail: (RELPProtocolError.Kind) -> RELPProtocolError
    ) throws(RELPProtocolError) -> Int? {
        if range.isEmpty { return nil }
        guard range.count >= 3 else { throw fail(.badResponseStatus) }
        var value = 0
        for index in range.lowerBound..<(range.lowerBound + 3) {
            guard let digit = Self.digit(buffer[index]) else { throw fail(.badResponseStatus) }
            value = value * 10 + digit
        }
        if range.count > 3 {
            let after = buffer[range.lowerBound + 3]
            guard after == UInt8(ascii: " ") || after == UInt8(ascii: "\n") else { throw fail(.badResponseStatus) }
        }
        return value
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
