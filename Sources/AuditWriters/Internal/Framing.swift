import AuditEncoding
/// A batch of newline-framed lines in one contiguous buffer (one `write(2)`), with where each
/// line ends so that a short write can be mapped back to whole items.
struct LineBuffer {
    private(set) var bytes: [UInt8] = []
    /// The end offset (exclusive, newline included) of each line, ascending.
    private(set) var lineEnds: [Int] = []

    var isEmpty: Bool { bytes.isEmpty }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        lineEnds.removeAll(keepingCapacity: true)
    }

    mutating func append(_ item: OutputItem) {
        item.withLineBytes { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\n"))
        lineEnds.append(bytes.count)
    }

    /// How many lines lie entirely within the first `offset` bytes.
    func completeLines(within offset: Int) -> Int {
        var low = 0
        var high = lineEnds.count
        while low < high {
            let middle = (low + high) / 2
            if lineEnds[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Where line `index` starts.
    func lineStart(_ index: Int) -> Int { index == 0 ? 0 : lineEnds[index - 1] }

    /// The bytes of line `index`, newline included.
    func line(_ index: Int) -> [UInt8] { Array(bytes[lineStart(index)..<lineEnds[index]]) }
}

/// A line the writer has taken over after a short write: `written` bytes of it are already at
/// the end of the destination, and the rest must go out before anything else.
struct PartialLine {
    var bytes: [UInt8]
    var written: Int
}
