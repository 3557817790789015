package import AuditEncoding
import Glibc

/// The decisions `SyslogWriter` makes on a datagram socket (UDP, a local datagram socket), as
/// steps and transitions without sockets, so that a test can drive them with made-up results.
///
/// For each item the writer asks `start(_:)` for the first step, performs it (lays the item out,
/// sends datagrams, sends the item over TCP) and hands the result to the transition the step
/// names, which returns the next step; `.done` moves on to the next item, `.fail` and `.reject`
/// end the write with `failure(_:linkActivity:)`.
///
///     start ─┬─ parts of this line pending ─▶ resume(from: k) ─resumed─┬▶ done
///            │                                                         └▶ fail (rest still pending)
///            └─ otherwise ─▶ layOut(limit) ─laidOut─┬▶ send ─sent─┬▶ done
///                               ▲                   │             ├▶ layOut(lower limit)  EMSGSIZE > 480
///                               └───────────────────┼─────────────┘
///                                                   │             ├▶ reject               EMSGSIZE at 480
///                                                   │             └▶ fail (parts sent so far kept pending)
///                                                   ├▶ reroute ─rerouted─▶ done     tooLarge, oversize = tcp
///                                                   └▶ reject                       tooLarge otherwise; newline
///
/// What lasts from write to write: the datagram limit (lowered for good), the warning about the
/// lowering until it is reported, and the parts of an item that did not all go out. What one
/// write adds up (items done, their bytes, the oversize handling) goes into its outcome or into
/// the error it throws.
package struct SyslogDatagramMachine: Sendable {
    /// What the writer does next with the current item.
    package enum Step: Sendable, Hashable {
        /// Lay the item out in messages of at most `limit` bytes; then `laidOut(_:)`.
        case layOut(limit: Int)
        /// Send every message of the layout; then `sent(_:of:messages:)`.
        case send
        /// Send `keptMessages` from part `from` on; then `resumed(_:)`.
        case resume(from: Int)
        /// Send the item whole over TCP; then `rerouted(bytes:)`, or `failure` with TCP's error.
        case reroute
        /// The send failed with `errno`, possibly for a while only: throw `failure` of the
        /// retryable error for that errno.
        case fail(errno: Int32)
        /// The item can never go out: throw `failure(error)` (`error` is not retryable).
        case reject(WriterError)
        /// The item is written; on to the next.
        case done
    }

    /// The smallest datagram limit; `max_message` cannot be set lower either.
    package static let floor = 480

    /// The writer's name, for errors.
    let target: String
    let oversize: SyslogWriter.Configuration.OversizePolicy
    /// The datagram limit: `max_message`, lowered for good after EMSGSIZE.
    package private(set) var limit: Int
    /// The notice that `limit` was lowered, until a write reports it.
    package private(set) var warning: WriterError?
    /// The parts of an item that did not all go out.
    private var pending: PendingDatagrams?
    /// What the current layout did (a split, a truncation), counted once it goes out.
    private var layoutActivity = WriterActivity()
    /// The progress of the current write: items done, their bytes, the activity.
    package private(set) var outcome = WriteOutcome()
    /// How many items of the current write are done.
    package private(set) var done = 0

    /// The machine of a new writer: `limit` is `max_message`.
    package init(target: String, oversize: SyslogWriter.Configuration.OversizePolicy, limit: Int) {
        self.target = target
        self.oversize = oversize
        self.limit = limit
    }

    /// The parts kept from an earlier write, for a `.resume` step.
    package var keptMessages: MessageList { pending?.messages ?? MessageList() }

    /// A new `write`: no item done yet.
    package mutating func beginWrite() {
        outcome = WriteOutcome()
        done = 0
    }

    /// The first step for `item`.
    package mutating func start(_ item: OutputItem) -> Step {
        if let kept = pending {
            // The rest of a split event goes out, never the whole event again: the receiver
            // already has the first parts, and a second copy would be renumbered.
            if kept.line == item.line { return .resume(from: kept.next) }
            // The worker no longer offers the item these parts belong to (it dropped it at
            // shutdown): they go with it.
            pending = nil
        }
        return .layOut(limit: limit)
    }

    /// The kept parts were sent from `resume(from:)` on, with `result`.
    package mutating func resumed(_ result: DatagramResult) -> Step {
        switch result {
        case .sent(let bytes):
            pending = nil
            outcome.bytes += bytes
            done += 1
            return .done
        case .failed(let at, let code, let bytes):
            // Still the same item: what is left of it stays pending. Its oversize handling was
            // counted when its first parts went out.
            outcome.bytes += bytes
            pending?.next = at
            return .fail(errno: code)
        }
    }

    /// The item was laid out as `layout` (within `limit`).
    package mutating func laidOut(_ layout: SyslogFormatter.Layout) -> Step {
        switch layout {
        case .whole, .split, .truncated:
            layoutActivity = layout.activity
            return .send
        case .tooLarge(let size):
            if oversize == .tcp { return .reroute }
            outcome.activity.oversizeDropped += 1
            return .reject(.syslogTooLarge(target, size: size, limit: limit))
        case .newline(let offset):
            return .reject(.syslogNewline(target, offset: offset))
        }
    }

    /// The layout of `item`, `messages`, was sent from its first message on, with `result`.
    package mutating func sent(_ result: DatagramResult, of item: OutputItem, messages: MessageList) -> Step {
        switch result {
        case .sent(let bytes):
            outcome.bytes += bytes
            outcome.activity += layoutActivity
            done += 1
            return .done
        case .failed(_, EMSGSIZE, _) where limit > Self.floor:
            // The socket takes less than max_message: lower the limit for good.
            let refused = messages.range(0).count
            let lowered = max(Self.floor, min(limit / 2, refused - 1))
            warning = WriterError(
                code: .write, target: target, errno: EMSGSIZE,
                detail: "the socket refused a \(refused)-byte datagram; max_message lowered from "
                    + "\(limit) to \(lowered) bytes")
            limit = lowered
            return .layOut(limit: lowered)
        case .failed(_, EMSGSIZE, _):
            outcome.activity.oversizeDropped += 1
            return .reject(
                WriterError(
                    code: .rejected, target: target, errno: EMSGSIZE,
                    detail: "the socket refuses even a \(messages.range(0).count)-byte datagram",
                    isRetryable: false))
        case .failed(let at, let code, let bytes):
            outcome.bytes += bytes
            // Parts went out: the rest follows when the worker hands the item back (see
            // `start`), and the split or truncation counts now, once. When none went out, the
            // item is simply laid out again.
            if at > 0 {
                outcome.activity += layoutActivity
                pending = PendingDatagrams(line: item.line, messages: messages, next: at)
            }
            return .fail(errno: code)
        }
    }

    /// The item went whole over TCP, `bytes` of it.
    package mutating func rerouted(bytes: Int) -> Step {
        outcome.bytes += bytes
        outcome.activity.oversizeRerouted += 1
        done += 1
        return .done
    }

    /// `error`, to throw, with this write's progress (the items done, their bytes, the activity
    /// plus `linkActivity`); a retryable one also carries the warning about a lowered limit.
    package mutating func failure(_ error: WriterError, linkActivity: WriterActivity) -> WriterError {
        outcome.activity += linkActivity
        var error = error.after(items: done, bytes: outcome.bytes, activity: outcome.activity)
        if let warning, error.isRetryable {
            error.detail = joined(error.detail, warning.description)
            self.warning = nil
        }
        return error
    }

    /// The outcome of a write that went through, with `linkActivity`.
    package mutating func finish(linkActivity: WriterActivity) -> WriteOutcome {
        outcome.activity += linkActivity
        return outcome
    }

    /// The warning about a lowered limit, now reported.
    package mutating func takeWarning() -> WriterError? {
        defer { warning = nil }
        return warning
    }
}

extension SyslogFormatter.Layout {
    /// The oversize handling this layout counts once it is sent: a split, a truncation.
    var activity: WriterActivity {
        switch self {
        case .split: WriterActivity(oversizeSplit: 1)
        case .truncated: WriterActivity(oversizeTruncated: 1)
        case .whole, .tooLarge, .newline: WriterActivity()
        }
    }
}
