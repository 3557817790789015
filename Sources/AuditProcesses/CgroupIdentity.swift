/// The container runtime a cgroup path names.
package enum ContainerRuntime: String, Hashable, Sendable, CaseIterable {
    /// `docker-<id>.scope` (systemd driver) or `/docker/<id>` (cgroupfs driver).
    case docker
    /// `cri-containerd-<id>.scope`.
    case containerd
    /// `crio-<id>.scope`.
    case crio
    /// `libpod-<id>.scope` or `/libpod_parent/libpod-<id>`.
    case podman
    /// A bare 64-hex-digit id under `/kubepods/…` (cgroupfs driver): Kubernetes, runtime not named.
    case kubernetes
}

/// Who a process runs for, as its cgroup path tells: the container (id and runtime), the
/// Kubernetes pod, and the systemd unit. Children inherit it (a fork stays in its parent's cgroup;
/// only a runtime or systemd moves a process, and they do it before the program starts).
package struct CgroupIdentity: Hashable, Sendable {
    /// The container id: 64 lower-case hex digits.
    package var containerID: String?
    /// The runtime the path names.
    package var runtime: ContainerRuntime?
    /// The Kubernetes pod uid, with dashes (`kubepods-burstable-pod1b2c_….slice` writes them as `_`).
    package var podUID: String?
    /// The innermost systemd unit: a `.service` or `.scope` component (`nginx.service`,
    /// `session-3.scope`, `user@1000.service`, and a container's own `docker-<id>.scope`).
    package var unit: String?

    package init(
        containerID: String? = nil, runtime: ContainerRuntime? = nil, podUID: String? = nil, unit: String? = nil
    ) {
        self.containerID = containerID
        self.runtime = runtime
        self.podUID = podUID
        self.unit = unit
    }

    /// True when nothing was found.
    package var isEmpty: Bool { containerID == nil && podUID == nil && unit == nil }
}

/// A `/proc/PID/cgroup` line that is not `hierarchy:controllers:path`.
package struct CgroupLineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The line as given (at most 256 bytes of it).
    package var line: [UInt8]

    package init(line: some Collection<UInt8>) { self.line = Array(line.prefix(256)) }

    package var description: String {
        "not a cgroup line (hierarchy:controllers:path): \"\(String(decoding: line, as: UTF8.self))\""
    }
}

