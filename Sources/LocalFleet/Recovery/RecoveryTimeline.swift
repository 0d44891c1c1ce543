import Foundation

/// What happened around worker crashes: when each record was produced and to which partition, when each was first
/// processed (from the ledger), and when workers were killed. Answers how long a kill stopped consumption.
public struct RecoveryTimeline: Sendable {
    public struct Produced: Sendable {
        public var id: String
        public var partition: Int32
        public var at: Date

        public init(id: String, partition: Int32, at: Date) {
            self.id = id
            self.partition = partition
            self.at = at
        }
    }

    public var produced: [Produced]
    /// Event id → when the ledger first recorded it.
    public var processed: [String: Date]
    public var kills: [Date]

    public init(produced: [Produced], processed: [String: Date], kills: [Date]) {
        self.produced = produced
        self.processed = processed
        self.kills = kills
    }

    /// Per kill, seconds until every partition processed a record again: for each partition, the first processing at or
    /// after the kill (records keep arriving on every partition, so a partition nobody consumes shows as a long wait).
    /// A partition that processed nothing after a kill counts up to the end of the timeline.
    public var timesToResume: [Double] {
        let byPartition = processedTimesByPartition
        let end = processed.values.max() ?? Date()
        return kills.map { kill in
            byPartition.values.map { times in
                (times.first { $0 >= kill } ?? end).timeIntervalSince(kill)
            }.max() ?? 0
        }
    }

    /// ``longestStall(from:)`` from the moment the group recovered from the last kill.
    public var longestStallAfterRecovery: Double {
        guard let kill = kills.last, let resume = timesToResume.last else {
            return longestStall(from: produced.first?.at ?? Date())
        }
        return longestStall(from: kill.addingTimeInterval(resume))
    }

    /// The longest time any partition went without processing, between `start` and the last production: a stall that
    /// outlives the crashes shows here.
    public func longestStall(from start: Date) -> Double {
        guard let lastProduced = produced.map(\.at).max() else { return 0 }
        return processedTimesByPartition.values.map { times in
            var previous = start
            var longest = 0.0
            for time in times where time > start && time <= lastProduced {
                longest = max(longest, time.timeIntervalSince(previous))
                previous = time
            }
            return longest
        }.max() ?? 0
    }

    /// The timeline as tab-separated lines (`kill <time>`, `record <id> <partition> <produced> <processed or ->`), times in
    /// seconds since 1970, for a closer look.
    public var tabSeparated: String {
        let kills = self.kills.map { "kill\t\($0.timeIntervalSince1970)" }
        let records = produced.map { record in
            "record\t\(record.id)\t\(record.partition)\t\(record.at.timeIntervalSince1970)\t\(processed[record.id].map { "\($0.timeIntervalSince1970)" } ?? "-")"
        }
        return (kills + records).joined(separator: "\n") + "\n"
    }

    /// Records produced but never processed.
    public var missing: [String] { produced.map(\.id).filter { processed[$0] == nil } }

    private var processedTimesByPartition: [Int32: [Date]] {
        var times: [Int32: [Date]] = [:]
        for record in produced {
            if let at = processed[record.id] { times[record.partition, default: []].append(at) }
        }
        return times.mapValues { $0.sorted() }
    }
}

/// p50, p99 and the largest of a set of seconds.
public struct SecondsSummary: Codable, Sendable {
    public var count: Int
    public var p50: Double
    public var p99: Double
    public var max: Double

    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ quantile: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[
                Swift.min(sorted.count - 1, Swift.max(0, Int((Double(sorted.count) * quantile).rounded(.up)) - 1))]
        }
        count = sorted.count
        p50 = (at(0.5) * 10).rounded() / 10
        p99 = (at(0.99) * 10).rounded() / 10
        max = ((sorted.last ?? 0) * 10).rounded() / 10
    }
}
