import Foundation
import Logging
import Synchronization
import Testing
import KafkaMock
import LocalFleet
import SwitchboardBase
import SwitchboardKafka
import TestSupport

@Suite("Kafka on the embedded broker", .timeLimit(.minutes(2)))
struct KafkaRoundTripTests {
    @Test("records round-trip with key, value and headers through a consumer group")
    func roundTrip() async throws {
        let logger = Logger(label: "test")
        let broker = try EmbeddedBroker(brokers: 1, logger: logger)
        try broker.createTopic("roundtrip", partitions: 3)
        let settings = KafkaSettings(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(settings: settings, clientId: "test", logger: logger)
        for index in 0..<50 {
            try await producer.send(
                OutgoingRecord(
                    topic: "roundtrip",
                    key: Array("key-\(index % 5)".utf8),
                    value: Array("value-\(index)".utf8),
                    headers: [KafkaHeader(key: "h", string: "\(index)"), KafkaHeader(key: "null", value: nil)]
                ))
        }
        let received = Mutex<[KafkaRecord]>([])
        let done = AsyncEvent()
        let consumer = try KafkaConsumer(
            settings: settings, groupId: "roundtrip-group", clientId: "test", logger: logger)
        let reading = consumer.readRecords { records in
            let count = received.withLock {
                $0 += records; return $0.count
            }
            if count == 50 { done.signal() }
        }
        try consumer.start(topics: ["roundtrip"])
        #expect(await done.wait(timeout: .seconds(30)))
        #expect(await consumer.close(timeout: .seconds(10)))
        await reading.value
        await producer.shutdown()
        let records = received.withLock { $0 }
        #expect(Set(records.map { String(decoding: $0.value, as: UTF8.self) }).count == 50)
        let first = try #require(records.first { String(decoding: $0.value, as: UTF8.self) == "value-7" })
        #expect(first.keyString == "key-2")
        #expect(first.header("h") == "7")
        #expect(first.headers.contains { $0.key == "null" && $0.value == nil })
        #expect(first.timestamp != nil)
    }

    /// librdkafka 2.0.2 leaves the broker thread asleep (up to a second) when every partition it fetches was
    /// paused; ``KafkaConsumer/resume(_:)`` wakes it. Median over several pause/resume cycles, from resume to the
    /// first record produced while paused.
    @Test("a resumed partition delivers again promptly, not after the fetcher's idle sleep")
    func resumeIsPrompt() async throws {
        let logger = Logger(label: "test")
        let broker = try EmbeddedBroker(brokers: 1, logger: logger)
        try broker.createTopic("resume", partitions: 1)
        let settings = KafkaSettings(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(settings: settings, clientId: "test", logger: logger)
        let arrived = Mutex<[String: ContinuousClock.Instant]>([:])
        let consumer = try KafkaConsumer(settings: settings, groupId: "resume-group", clientId: "test", logger: logger)
        let reading = consumer.readRecords { records in
            let now = ContinuousClock.now
            arrived.withLock { arrived in
                for record in records { arrived[String(decoding: record.value, as: UTF8.self)] = now }
            }
        }
        try consumer.start(topics: ["resume"])
        try await producer.send(OutgoingRecord(topic: "resume", key: nil, value: Array("warm-up".utf8)))
        #expect(await eventually { arrived.withLock { $0["warm-up"] != nil } })
        let partition = TopicPartition("resume", 0)
        var delays: [Duration] = []
        for cycle in 0..<7 {
            consumer.pause([partition])
            try await producer.send(OutgoingRecord(topic: "resume", key: nil, value: Array("cycle-\(cycle)".utf8)))
            try await Task.sleep(for: .milliseconds(1200))  // the fetcher has nothing to fetch and goes idle
            #expect(arrived.withLock { $0["cycle-\(cycle)"] } == nil, "a paused partition delivered")
            let resumed = ContinuousClock.now
            consumer.resume([partition])
            #expect(
                await eventually(timeout: .seconds(10), every: .milliseconds(5)) {
                    arrived.withLock { $0["cycle-\(cycle)"] != nil }
                })
            delays.append((arrived.withLock { $0["cycle-\(cycle)"] } ?? .now) - resumed)
        }
        let median = delays.sorted()[delays.count / 2]
        #expect(median < .milliseconds(200), "resume to first record: \(delays)")
        #expect(await consumer.close(timeout: .seconds(10)))
        await reading.value
        await producer.shutdown()
    }

    /// librdkafka 2.0.2 postpones a partition's next fetch by a fixed second whenever its prefetch queue holds
    /// `queued.min.messages`; with a small threshold a backlog drains in one-second steps. A fast consumer of a
    /// backlog must see no such gap, and gets what each poll had ready as one batch.
    @Test("a backlog drains without one-second fetch gaps, in batches")
    func backlogDrainsWithoutGaps() async throws {
        let logger = Logger(label: "test")
        let broker = try EmbeddedBroker(brokers: 1, logger: logger)
        try broker.createTopic("backlog", partitions: 1)
        let settings = KafkaSettings(bootstrapServers: broker.bootstrapServers)
        let producer = try KafkaProducer(settings: settings, clientId: "test", logger: logger)
        let count = 30_000
        let padding = String(repeating: "x", count: 100)
        _ = try await producer.sendAll(
            (0..<count).map { OutgoingRecord(topic: "backlog", key: nil, value: "\($0)-\(padding)") })
        let arrivals = Mutex<(instants: [ContinuousClock.Instant], largestBatch: Int)>(([], 0))
        let consumer = try KafkaConsumer(settings: settings, groupId: "backlog-group", clientId: "test", logger: logger)
        let reading = consumer.readRecords { records in
            let now = ContinuousClock.now
            arrivals.withLock { state in
                state.instants.append(contentsOf: repeatElement(now, count: records.count))
                state.largestBatch = max(state.largestBatch, records.count)
            }
        }
        try consumer.start(topics: ["backlog"])
        #expect(
            await eventually(timeout: .seconds(60), every: .milliseconds(20)) {
                arrivals.withLock { $0.instants.count } >= count
            })
        let (instants, largestBatch) = arrivals.withLock { ($0.instants, $0.largestBatch) }
        let gaps = zip(instants.dropFirst(), instants).map { $0 - $1 }
        let longest = gaps.max() ?? .zero
        #expect(longest < .milliseconds(600), "longest pause between deliveries: \(longest)")
        #expect(largestBatch > 1 && largestBatch <= KafkaConsumer.maximumBatch, "largest batch: \(largestBatch)")
        #expect(await consumer.close(timeout: .seconds(10)))
        await reading.value
        await producer.shutdown()
    }
}
