import Testing
import SwitchboardBase
import SwitchboardKafka
@testable import SwitchboardRuntime
@testable import WorkerKit
import SwitchboardHTTP

/// Settings the runtime reads once at start: each fails naming itself when it is wrong.
@Suite("Worker configuration")
struct WorkerConfigurationTests {
    let definition = WorkerDefinition(
        name: "test-worker", group: "test-group", topics: ["sms.subscriptions"], defaultMetricsPort: 0
    ) { _ in
        fatalError("not built in these tests")
    }

    func configuration(_ values: [String: String]) throws -> WorkerConfiguration {
        try WorkerConfiguration.from(
            Environment(["KAFKA_BROKERS": "127.0.0.1:9092"].merging(values) { _, new in new }), definition: definition)
    }

    func instanceId(_ configuration: WorkerConfiguration) -> String? {
        configuration.kafka.properties.first { $0.name == "group.instance.id" }?.value
    }

    @Test(
        "STATIC_MEMBERSHIP=hostname makes the host name the group.instance.id; off, none; KAFKA_GROUP_INSTANCE_ID wins")
    func staticMembership() throws {
        #expect(instanceId(try configuration([:])) == nil)
        #expect(instanceId(try configuration(["STATIC_MEMBERSHIP": "off"])) == nil)
        let settings = try WorkerConfiguration.staticMembership(
            Environment(["STATIC_MEMBERSHIP": "hostname"]), settings: KafkaSettings(bootstrapServers: "127.0.0.1:9092"),
            hostName: { "inbound-worker-2" }
        )
        #expect(settings.properties.first { $0.name == "group.instance.id" }?.value == "inbound-worker-2")
        #expect(instanceId(try configuration(["STATIC_MEMBERSHIP": "hostname"])) != nil)
        #expect(
            instanceId(try configuration(["STATIC_MEMBERSHIP": "hostname", "KAFKA_GROUP_INSTANCE_ID": "pod-7"]))
                == "pod-7")
        #expect { try configuration(["STATIC_MEMBERSHIP": "always"]) } throws: {
            ($0 as? ConfigurationError)?.setting == "STATIC_MEMBERSHIP"
        }
    }

    @Test("a worker may hold as many connections to one host as records in flight (64 at least)")
    func connectionsFollowTheWindow() throws {
        #expect(
            WorkerRuntime.httpConfiguration(try configuration(["MAX_IN_FLIGHT": "512"])).maxConnectionsPerHost == 512)
        #expect(WorkerRuntime.httpConfiguration(try configuration(["MAX_IN_FLIGHT": "8"])).maxConnectionsPerHost == 64)
    }
}
