import AuditEncoding
import AuditEvents
import AuditFilters
import AuditNetlink
import AuditProcesses
import AuditTLS
import AuditWriters

extension DaemonConfiguration {
    /// The configuration in the file's own syntax, every key written out with its effective value
    /// (defaults included), for `swift-audit run --check-config`.
    ///
    /// Parsing the result gives back an equal configuration. Settings that are not set (a rules file,
    /// a file owner) appear as comments, so the text still shows every key.
    package func render() -> String {
        var out = RenderBuffer()
        out.comment("swift-audit effective configuration: every key with its value, defaults included.")
        out.blank()
        out.set("socket", audit.socket == .multicast ? "multicast" : "unicast")
        out.blank()
        if audit.socket == .multicast {
            // Written out, these would be refused: the read-only mode changes no kernel setting.
            out.comment("Kernel audit settings: not applied with socket = multicast (the registered daemon's)")
            for key in ["enabled", "failure", "rate_limit", "backlog_limit", "backlog_wait_time"] {
                out.comment("\(key) is not set")
            }
        } else {
            out.comment("Kernel audit settings, applied at start")
            out.set("enabled", renderEnabled(audit.enabled))
            out.set("failure", audit.failure.description)
            out.set("rate_limit", String(audit.rateLimit))
            out.set("backlog_limit", String(audit.backlogLimit))
            out.set("backlog_wait_time", String(audit.backlogWaitTime))
        }
        out.set("socket_buffer", renderSize(audit.socketBufferSize))
        if audit.socket == .unicast {
            out.set("nap_socket_buffer", renderSize(audit.napSocketBufferSize))
            out.set("takeover", yesNo(audit.takeover))
        }
        out.set("confirm_panic", yesNo(audit.confirmPanic))
        out.set("confirm_lock", yesNo(audit.confirmLock))
        out.blank()
        out.comment("Rules")
        out.optional("rules_file", rules.file, unset: "no rules file")
        out.optional("rules_dir", rules.directory, unset: "no rules directory")
        out.set("rules_at_exit", rules.atExit.rawValue)
        out.set("multicast_load_rules", yesNo(rules.loadInMulticast))
        out.blank()
        out.comment("Events")
        out.set("end_of_event_timeout", renderMilliseconds(reassembly.endOfEventTimeout))
        out.set("reorder_window", renderMilliseconds(reassembly.reorderWindow))
        out.set("max_in_flight", String(reassembly.maxInFlight))
        out.set("max_event_records", String(reassembly.maxEventRecords))
        out.set("max_event_bytes", renderSize(reassembly.maxEventBytes))
        out.set("min_type", String(reassembly.minType.rawValue))
        out.set("max_type", String(reassembly.maxType.rawValue))
        out.set("hostname", renderHostname(hostname))
        out.blank()
        out.comment("Process context")
        out.set("process_context", yesNo(processes.enabled))
        out.set("process_table_size", String(processes.table.maximumEntries))
        out.optional("process_state_file", processes.stateFile, unset: "not kept across restarts")
        out.set("process_executable_hash", yesNo(processes.table.hashExecutables))
        out.set(
            "process_environment",
            processes.table.captureEnvironment ? processes.table.environmentVariables.joined(separator: ",") : "no")
        out.set("process_scripts", yesNo(processes.table.detectScripts))
        out.blank()
        out.comment("Daemon")
        out.set("ring_size", renderSize(pipeline.ringSize))
        out.set("status_interval", renderDuration(pipeline.statusInterval))
        out.set("loss_report_interval", renderDuration(pipeline.lossReportInterval))
        out.optional("metrics_listen", metrics.listen?.description, unset: "no metrics listener")
        out.optional("metrics_textfile", metrics.textfile, unset: "no metrics textfile")
        out.set("metrics_interval", renderDuration(metrics.interval))
        out.set("queue_memory_budget", pipeline.queueMemoryBudget.map(renderSize) ?? "auto")
        out.blank()
        renderFilters(into: &out)
        let plan = filterPlan
        for output in outputs {
            out.blank()
            renderOutput(output, into: &out)
            renderOutputFilters(output, plan: plan, into: &out)
        }
        if outputs.isEmpty {
            out.blank()
            out.comment("no outputs (a file needs at least one)")
        }
        return out.text
    }
}

