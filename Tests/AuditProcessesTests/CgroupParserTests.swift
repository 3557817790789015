import AuditProcesses
import Glibc
import Testing

/// Real-looking `/proc/PID/cgroup` contents for each runtime (cgroup v2 unified lines and v1
/// per-controller lines), as the runtimes lay them out with the systemd and cgroupfs drivers.
@Suite struct CgroupParserTests {
    static let id = "3f2a1b6c9d8e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"

    func identity(_ file: String) -> CgroupIdentity { CgroupParser.identity(ofFile: Array(file.utf8)) }

    @Test func aDockerContainerUnderSystemdGivesItsIdAndScope() {
        let found = identity("0::/system.slice/docker-\(Self.id).scope\n")
        #expect(found.containerID == Self.id)
        #expect(found.runtime == .docker)
        #expect(found.unit == "docker-\(Self.id).scope")
        #expect(found.podUID == nil)
    }

    @Test func aDockerContainerWithTheCgroupfsDriverOnCgroupV1GivesItsId() {
        let file = """
            12:blkio:/docker/\(Self.id)
            11:memory:/docker/\(Self.id)
            4:cpu,cpuacct:/docker/\(Self.id)
            1:name=systemd:/docker/\(Self.id)
            0::/
            """
        let found = identity(file)
        #expect(found.containerID == Self.id, "the v2 line names nothing, so the v1 lines answer")
        #expect(found.runtime == .docker)
    }

    @Test func theUnifiedLineWinsWhenItNamesAnything() {
        let file = "4:memory:/docker/\(Self.id)\n0::/system.slice/nginx.service\n"
        let found = identity(file)
        #expect(found.unit == "nginx.service")
        #expect(found.containerID == nil)
    }

    @Test func containerdUnderKubernetesGivesContainerPodAndRuntime() {
        let pod = "1b2c3d4e-5f60-4718-293a-4b5c6d7e8f90"
        let line =
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(pod.replacingDashes).slice/"
            + "cri-containerd-\(Self.id).scope\n"
        let found = identity(line)
        #expect(found.containerID == Self.id)
        #expect(found.runtime == .containerd)
        #expect(found.podUID == pod)
        #expect(found.unit == "cri-containerd-\(Self.id).scope")
    }

    @Test func crioUnderAGuaranteedPodGivesItsIdAndSkipsConmon() {
        let pod = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
        let container = identity(
            "0::/kubepods.slice/kubepods-pod\(pod.replacingDashes).slice/crio-\(Self.id).scope/container\n")
        #expect(container.containerID == Self.id)
        #expect(container.runtime == .crio)
        #expect(container.podUID == pod)
        let conmon = identity(
            "0::/kubepods.slice/kubepods-pod\(pod.replacingDashes).slice/crio-conmon-\(Self.id).scope\n")
        #expect(conmon.containerID == nil, "conmon monitors the container; it is not in it")
        #expect(conmon.podUID == pod)
    }

    @Test func kubernetesWithTheCgroupfsDriverGivesTheBareIdAndPod() {
        let pod = "8f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
        let file = """
            11:memory:/kubepods/besteffort/pod\(pod)/\(Self.id)
            1:name=systemd:/kubepods/besteffort/pod\(pod)/\(Self.id)
            """
        let found = identity(file)
        #expect(found.containerID == Self.id)
        #expect(found.runtime == .kubernetes)
        #expect(found.podUID == pod)
    }

    @Test func podmanRootfulAndRootlessGiveTheContainer() {
        let rootful = identity("0::/machine.slice/libpod-\(Self.id).scope/container\n")
        #expect(rootful.containerID == Self.id)
        #expect(rootful.runtime == .podman)
        let rootless = identity(
            "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(Self.id).scope/container\n")
        #expect(rootless.containerID == Self.id)
        #expect(rootless.unit == "libpod-\(Self.id).scope")
        let cgroupfs = identity("0::/libpod_parent/libpod-\(Self.id)\n")
        #expect(cgroupfs.containerID == Self.id)
        let conmon = identity("0::/machine.slice/libpod-conmon-\(Self.id).scope\n")
        #expect(conmon.containerID == nil)
    }

    @Test func systemdServicesAndSessionScopesGiveTheInnermostUnit() {
        #expect(identity("0::/system.slice/nginx.service\n").unit == "nginx.service")
        #expect(identity("0::/user.slice/user-1000.slice/session-3.scope\n").unit == "session-3.scope")
        #expect(identity("0::/user.slice/user-1000.slice/user@1000.service\n").unit == "user@1000.service")
        #expect(
            identity("0::/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service\n").unit == "dbus.service"
        )
        #expect(identity("0::/init.scope\n").unit == "init.scope")
        let v1 = identity("9:name=systemd:/system.slice/ssh.service\n8:pids:/system.slice/ssh.service\n0::/\n")
        #expect(v1.unit == "ssh.service")
        #expect(identity("0::/\n").isEmpty)
        #expect(identity("0::/system.slice\n").unit == nil, "a slice is not a service or scope")
    }

    @Test func idsThatAreNotSixtyFourLowerHexDigitsAreNotContainers() {
        #expect(identity("0::/system.slice/docker-\(Self.id.dropLast()).scope\n").containerID == nil)
        #expect(identity("0::/system.slice/docker-\(Self.id.uppercased()).scope\n").containerID == nil)
        #expect(identity("0::/somewhere/\(Self.id)\n").containerID == nil, "a bare id needs docker/ or kubepods")
    }

    @Test func aLineThatIsNotACgroupLineIsAnErrorCarryingTheLine() {
        #expect(throws: CgroupLineError(line: Array("garbage".utf8))) {
            try CgroupParser.path(ofLine: Array("garbage".utf8))
        }
        #expect(throws: CgroupLineError.self) { try CgroupParser.path(ofLine: Array("x::/a".utf8)) }
        #expect(throws: CgroupLineError.self) { try CgroupParser.path(ofLine: Array("0::relative".utf8)) }
        let path = try? CgroupParser.path(ofLine: Array("0::/a:b/c\n".utf8))
        #expect(path.map { String(decoding: $0, as: UTF8.self) } == "/a:b/c", "a path may hold a colon")
        // A whole file with a bad line still gives what the good lines say.
        #expect(identity("junk\n0::/system.slice/cron.service\n").unit == "cron.service")
    }

    @Test func thisHostsOwnCgroupFileParses() throws {
        let bytes = try #require(try? readAll("/proc/self/cgroup"))
        for line in bytes.split(separator: 0x0A) {
            #expect(throws: Never.self) { try CgroupParser.path(ofLine: line) }
        }
    }
}

extension String {
    /// A uid as systemd writes it inside a slice name (`-` becomes `_`).
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
}

/// A whole file (tests).
func readAll(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "r") else { throw CocoaLikeError.cannotOpen(path) }
    defer { fclose(file) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        out.append(contentsOf: buffer[..<count])
    }
    return out
}

enum CocoaLikeError: Error { case cannotOpen(String) }
