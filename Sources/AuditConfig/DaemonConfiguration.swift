package import AuditEncoding
package import AuditEvents
package import AuditFilters
package import AuditNetlink
package import AuditProcesses
import AuditWriters

/// Everything `swift-audit run` needs, typed and validated, so that the daemon never re-checks a
/// string at run time and a reload can be compared with `==` against the running configuration.
///
/// Build it with ``parse(_:file:)``, ``load(path:policy:)`` or ``quickStart(file:stdout:)``;
/// ``render()`` prints it back in the file syntax with every default filled in.
package struct DaemonConfiguration: Hashable, Sendable {
    /// The kernel settings applied with `AUDIT_SET` at start.
    package var audit: AuditSettings
    /// Which rule files are loaded at start and what happens to the rules at exit.
    package var rules: RuleSettings
    /// How records are grouped into events: the reassembler's own configuration (its timeouts in
    /// milliseconds, as its clock counts).
    package var reassembly: Reassembler.Configuration
    /// Which host name, if any, every event carries (auditd's `name_format` + `name`), resolved at
    /// start and on reload.
    package var hostname: HostnameFormat
    /// Sizes and intervals of the daemon's own machinery.
    package var pipeline: PipelineSettings
    /// The outputs in the order the file first names them; names are unique.
    package var outputs: [OutputConfiguration]
    /// Every `filter.NAME.*` rule, in the order the file first names them; names are unique.
    package var filterRules: [FilterRule]
    /// `filters`: the global list, by rule name, tried for every output that takes all events
    /// before the output's own list.
    package var filters: [String]
    /// The process table: on or off, its bounds and optional extras, its state file.
    package var processes: ProcessSettings
    /// Prometheus metrics: the loopback listener and the node_exporter textfile (both off).
    package var metrics = MetricsSettings()

    /// A configuration with every default and the given outputs.
    package init(
        audit: AuditSettings = AuditSettings(),
        rules: RuleSettings = RuleSettings(),
        reassembly: Reassembler.Configuration = .configurationDefaults,
        hostname: HostnameFormat = .none,
        pipeline: PipelineSettings = PipelineSettings(),
        outputs: [OutputConfiguration] = [],
        filterRules: [FilterRule] = [],
        filters: [String] = [],
        processes: ProcessSettings = ProcessSettings()
    ) {
        self.processes = processes
        self.audit = audit
        self.rules = rules
        self.reassembly = reassembly
        self.hostname = hostname
        self.pipeline = pipeline
        self.outputs = outputs
        self.filterRules = filterRules
        self.filters = filters
    }

    /// The filters as the processing stage runs them: every rule, the global list, and each
    /// output's selection and list, in the order of ``outputs`` (disabled ones included, so that
    /// an output taking a disabled one's filtered events still gets them).
    package var filterPlan: FilterPlan {
        FilterPlan(
            rules: filterRules, global: filters,
            outputs: outputs.map { OutputFilters(name: $0.name, selection: $0.selection, rules: $0.filters) })
    }

    /// The configuration used when no file is given: every default, JSON events to a file, to
    /// stdout, or both.
    ///
    /// A relative `file` is made absolute against the current directory now, so the result renders
    /// to a file that parses (config files only accept absolute paths). With neither a file nor
    /// `stdout`, events go to stdout, so the result always has an output.
    package static func quickStart(file: String? = nil, stdout: Bool = false) -> DaemonConfiguration {
        var outputs: [OutputConfiguration] = []
        if let file {
            outputs.append(
                OutputConfiguration(name: "file", kind: .file(.configurationDefaults(path: absolutePath(file)))))
        }
        if stdout || file == nil {
            outputs.append(OutputConfiguration(name: "stdout", kind: .stdout))
        }
        return DaemonConfiguration(outputs: outputs)
    }
}

/// The kernel's audit settings, applied once at start with `AUDIT_SET`.
///
/// auditd leaves these to `auditctl` lines in the rules; swift-audit sets them from its own file so
/// that a host without rules still gets a sane backlog. A rules file loaded afterwards may change them.
package struct AuditSettings: Hashable, Sendable {
    /// `enabled` (auditctl `-e`): off, on, or on and locked until reboot.
    package var enabled: AuditEnabledState
    /// `failure` (auditctl `-f`): what the kernel does when it has to drop a record.
    package var failure: AuditFailureMode
    /// `rate_limit` (auditctl `-r`): records per second, 0 for no limit.
    package var rateLimit: UInt32
    /// `backlog_limit` (auditctl `-b`): records the kernel queues for the daemon.
    package var backlogLimit: UInt32
    /// `backlog_wait_time` (auditctl `--backlog_wait_time`): jiffies an audited task waits for room
    /// in a full backlog before its record is lost.
    package var backlogWaitTime: UInt32
    /// `socket_buffer`: bytes requested with `SO_RCVBUFFORCE`; 0 leaves the kernel default.
    package var socketBufferSize: Int
    /// `nap_socket_buffer`: the receive buffer while the reader naps and the kernel's
    /// `backlog_wait_time` is above 0, so kauditd waits rather than being woken for every record;
    /// 0 keeps `socket_buffer`. It only acts when smaller than the socket's buffer.
    package var napSocketBufferSize: Int
    /// `takeover`: whether to replace another process registered as the audit daemon.
    package var takeover: Bool
    /// `confirm_panic`: the operator's explicit yes to `failure = panic` and to `-f 2` in the
    /// rules files the daemon loads (what `swift-audit set --confirm-panic` asks for): without it
    /// both are refused, so a slip of the keyboard cannot make the kernel halt the machine.
    package var confirmPanic: Bool
    /// `confirm_lock`: the same for `enabled = lock` and `-e 2` (locked until reboot).
    package var confirmLock: Bool
    /// `socket`: register as the audit daemon (`unicast`, the default) or read the kernel's
    /// multicast copy of its records (`multicast`, AUDIT_NLGRP_READLOG) beside whoever is
    /// registered, changing no kernel setting (the settings above are refused in that mode).
    package var socket: AuditSocket.Mode = .unicast

    /// The defaults: on, printk, no rate limit, backlog 8192, wait 60000 jiffies, 64 MiB (64 KiB
    /// while napping), no takeover.
    package init(
        enabled: AuditEnabledState = .enabled,
        failure: AuditFailureMode = .printk,
        rateLimit: UInt32 = 0,
        backlogLimit: UInt32 = 8192,
        backlogWaitTime: UInt32 = 60000,
        socketBufferSize: Int = 64 << 20,
        napSocketBufferSize: Int = 64 << 10,
        takeover: Bool = false,
        confirmPanic: Bool = false,
        confirmLock: Bool = false
    ) {
        self.enabled = enabled
        self.failure = failure
        self.rateLimit = rateLimit
        self.backlogLimit = backlogLimit
        self.backlogWaitTime = backlogWaitTime
        self.socketBufferSize = socketBufferSize
        self.napSocketBufferSize = napSocketBufferSize
        self.takeover = takeover
        self.confirmPanic = confirmPanic
        self.confirmLock = confirmLock
    }
}