extension DaemonConfiguration {
    /// The rules and the global list, with the order they are applied in spelled out.
    fileprivate func renderFilters(into out: inout RenderBuffer) {
        out.comment("Filters. Order: records outside min_type…max_type leave their events first (the reassembler);")
        out.comment("then each event goes through the global list (filters), then the output's own list")
        out.comment("(output.NAME.filters). In a list the first rule that matches decides; no match keeps the event.")
        for rule in filterRules {
            let prefix = "filter.\(rule.name)."
            out.set(prefix + "action", rule.action.rawValue)
            for condition in rule.conditions { out.set(prefix + condition.field.rawValue, condition.text) }
        }
        if filterRules.isEmpty { out.comment("no filter rules") }
        if filters.isEmpty {
            out.comment("filters is not set: no global list")
        } else {
            out.set("filters", filters.joined(separator: ","))
        }
    }
}

/// `take`, `filters` and, as a comment, the effective order of the output's filters.
private func renderOutputFilters(_ output: OutputConfiguration, plan: FilterPlan, into out: inout RenderBuffer) {
    let prefix = "output.\(output.name)."
    switch output.selection {
    case .all: out.set(prefix + "take", "all")
    case .filteredOutBy(let other): out.set(prefix + "take", "filtered-by:" + other)
    }
    if output.filters.isEmpty {
        out.comment(prefix + "filters is not set: no list of its own")
    } else {
        out.set(prefix + "filters", output.filters.joined(separator: ","))
    }
    let filters = OutputFilters(name: output.name, selection: output.selection, rules: output.filters)
    out.comment("events of \"\(output.name)\": " + plan.describeOrder(of: filters))
}

private func renderOutput(_ output: OutputConfiguration, into out: inout RenderBuffer) {
    let prefix = "output.\(output.name)."
    out.comment("Output \"\(output.name)\"")
    out.set(prefix + "type", output.typeName)
    out.set(prefix + "enabled", yesNo(output.enabled))
    out.set(prefix + "queue_size", String(output.queueSize))
    out.set(prefix + "format", output.format.rawValue)
    if output.format == .ecs { out.set(prefix + "include_raw", yesNo(output.includeRaw)) }
    switch output.kind {
    case .stdout:
        break
    case .file(let file):
        out.set(prefix + "path", file.path)
        out.set(prefix + "mode", octal4(file.mode))
        out.optional(prefix + "owner", file.owner?.description, unset: "the daemon's user")
        out.optional(prefix + "group", file.group?.description, unset: "the daemon's group")
        out.set(prefix + "max_size", renderSize(file.maxFileSize ?? 0))
        out.set(prefix + "num_logs", String(file.numLogs))
        switch file.flush {
        case .none: out.set(prefix + "flush", "none")
        case .everyWrite: out.set(prefix + "flush", "every")
        case .interval(let interval):
            out.set(prefix + "flush", "interval")
            out.set(prefix + "flush_interval", renderDuration(interval))
        }
    case .syslog(let syslog):
        switch syslog.target {
        case .local(let path):
            out.set(prefix + "target", "local")
            out.set(prefix + "address", path)
        case .udp(let host, let port):
            out.set(prefix + "target", "udp")
            out.set(prefix + "address", NetworkAddress(host: host, port: port).description)
        case .tcp(let host, let port, let framing):
            out.set(prefix + "target", "tcp")
            out.set(prefix + "address", NetworkAddress(host: host, port: port).description)
            out.set(prefix + "framing", framing.rawValue)
        case .tls(let host, let port, let tls):
            out.set(prefix + "target", "tls")
            out.set(prefix + "address", NetworkAddress(host: host, port: port).description)
            renderTLS(tls, prefix: prefix, into: &out)
        }
        renderSyslogHeader(
            syslog.format, facility: syslog.facility, severity: syslog.severity, tag: syslog.tag,
            hostname: syslog.hostname, prefix: prefix, into: &out)
        out.set(prefix + "oversize", syslog.oversize.rawValue)
        out.set(prefix + "max_message", String(syslog.maxMessage))
        out.set(prefix + "reconnect_min", renderDuration(syslog.reconnectMinimum))
        out.set(prefix + "reconnect_max", renderDuration(syslog.reconnectMaximum))
    case .gelf(let gelf):
        switch gelf.transport {
        case .udp(let compression, let chunkSize):
            out.set(prefix + "transport", "udp")
            out.set(prefix + "address", NetworkAddress(host: gelf.host, port: gelf.port).description)
            out.set(prefix + "compression", compression.rawValue)
            out.set(prefix + "chunk_size", String(chunkSize))
        case .tcp:
            out.set(prefix + "transport", "tcp")
            out.set(prefix + "address", NetworkAddress(host: gelf.host, port: gelf.port).description)
        case .tls(let tls):
            out.set(prefix + "transport", "tls")
            out.set(prefix + "address", NetworkAddress(host: gelf.host, port: gelf.port).description)
            renderTLS(tls, prefix: prefix, into: &out)
        }
        out.optional(prefix + "hostname", gelf.hostname, unset: "gethostname()")
        out.set(prefix + "reconnect_min", renderDuration(gelf.reconnectMinimum))
        out.set(prefix + "reconnect_max", renderDuration(gelf.reconnectMaximum))
    case .relp(let relp):
        out.set(prefix + "target", relp.tls == nil ? "tcp" : "tls")
        out.set(prefix + "address", NetworkAddress(host: relp.host, port: relp.port).description)
        if let tls = relp.tls { renderTLS(tls, prefix: prefix, into: &out) }
        out.set(prefix + "relp_window", String(relp.window))
        out.set(prefix + "ack_timeout", renderDuration(relp.ackTimeout))
        renderSyslogHeader(
            relp.format, facility: relp.facility, severity: relp.severity, tag: relp.tag, hostname: relp.hostname,
            prefix: prefix, into: &out)
        out.set(prefix + "oversize", relp.oversize.rawValue)
        out.set(prefix + "max_message", String(relp.maxMessage))
        out.set(prefix + "reconnect_min", renderDuration(relp.reconnectMinimum))
        out.set(prefix + "reconnect_max", renderDuration(relp.reconnectMaximum))
    }
    if let spool = output.spool {
        out.set(prefix + "spool_dir", spool.directory)
        out.set(prefix + "spool_max_size", renderSize(spool.maxSize))
        out.set(prefix + "spool_sync", spool.sync.rawValue)
    }
}

