/// The commands sent on a session and not yet answered: transaction number → the index of the
/// item (event) the command carried, oldest first.
///
/// Transaction numbers are handed out here, consecutively, so an entry is found by its distance
/// from the oldest one: no search, no dictionary. Responses normally come in order (the spec
/// requires it), but an out-of-order one is accepted too; the window's front moves once the
/// oldest command is answered, so `oldestPendingItem` is always the first item not fully
/// acknowledged: every item before it has all its commands answered.
///
/// `limit` is the window size the writer keeps to (how many commands may wait for an answer);
/// the storage grows past it when one item needs more commands than the limit (a long event
/// split into many messages), so that such an item can still be sent, alone.
package struct RELPWindow: Sendable {
    private struct Entry: Sendable {
        var item: Int
        var answered: Bool
    }

    /// The most commands the writer lets wait for an answer.
    package let limit: Int
    private var slots: [Entry]
    private var head = 0
    /// Commands sent and not yet popped (answered ones behind an unanswered one included).
    package private(set) var count = 0
    /// The transaction number of the oldest entry (the one at `head`).
    private var oldest: RELPTransactionNumber
    /// The transaction number the next command gets.
    package private(set) var next: RELPTransactionNumber

    /// An empty window for at most `limit` (≥ 1) waiting commands.
    package init(limit: Int) {
        precondition(limit >= 1, "a RELP window holds at least one command")
        self.limit = limit
        var capacity = 1
        while capacity < limit { capacity *= 2 }
        slots = Array(repeating: Entry(item: 0, answered: false), count: capacity)
        oldest = .first
        next = .first
    }

    /// True when nothing waits for an answer.
    package var isEmpty: Bool { count == 0 }

    /// True while fewer than `limit` commands wait.
    package var hasRoom: Bool { count < limit }

    /// Commands that may still be sent before the window is full.
    package var room: Int { max(0, limit - count) }

    /// The item of the oldest command without an answer; nil when none waits.
    package var oldestPendingItem: Int? { count == 0 ? nil : slots[head].item }

    /// Empties the window for a new session whose next command gets `next` (2 after `open`).
    package mutating func reset(next: RELPTransactionNumber) {
        head = 0
        count = 0
        oldest = next
        self.next = next
    }

    /// Takes the next transaction number for a command outside the window (`open`, `close`),
    /// which the caller answers itself.
    ///
    /// - Precondition: the window is empty (entries must have consecutive numbers).
    package mutating func takeUntracked() -> RELPTransactionNumber {
        precondition(count == 0, "open and close are sent with no command waiting")
        let number = next
        next = next.next
        oldest = next
        return number
    }

    /// Records a command carrying `item` and returns its transaction number.
    package mutating func record(item: Int) -> RELPTransactionNumber {
        if count == slots.count { grow() }
        if count == 0 { oldest = next }
        slots[(head + count) & (slots.count - 1)] = Entry(item: item, answered: false)
        count += 1
        let number = next
        next = next.next
        return number
    }

    /// Marks `transaction` answered and returns its item. Throws when no command with that
    /// number waits (never sent, already answered, or a hint's 0).
    @discardableResult
    package mutating func acknowledge(_ transaction: UInt32) throws(RELPProtocolError) -> Int {
        func unexpected() -> RELPProtocolError {
            let text = Array(String(transaction).utf8)
            return RELPProtocolError(.unexpectedTransaction(transaction), excerpt: text)
        }
        guard count > 0, let number = RELPTransactionNumber(transaction) else { throw unexpected() }
        let distance = oldest.distance(to: number)
        guard distance < count else { throw unexpected() }
        let index = (head + distance) & (slots.count - 1)
        guard !slots[index].answered else { throw unexpected() }
        slots[index].answered = true
        let item = slots[index].item
        while count > 0, slots[head].answered {
            head = (head + 1) & (slots.count - 1)
            count -= 1
            oldest = oldest.next
        }
        return item
    }

    /// Doubles the storage, keeping the entries in order.
    private mutating func grow() {
        var larger = Array(repeating: Entry(item: 0, answered: false), count: slots.count * 2)
        for offset in 0..<count { larger[offset] = slots[(head + offset) & (slots.count - 1)] }
        slots = larger
        head = 0
    }
}
