/// How many copies of its parts glibc's `regcomp` would make of a regular expression, checked
/// before compiling it.
///
/// glibc compiles a repetition by copying its operand: `a+` is `aa*`, `a{1,300}` holds 300 copies,
/// and nested repetitions multiply (`((a{1,200}){1,200}){1,200}` is eight million copies). Memory
/// grows with the copies and worse, so one line of a configuration could take gigabytes and get the
/// daemon killed at a reload (found by the FilterConfig fuzz target: `a{1,16000}` took 2 GB). The
/// budget refuses such an expression with a clear message instead; every expression a filter needs
/// in practice (a path prefix, an alternation of names, a class with a count) is far below it.
enum RegexBudget {
    /// The largest count a `{m,n}` may name.
    static let largestCount = 255
    /// The most copies any part may get through nested repetitions.
    static let largestProduct = 1000
    /// The most copies of all parts together.
    static let largestTotal = 10_000

    /// nil when `pattern` is within the budget, else why not.
    static func problem(_ pattern: String) -> String? {
        let bytes = Array(pattern.utf8)
        // Per open group: the largest cost of one of its elements, the sum of its elements' costs,
        // and the cost of its last element (what a following repetition multiplies).
        struct Frame {
            var largest = 1
            var total = 0
            var last = 0
        }
        var stack = [Frame()]
        var index = 0
        func element(_ cost: Int) {
            stack[stack.count - 1].last = cost
            stack[stack.count - 1].largest = max(stack[stack.count - 1].largest, cost)
            stack[stack.count - 1].total += cost
        }
        func repeatLast(_ factor: Int) -> String? {
            var frame = stack[stack.count - 1]
            let cost = frame.last.multipliedReportingOverflow(by: factor)
            guard !cost.overflow, cost.partialValue <= largestProduct else {
                return "its repetitions nest too deep: a part would be copied more than \(largestProduct) times"
            }
            frame.total += cost.partialValue - frame.last
            frame.last = cost.partialValue
            frame.largest = max(frame.largest, cost.partialValue)
            stack[stack.count - 1] = frame
            return frame.total > largestTotal ? "it is too large once its repetitions are expanded" : nil
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\\"):
                index += 2
                element(1)
                continue
            case UInt8(ascii: "["):
                // A bracket expression: `]` right after `[` or `[^` is literal.
                var end = index + 1
                if end < bytes.count, bytes[end] == UInt8(ascii: "^") { end += 1 }
                if end < bytes.count, bytes[end] == UInt8(ascii: "]") { end += 1 }
                while end < bytes.count, bytes[end] != UInt8(ascii: "]") {
                    // `[:alpha:]` and the like hold their own `]`.
                    if bytes[end] == UInt8(ascii: "["), end + 1 < bytes.count,
                        [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[end + 1])
                    {
                        let closer = bytes[end + 1]
                        end += 2
                        while end + 1 < bytes.count, !(bytes[end] == closer && bytes[end + 1] == UInt8(ascii: "]")) {
                            end += 1
                        }
                        end += 2
                        continue
                    }
                    end += 1
                }
                index = end + 1
                element(1)
                continue
            case UInt8(ascii: "("):
                stack.append(Frame())
            case UInt8(ascii: ")") where stack.count > 1:
                let group = stack.removeLast()
                element(max(group.largest, group.total))
            case UInt8(ascii: "|"):
                stack[stack.count - 1].last = 0
            case UInt8(ascii: "+"):
                if let problem = repeatLast(2) { return problem }
            case UInt8(ascii: "*"), UInt8(ascii: "?"):
                break
            case UInt8(ascii: "{"):
                var end = index + 1
                var counts: [Int] = []
                var number: Int?
                while end < bytes.count, bytes[end] != UInt8(ascii: "}") {
                    if (0x30...0x39).contains(bytes[end]) {
                        number = min((number ?? 0) * 10 + Int(bytes[end] - 0x30), 1_000_000)
                    } else if bytes[end] == UInt8(ascii: ",") {
                        counts.append(number ?? 0)
                        number = nil
                    }
                    end += 1
                }
                counts.append(number ?? 0)
                let largest = counts.max() ?? 0
                guard largest <= largestCount else {
                    return "a repetition count of \(largest) is above \(largestCount)"
                }
                // `{m,}` is m copies and a loop; `{m,n}` is n copies.
                if let problem = repeatLast(max(largest, 1) + 1) { return problem }
                index = end
            default:
                element(1)
            }
            index += 1
        }
        let top = stack.reduce(0) { $0 + max($1.largest, $1.total) }
        return top > largestTotal ? "it is too large once its repetitions are expanded" : nil
    }
}
