import Foundation
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardKafka

/// One customer's conversation with one merchant in the benchmark.
struct BenchConversation: Sendable, Hashable {
    var account: String
    var number: String
    var phone: String
}

/// The events the benchmark produces, shaped like the ingress and a sign-up form produce them.
enum BenchTraffic {
    /// `count` accounts named `<prefix>-0000`…, each with a number of its own.
    static func accounts(_ prefix: String, count: Int, offset: Int = 0) -> [LocalAccount] {
        (0..<count).map { index in
            LocalAccount(
                id: "\(prefix)-\(String(format: "%04d", index))",
                number: "+1555\(String(format: "%07d", offset + index))",
                settings: AccountSettings(brand: "Bench \(index)"))
        }
    }

    /// `perAccount` conversations with distinct customers for each account.
    static func conversations(_ accounts: [LocalAccount], perAccount: Int, offset: Int = 0) -> [BenchConversation] {
        accounts.enumerated().flatMap { index, account in
            (0..<perAccount).map { number in
                BenchConversation(
                    account: account.id, number: account.number,
                    phone: "+1666\(String(format: "%07d", offset + index * perAccount + number))")
            }
        }
    }

    /// A confirmed sign-up (sms.subscriptions).
    static func consent(_ conversation: BenchConversation) -> OutgoingRecord {
        SubscriptionUpdate(
            accountId: conversation.account, phone: conversation.phone, state: .subscribed, at: Date(),
            source: "bench-signup"
        )
        .record(id: "signup:\(conversation.account):\(conversation.phone)", source: "bench")
    }

    /// A customer's text (sms.inbound) with message id `sid`, received now.
    static func text(_ conversation: BenchConversation, sid: String, at: Date = Date()) -> OutgoingRecord {
        InboundText(
            accountId: conversation.account, messageSid: sid, from: conversation.phone, to: conversation.number,
            body: "Hi, a question about order \(sid.suffix(6))", receivedAt: at
        ).record(id: sid, source: "bench", time: at)
    }
}

/// p50, p99 and max of a set of latencies, in milliseconds.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var p50Ms: Double
    var p99Ms: Double
    var maxMs: Double

    init(seconds samples: [Double]) {
        let sorted = samples.sorted()
        func at(_ quantile: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * quantile).rounded(.up)) - 1)]
        }
        count = sorted.count
        p50Ms = (at(0.5) * 10_000).rounded() / 10
        p99Ms = (at(0.99) * 10_000).rounded() / 10
        maxMs = ((sorted.last ?? 0) * 10_000).rounded() / 10
    }

    init(p50Seconds: Double?, p99Seconds: Double?, count: Int) {
        self.count = count
        p50Ms = ((p50Seconds ?? 0) * 10_000).rounded() / 10
        p99Ms = ((p99Seconds ?? 0) * 10_000).rounded() / 10
        maxMs = 0
    }
}
