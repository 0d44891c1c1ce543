import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import LocalFleet
import SwitchboardBase
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import SwitchboardObservability
import SwitchboardRuntime
import TestKit
import WorkerKit
import OperatorKit

/// `switchboard-dev bench runtime`: records/s through the shared runtime for a no-op handler and for a handler that
/// sleeps L ms, beside `kcat` consuming the same topic on the same embedded broker.
struct RuntimeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Runtime throughput: no-op and sleeping handlers against kcat as the ceiling."
    )

    @Option(help: "Records for the no-op run (and kcat).") var records = 100_000
    @Option(help: "Records for the sleeping-handler run.") var sleepRecords = 50_000
    @Option(help: "Handler sleep in milliseconds.") var sleepMs = 50
    @Option(help: "Distinct keys.") var keys = 1000
    @Option(help: "Partitions.") var partitions = 6
    @Option(help: "Records in flight per process (MAX_IN_FLIGHT).") var inFlight = 256
    @Option(help: "Unfinished records per partition before it pauses (MAX_BUFFERED_PER_PARTITION).")
    var bufferedPerPartition = WorkerConfiguration.defaultMaxBufferedPerPartition
    @Flag(help: "Leave resumed partitions to librdkafka's own fetch schedule (measures what the fetch waker is worth).")
    var noFetchWaker = false
    @Option(help: "Combinations: a comma-separated list of mock-system, tansu-2.16, mock-2.16, or all.") var on = [
        "mock-system"
    ]
    @Option(help: "Write the results as JSON to this file.") var output: String?
    @Flag(help: .hidden) var resultLine = false

    struct Result: Codable {
        var machine: MachineDescription
        var combination: String
        var bufferedPerPartition: Int
        var fetchWaker: Bool
        var records: Int
        var partitions: Int
        var keys: Int
        var kcatRecordsPerSecond: Double
        var noopRecordsPerSecond: Double
        var noopShareOfKcat: Double
        var sleepMs: Int
        var inFlight: Int
        var sleepRecordsPerSecond: Double
        var sleepBoundRecordsPerSecond: Double
        var sleepShareOfBound: Double
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let combinations = try CombinationRuns.parse(on)
        if resultLine {
            try CombinationRuns.printResultLine(try await measureHere())
            return
        }
        let arguments =
            [
                "bench", "runtime", "--records", "\(records)", "--sleep-records", "\(sleepRecords)", "--sleep-ms",
                "\(sleepMs)", "--keys", "\(keys)",
                "--partitions", "\(partitions)", "--in-flight", "\(inFlight)", "--buffered-per-partition",
                "\(bufferedPerPartition)",
            ] + (noFetchWaker ? ["--no-fetch-waker"] : [])
        let results = try await CombinationRuns.run(combinations, childArguments: arguments) { try await measureHere() }
            .map(\.1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = String(
            decoding: try encoder.encode(results.count == 1 ? AnyEncodable(results[0]) : AnyEncodable(results)),
            as: UTF8.self)
        if let output { try json.write(toFile: output, atomically: true, encoding: .utf8) }
        StandardOutput.line(json)
    }

    /// Both runs on the combination this process runs.
    private func measureHere() async throws -> Result {
        let combination = BrokerCombination.current
        StandardError.line(
            "[\(combination)] producing \(records) records over \(keys) keys and \(partitions) partitions…")
        let noop = try await measure(records: records, handlerDelay: nil, withKcat: true)
        StandardError.line("kcat: \(Int(noop.kcat)) records/s; runtime no-op: \(Int(noop.runtime)) records/s")
        let sleeping = try await measure(
            records: sleepRecords, handlerDelay: .milliseconds(Int64(sleepMs)), withKcat: false)
        let bound = Double(inFlight) / (Double(sleepMs) / 1000)
        StandardError.line("runtime sleeping \(sleepMs) ms: \(Int(sleeping.runtime)) records/s (bound \(Int(bound)))")
        return Result(
            machine: .current(librdkafka: Librdkafka.version), combination: combination.name,
            bufferedPerPartition: bufferedPerPartition, fetchWaker: !noFetchWaker,
            records: records, partitions: partitions, keys: keys,
            kcatRecordsPerSecond: noop.kcat.rounded(), noopRecordsPerSecond: noop.runtime.rounded(),
            noopShareOfKcat: (noop.runtime / noop.kcat * 1000).rounded() / 1000,
            sleepMs: sleepMs, inFlight: inFlight, sleepRecordsPerSecond: sleeping.runtime.rounded(),
            sleepBoundRecordsPerSecond: bound, sleepShareOfBound: (sleeping.runtime / bound * 1000).rounded() / 1000
        )
    }

    private func measure(records count: Int, handlerDelay: Duration?, withKcat: Bool) async throws -> (
        kcat: Double, runtime: Double
    ) {
        let logger = Logger(label: "bench")
        let broker = try LocalBroker(
            BrokerCombination.current.broker, partitions: partitions, topology: RetryTopology(), logger: logger)
        let settings = broker.settings()
        // lz4 keeps the data within the embedded broker's retention (5 MiB per partition, librdkafka's mock limit).
        let producer = try KafkaProducer(
            settings: broker.settings(["compression.type": "lz4"], source: "bench"), clientId: "bench-producer",
            logger: logger)
        let batch = (0..<count).map { index in benchRecord(index: index, key: index % keys) }
        for start in stride(from: 0, to: batch.count, by: 50_000) {
            try await producer.sendAll(Array(batch[start..<min(start + 50_000, batch.count)]))
        }
        await producer.shutdown()
        let topic = EventKind.subscription.topic
        try await Self.requireRetained(settings: settings, topic: topic, partitions: partitions, logger: logger)
        let kcat =
            withKcat ? try KcatReference.consume(brokers: broker.bootstrapServers, topic: topic, count: count) : 0

        let counter = CompletionCounter(target: count)
        let handler = BenchHandler(delay: handlerDelay, counter: counter)
        let environment = Environment(
            broker.clientEnvironment.merging([
                "KAFKA_BROKERS": broker.bootstrapServers,
                "MAX_IN_FLIGHT": "\(inFlight)",
                "MAX_BUFFERED_PER_PARTITION": "\(bufferedPerPartition)",
                "KAFKA_FETCH_WAIT_MAX_MS": "10",
            ]) { _, new in new })
        let definition = WorkerDefinition(
            name: "bench", group: "bench-\(UUID().uuidString)", topics: [topic], defaultMetricsPort: 0
        ) { _ in handler }
        var configuration = try WorkerConfiguration.from(environment, definition: definition)
        configuration.wakesFetchersOnResume = !noFetchWaker
        let workerProducer = try KafkaProducer(settings: settings, clientId: "bench-worker", logger: logger)
        let worker = ConsumerWorker(
            configuration: configuration, handler: handler, ledger: InMemoryLedger(), parking: InMemoryKeyParking(),
            producer: workerProducer,
            metrics: WorkerMetrics(group: configuration.group, metrics: MetricsBootstrap.shared()), logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: workerProducer), .init(service: worker)], logger: logger))
        let running = Task { try await group.run() }
        await counter.done.wait()
        await group.triggerGracefulShutdown()
        try await running.value
        return (kcat, counter.rate)
    }

    /// Fails when the embedded broker already trimmed the start of a partition (it keeps 5 MiB per partition).
    static func requireRetained(settings: KafkaSettings, topic: String, partitions: Int, logger: Logger) async throws {
        let lows = try await BlockingCall.run {
            let reader = try KafkaOffsetsReader(settings: settings, logger: logger)
            return try (0..<partitions).map { try reader.watermarks(TopicPartition(topic, Int32($0))).low }
        }
        guard lows.allSatisfy({ $0 == 0 }) else {
            throw BenchmarkError(
                "the embedded broker trimmed records (it retains 5 MiB per partition); use fewer records or more partitions"
            )
        }
    }

    private func benchRecord(index: Int, key: Int) -> OutgoingRecord {
        let phone = "+1555\(String(format: "%07d", key))"
        let data: JSONValue = [
            "accountId": "bench", "phone": .string(phone), "state": "subscribed",
            "at": "2026-06-01T12:00:00Z", "source": "bench",
        ]
        let event = CloudEvent(id: "bench-\(index)", source: "bench", kind: .subscription, time: nil, data: data)
        return OutgoingRecord(
            topic: EventKind.subscription.topic, key: "bench:\(phone)", value: event.document.serialized())
    }
}

/// Counts completions and times the span from the first to the last.
final class CompletionCounter: Sendable {
    private let state = Mutex((count: 0, first: ContinuousClock.Instant?.none, last: ContinuousClock.now))
    let target: Int
    let done = AsyncEvent()

    init(target: Int) { self.target = target }

    func complete() {
        let finished = state.withLock { state -> Bool in
            let now = ContinuousClock.now
            if state.first == nil { state.first = now }
            state.count += 1
            state.last = now
            return state.count == target
        }
        if finished { done.signal() }
    }

    var rate: Double {
        state.withLock { state in
            guard let first = state.first, state.count > 1 else { return 0 }
            return Double(state.count - 1) / max((state.last - first).seconds, 1e-6)
        }
    }
}

/// A handler that does nothing, or sleeps, then counts.
struct BenchHandler: EventHandler {
    let delay: Duration?
    let counter: CompletionCounter

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        if let delay { try await Task.sleep(for: delay) }
        counter.complete()
        return .processed
    }
}
