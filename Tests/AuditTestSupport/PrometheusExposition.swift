import Foundation

/// A Prometheus text exposition as the reference parser reads it: Debian's python3-prometheus-client
/// (`prometheus_client.parser.text_string_to_metric_families`), not ours.
public struct PrometheusExposition: Sendable {
    /// One metric family: its type and help as parsed, and its samples.
    public struct Family: Sendable {
        public var name: String
        public var type: String
        public var help: String
        public var samples: [Sample]
    }

    /// One sample: the full sample name (with `_total` for counters), labels, value.
    public struct Sample: Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// The families in exposition order.
    public var families: [Family]

    /// Whether python3 can import the parser.
    public static let parserIsAvailable: Bool = {
        guard let python = HostTools.python3,
            let result = try? runProcess(python, ["-c", "import prometheus_client.parser"])
        else { return false }
        return result.status == 0
    }()

    /// Parses `text` with the reference parser; throws with its error when it refuses the text.
    public init(parsing text: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("metrics.prom", text)
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            families = []
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                families.append({"name": family.name, "type": family.type, "help": family.documentation,
                    "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
            print(json.dumps(families))
            """
        let result = try runProcess(HostTools.python3 ?? "/usr/bin/python3", ["-c", script, path])
        guard result.status == 0 else {
            throw TestRequirement.Missing(
                description: "prometheus_client refused the exposition: \(result.standardError)")
        }
        let decoded = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]] ?? []
        families = decoded.map { family in
            Family(
                name: family["name"] as? String ?? "", type: family["type"] as? String ?? "",
                help: family["help"] as? String ?? "",
                samples: (family["samples"] as? [[String: Any]] ?? []).map { sample in
                    Sample(
                        name: sample["name"] as? String ?? "", labels: sample["labels"] as? [String: String] ?? [:],
                        value: (sample["value"] as? NSNumber)?.doubleValue ?? .nan)
                })
        }
    }

    /// The value of the sample `name` with exactly `labels`; nil when there is none.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for family in families {
            if let sample = family.samples.first(where: { $0.name == name && $0.labels == labels }) {
                return sample.value
            }
        }
        return nil
    }

    /// The family a sample name belongs to (a counter's samples carry `_total`, its family not).
    public func family(ofSample name: String) -> Family? {
        families.first { family in family.samples.contains { $0.name == name } }
    }
}
