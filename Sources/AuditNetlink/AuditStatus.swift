/// The kernel's audit state, as `AUDIT_GET` reports it (`struct audit_status`).
///
/// Every field of the structure is kept, including the ones old kernels do not send: a short reply
/// leaves the missing fields at zero, which is what those kernels mean.
public struct AuditStatus: Hashable, Sendable {
    /// Which fields an `AUDIT_SET` request changes (`mask`); zero in replies.
    public var mask: AuditStatusMask
    /// Whether auditing is off, on, or locked until reboot.
    public var enabled: AuditEnabledState
    /// What the kernel does when it must drop a record.
    public var failure: AuditFailureMode
    /// The process id registered as the audit daemon, 0 when none is.
    public var pid: UInt32
    /// Records per second the kernel sends at most; 0 means no limit.
    public var rateLimit: UInt32
    /// Records the kernel queues for the daemon before it drops or waits.
    public var backlogLimit: UInt32
    /// Records the kernel dropped since boot (or since the last reset).
    public var lost: UInt32
    /// Records queued in the kernel now.
    public var backlog: UInt32
    /// Kernel feature bits (`AUDIT_FEATURE_BITMAP_*`); before 3.19 this slot held a version.
    public var featureBitmap: UInt32
    /// How long (jiffies) an audited task waits for room in a full backlog before the record is lost.
    public var backlogWaitTime: UInt32
    /// Total time (jiffies) tasks have spent waiting on a full backlog.
    public var backlogWaitTimeActual: UInt32

    /// An all-zero status, for building `AUDIT_SET` requests.
    public init(
        mask: AuditStatusMask = [],
        enabled: AuditEnabledState = .disabled,
        failure: AuditFailureMode = .silent,
        pid: UInt32 = 0,
        rateLimit: UInt32 = 0,
        backlogLimit: UInt32 = 0,
        lost: UInt32 = 0,
        backlog: UInt32 = 0,
        featureBitmap: UInt32 = 0,
        backlogWaitTime: UInt32 = 0,
        backlogWaitTimeActual: UInt32 = 0
    ) {
        self.mask = mask
        self.enabled = enabled
        self.failure = failure
        self.pid = pid
        self.rateLimit = rateLimit
        self.backlogLimit = backlogLimit
        self.lost = lost
        self.backlog = backlog
        self.featureBitmap = featureBitmap
        self.backlogWaitTime = backlogWaitTime
        self.backlogWaitTimeActual = backlogWaitTimeActual
    }
}

/// The `mask` bits of `struct audit_status`: which fields an `AUDIT_SET` request changes.
public struct AuditStatusMask: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `AUDIT_STATUS_ENABLED`.
    public static let enabled = Self(rawValue: 0x0001)
    /// `AUDIT_STATUS_FAILURE`.
    public static let failure = Self(rawValue: 0x0002)
    /// `AUDIT_STATUS_PID`.
    public static let pid = Self(rawValue: 0x0004)
    /// `AUDIT_STATUS_RATE_LIMIT`.
    public static let rateLimit = Self(rawValue: 0x0008)
    /// `AUDIT_STATUS_BACKLOG_LIMIT`.
    public static let backlogLimit = Self(rawValue: 0x0010)
    /// `AUDIT_STATUS_BACKLOG_WAIT_TIME`.
    public static let backlogWaitTime = Self(rawValue: 0x0020)
    /// `AUDIT_STATUS_LOST`: reading with this bit resets the lost counter and returns the old value.
    public static let lost = Self(rawValue: 0x0040)
    /// `AUDIT_STATUS_BACKLOG_WAIT_TIME_ACTUAL`: resets the accumulated wait time.
    public static let backlogWaitTimeActual = Self(rawValue: 0x0080)
}

/// The kernel's `enabled` flag.
public enum AuditEnabledState: UInt32, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 0: no records are generated (except from user space with CAP_AUDIT_WRITE).
    case disabled = 0
    /// 1: auditing on.
    case enabled = 1
    /// 2: on and immutable: no rule or setting changes until reboot.
    case locked = 2

    public var description: String {
        switch self {
        case .disabled: "disabled"
        case .enabled: "enabled"
        case .locked: "locked (immutable until reboot)"
        }
    }
}

/// The kernel's failure flag: what happens when it has to drop a record.
///
/// The values are the kernel's `AUDIT_FAIL_SILENT`, `AUDIT_FAIL_PRINTK`, `AUDIT_FAIL_PANIC`
/// (go-libaudit declares all three as 0 by mistake).
public enum AuditFailureMode: UInt32, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// 0: drop silently (only the `lost` counter changes).
    case silent = 0
    /// 1: log "audit: audit_lost=…" to the kernel log (the default).
    case printk = 1
    /// 2: panic the machine.
    case panic = 2

    /// The auditctl-style name: `silent`, `printk`, `panic`.
    public var description: String {
        switch self {
        case .silent: "silent"
        case .printk: "printk"
        case .panic: "panic"
        }
    }

    /// Parses `silent`/`printk`/`panic` or `0`/`1`/`2`.
    public init?(name: some StringProtocol) {
        switch name.lowercased() {
        case "silent", "0": self = .silent
        case "printk", "1": self = .printk
        case "panic", "2": self = .panic
        default: return nil
        }
    }
}
