import Foundation
import LocalFleet
import Synchronization
import Logging
import ServiceLifecycle
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore
import TestKit
import TestSupport
@testable import WorkerKit
import SwitchboardBase

/// One in-process worker (consumer + processor) running in its own ServiceGroup.
final class WorkerInstance: Sendable {
    let worker: ConsumerWorker
    let producer: KafkaProducer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let configuration: WorkerConfiguration

    static let definition = WorkerDefinition(
        name: "test-worker", group: "test-group", topics: [EventKind.subscription.topic], defaultMetricsPort: 0
    ) { _ in ScriptedHandler() }

    init(
        broker: TestBroker,
        handler: any EventHandler,
        ledger: any IdempotencyLedger = InMemoryLedger(),
        parking: any KeyParking = InMemoryKeyParking(),
        group groupName: String = "test-group",
        environment extra: [String: String] = [:]
    ) throws {
        var environment = broker.environment(extra)
        environment.values["CONSUMER_GROUP"] = groupName
        configuration = try WorkerConfiguration.from(environment, definition: Self.definition)
        let logger = Logger(label: "worker-\(groupName)")
        producer = try KafkaProducer(settings: configuration.kafka, clientId: "test-worker-producer", logger: logger)
        worker = ConsumerWorker(
            configuration: configuration, handler: handler, ledger: ledger, parking: parking, producer: producer,
            metrics: WorkerMetrics(group: groupName, metrics: MetricsBootstrap.shared()), logger: logger
        )
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [.init(service: producer), .init(service: worker)], logger: logger))
        group = serviceGroup
        task = Task { try await serviceGroup.run() }
    }

    /// How the worker's run ended, if it did within `bound`: a test awaiting the task itself would hang past its time
    /// limit when the worker never ends.
    func outcome(within bound: Duration) async -> Result<Void, any Error>? {
        let ended = Mutex<Result<Void, any Error>?>(nil)
        let task = self.task
        Task {
            let result: Result<Void, any Error>
            do { result = .success(try await task.value) } catch { result = .failure(error) }
            ended.withLock { $0 = result }
        }
        _ = await eventually(timeout: bound) { ended.withLock { $0 != nil } }
        return ended.withLock { $0 }
    }

    /// Graceful shutdown (what SIGTERM triggers); returns how long it took.
    @discardableResult
    func stop() async throws -> Duration {
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await task.value
        return ContinuousClock.now - started
    }
}