/// Rule files loaded at start and on reload, and what happens to the kernel's rules at exit.
package struct RuleSettings: Hashable, Sendable {
    /// `rules_file`: one auditctl-syntax file, loaded first.
    package var file: String?
    /// `rules_dir`: a directory whose `*.rules` files load after `file`, in byte order of their
    /// names (as augenrules concatenates them).
    package var directory: String?
    /// `rules_at_exit`: leave the rules in the kernel or delete them all.
    package var atExit: RulesAtExit
    /// `multicast_load_rules`: with `socket = multicast`, load `file` and `directory` all the
    /// same. Off by default: in that mode the rules usually belong to whoever is registered
    /// (auditd and augenrules), and loading ours would change what it records.
    package var loadInMulticast = false

    /// No rule files; rules are kept at exit.
    package init(file: String? = nil, directory: String? = nil, atExit: RulesAtExit = .keep) {
        self.file = file
        self.directory = directory
        self.atExit = atExit
    }
}

/// What happens to the kernel's audit rules when the daemon stops.
package enum RulesAtExit: String, Hashable, Sendable, CaseIterable {
    /// Leave them: the kernel keeps auditing (and printk-ing) until the next start, like auditd.
    case keep
    /// Delete every rule (`auditctl -D`) so an idle kernel stops producing records nobody reads.
    case clear
}

/// The defaults of the reassembly keys where they differ from the reassembler's.
extension Reassembler.Configuration {
    /// The reassembler's defaults (`end_of_event_timeout` 2 s as auditd's, `reorder_window` 5 ms,
    /// `max_in_flight` 4096, the live clock) with records kept of types 1000…2999 (`min_type`,
    /// `max_type`).
    ///
    /// Why from 1000: the kernel sends a few event records below 1100, `LOGIN` (1006, when a login
    /// sets the loginuid) above all, and auditd logs them; a window from 1100 dropped them from
    /// their events. The control messages of that range never reach the reassembler (the
    /// processing stage keeps only audit records), so the window's lower end needs no guard.
    package static var configurationDefaults: Self {
        Self(minType: AuditMessageType(1000), maxType: AuditMessageType(2999))
    }
}

/// Sizes and intervals of the daemon's own machinery.
package struct PipelineSettings: Hashable, Sendable {
    /// `ring_size`: bytes of the lock-free ring between the socket reader and the reassembler
    /// (used as the largest power of two that fits).
    package var ringSize: Int
    /// `status_interval`: time between `AUDIT_GET` polls of the kernel's `lost` and `backlog`.
    package var statusInterval: Duration
    /// `loss_report_interval`: the shortest time between two loss events while losses continue.
    package var lossReportInterval: Duration
    /// `queue_memory_budget`: what the enabled outputs' full queues may hold at most (estimated:
    /// `queue_size` × a typical queued event); nil (`auto`) is a quarter of physical memory. A
    /// configuration over it is refused, naming the largest queue.
    package var queueMemoryBudget: Int? = nil

    /// The defaults: 1 MiB, 5 s, 1 s.
    package init(
        ringSize: Int = 1 << 20,
        statusInterval: Duration = .seconds(5),
        lossReportInterval: Duration = .seconds(1)
    ) {
        self.ringSize = ringSize
        self.statusInterval = statusInterval
        self.lossReportInterval = lossReportInterval
    }
}

/// `process_context` and the `process_*` keys: the process table that gives events their parent
/// process, ancestors, container and unit (the enriched and ECS formats write them).
package struct ProcessSettings: Hashable, Sendable {
    /// `process_context`: keep the table (on by default; raw-only outputs do not use it, but it
    /// costs little and a reload to enriched then knows the processes started before it).
    package var enabled = true
    /// The table's own settings: `process_table_size` (`maximumEntries`),
    /// `process_executable_hash`, `process_environment`, `process_scripts`.
    package var table = ProcessTable.Configuration()
    /// `process_state_file`: where the table is saved at stop and read back at start; nil (the
    /// default): a restart starts from /proc alone.
    package var stateFile: String?

    package init() {}
}
