import Foundation
import Testing
import LocalFleet
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardRuntime
import TestSupport

/// Debian's real Prometheus scraping a local fleet with the alert rules of compose/.
@Suite("Prometheus against the local fleet", .serialized, .timeLimit(.minutes(3)))
struct PrometheusScrapeTests {
    @Test("every worker's target is up, the lag series of every group are present, and the alert rules load")
    func scrape() async throws {
        let fleet = try await E2EFleet(environment: ["KAFKA_STATISTICS_INTERVAL_MS": "1000"])
        var workers: [FleetMember: WorkerProcess] = [:]
        for (member, kind) in zip(FleetRoster.all, [WorkerProcess.Kind.inbound, .outbound, .status]) {
            workers[member] = try await fleet.start(kind)
        }
        let directory = NSTemporaryDirectory() + "prometheus-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let jobs = FleetRoster.all.map { member in
            "  - job_name: switchboard-\(member.name.replacingOccurrences(of: "-worker", with: ""))\n    static_configs: [{targets: [\"127.0.0.1:\(workers[member]!.metricsPort)\"]}]"
        }
        let config = """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: [\(DeploymentFilesTests.path("compose/prometheus/alerts.yml"))]
            scrape_configs:
            \(jobs.joined(separator: "\n"))
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)",
        ]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate() }
        let api = "http://127.0.0.1:\(port)/api/v1"

        #expect(
            await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                let targets = (try? await Self.json(api + "/targets"))?["data"]?["activeTargets"]?.arrayValue ?? []
                return targets.count == 3 && targets.allSatisfy { $0["health"] == "up" }
            }, "all three workers scraped and up")
        var groups: Set<String> = []
        #expect(
            await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                let result =
                    (try? await Self.json(api + "/query?query=switchboard_consumer_group_lag_records"))?["data"]?[
                        "result"]?.arrayValue ?? []
                groups = Set(result.compactMap { $0["metric"]?["group"]?.stringValue })
                return groups == Set(FleetRoster.all.map(\.group))
            }, "group lag of every group: \(groups)")
        let partitions =
            try await Self.json(api + "/query?query=switchboard_consumer_lag_records")["data"]?["result"]?.arrayValue
            ?? []
        let topics = Set(partitions.compactMap { $0["metric"]?["topic"]?.stringValue })
        #expect(topics.isSuperset(of: EventKind.sourceTopics))
        let rules = try await Self.json(api + "/rules")["data"]?["groups"]?.arrayValue ?? []
        let alerts = rules.flatMap { $0["rules"]?.arrayValue ?? [] }.filter { $0["type"] == "alerting" }
        let written = try DeploymentFilesTests.text("compose/prometheus/alerts.yml").components(
            separatedBy: "- alert: ")
        #expect(
            alerts.count == written.count - 1 && alerts.count >= 7
                && alerts.allSatisfy { $0["health"] == "ok" || $0["health"] == "unknown" },
            "\(alerts.count) alert rules loaded")
        await fleet.shutdown()
    }

    static func json(_ url: String) async throws -> JSONValue {
        try JSONParser.parse(Array(try await httpGet(url).body.utf8))
    }
}
