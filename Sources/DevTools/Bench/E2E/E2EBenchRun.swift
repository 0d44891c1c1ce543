import Foundation
import Logging
import LocalFleet
import Sandbox
import SwitchboardDomain
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardRuntime
import SwitchboardStore
import OperatorKit
import SwitchboardJSON

/// The shape of one end-to-end run.
struct E2EBenchOptions: Codable, Sendable {
    var latencyMs: Int
    var accounts: Int
    var conversationsPerAccount: Int
    var threadedTextsPerConversation: Int
    var workersPerType: Int
    var inFlight: Int
    var partitions: Int
    var hotSeconds: Int
    var hotTextsPerSecond: Double
    var hotNormalAccounts: Int
}

/// One end-to-end run on one store: consent, inbound, outbound and status phases through the real executables,
/// then the hot-account phase, then `kcat` on the same topic.
struct E2EBenchRun {
    let options: E2EBenchOptions
    let storeName: String
    let databaseURL: String?
    let logger: Logger

    func run() async throws -> E2EStoreResult {
        var sandbox = SandboxConfiguration()
        sandbox.faults.latencyMs = options.latencyMs
        sandbox.callbackDelayMs = 20
        let stack = try LocalStack(
            name: "bench-\(storeName)", databaseURL: databaseURL, partitions: options.partitions,
            topology: RetryTopology(tiers: [.seconds(5), .seconds(30)]), sandbox: sandbox,
            workerEnvironment: ["MAX_IN_FLIGHT": String(options.inFlight), "LOG_LEVEL": "notice"], logger: logger
        )
        let location = try DatabaseURL(stack.databaseURL, setting: "--database")
        let outcome: Result<E2EStoreResult, any Error> = await Result(catching: {
            try await Store.withStore(location, logger: logger) { store in
                try await stack.startServers(store: store, logger: logger)
                return try await phases(stack, store: store)
            }
        })
        _ = await stack.stop()
        let result = try outcome.get()
        try? FileManager.default.removeItem(atPath: stack.directory)
        return result
    }

    private func phases(_ stack: LocalStack, store: Store) async throws -> E2EStoreResult {
        let observer = BenchObserver(stack: stack)
        let accounts = BenchTraffic.accounts("bench", count: options.accounts)
        let hot = LocalAccount(id: "bench-hot", number: "+15559999999", settings: AccountSettings(brand: "Hot"))
        StandardError.line("[\(storeName)] connecting \(accounts.count + 1) accounts…")
        try await (accounts + [hot]).concurrentForEach(width: 16) { try await stack.addAccount($0, store: store) }
        try stack.startWorkers(count: options.workersPerType)
        try await stack.waitUntilReady()
        let conversations = BenchTraffic.conversations(accounts, perAccount: options.conversationsPerAccount)

        StandardError.line("[\(storeName)] \(conversations.count) customers sign up…")
        _ = try await stack.producer.sendAll(conversations.map(BenchTraffic.consent))
        try await observer.wait("sign-ups", timeout: .seconds(300)) {
            await observer.metric(.status, "switchboard_records_total") >= Double(conversations.count)
        }

        let firstTexts = try await inboundPhase(
            stack, observer: observer, accounts: accounts, conversations: conversations, rounds: 0..<1)
        let threadedTexts = try await inboundPhase(
            stack, observer: observer, accounts: accounts, conversations: conversations,
            rounds: 1..<(1 + options.threadedTextsPerConversation))
        let outbound = try await outboundPhase(
            stack, observer: observer, store: store, accounts: accounts, conversations: conversations)
        let hotResult = try await hotPhase(
            stack, observer: observer, accounts: Array(accounts.prefix(options.hotNormalAccounts)), hot: hot,
            conversations: conversations)
        let processes = stack.workers.map { worker in
            E2EStoreResult.ProcessFigures(
                worker: worker.kind.rawValue, usage: ProcessUsage.of(worker.processIdentifier))
        }
        StandardError.line("[\(storeName)] kcat reading sms.inbound as the ceiling…")
        let kcat = try KcatReference.read(
            brokers: stack.broker.bootstrapServers, topic: EventKind.inboundText.topic,
            count: firstTexts.records + threadedTexts.records, fromLaunch: true)
        return E2EStoreResult(
            store: storeName, firstTexts: firstTexts, threadedTexts: threadedTexts, outbound: outbound.outbound,
            status: outbound.status, hot: hotResult, processes: processes,
            kcatRecordsPerSecond: kcat.recordsPerSecond.rounded(),
            kcatCPUMsPerRecord: (kcat.cpuMsPerRecord * 10_000).rounded() / 10_000
        )
    }

