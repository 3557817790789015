import AuditConfig
import AuditPipeline
import AuditRules
import AuditWriters
internal import Glibc
import Logging

/// Builds running outputs from their configuration.
enum OutputFactory {
    /// A failure to start one output, naming it.
    struct Failure: Error, CustomStringConvertible {
        var output: String
        var reason: String
        var description: String { "output \"\(output)\": \(reason)" }
    }

    /// Opens the writer and starts the worker thread of every enabled output.
    ///
    /// - Throws: `Failure` for the first output that cannot start; the ones already started are
    ///   closed again, so nothing half-started stays behind.
    static func start(_ configurations: [OutputConfiguration], logger: Logger) throws(Failure) -> [DaemonOutput] {
        var started: [DaemonOutput] = []
        for configuration in configurations where configuration.enabled {
            do {
                started.append(try start(configuration, logger: logger))
            } catch {
                for output in started { _ = output.worker.close(drainTimeout: .seconds(1)) }
                throw error
            }
        }
        return started
    }

    /// Starts one output.
    static func start(_ configuration: OutputConfiguration, logger: Logger) throws(Failure) -> DaemonOutput {
        var queue = OutputQueueConfiguration(
            capacity: configuration.queueSize, threadName: "out-" + String(configuration.name.prefix(11)))
        let name = configuration.name
        let notices: @Sendable (WriterNotice) -> Void = { notice in
            switch notice {
            case .failing(let writer, let error):
                logger.error(
                    "output failing, retrying with backoff",
                    metadata: ["output": "\(name)", "writer": "\(writer)", "error": "\(error)"])
            case .recovered(let writer, let dropped, let failed, let duration):
                logger.warning(
                    "output recovered",
                    metadata: [
                        "output": "\(name)", "writer": "\(writer)", "dropped": "\(dropped)",
                        "failed_writes": "\(failed)", "after": "\(duration)",
                    ])
            case .warning(let writer, let error):
                logger.warning(
                    "output warning", metadata: ["output": "\(name)", "writer": "\(writer)", "error": "\(error)"])
            case .reopened(let writer):
                logger.info("output reopened", metadata: ["output": "\(name)", "writer": "\(writer)"])
            }
        }
        do {
            switch configuration.kind {
            case .file(let file):
                let writer = try FileWriter(configuration: try fileConfiguration(file, output: name))
                return DaemonOutput(
                    name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices),
                    wantsEvent: false)
            case .stdout:
                let writer = try StdoutWriter()
                return DaemonOutput(
                    name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices),
                    wantsEvent: false)
            case .syslog(let syslog):
                // The queue retries on the writer's reconnect schedule, so a dead collector costs
                // one attempt per backoff step, not one per second.
                queue.retryInitialDelay = syslog.reconnect.minimum
                queue.retryMaximumDelay = syslog.reconnect.maximum
                let writer = try SyslogWriter(configuration: syslogConfiguration(syslog))
                return DaemonOutput(
                    name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices),
                    wantsEvent: true)
            case .gelf(let gelf):
                queue.retryInitialDelay = gelf.reconnect.minimum
                queue.retryMaximumDelay = gelf.reconnect.maximum
                let writer = try GELFWriter(
                    configuration: gelfConfiguration(gelf),
                    syscallName: { AuditMachine(elf: $0)?.syscalls.name(of: $1) })
                return DaemonOutput(
                    name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices),
                    wantsEvent: true)
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(output: name, reason: "\(error)")
        }
    }

    static func syslogConfiguration(_ syslog: SyslogOutput) -> SyslogWriter.Configuration {
        let target: SyslogWriter.Configuration.Target =
            switch syslog.transport {
            case .local(let path): .local(path: path)
            case .udp(let address): .udp(host: address.host, port: address.port)
            case .tcp(let address, let framing):
                .tcp(host: address.host, port: address.port, framing: framing == .newline ? .newline : .octetCounting)
            }
        let format: SyslogWriter.Configuration.Format =
            switch syslog.format {
            case .rfc5424(let structuredData): .rfc5424(structuredData: structuredData)
            case .rfc3164: .rfc3164
            }
        let oversize: SyslogWriter.Configuration.OversizePolicy =
            switch syslog.oversize {
            case .split: .split
            case .truncate: .truncate
            case .drop: .drop
            case .tcp: .tcp
            }
        return SyslogWriter.Configuration(
            target: target, format: format, facility: syslog.facility.rawValue, severity: syslog.severity.rawValue,
            tag: syslog.tag, hostname: syslog.hostname, maxMessage: syslog.maxMessage, oversize: oversize,
            reconnectMinimum: syslog.reconnect.minimum, reconnectMaximum: syslog.reconnect.maximum)
    }

    static func gelfConfiguration(_ gelf: GELFOutput) -> GELFWriter.Configuration {
        let transport: GELFWriter.Configuration.Transport =
            switch gelf.transport {
            case .tcp: .tcp
            case .udp(let compression, let chunkSize):
                .udp(
                    compression: compression == .gzip ? .gzip : compression == .zlib ? .zlib : .none,
                    chunkSize: chunkSize)
            }
        return GELFWriter.Configuration(
            host: gelf.address.host, port: gelf.address.port, transport: transport, hostname: gelf.hostname,
            reconnectMinimum: gelf.reconnect.minimum, reconnectMaximum: gelf.reconnect.maximum)
    }

    static func fileConfiguration(_ file: FileOutput, output: String) throws(Failure) -> FileWriter.Configuration {
        let flush: FileWriter.FlushPolicy =
            switch file.flush {
            case .none: .none
            case .interval(let interval): .interval(interval)
            case .every: .everyWrite
            }
        return FileWriter.Configuration(
            path: file.path, mode: file.mode,
            owner: try file.owner.map { id throws(Failure) in try resolve(id, kind: .user, output: output) },
            group: try file.group.map { id throws(Failure) in try resolve(id, kind: .group, output: output) },
            maxFileSize: file.maxSize > 0 ? file.maxSize : nil, numLogs: file.numLogs, flush: flush)
    }

    enum AccountKind { case user, group }

    /// Looks a user or group name up once, when the output opens (not on the hot path).
    static func resolve(_ account: AccountID, kind: AccountKind, output: String) throws(Failure) -> UInt32 {
        switch account {
        case .id(let id): return id
        case .name(let name):
            var buffer = [CChar](repeating: 0, count: 16_384)
            switch kind {
            case .user:
                var entry = passwd()
                var result: UnsafeMutablePointer<passwd>?
                if getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result {
                    return result.pointee.pw_uid
                }
                throw Failure(output: output, reason: "owner \"\(name)\": no such user")
            case .group:
                var entry = group()
                var result: UnsafeMutablePointer<group>?
                if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result {
                    return result.pointee.gr_gid
                }
                throw Failure(output: output, reason: "group \"\(name)\": no such group")
            }
        }
    }
}
