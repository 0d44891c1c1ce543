import Foundation

/// Sums the samples of `metric` in Prometheus text, optionally only those whose labels contain `matching`.
public func metricSum(_ text: String, _ metric: String, matching: String = "") -> Double {
    text.split(separator: "\n")
        .filter { $0.hasPrefix(metric + "{") || $0.hasPrefix(metric + " ") }
        .filter { matching.isEmpty || $0.contains(matching) }
        .compactMap { Double($0.split(separator: " ").last ?? "") }
        .reduce(0, +)
}

/// The `quantile` (0…1) of a histogram from its cumulative `_bucket` samples, summed over the series whose labels
/// contain `matching`; linear within a bucket, as PromQL's `histogram_quantile`. Nil without observations.
public func histogramQuantile(_ text: String, _ metric: String, _ quantile: Double, matching: String = "") -> Double? {
    var buckets: [Double: Double] = [:]
    for line in text.split(separator: "\n")
    where line.hasPrefix(metric + "_bucket{") && (matching.isEmpty || line.contains(matching)) {
        guard let range = line.range(of: "le=\""), let end = line[range.upperBound...].firstIndex(of: "\""),
            let count = Double(line.split(separator: " ").last ?? "")
        else { continue }
        let bound =
            line[range.upperBound..<end] == "+Inf" ? Double.infinity : Double(line[range.upperBound..<end]) ?? .infinity
        buckets[bound, default: 0] += count
    }
    let sorted = buckets.sorted { $0.key < $1.key }
    guard let total = sorted.last?.value, total > 0 else { return nil }
    let rank = quantile * total
    var previous: (bound: Double, count: Double) = (0, 0)
    for (bound, count) in sorted {
        if count >= rank {
            guard bound.isFinite else { return previous.bound }
            let share = count > previous.count ? (rank - previous.count) / (count - previous.count) : 1
            return previous.bound + (bound - previous.bound) * share
        }
        previous = (bound, count)
    }
    return previous.bound
}