    /// The texts of `rounds` for every conversation (round 0: the first texts; later rounds: threaded texts), produced
    /// at once; measured until the last is in Gorgias.
    private func inboundPhase(
        _ stack: LocalStack, observer: BenchObserver, accounts: [LocalAccount], conversations: [BenchConversation],
        rounds: Range<Int>
    ) async throws -> E2EStoreResult.Inbound {
        var produced: [String: Date] = [:]
        var records: [OutgoingRecord] = []
        let started = Date()
        for round in rounds {
            for (index, conversation) in conversations.enumerated() {
                let sid = Self.sid(storeName, index, round)
                produced[sid] = started
                records.append(BenchTraffic.text(conversation, sid: sid, at: started))
            }
        }
        let what = rounds == 0..<1 ? "first texts" : "threaded texts"
        StandardError.line("[\(storeName)] \(records.count) \(what) into the InboundWorker…")
        let before = await observer.metric(.inbound, "switchboard_records_total")
        let waitsBefore = await observer.metric(.inbound, "switchboard_rate_limit_waits_total")
        let costBefore = await observer.costSnapshot(.inbound)
        let callsBefore = try await observer.gorgiasCalls(accounts.map(\.id))
        _ = try await stack.producer.sendAll(records)
        try await observer.wait(what, timeout: .seconds(900)) {
            await observer.metric(.inbound, "switchboard_records_total") - before >= Double(records.count)
        }
        let cost = await observer.cost(.inbound, since: costBefore, records: records.count)
        let created = try await observer.importedMessages(accounts.map(\.id))
        let latencies = produced.compactMap { sid, at in created[sid].map { $0.timeIntervalSince(at) } }
        let last = produced.keys.compactMap { created[$0] }.max() ?? Date()
        var laneStarts: [Double] = []
        var laneSteps: [Double] = []
        for index in conversations.indices {
            let arrivals = rounds.compactMap { created[Self.sid(storeName, index, $0)] }
            if let first = arrivals.first { laneStarts.append(first.timeIntervalSince(started)) }
            laneSteps += zip(arrivals, arrivals.dropFirst()).map { $1.timeIntervalSince($0) }
        }
        let callsByOperation = try await observer.gorgiasCalls(accounts.map(\.id))
            .map { ($0.key, $0.value - callsBefore[$0.key, default: 0]) }.filter { $0.1 > 0 }
        // The StatusWorker's merchant health check reads each integration now and then: not the texts' calls.
        let calls = callsByOperation.filter { !$0.0.hasPrefix("GET integrations") }.reduce(0) { $0 + $1.1 }
        let perText = Double(calls) / Double(records.count)
        let rate = Double(records.count) / max(last.timeIntervalSince(started), 0.001)
        let lanes = min(options.inFlight * options.workersPerType, conversations.count)
        let bound = Double(lanes) / (Double(options.latencyMs) / 1000 * max(perText, 1))
        return E2EStoreResult.Inbound(
            records: records.count, imported: latencies.count, recordsPerSecond: rate.rounded(),
            latency: LatencySummary(seconds: latencies), gorgiasCallsPerText: (perText * 100).rounded() / 100,
            gorgiasCalls: Dictionary(uniqueKeysWithValues: callsByOperation),
            boundRecordsPerSecond: bound.rounded(), shareOfBound: (rate / bound * 1000).rounded() / 1000,
            rateLimitWaits: Int(await observer.metric(.inbound, "switchboard_rate_limit_waits_total") - waitsBefore),
            cost: cost, handlerTime: await observer.handlerTime(.inbound, topic: EventKind.inboundText.topic),
            laneStart: LatencySummary(seconds: laneStarts), laneStep: LatencySummary(seconds: laneSteps)
        )
    }

