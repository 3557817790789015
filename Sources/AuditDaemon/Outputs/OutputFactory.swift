import AuditConfig
import AuditPipeline
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
    static func start(_ configurations: [OutputConfiguration], logger: Logger) throws(Failure) -> [Output] {
        var started: [Output] = []
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
    static func start(_ configuration: OutputConfiguration, logger: Logger) throws(Failure) -> Output {
        let queue = OutputQueueConfiguration(
            capacity: configuration.queueSize, threadName: "out-" + String(configuration.name.prefix(11)))
        let name = configuration.name
        let notices: @Sendable (WriterNotice) -> Void = { notice in
            switch notice {
            case .failing(let writer, let error):
                logger.error("output failing, retrying with backoff", metadata: ["output": "\(name)", "writer": "\(writer)", "error": "\(error)"])
            case .recovered(let writer, let dropped, let failed, let duration):
                logger.warning(
                    "output recovered",
                    metadata: ["output": "\(name)", "writer": "\(writer)", "dropped": "\(dropped)", "failed_writes": "\(failed)", "after": "\(duration)"])
            case .warning(let writer, let error):
                logger.warning("output warning", metadata: ["output": "\(name)", "writer": "\(writer)", "error": "\(error)"])
            case .reopened(let writer):
                logger.info("output reopened", metadata: ["output": "\(name)", "writer": "\(writer)"])
            }
        }
        do {
            switch configuration.kind {
            case .file(let file):
                let writer = try FileWriter(configuration: try fileConfiguration(file, output: name))
                return Output(name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices), wantsEvent: false)
            case .stdout:
                let writer = try StdoutWriter()
                return Output(name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices), wantsEvent: false)
            case .syslog, .gelf:
                throw Failure(output: name, reason: "\(configuration.typeName) outputs are not available in this build yet")
            }
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(output: name, reason: "\(error)")
        }
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
                if getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result { return result.pointee.pw_uid }
                throw Failure(output: output, reason: "owner \"\(name)\": no such user")
            case .group:
                var entry = group()
                var result: UnsafeMutablePointer<group>?
                if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result { return result.pointee.gr_gid }
                throw Failure(output: output, reason: "group \"\(name)\": no such group")
            }
        }
    }
}
