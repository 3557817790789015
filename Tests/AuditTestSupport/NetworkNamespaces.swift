import Foundation
import Glibc

/// Hosts on one machine: a network namespace for a central collector and one per host, each host
/// joined to the central namespace by a veth pair of its own (host `N` is `10.213.N.2/30`, the
/// central side of its link `10.213.N.1/30`). Programs run inside with `ip netns exec`.
///
/// The namespaces are named `saf-PID-central` and `saf-PID-hN` (PID: this test process), so that
/// they cannot clash with anyone else's; the veth ends are created inside them (`fleet0` in a host,
/// `hostN` in the central one), so the root namespace never sees them. Deleting a namespace deletes
/// its ends of the links. `remove()` (or, at the latest, the release of the value) deletes them all;
/// namespaces of this prefix whose test process has died (a crashed earlier run) are deleted when
/// a new value is made.
public final class NetworkNamespaces: @unchecked Sendable {  // used by one test at a time
    /// `saf-PID-`.
    public let prefix: String
    /// The central namespace's name.
    public var central: String { prefix + "central" }
    /// The host namespaces' names, host 1 first.
    public let hosts: [String]
    private var created: [String] = []

    /// The `ip` executable, when iproute2 is installed.
    public static let ip: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Makes the central namespace and `hostCount` hosts linked to it, with loopback up in each.
    public init(hostCount: Int) throws {
        prefix = "saf-\(getpid())-"
        hosts = (1...hostCount).map { "saf-\(getpid())-h\($0)" }
        Self.removeStale()
        do {
            try makeNamespace(central)
            for (index, host) in hosts.enumerated() {
                let number = index + 1
                try makeNamespace(host)
                try Self.ip([
                    "link", "add", "fleet0", "netns", host, "type", "veth", "peer", "name", "host\(number)", "netns",
                    central,
                ])
                try Self.ip(["-n", host, "address", "add", "\(hostAddress(number))/30", "dev", "fleet0"])
                try Self.ip(["-n", host, "link", "set", "fleet0", "up"])
                try Self.ip([
                    "-n", central, "address", "add", "\(centralAddress(host: number))/30", "dev", "host\(number)",
                ])
                try Self.ip(["-n", central, "link", "set", "host\(number)", "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    deinit { remove() }

    /// The central namespace's address on host `number`'s link (1-based).
    public func centralAddress(host number: Int) -> String { "10.213.\(number).1" }

    /// Host `number`'s address (1-based).
    public func hostAddress(_ number: Int) -> String { "10.213.\(number).2" }

    /// `executable ARGUMENTS` inside `namespace`, as an argument vector for `Process` (`ip` replaces
    /// itself with the program, so the child's pid is the program's).
    public func command(in namespace: String, _ executable: String, _ arguments: [String]) -> (String, [String]) {
        (Self.ip ?? "/usr/sbin/ip", ["netns", "exec", namespace, executable] + arguments)
    }

    /// Deletes every namespace made (and with them the links). Calling it again does nothing.
    public func remove() {
        for name in created.reversed() { _ = try? runProcess(Self.ip ?? "/usr/sbin/ip", ["netns", "delete", name]) }
        created.removeAll()
    }

    private func makeNamespace(_ name: String) throws {
        try Self.ip(["netns", "add", name])
        created.append(name)
        try Self.ip(["-n", name, "link", "set", "lo", "up"])
    }

    private static func ip(_ arguments: [String]) throws {
        guard let ip else { throw TestRequirement.Missing(description: "ip (iproute2) is not installed") }
        let result = try runProcess(ip, arguments)
        guard result.status == 0 else {
            throw TestRequirement.Missing(
                description: "ip \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
    }

    /// Deletes `saf-PID-…` namespaces whose PID is no longer running (left by a crashed run).
    private static func removeStale() {
        guard let ip, let listing = try? runProcess(ip, ["netns", "list"]) else { return }
        for line in listing.standardOutput.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[0] == "saf", let pid = Int32(parts[1]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? runProcess(ip, ["netns", "delete", name]) }
        }
    }
}

extension TestRequirement {
    /// Root and iproute2, to make network namespaces and veth links.
    public static let networkNamespaces = TestRequirement(
        "root and ip (iproute2) for network namespaces", isAvailable: geteuid() == 0 && NetworkNamespaces.ip != nil)
}
