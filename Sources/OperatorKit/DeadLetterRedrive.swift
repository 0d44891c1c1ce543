import Foundation
import SwitchboardKafka
import SwitchboardRuntime

/// Sends matching dead letters back to their source topics at a bounded rate and marks them reviewed: what
/// `dlq redrive` and the console's redrive button do.
public struct DeadLetterRedrive {
    public let scan: DeadLetterScan
    /// Records per second at most.
    public let rate: Double
    /// Records already redriven this many times are left alone (they keep failing).
    public let maxRedrives: Int

    /// `dlq redrive`'s `--max-redrives` by default, and the console's.
    public static let defaultMaxRedrives = 3

    public struct Outcome: Codable {
        public var redriven: [String] = []
        public var leftForRedriveCount: [String] = []
        public var dryRun: Bool
    }

    /// Redrives through `producer`; with none, only says what it would redrive (a dry run) and changes nothing.
    public func run(producer: KafkaProducer?) async throws -> Outcome {
        var outcome = Outcome(dryRun: producer == nil)
        var handled: [DeadLetterScan.Slice: Set<Int64>] = [:]
        var pacer = RatePacer(perSecond: rate)
        for slice in try await scan.slices() {
            for letter in slice.letters where try scan.filter.matches(letter) {
                guard letter.redriveCount < maxRedrives else {
                    outcome.leftForRedriveCount.append(letter.location)
                    continue
                }
                if let producer {
                    try await pacer.wait()
                    try await producer.send(letter.redriven())
                    handled[slice, default: []].insert(letter.record.offset)
                }
                outcome.redriven.append(letter.location)
            }
        }
        if producer != nil { try await scan.markReviewed(handled) }
        return outcome
    }

    public init(scan: DeadLetterScan, rate: Double, maxRedrives: Int) {
        self.scan = scan
        self.rate = rate
        self.maxRedrives = maxRedrives
    }
}

/// Spaces calls evenly at `perSecond`.
public struct RatePacer {
    public let interval: Duration
    public var next = ContinuousClock.now

    public init(perSecond: Double) { interval = .seconds(1 / perSecond) }

    public mutating func wait() async throws {
        let now = ContinuousClock.now
        if next > now { try await Task.sleep(until: next) }
        next = max(next, now) + interval
    }
}
