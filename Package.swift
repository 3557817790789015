// swift-tools-version: 6.2
import PackageDescription

/// Applied to every Swift target: the settings the design notes call `strict`.
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

        // Events to bytes: go-audit-compatible JSON, uid names, the daemon's own status events.
        .target(name: "AuditEncoding", dependencies: ["AuditSystem", "AuditEvents", "AuditNetlink"], swiftSettings: strict),

        // The configuration file: auditd.conf-style `key = value`, typed and checked with file:line errors.
        .target(name: "AuditConfig", dependencies: ["AuditSystem", "AuditNetlink"], swiftSettings: strict),

        // Audit rules in auditctl syntax: parser, kernel encoding, decoding, `auditctl -l` text.
        .target(name: "AuditRules", dependencies: ["AuditSystem", "AuditNetlink"], swiftSettings: strict),

        // Plain threads, parking and clocks shared by the pipeline stages and the output workers.
        .target(name: "CAuditThreads"),
        .target(name: "AuditThreads", dependencies: ["AuditSystem", "CAuditThreads"], swiftSettings: strict),

        // Outputs: the writer protocol, one bounded queue and thread per output, file and stdout.
        .target(
            name: "AuditWriters",
            dependencies: ["AuditSystem", "AuditEvents", "AuditEncoding", "AuditNetlink", "AuditThreads", "CZlib"],
            swiftSettings: strict),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The hot path: socket reader → lock-free ring → reassembly → encoding → output queues.
        .target(
            name: "AuditPipeline",
            dependencies: ["AuditSystem", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditWriters", "AuditThreads"],
            swiftSettings: strict),

        // The daemon: configuration applied to the kernel, pipeline threads, signals, sd_notify,
        // loss reporting, reload and drain-on-stop.
        .target(
            name: "AuditDaemon",
            dependencies: [
                "AuditSystem", "AuditNetlink", "AuditEvents", "AuditEncoding", "AuditConfig", "AuditRules", "AuditPipeline",
                "AuditWriters",
                "AuditThreads", "CSystemd", .product(name: "Logging", package: "swift-log"),
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

        // Shared test helpers: corpus paths, the kernel-test lock and state restore, child processes.
        .target(
            name: "AuditTestSupport", dependencies: ["AuditNetlink"], path: "Tests/AuditTestSupport",
            swiftSettings: tests),

        .testTarget(name: "AuditSystemTests", dependencies: ["AuditSystem"], swiftSettings: tests),
        .testTarget(
            name: "AuditNetlinkTests", dependencies: ["AuditNetlink", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(
            name: "AuditPipelineTests",
            dependencies: ["AuditPipeline", "AuditThreads", "AuditWriters", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditWritersTests",
            dependencies: ["AuditWriters", "AuditEvents", "AuditThreads", "AuditNetlink", "AuditEncoding", "CZlib"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditRulesTests", dependencies: ["AuditRules", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(name: "AuditConfigTests", dependencies: ["AuditConfig", "AuditNetlink"], swiftSettings: tests),
        .testTarget(
            name: "AuditRulesKernelTests", dependencies: ["AuditRules", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(name: "CLITests", dependencies: ["AuditNetlink", "AuditTestSupport"], swiftSettings: tests),
        .testTarget(
            name: "DaemonTests", dependencies: ["AuditDaemon", "AuditNetlink", "AuditTestSupport"], swiftSettings: tests
        ),
        .testTarget(
            name: "AuditEventsTests", dependencies: ["AuditEvents", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
        .testTarget(
            name: "AuditEncodingTests",
            dependencies: ["AuditEncoding", "AuditEvents", "AuditNetlink", "AuditTestSupport"],
            swiftSettings: tests),
    ]
)
