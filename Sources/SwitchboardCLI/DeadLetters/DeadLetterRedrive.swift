import Foundation
import Shared

/// Sends matching dead letters back to their source topics at a bounded rate and marks them reviewed: what
/// `dlq redrive` and the console's redrive button do.
struct DeadLetterRedrive {
    let scan: DeadLetterScan
    /// Records per second at most.
    let rate: Double
    /// Records already redriven this many times are left alone (they keep failing).
    let maxRedrives: Int

    /// `dlq redrive`'s `--max-redrives` by default, and the console's.
    static let defaultMaxRedrives = 3

    struct Outcome: Codable {
        var redriven: [String] = []
        var leftForRedriveCount: [String] = []
        var dryRun: Bool
    }

    /// Redrives through `producer`; with none, only says what it would redrive (a dry run) and changes nothing.
    func run(producer: KafkaProducer?) async throws -> Outcome {
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
}

/// Spaces calls evenly at `perSecond`.
struct RatePacer {
    let interval: Duration
    var next = ContinuousClock.now

    init(perSecond: Double) { interval = .seconds(1 / perSecond) }

    mutating func wait() async throws {
        let now = ContinuousClock.now
        if next > now { try await Task.sleep(until: next) }
        next = max(next, now) + interval
    }
}