    /// The message id of conversation `index`'s text of `round`.
    static func sid(_ store: String, _ index: Int, _ round: Int) -> String {
        "SM\(store.prefix(2))\(String(format: "%06d", index))r\(round)"
    }

    /// One agent reply per conversation in the sandbox's helpdesk: integration webhook → ingress → OutboundWorker →
    /// SMS; the SMS's status callbacks → ingress → StatusWorker.
    private func outboundPhase(
        _ stack: LocalStack, observer: BenchObserver, store: Store, accounts: [LocalAccount],
        conversations: [BenchConversation]
    ) async throws -> (outbound: E2EStoreResult.Outbound, status: E2EStoreResult.Status) {
        StandardError.line("[\(storeName)] \(conversations.count) agent replies into the OutboundWorker…")
        let callsBefore = try await observer.gorgiasCalls(accounts.map(\.id)).values.reduce(0, +)
        let statusBefore = await observer.metric(.status, "switchboard_records_total")
        let outboundCost = await observer.costSnapshot(.outbound)
        let statusCost = await observer.costSnapshot(.status)
        let replied = ReplyClock()
        let started = Date()
        let control = stack.control
        try await conversations.concurrentForEach(width: 16) { conversation in
            guard
                let ticket = try await store.conversation(accountId: conversation.account, phone: conversation.phone)?
                    .currentTicketId
            else { return }
            replied.mark(conversation.phone)
            try await control.post(
                "/sandbox/gorgias/\(conversation.account)/tickets/\(ticket)/reply",
                ["body_text": "Thanks! Your order ships today."])
        }
        try await observer.wait("replies sent", timeout: .seconds(600)) {
            await observer.metric(.outbound, "switchboard_records_total", matching: "outcome=\"processed\"")
                >= Double(conversations.count)
        }
        let sent = try await observer.sentSMS(accounts)
        let latencies = replied.times.compactMap { phone, at in sent[phone]?.first.map { $0.timeIntervalSince(at) } }
        let last = sent.values.flatMap { $0 }.max() ?? Date()
        let calls = try await observer.gorgiasCalls(accounts.map(\.id)).values.reduce(0, +) - callsBefore
        let replyCost = await observer.cost(.outbound, since: outboundCost, records: conversations.count)
        let outbound = E2EStoreResult.Outbound(
            records: conversations.count, smsSent: sent.values.reduce(0) { $0 + $1.count },
            recordsPerSecond: (Double(conversations.count) / max(last.timeIntervalSince(started), 0.001)).rounded(),
            latency: LatencySummary(seconds: latencies),
            gorgiasCallsPerReply: (Double(calls) / Double(conversations.count) * 100).rounded() / 100,
            cost: replyCost
        )
        let callbacks = 3 * outbound.smsSent
        try await observer.wait("delivery statuses", timeout: .seconds(300)) {
            await observer.metric(.status, "switchboard_records_total") - statusBefore >= Double(callbacks)
        }
        let statusSeconds = Date().timeIntervalSince(started)
        let text = await observer.metricsText(.status)
        let status = E2EStoreResult.Status(
            records: callbacks, recordsPerSecond: (Double(callbacks) / statusSeconds).rounded(),
            eventAge: LatencySummary(
                p50Seconds: histogramQuantile(
                    text, "switchboard_event_age_at_completion_seconds", 0.5, matching: "sms.delivery-status"),
                p99Seconds: histogramQuantile(
                    text, "switchboard_event_age_at_completion_seconds", 0.99, matching: "sms.delivery-status"),
                count: callbacks
            ),
            cost: await observer.cost(.status, since: statusCost, records: callbacks)
        )
        return (outbound, status)
    }

