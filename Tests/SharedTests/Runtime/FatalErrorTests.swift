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
        #expect(await eventually(timeout: .seconds(30)) { worker.worker.isReady })
        #expect(worker.worker.isLive)
        let injected = ContinuousClock.now
        worker.worker.injectFatalConsumerError()
        #expect(await eventually(timeout: .seconds(5)) { !worker.worker.isLive }, "liveness fails")
        await #expect(throws: KafkaError.self) { try await worker.task.value }
        #expect(
            ContinuousClock.now - injected < .seconds(20), "stopped \(ContinuousClock.now - injected) after the error")
    }

    @Test("a fatal producer error (a fenced producer) fails liveness and ends the worker with that error")
    func fatalProducerError() async throws {
        let broker = try TestBroker()
        let worker = try WorkerInstance(broker: broker, handler: ScriptedHandler())
        #expect(await eventually(timeout: .seconds(30)) { worker.worker.isReady })
        worker.producer.injectFatalError("fenced by a test")
        #expect(await eventually(timeout: .seconds(5)) { !worker.worker.isLive }, "liveness fails")
        await #expect(throws: KafkaError.self) { try await worker.task.value }
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
}
