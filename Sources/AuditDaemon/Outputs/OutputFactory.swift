import AuditConfig
import AuditPipeline
import AuditRules
import AuditWriters
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
                closeUnused(started)
                throw error
            }
        }
        return started
    }

    /// Closes outputs that were started but will not be used (a later one failed to start, or
    /// a reload that does not apply): nothing was written to them, so they close at once.
    static func closeUnused(_ outputs: [DaemonOutput]) {
        _ = OutputWorker.closeAll(outputs.map(\.worker), drainTimeout: .seconds(1))
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
        /// The writer on its own worker thread.
        func running(_ writer: some EventWriter, wantsEvent: Bool) throws(WriterError) -> DaemonOutput {
            DaemonOutput(
                name: name, worker: try OutputWorker(writer, configuration: queue, onNotice: notices),
                wantsEvent: wantsEvent, format: configuration.format, includeRaw: configuration.includeRaw)
        }
        /// A network writer, behind its disk spool when it has one (`spool_dir`).
        func networked(_ writer: some EventWriter) throws(WriterError) -> DaemonOutput {
            guard let spool = configuration.spool else { return try running(writer, wantsEvent: true) }
            return try running(SpoolingWriter(inner: writer, configuration: spool), wantsEvent: true)
        }
        do {
            // The configuration holds each writer's own configuration: nothing to translate.
            switch configuration.kind {
            case .file(let file):
                // A missing directory is created (0700), as auditd's packaging makes /var/log/audit.
                for directory in try OutputDirectories.create(forFile: file.path) {
                    logger.notice(
                        "created the output directory",
                        metadata: ["output": "\(name)", "directory": "\(directory)", "mode": "0700"])
                }
                // Owner and group names are looked up now, when the output opens (not when the
                // file is parsed), so that a user added later works after a reload.
                return try running(FileWriter(configuration: try file.resolvingAccounts()), wantsEvent: false)
            case .stdout:
                return try running(StdoutWriter(), wantsEvent: false)
            case .syslog(let syslog):
                // The queue retries on the writer's reconnect schedule, so a dead collector costs
                // one attempt per backoff step, not one per second.
                queue.retryInitialDelay = syslog.reconnectMinimum
                queue.retryMaximumDelay = syslog.reconnectMaximum
                return try networked(SyslogWriter(configuration: syslog))
            case .gelf(let gelf):
                queue.retryInitialDelay = gelf.reconnectMinimum
                queue.retryMaximumDelay = gelf.reconnectMaximum
                let names: GELFWriter.SyscallNamer = { AuditMachine(elf: $0)?.syscalls.name(of: $1) }
                return try networked(GELFWriter(configuration: gelf, syscallName: names))
            case .relp(let relp):
                queue.retryInitialDelay = relp.reconnectMinimum
                queue.retryMaximumDelay = relp.reconnectMaximum
                return try networked(RELPWriter(configuration: relp))
            }
        } catch let error as Failure {
            throw error
        } catch {
            // Writer errors and unknown owner or group names (`owner "NAME": no such user`).
            throw Failure(output: name, reason: "\(error)")
        }
    }
}