/// Reads container ids, pod uids and systemd units out of cgroup paths: a pure function of the
/// text, so that every runtime's layout is tested on real-looking lines without that runtime.
package enum CgroupParser {
    /// The path of one `/proc/PID/cgroup` line (`0::/system.slice/nginx.service`,
    /// `4:memory:/docker/<id>`): what follows the second `:` (a path may itself hold `:`).
    package static func path(ofLine line: some Collection<UInt8>) throws(CgroupLineError) -> Array<UInt8>.SubSequence {
        let bytes = Array(line)
        guard let first = bytes.firstIndex(of: 0x3A),
            let second = bytes[(first + 1)...].firstIndex(of: 0x3A),
            first > 0, bytes[..<first].allSatisfy({ (0x30...0x39).contains($0) })
        else { throw CgroupLineError(line: line) }
        var path = bytes[(second + 1)...]
        while let last = path.last, last == 0x0A || last == 0x0D { path.removeLast() }
        guard path.first == 0x2F else { throw CgroupLineError(line: line) }
        return path
    }

    /// The identity of a whole `/proc/PID/cgroup` file: the cgroup v2 line (`0::`) when it names
    /// anything, else the v1 lines in order (`name=systemd` names the unit, any controller can
    /// name the container). Lines that are not cgroup lines are skipped.
    package static func identity(ofFile contents: some Collection<UInt8>) -> CgroupIdentity {
        var result = CgroupIdentity()
        var unified: CgroupIdentity?
        for line in Array(contents).split(separator: 0x0A) {
            guard let path = try? path(ofLine: line) else { continue }
            let found = identity(ofPath: path)
            if line.starts(with: [0x30, 0x3A, 0x3A]) {  // "0::": cgroup v2
                unified = found
                continue
            }
            if result.containerID == nil, let id = found.containerID {
                result.containerID = id
                result.runtime = found.runtime
            }
            if result.podUID == nil { result.podUID = found.podUID }
            if result.unit == nil { result.unit = found.unit }
        }
        if let unified, !unified.isEmpty { return unified }
        return result
    }

    /// The identity one cgroup path names. Components are read outermost first and the innermost
    /// match wins (a container nested in a user's service manager is still that container).
    package static func identity(ofPath path: some Collection<UInt8>) -> CgroupIdentity {
        var result = CgroupIdentity()
        var previous: ArraySlice<UInt8> = []
        var underKubepods = false
        for component in Array(path).split(separator: 0x2F) {
            if component.starts(with: "kubepods".utf8) { underKubepods = true }
            if let (id, runtime) = container(in: component, previous: previous, underKubepods: underKubepods) {
                result.containerID = id
                result.runtime = runtime
            }
            if let pod = podUID(in: component) { result.podUID = pod }
            if hasSuffix(component, ".service") || hasSuffix(component, ".scope") {
                if let unit = String(validating: component, as: UTF8.self) { result.unit = unit }
            }
            previous = component
        }
        return result
    }

    // MARK: Components

    /// A container id in one component: `docker-<id>.scope`, `cri-containerd-<id>.scope`,
    /// `crio-<id>.scope`, `libpod-<id>.scope`, `libpod-<id>` (podman's cgroupfs layout), or a bare
    /// id after `docker` or under `kubepods`. The runtimes' monitor scopes (`crio-conmon-<id>`,
    /// `libpod-conmon-<id>`) are not the container.
    static func container(in component: ArraySlice<UInt8>, previous: ArraySlice<UInt8>, underKubepods: Bool)
        -> (String, ContainerRuntime)?
    {
        let prefixes: [(String, ContainerRuntime)] = [
            ("docker-", .docker), ("cri-containerd-", .containerd), ("crio-", .crio), ("libpod-", .podman),
        ]
        for (prefix, runtime) in prefixes where component.starts(with: prefix.utf8) {
            var rest = component.dropFirst(prefix.utf8.count)
            if hasSuffix(rest, ".scope") { rest = rest.dropLast(6) }
            if let id = hexID(rest) { return (id, runtime) }
        }
        if let id = hexID(component) {
            if previous.elementsEqual("docker".utf8) { return (id, .docker) }
            if underKubepods { return (id, .kubernetes) }
        }
        return nil
    }

    /// The pod uid of `kubepods-burstable-pod<uid>.slice`, `kubepods-pod<uid>.slice` (systemd
    /// driver, `_` for `-`) or `pod<uid>` (cgroupfs driver).
    static func podUID(in component: ArraySlice<UInt8>) -> String? {
        var rest = component
        if rest.starts(with: "kubepods-".utf8) {
            guard hasSuffix(rest, ".slice"), let range = firstRange(of: "-pod", in: rest) else { return nil }
            rest = rest[range.upperBound...].dropLast(6)
        } else if rest.starts(with: "pod".utf8) {
            rest = rest.dropFirst(3)
        } else {
            return nil
        }
        // A uid: 36 characters of hex digits and four separators.
        guard rest.count == 36 else { return nil }
        var text = ""
        text.reserveCapacity(36)
        for (offset, byte) in rest.enumerated() {
            let separator = offset == 8 || offset == 13 || offset == 18 || offset == 23
            if separator {
                guard byte == 0x2D || byte == 0x5F else { return nil }
                text.append("-")
            } else {
                guard isLowerHex(byte) else { return nil }
                text.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return text
    }

    /// `bytes` as a container id when it is exactly 64 lower-case hex digits.
    static func hexID(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count == 64, bytes.allSatisfy(isLowerHex) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }

    static func hasSuffix(_ bytes: ArraySlice<UInt8>, _ suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        guard bytes.count > count else { return false }
        return suffix.withUTF8Buffer { bytes.suffix(count).elementsEqual($0) }
    }

    static func firstRange(of needle: StaticString, in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        needle.withUTF8Buffer { pattern -> Range<Int>? in
            guard bytes.count >= pattern.count else { return nil }
            var start = bytes.startIndex
            while start + pattern.count <= bytes.endIndex {
                if bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
                    return start..<(start + pattern.count)
                }
                start += 1
            }
            return nil
        }
    }
}
