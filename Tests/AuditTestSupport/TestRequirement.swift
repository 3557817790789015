import Foundation
import Glibc
import Testing

/// Something a test needs from the machine: the kernel's audit interface, the shared corpus, a
/// tool such as auditctl or rsyslogd.
///
/// A test that needs it carries the trait `.requires(…)`. Outside CI the test runs when the thing is
/// there and otherwise shows as skipped, with the reason. Under `CI=true` it always runs, so that a
/// missing requirement fails it instead of passing unnoticed: such a test calls `check()` first
/// when nothing else in it would fail loudly.
public struct TestRequirement: Sendable {
    /// What is needed, as a skip reason or failure says it.
    public let name: String
    /// Whether it is there.
    public let isAvailable: Bool

    public init(_ name: String, isAvailable: Bool) {
        self.name = name
        self.isAvailable = isAvailable
    }

    /// Throws when the requirement is missing (the test then fails with the reason).
    public func check() throws {
        if !isAvailable {
            throw Missing(description: "requirement not met: \(name) (under CI=true a test fails instead of skipping)")
        }
    }

    /// For a need only the running test can find out about: returns when it is met, fails the test
    /// under `CI=true`, and otherwise ends the test as skipped (cancelled, with the reason).
    public func skipUnlessMet(sourceLocation: SourceLocation = #_sourceLocation) throws {
        if isAvailable { return }
        if TestEnvironment.isCI { try check() }
        try Test.cancel(Comment(rawValue: "needs \(name)"), sourceLocation: sourceLocation)
    }

    /// A requirement that is not met, or a file of it that cannot be read.
    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }
}

extension TestRequirement {
    /// Root and a kernel with audit (CONFIG_AUDIT) whose control socket opens.
    public static let kernel = TestRequirement(
        "root and a kernel with audit (CONFIG_AUDIT)", isAvailable: KernelAccess.available)

    /// Root (mounting a tmpfs, chown, running a command as another user).
    public static let root = TestRequirement("root", isAvailable: geteuid() == 0)

    /// The shared corpus beside the repository.
    public static var corpus: TestRequirement {
        TestRequirement("the shared corpus at \(Corpus.directory)", isAvailable: Corpus.isAvailable)
    }

    /// Debian's auditctl (`apt-get install auditd`, or `make test-deps`).
    public static let auditctl = TestRequirement(
        "auditctl (apt-get install auditd)", isAvailable: HostTools.auditctl != nil)

    /// Debian's auditd, to run beside it (`apt-get install auditd`, or `make test-deps`).
    public static let auditd = TestRequirement(
        "auditd (apt-get install auditd)", isAvailable: HostTools.auditd != nil)

    /// The example rule files Debian's auditd package installs.
    public static let debianExampleRules = TestRequirement(
        "Debian's example rules in \(HostTools.debianExampleRules) (apt-get install auditd)",
        isAvailable: !HostTools.ruleFiles(in: HostTools.debianExampleRules).isEmpty)

    /// rsyslogd (`apt-get install rsyslog`, or `make test-deps`).
    public static let rsyslogd = TestRequirement(
        "rsyslogd (apt-get install rsyslog)", isAvailable: HostTools.rsyslogd != nil)

    /// python3, for independent receivers and helpers.
    public static let python3 = TestRequirement("python3", isAvailable: HostTools.python3 != nil)

    /// runuser, to run a command as user nobody.
    public static let runuser = TestRequirement("/usr/sbin/runuser", isAvailable: HostTools.runuser != nil)

    /// systemd-analyze, to verify the unit file.
    public static let systemdAnalyze = TestRequirement(
        "systemd-analyze", isAvailable: HostTools.systemdAnalyze != nil)

    /// curl, a real HTTP client for the metrics listener (`apt-get install curl`, or `make test-deps`).
    public static let curl = TestRequirement("curl (apt-get install curl)", isAvailable: HostTools.curl != nil)

    /// Debian's python3-prometheus-client, whose text parser checks the metrics exposition.
    public static let prometheusClient = TestRequirement(
        "python3-prometheus-client (apt-get install python3-prometheus-client)",
        isAvailable: PrometheusExposition.parserIsAvailable)
}

extension Trait where Self == ConditionTrait {
    /// Runs the test when every requirement is met, and always under `CI=true` (where a missing one
    /// fails the test); skips it with the reason otherwise.
    public static func requires(
        _ requirements: TestRequirement..., sourceLocation: SourceLocation = #_sourceLocation
    ) -> Self {
        let names = requirements.map(\.name).joined(separator: " and ")
        return .enabled(
            if: TestEnvironment.isCI || requirements.allSatisfy(\.isAvailable),
            Comment(rawValue: "needs \(names); under CI=true this fails instead"), sourceLocation: sourceLocation)
    }
}

/// Programs and files of the host that tests compare against.
public enum HostTools {
    /// Debian's auditctl, when the auditd package is installed.
    public static let auditctl = firstExecutable(["/usr/sbin/auditctl", "/sbin/auditctl", "/usr/bin/auditctl"])

    /// Debian's auditd, when the auditd package is installed.
    public static let auditd = firstExecutable(["/usr/sbin/auditd", "/sbin/auditd"])

    /// rsyslogd, when the rsyslog package is installed.
    public static let rsyslogd = firstExecutable(["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/bin/rsyslogd"])

    /// python3.
    public static let python3 = firstExecutable(["/usr/bin/python3", "/usr/local/bin/python3"])

    /// runuser (util-linux).
    public static let runuser = firstExecutable(["/usr/sbin/runuser", "/sbin/runuser"])

    /// systemd-analyze.
    public static let systemdAnalyze = firstExecutable(["/usr/bin/systemd-analyze"])

    /// curl.
    public static let curl = firstExecutable(["/usr/bin/curl", "/usr/local/bin/curl"])

    /// Debian's example rule sets (installed with the auditd package, GPL: read, never copied).
    public static let debianExampleRules = "/usr/share/doc/auditd/examples/rules"

    /// The `*.rules` files of a directory, sorted, as (name, bytes); empty when it is missing.
    public static func ruleFiles(in directory: String) -> [(name: String, bytes: [UInt8])] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".rules") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return nil }
            return (name, Array(data))
        }
    }

    private static func firstExecutable(_ candidates: [String]) -> String? {
        candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
