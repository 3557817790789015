/// A RELP transaction number: 1…999 999 999, then 1 again (0 is reserved for hints such as
/// `serverclose`, which get no response).
package struct RELPTransactionNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest transaction number; the next one after it is 1 (the protocol's "latch").
    package static let maximum: UInt32 = 999_999_999
    /// The first transaction number of a session (the `open` command).
    package static let first = RELPTransactionNumber(unchecked: 1)

    /// 1…999 999 999.
    package let value: UInt32

    /// A transaction number, or nil outside 1…999 999 999.
    package init?(_ value: UInt32) {
        guard value >= 1, value <= Self.maximum else { return nil }
        self.value = value
    }

    private init(unchecked value: UInt32) { self.value = value }

    /// The number after this one, wrapping from 999 999 999 to 1.
    package var next: RELPTransactionNumber {
        RELPTransactionNumber(unchecked: value == Self.maximum ? 1 : value + 1)
    }

    /// How many steps of `next` lead from `self` to `later` (0 when equal), across the wrap.
    package func distance(to later: RELPTransactionNumber) -> Int {
        later.value >= value ? Int(later.value - value) : Int(Self.maximum - value) + Int(later.value)
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    package var description: String { String(value) }
}

/// Writes RELP frames into a caller's buffer, which is reused from frame to frame: framing an
/// event allocates nothing once the buffer has grown to the size of a batch.
package enum RELPFrame {
    /// The command names a client sends.
    package static let open: [UInt8] = Array("open".utf8)
    package static let syslog: [UInt8] = Array("syslog".utf8)
    package static let close: [UInt8] = Array("close".utf8)

    /// The largest DATALEN the grammar allows (9 digits).
    package static let maximumDataLength = 999_999_999

    /// The bytes of the header and trailer of a frame with `dataLength` bytes of data and a
    /// `commandLength`-byte command: what the frame adds around its data.
    package static func overhead(transaction: RELPTransactionNumber, commandLength: Int, dataLength: Int) -> Int {
        digits(Int(transaction.value)) + 1 + commandLength + 1 + digits(dataLength) + (dataLength > 0 ? 1 : 0) + 1
    }

    /// Appends `TXNR SP COMMAND SP DATALEN [SP DATA] LF` to `buffer`.
    ///
    /// - Precondition: `data.count` ≤ `maximumDataLength` (the writer's message limit is far below).
    package static func append(
        transaction: RELPTransactionNumber, command: [UInt8], data: some Collection<UInt8>, to buffer: inout [UInt8]
    ) {
        let count = data.count
        precondition(count <= maximumDataLength, "RELP DATALEN \(count) exceeds 9 digits")
        appendDecimal(Int(transaction.value), to: &buffer)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: command)
        buffer.append(UInt8(ascii: " "))
        appendDecimal(count, to: &buffer)
        if count > 0 {
            buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: data)
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// The number of decimal digits of `value` (≥ 0).
    static func digits(_ value: Int) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// Appends `value` (≥ 0) in decimal without going through a String.
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
