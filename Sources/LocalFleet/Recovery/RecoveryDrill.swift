import Foundation
import Synchronization
import SwitchboardKafka

/// Kills a worker of a running group every few seconds while records flow at a steady rate, starting a replacement at
/// once under the same static member id (a restarted pod), then reads the ledger back into a ``RecoveryTimeline``.
/// Used by `switchboard-dev bench recovery` and by the recovery tests.
public struct RecoveryDrill: Sendable {
    public var kills: Int
    public var interval: Duration
    /// Records produced per second, spread over the partitions by key.
    public var rate: Double
    /// Steady flow before the first kill and after the last.
    public var warmup: Duration = .seconds(5)
    public var cooldown: Duration = .seconds(15)

    public init(kills: Int, interval: Duration, rate: Double) {
        self.kills = kills
        self.interval = interval
        self.rate = rate
    }

    /// What the drill drives: the producer, the nth record, the workers that may be killed, how to replace one, and
    /// the ledger's processed times.
    public struct Fleet: Sendable {
        public var producer: KafkaProducer
        /// The nth record and the event id the ledger records it under.
        public var record: @Sendable (Int) -> (id: String, record: OutgoingRecord)
        public var victims: @Sendable () -> [WorkerProcess]
        public var restart: @Sendable (WorkerProcess) async throws -> Void
        public var processed: @Sendable () async throws -> [String: Date]

        public init(
            producer: KafkaProducer, record: @escaping @Sendable (Int) -> (id: String, record: OutgoingRecord),
            victims: @escaping @Sendable () -> [WorkerProcess],
            restart: @escaping @Sendable (WorkerProcess) async throws -> Void,
            processed: @escaping @Sendable () async throws -> [String: Date]
        ) {
            self.producer = producer
            self.record = record
            self.victims = victims
            self.restart = restart
            self.processed = processed
        }
    }

    /// Runs the drill; waits up to `settle` after the flow stops for every record to be processed.
    public func run(_ fleet: Fleet, settle: Duration = .seconds(60), progress: @Sendable (String) -> Void = { _ in })
        async throws -> RecoveryTimeline
    {
        let produced = Mutex<[RecoveryTimeline.Produced]>([])
        let total = warmup + interval * kills + cooldown
        let flow = Task {
            let started = ContinuousClock.now
            var index = 0
            while ContinuousClock.now - started < total {
                let (id, record) = fleet.record(index)
                let at = Date()
                let report = try await fleet.producer.send(record)
                produced.withLock { $0.append(.init(id: id, partition: report.partition, at: at)) }
                index += 1
                try await Task.sleep(until: started + .seconds(Double(index) / rate), clock: .continuous)
            }
        }
        var kills: [Date] = []
        var generator = SystemRandomNumberGenerator()
        try await Task.sleep(for: warmup)
        for number in 1...max(1, self.kills) where self.kills > 0 {
            guard let victim = fleet.victims().filter(\.isRunning).randomElement(using: &generator) else { break }
            kills.append(Date())
            await victim.kill9()
            try await fleet.restart(victim)
            progress("kill \(number) of \(self.kills): \(victim.instanceId ?? victim.kind.rawValue)")
            try await Task.sleep(for: interval)
        }
        try await flow.value
        let ids = produced.withLock { $0.map(\.id) }
        let deadline = ContinuousClock.now + settle
        var processed = try await fleet.processed()
        while ids.contains(where: { processed[$0] == nil }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            processed = try await fleet.processed()
        }
        return RecoveryTimeline(produced: produced.withLock { $0 }, processed: processed, kills: kills)
    }
}
