import Foundation
import Testing
import LocalFleet
import SwitchboardKafka
import TestSupport
@testable import SwitchboardRuntime

/// A fatal librdkafka error is not logged and forgotten: liveness fails and the worker stops, so its process exits
/// non-zero and the orchestrator restarts it.
@Suite("Fatal librdkafka errors", .serialized, .timeLimit(.minutes(2)))
struct FatalErrorTests {
    @Test("a fatal consumer error fails liveness and ends the worker with that error within seconds")
    func fatalConsumerError() async throws {
        let broker = try TestBroker()
        let worker = try WorkerInstance(broker: broker, handler: ScriptedHandler())
        try #require(await eventually(timeout: .seconds(60)) { worker.worker.isReady }, "in a stable group")
        #expect(worker.worker.isLive)
        worker.worker.injectFatalConsumerError()
        #expect(await eventually(timeout: .seconds(5)) { !worker.worker.isLive }, "liveness fails")
        let ended = await worker.outcome(within: .seconds(20))
        #expect(Self.failed(ended), "ends with the KafkaError within 20 s: \(String(describing: ended))")
    }

    @Test("a fatal producer error (a fenced producer) fails liveness and ends the worker with that error")
    func fatalProducerError() async throws {
        let broker = try TestBroker()
        let worker = try WorkerInstance(broker: broker, handler: ScriptedHandler())
        try #require(await eventually(timeout: .seconds(60)) { worker.worker.isReady }, "in a stable group")
        worker.producer.injectFatalError("fenced by a test")
        #expect(await eventually(timeout: .seconds(5)) { !worker.worker.isLive }, "liveness fails")
        let ended = await worker.outcome(within: .seconds(20))
        #expect(Self.failed(ended), "ends with the KafkaError within 20 s: \(String(describing: ended))")
        #expect(worker.producer.failure?.isFatal == true)
    }

    @Test("a worker process whose consumer hits a fatal error exits non-zero within seconds")
    func processExitsNonZero() async throws {
        let fleet = try await E2EFleet()
        let worker = try await fleet.start(
            .status, environment: ["SWITCHBOARD_FAILPOINT_FATAL_KAFKA_AFTER": "1"], waitReady: false)
        let code = await worker.waitForExit(timeout: .seconds(30))
        #expect(code != nil && code != 0, "exit code \(String(describing: code)):\n\(worker.log.suffix(2000))")
        #expect(worker.log.contains("fatal"))
        await fleet.shutdown()
    }

    /// The run ended with a `KafkaError`.
    static func failed(_ outcome: Result<Void, any Error>?) -> Bool {
        guard case .failure(let error)? = outcome else { return false }
        return error is KafkaError
    }
}
