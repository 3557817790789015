// swift-tools-version: 6.2
import PackageDescription

/// Applied to every Swift target (docs/design.md, "Build settings").
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

/// Tests may use Foundation (Process, JSONDecoder) and keep the other strict settings.
let tests: [SwiftSetting] = strict.filter {
    "\($0)" != "\(SwiftSetting.enableUpcomingFeature("InternalImportsByDefault"))"
}

let package = Package(
    name: "swift-audit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swift-audit", targets: ["swift-audit"]),
        .library(name: "AuditNetlink", targets: ["AuditNetlink"]),
        .library(name: "AuditEvents", targets: ["AuditEvents"]),
        .library(name: "AuditRules", targets: ["AuditRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The one system layer, lowest in the graph: system calls with EINTR retry, write-all,
        // whole-file reads, errno names and messages, clocks, /proc (process names, capabilities).
        .target(name: "AuditSystem", swiftSettings: strict),

        // C shims: headers only, no code of their own.
        .target(name: "CAuditNetlink"),

        // The kernel client: sockets, requests, replies, status, features, raw rules.
        .target(name: "AuditNetlink", dependencies: ["AuditSystem", "CAuditNetlink"], swiftSettings: strict),

        // Records and events: header parsing, reassembly by (timestamp, serial), capture files.
        .target(name: "AuditEvents", dependencies: ["AuditSystem", "AuditNetlink"], swiftSettings: strict),

        // What a record's values mean: architectures, syscall names, errno names, socket addresses,
        // file modes, capabilities, signals; which keys are hex-encoded, numeric or octal; argv.
        .target(
            name: "AuditInterpretation", dependencies: ["AuditSystem", "AuditEvents", "AuditNetlink", "AuditRules"],
            swiftSettings: strict),

        // Who did it, in what: the process table (parents, ancestors) kept from /proc and from the
        // events themselves, containers and systemd units from cgroup paths.
        .target(
            name: "AuditProcesses",
            dependencies: ["AuditSystem", "AuditEvents", "AuditNetlink", "AuditInterpretation"],
            swiftSettings: strict),

        // Events to bytes: go-audit-compatible JSON (raw), laurel-compatible JSON (enriched), Elastic
        // Common Schema (ecs), uid and gid names, the daemon's own status events.
        .target(
            name: "AuditEncoding",
            dependencies: ["AuditSystem", "AuditEvents", "AuditNetlink", "AuditInterpretation", "AuditProcesses"],
            swiftSettings: strict),

        // Which events an output takes: keep/drop rules on keys, types, syscalls, ids, paths,
        // addresses and record text, evaluated on the event's records without copying them.
        .target(
            name: "AuditFilters",
            dependencies: ["AuditSystem", "AuditEvents", "AuditNetlink", "AuditInterpretation", "AuditRules"],
            swiftSettings: strict),

        // Audit rules in auditctl syntax: parser, kernel encoding, decoding, `auditctl -l` text.
        .target(name: "AuditRules", dependencies: ["AuditSystem", "AuditNetlink"], swiftSettings: strict),

        // Plain threads, parking and clocks shared by the pipeline stages and the output workers.
        .target(name: "CAuditThreads"),
        .target(name: "AuditThreads", dependencies: ["AuditSystem", "CAuditThreads"], swiftSettings: strict),

        // TLS for the network outputs: OpenSSL 3 from Debian (docs/design.md, "TLS"), client side
        // only: a context built from CA, certificate and key files, a session on a connected socket.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "AuditTLS", dependencies: ["AuditSystem", "COpenSSL"], swiftSettings: strict),

        // RELP (rsyslog's acknowledged protocol), client side: frames out, responses in, the window
        // of unacknowledged transactions. Bytes only; the writer owns the socket.
        .target(name: "AuditRELP", dependencies: ["AuditSystem"], swiftSettings: strict),

        // The disk spool of a network output: append-only, checksummed segment files read back in
        // order after an outage or a restart; torn tails detected and counted.
        .target(name: "AuditSpool", dependencies: ["AuditSystem"], swiftSettings: strict),

        // Outputs: the writer protocol, one bounded queue and thread per output, file and stdout.
        .target(
            name: "AuditWriters",
            dependencies: [
                "AuditSystem", "AuditEvents", "AuditEncoding", "AuditNetlink", "AuditThreads", "CZlib", "AuditTLS",
                "AuditRELP", "AuditSpool",
            ],
            swiftSettings: strict),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The configuration file: auditd.conf-style `key = value`, typed and checked with file:line errors.
        // It fills the components' own configuration types (the reassembler's, the writers', the
        // host name format), so it sits above them; only the daemon and the command line use it.
        .target(
            name: "AuditConfig",
            dependencies: [
                "AuditSystem", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditFilters", "AuditProcesses",
                "AuditWriters", "AuditTLS",
            ],
            swiftSettings: strict),

        // The hot path: socket reader → lock-free ring → reassembly → encoding → output queues.
        .target(
            name: "AuditPipeline",
            dependencies: [
                "AuditSystem", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditFilters", "AuditProcesses",
                "AuditThreads",
            ],
            swiftSettings: strict),

        // The daemon: configuration applied to the kernel, pipeline threads, signals, sd_notify,
        // loss reporting, reload and drain-on-stop.
        .target(
            name: "AuditDaemon",
            dependencies: [
                "AuditSystem", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditConfig", "AuditFilters",
                "AuditProcesses", "AuditRules", "AuditPipeline", "AuditWriters", "AuditThreads", "CAuditThreads",
                "CSystemd", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // The command line.
        .executableTarget(
            name: "swift-audit",
            dependencies: [
                "AuditSystem", "AuditNetlink", "AuditConfig", "AuditDaemon", "AuditRules", "AuditEncoding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // A runnable example of the AuditNetlink library product: the multicast group, read-only.
        .executableTarget(
            name: "ReadMulticast", dependencies: ["AuditNetlink"], path: "Examples/ReadMulticast",
            swiftSettings: strict),

        // Shared test helpers: corpus paths, the kernel-test lock and state restore, child processes.
        .target(
            name: "AuditTestSupport", dependencies: ["AuditNetlink"], path: "Tests/AuditTestSupport",
            swiftSettings: tests),

        .testTarget(name: "AuditSystemTests", dependencies: ["AuditSystem"], swiftSettings: tests),
        .testTarget(
            name: "AuditNetlinkTests", dependencies: ["AuditNetlink", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(
            name: "AuditPipelineTests",
            dependencies: [
                "AuditPipeline", "AuditThreads", "AuditWriters", "AuditEncoding", "AuditFilters", "AuditNetlink",
                "AuditSystem", "AuditTestSupport",
            ],
            swiftSettings: tests),
        .testTarget(name: "AuditThreadsTests", dependencies: ["AuditThreads", "AuditSystem"], swiftSettings: tests),
        .testTarget(
            name: "AuditWritersTests",
            dependencies: [
                "AuditWriters", "AuditEvents", "AuditThreads", "AuditNetlink", "AuditEncoding", "CZlib", "AuditTLS",
                "AuditTestSupport",
            ],
            swiftSettings: tests),
        .testTarget(name: "AuditTLSTests", dependencies: ["AuditTLS", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(name: "AuditRELPTests", dependencies: ["AuditRELP", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(name: "AuditSpoolTests", dependencies: ["AuditSpool", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(
            name: "AuditRulesTests", dependencies: ["AuditRules", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditConfigTests",
            dependencies: [
                "AuditConfig", "AuditProcesses", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditFilters",
                "AuditWriters", "AuditTLS",
                "AuditTestSupport",
            ],
            swiftSettings: tests),
        // Kernel tests only (root, a kernel with audit): rules loaded by auditctl and by swift-audit.
        .testTarget(
            name: "AuditRulesKernelTests", dependencies: ["AuditRules", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(name: "CLITests", dependencies: ["AuditNetlink", "AuditTestSupport"], swiftSettings: tests),
        // The daemon's control logic without root or a kernel: lifecycle, loss accounting, reload,
        // the status poll, the stop sequence, the watchdog.
        .testTarget(
            name: "AuditDaemonTests",
            dependencies: [
                "AuditDaemon", "AuditConfig", "AuditNetlink", "AuditPipeline", "AuditRules", "AuditWriters",
                "AuditEvents", "AuditEncoding", "AuditTLS", "AuditSystem", "AuditProcesses", "AuditFilters",
                "AuditTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: tests),
        // Kernel tests only: the daemon end to end.
        .testTarget(
            name: "DaemonTests", dependencies: ["AuditDaemon", "AuditNetlink", "AuditTestSupport"], swiftSettings: tests
        ),
        .testTarget(
            name: "AuditEventsTests", dependencies: ["AuditEvents", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditInterpretationTests",
            dependencies: ["AuditInterpretation", "AuditEvents", "AuditNetlink", "AuditRules", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditProcessesTests",
            dependencies: [
                "AuditProcesses", "AuditEvents", "AuditNetlink", "AuditRules", "AuditSystem", "AuditTestSupport",
            ],
            swiftSettings: tests),
        .testTarget(
            name: "AuditFiltersTests",
            dependencies: ["AuditFilters", "AuditEvents", "AuditNetlink", "AuditInterpretation", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditEncodingTests",
            dependencies: [
                "AuditEncoding", "AuditEvents", "AuditNetlink", "AuditInterpretation", "AuditProcesses",
                "AuditTestSupport",
            ],
            swiftSettings: tests),
    ]
)