    /// A hot account texting 100× as much as each of the others: it is throttled by its own Gorgias budget while the
    /// others' texts keep their latency.
    private func hotPhase(
        _ stack: LocalStack, observer: BenchObserver, accounts: [LocalAccount], hot: LocalAccount,
        conversations: [BenchConversation]
    ) async throws -> E2EStoreResult.Hot {
        let normal = conversations.filter { conversation in accounts.contains { $0.id == conversation.account } }
        let hotConversations = BenchTraffic.conversations([hot], perAccount: 40, offset: 9_000_000)
        let normalRate = options.hotTextsPerSecond / 100
        StandardError.line(
            "[\(storeName)] hot account: \(options.hotTextsPerSecond) texts/s for \(options.hotSeconds) s beside \(accounts.count) accounts at \(normalRate)/s each…"
        )
        let waitsBefore = await observer.metric(.inbound, "switchboard_rate_limit_waits_total")
        let deferredBefore = await observer.metric(
            .inbound, "switchboard_records_total", matching: "outcome=\"retried\"")
        var produced: [String: Date] = [:]
        var hotCount = 0
        var owed = (hot: 0.0, normal: 0.0)
        let tick = 0.1
        for step in 0..<Int(Double(options.hotSeconds) / tick) {
            owed.hot += options.hotTextsPerSecond * tick
            owed.normal += normalRate * Double(accounts.count) * tick
            var records: [OutgoingRecord] = []
            let now = Date()
            while owed.hot >= 1 {
                records.append(
                    BenchTraffic.text(
                        hotConversations[hotCount % hotConversations.count],
                        sid: "SMhot\(storeName.prefix(2))\(hotCount)", at: now))
                hotCount += 1
                owed.hot -= 1
            }
            while owed.normal >= 1, !normal.isEmpty {
                let sid = "SMn\(storeName.prefix(2))\(step)x\(produced.count)"
                produced[sid] = now
                records.append(BenchTraffic.text(normal[produced.count % normal.count], sid: sid, at: now))
                owed.normal -= 1
            }
            _ = try await stack.producer.sendAll(records)
            try await Task.sleep(for: .milliseconds(Int64(tick * 1000)))
        }
        var created: [String: Date] = [:]
        try await observer.wait("the other accounts' texts", timeout: .seconds(120)) {
            created = try await observer.importedMessages(accounts.map(\.id))
            return produced.keys.allSatisfy { created[$0] != nil }
        }
        let latencies = produced.compactMap { sid, at in created[sid].map { $0.timeIntervalSince(at) } }
        let hotImported = try await observer.importedMessages([hot.id]).count
        return E2EStoreResult.Hot(
            seconds: options.hotSeconds, hotTexts: hotCount, hotImportedDuringPhase: hotImported,
            otherTexts: produced.count,
            otherLatency: LatencySummary(seconds: latencies),
            rateLimitWaits: Int(await observer.metric(.inbound, "switchboard_rate_limit_waits_total") - waitsBefore),
            deferredToRetryTier: Int(
                await observer.metric(.inbound, "switchboard_records_total", matching: "outcome=\"retried\"")
                    - deferredBefore)
        )
    }
}

/// When each customer's ticket got its agent reply.
final class ReplyClock: @unchecked Sendable {
    private let lock = NSLock()
    private var marks: [String: Date] = [:]

    func mark(_ phone: String) {
        lock.withLock { marks[phone] = Date() }
    }

    var times: [String: Date] { lock.withLock { marks } }
}
