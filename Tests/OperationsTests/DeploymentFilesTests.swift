import Foundation
import Testing
import Yams
import SwitchboardBase
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import TestSupport

/// What can be checked here of compose/ without a Docker engine: Prometheus' own tools on the config, rules and
/// their unit tests, and cross-checks of every file against the code (services, ports, metrics, topics, packages).
@Suite("Deployment files")
struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static func path(_ relative: String) -> String { root + "/" + relative }
    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }
    static func yaml(_ relative: String) throws -> Any? { try Yams.load(yaml: try text(relative)) }

    @Test(
        "amtool: compose's Alertmanager config is valid, Prometheus sends to it, and a merchant's incident is routed apart from fleet alerts"
    )
    func alertmanager() throws {
        let config = Self.path("compose/alertmanager/alertmanager.yml")
        let (status, output) = try Self.run("/usr/bin/amtool", ["check-config", config])
        #expect(status == 0, "amtool check-config: \(output)")
        for (labels, receiver) in [
            (
                ["alertname=SwitchboardMerchantCredentialsRefused", "account=acme", "severity=warning"],
                "merchant-success"
            ),
            (
                ["alertname=SwitchboardMerchantIntegrationDisabled", "account=acme", "severity=warning"],
                "merchant-success"
            ),
            (["alertname=SwitchboardCircuitOpen", "severity=critical"], "operators-paged"),
            (["alertname=SwitchboardDeadLettersWaiting", "severity=warning"], "operators"),
        ] {
            let (status, output) = try Self.run(
                "/usr/bin/amtool", ["config", "routes", "test", "--config.file=\(config)"] + labels)
            let named = Set(output.split(separator: "\n").map(String.init))
                .intersection(["merchant-success", "operators-paged", "operators"])
            #expect(status == 0 && named == [receiver], "\(labels): \(output)")
        }
        let prometheus = try #require(try Self.yaml("compose/prometheus/prometheus.yml") as? [String: Any])
        #expect("\(prometheus["alerting"] ?? "")".contains("alertmanager:9093"))
        let compose = try #require(try Self.yaml("compose/docker-compose.yml") as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        #expect("\(services["alertmanager"] ?? "")".contains("./alertmanager/alertmanager.yml"))
    }

    @Test("promtool: the config and rules are valid and every alert's unit test (fires, then clears) passes")
    func promtool() throws {
        for arguments in [
            ["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"],
            ["test", "rules", "alerts.test.yml"],
        ] {
            let (status, output) = try Self.run("/usr/bin/promtool", arguments, in: Self.path("compose/prometheus"))
            #expect(status == 0, "promtool \(arguments.joined(separator: " ")): \(output)")
        }
        let tests = try Self.text("compose/prometheus/alerts.test.yml")
        for alert in [
            "SwitchboardLagGrowing", "SwitchboardLagSecondsHigh", "SwitchboardDeadLettersWaiting",
            "SwitchboardWorkerDown", "SwitchboardCircuitOpen", "SwitchboardMerchantCredentialsRefused",
            "SwitchboardMerchantIntegrationDisabled",
        ] {
            #expect(try Self.text("compose/prometheus/alerts.yml").contains("alert: \(alert)"))
            #expect(
                tests.components(separatedBy: "alertname: \(alert)").count >= 3,
                "\(alert) is tested firing and clearing")
        }
    }

    @Test("every metric an alert, recording rule or dashboard panel uses is exported by a worker")
    func metricNamesExist() throws {
        let exported = Set(
            MetricCatalog.all.flatMap { spec in
                spec.kind == .histogram
                    ? [spec.name + "_bucket", spec.name + "_sum", spec.name + "_count"] : [spec.name]
            })
        let rules = try Self.text("compose/prometheus/alerts.yml")
        let recorded = Set(Self.matches(#"record: (switchboard:[a-z_:]+)"#, in: rules))
        let dashboard = try Self.text("compose/grafana/dashboards/switchboard.json")
        for (file, text) in [("alerts.yml", rules), ("switchboard.json", dashboard)] {
            let used = Set(Self.matches(#"(switchboard_[a-z_]+)"#, in: text))
            #expect(!used.isEmpty)
            for name in used { #expect(exported.contains(name), "\(file) uses \(name), which no worker exports") }
            for name in Set(Self.matches(#"(switchboard:[a-z_:]+)"#, in: text)) {
                #expect(recorded.contains(name), "\(file) uses \(name), which no recording rule defines")
            }
        }
        let panels = try JSONParser.parse(Array(dashboard.utf8))["panels"]?.arrayValue ?? []
        let titles = panels.compactMap { $0["title"]?.stringValue?.lowercased() }
        for topic in [
            "lag per topic and partition", "throughput by outcome", "latency", "dlq depth", "rate-limit waits",
        ] {
            #expect(titles.contains { $0.contains(topic) }, "the dashboard shows \(topic)")
        }
    }

    @Test(
        "compose: Kafka in KRaft mode, PostgreSQL, topic-init, three separately scaled workers with health checks, scraped where they listen"
    )
    func composeFile() throws {
        let compose = try #require(try Self.yaml("compose/docker-compose.yml") as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        let kafka = try #require(services["kafka"])
        #expect((kafka["image"] as? String)?.hasPrefix("apache/kafka:") == true)
        #expect((kafka["environment"] as? [String: Any])?["KAFKA_PROCESS_ROLES"] as? String == "broker,controller")
        #expect((services["postgres"]?["image"] as? String)?.hasPrefix("postgres:") == true)
        #expect(services["topic-init"] != nil)
        let prometheus = try #require(try Self.yaml("compose/prometheus/prometheus.yml") as? [String: Any])
        let jobs = (prometheus["scrape_configs"] as? [[String: Any]]) ?? []
        for member in FleetRoster.all {
            let service = try #require(services[member.name], "\(member.name) service")
            #expect(service["command"] as? [String] == [member.executable])
            let environment = service["environment"] as? [String: Any] ?? [:]
            #expect("\(environment["METRICS_PORT"] ?? "")" == String(member.defaultMetricsPort))
            #expect(environment["KAFKA_BROKERS"] as? String == "kafka:9092")
            #expect((service["deploy"] as? [String: Any])?["replicas"] is Int, "\(member.name) scales on its own")
            let check = (service["healthcheck"] as? [String: Any])?["test"] as? [String]
            #expect(check?.contains("http://localhost:\(member.defaultMetricsPort)/readyz") == true)
            let job = jobs.first {
                ($0["dns_sd_configs"] as? [[String: Any]])?.first?["names"] as? [String] == [member.name]
            }
            #expect(
                (job?["dns_sd_configs"] as? [[String: Any]])?.first?["port"] as? Int == member.defaultMetricsPort,
                "Prometheus scrapes \(member.name)")
        }
        for (name, service) in services where !["topic-init", "migrate"].contains(name) {
            #expect(service["healthcheck"] != nil, "\(name) has a health check")
        }
    }

    @Test(
        "topic-init runs `switchboard topics create`, which makes exactly the topics the workers use: sources, retry tiers and DLQs"
    )
    func topicInit() throws {
        let compose = try #require(try Self.yaml("compose/docker-compose.yml") as? [String: Any])
        let service = try #require((compose["services"] as? [String: [String: Any]])?["topic-init"])
        #expect(service["command"] as? [String] == ["switchboard", "topics", "create", "--partitions", "6"])
        let tiers = try #require((service["environment"] as? [String: Any])?["RETRY_TIERS"] as? String)
        let topology = try RetryTopology.from(Environment(["RETRY_TIERS": tiers]))
        let created = KafkaAdmin.switchboardTopics(topology: topology, partitions: 6)
        #expect(Set(created.map(\.name)) == Set(RetryTopology().allTopics(EventKind.sourceTopics)))
        #expect(created.allSatisfy { $0.partitions == 6 && $0.config["retention.ms"] != nil })
    }

    @Test(
        "the Dockerfile's build stage installs exactly the packages the README and install-deps name; the runtime loads the librdkafka 2.16 the compatibility runs test"
    )
    func dockerfilePackages() throws {
        let dockerfile = try Self.text("compose/Dockerfile")
        let stages = dockerfile.components(separatedBy: "\nFROM ")
        #expect(stages.count == 4, "three stages: build, librdkafka, runtime")
        let build = Set(Self.aptPackages(stages[1]))
        let runtime = Set(Self.aptPackages(stages[3]))
        let readme =
            try Self.text("README.md").split(separator: "\n").first { $0.hasPrefix("Build packages:") }.map(String.init)
            ?? ""
        #expect(build == Set(Self.matches("`([a-z0-9.+-]+)`", in: readme)), "README: \(readme)")
        let script = try Self.text("scripts/install-deps")
        let buildLine = script.split(separator: "\n").first { $0.hasPrefix("build_packages=") } ?? ""
        #expect(build == Set(Self.matches(#"([a-z0-9.+-]+-dev)"#, in: String(buildLine))))
        #expect(
            runtime.contains("libcurl4") && !runtime.contains("librdkafka1"),
            "Debian's librdkafka 2.0.2 stays out of the image")
        // The same wheel, version and digest as scripts/install-deps: the image runs the library the suites ran.
        let wheel = try #require(Self.matches(#"confluent-kafka==([0-9.]+)"#, in: stages[2]).first)
        let digest = try #require(Self.matches(#"([0-9a-f]{64})"#, in: stages[2]).first)
        #expect(
            script.contains("confluent-kafka \(wheel) \(digest)"),
            "install-deps pins confluent-kafka \(wheel) with the same sha256")
        #expect(stages[3].contains("COPY --from=librdkafka /librdkafka.so.1 /usr/local/lib/librdkafka.so.1"))
        #expect(stages[1].contains("-c release"))
    }

    @Test(
        "Kubernetes: each worker scales with KEDA on its own group's lag, capped at the partition count, with static membership"
    )
    func kubernetes() throws {
        let scaled = try Yams.load_all(yaml: try Self.text("compose/k8s/keda.yaml")).compactMap { $0 as? [String: Any] }
        let workloads = try Yams.load_all(yaml: try Self.text("compose/k8s/workers.yaml")).compactMap {
            $0 as? [String: Any]
        }
        for member in FleetRoster.all {
            let object = try #require(
                scaled.first { ($0["metadata"] as? [String: Any])?["name"] as? String == member.name })
            let spec = object["spec"] as? [String: Any] ?? [:]
            let trigger = (spec["triggers"] as? [[String: Any]])?.first?["metadata"] as? [String: Any] ?? [:]
            #expect(trigger["consumerGroup"] as? String == member.group)
            #expect(trigger["allowIdleConsumers"] as? String == "false")
            #expect((spec["maxReplicaCount"] as? Int ?? 99) <= 6)
            let workload = try #require(
                workloads.first {
                    $0["kind"] as? String == "StatefulSet"
                        && ($0["metadata"] as? [String: Any])?["name"] as? String == member.name
                })
            let text = try Yams.dump(object: workload)
            #expect(text.contains("KAFKA_GROUP_INSTANCE_ID") && text.contains(member.executable))
        }
    }

    @Test("Kubernetes: Alertmanager runs compose's configuration verbatim, and amtool accepts it")
    func kubernetesAlertmanager() throws {
        let documents = try Yams.load_all(yaml: try Self.text("compose/k8s/alertmanager.yaml")).compactMap {
            $0 as? [String: Any]
        }
        let configMap = try #require(documents.first { $0["kind"] as? String == "ConfigMap" })
        let embedded = try #require((configMap["data"] as? [String: Any])?["alertmanager.yml"] as? String)
        let composed = try Self.text("compose/alertmanager/alertmanager.yml")
        #expect(
            embedded.trimmingCharacters(in: .newlines) == composed.trimmingCharacters(in: .newlines),
            "paste compose's file again")
        let file = NSTemporaryDirectory() + "k8s-alertmanager-\(UUID().uuidString.prefix(6)).yml"
        try embedded.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try Self.run("/usr/bin/amtool", ["check-config", file])
        #expect(status == 0, "amtool check-config: \(output)")
        #expect(documents.contains { $0["kind"] as? String == "Deployment" && "\($0)".contains("prom/alertmanager") })
        #expect(try Self.text("compose/k8s/kustomization.yaml").contains("- alertmanager.yaml"))
    }

    // MARK: Helpers

    static func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// Package names after `apt-get install` in a Dockerfile stage.
    static func aptPackages(_ stage: String) -> [String] {
        let joined = stage.replacingOccurrences(of: "\\\n", with: " ")
        guard let install = joined.range(of: "apt-get install") else { return [] }
        let command = joined[install.upperBound...].prefix { $0 != "&" && $0 != "\n" }
        return command.split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") && !$0.isEmpty }
    }

    static func run(
        _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
    ) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