/// The syslog header keys of a syslog or RELP output.
private func renderSyslogHeader(
    _ format: SyslogWriter.Configuration.Format, facility: UInt8, severity: UInt8, tag: String, hostname: String?,
    prefix: String, into out: inout RenderBuffer
) {
    switch format {
    case .rfc5424(let structuredData):
        out.set(prefix + "syslog_format", "rfc5424")
        out.set(prefix + "structured_data", yesNo(structuredData))
    case .rfc3164:
        out.set(prefix + "syslog_format", "rfc3164")
    }
    out.set(prefix + "facility", SyslogNames.facilityName(facility))
    out.set(prefix + "severity", SyslogNames.severityName(severity))
    out.set(prefix + "tag", tag)
    out.optional(prefix + "hostname", hostname, unset: "gethostname()")
}

/// The `tls_*` keys of a TLS output.
private func renderTLS(_ tls: TLSConfiguration, prefix: String, into out: inout RenderBuffer) {
    out.set(prefix + "tls_ca", tls.caFile)
    out.optional(prefix + "tls_cert", tls.certificateFile, unset: "no client certificate")
    out.optional(prefix + "tls_key", tls.keyFile, unset: "no client certificate")
    out.optional(prefix + "tls_server_name", tls.serverName, unset: "the host of the address")
}

private struct RenderBuffer {
    var text = ""

    mutating func comment(_ line: String) { text += "# " + line + "\n" }
    mutating func blank() { text += "\n" }
    mutating func set(_ key: String, _ value: String) { text += key + " = " + renderValue(value) + "\n" }
    mutating func optional(_ key: String, _ value: String?, unset: String) {
        if let value { set(key, value) } else { comment("\(key) is not set: \(unset)") }
    }
}

/// A value as the lexer reads it back: bare when it is one word, otherwise double-quoted with `\"`
/// and `\\` escaped.
func renderValue(_ value: String) -> String {
    let needsQuotes = value.isEmpty || value.hasPrefix("\"") || value.contains(where: { $0 == " " || $0 == "\t" })
    guard needsQuotes else { return value }
    var out = "\""
    for character in value {
        if character == "\"" || character == "\\" { out.append("\\") }
        out.append(character)
    }
    return out + "\""
}

private func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

private func renderEnabled(_ state: AuditEnabledState) -> String {
    switch state {
    case .disabled: "0"
    case .enabled: "1"
    case .locked: "lock"
    }
}

private func renderHostname(_ source: HostnameFormat) -> String {
    switch source {
    case .none: "none"
    case .hostname: "hostname"
    case .fqdn: "fqdn"
    case .user(let name): "user:" + name
    }
}
