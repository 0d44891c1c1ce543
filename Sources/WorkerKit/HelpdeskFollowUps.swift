import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SwitchboardBase
import SwitchboardDomain
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore
import SwitchboardGorgias

/// Performs helpdesk follow-ups of consent changes (``HelpdeskFollowUp``): posts the internal note and closes the
/// ticket where the account's STOP setting says so, retrying with backoff for as long as Gorgias needs.
///
/// Runs in every Inbound and Outbound worker; a claimed follow-up is leased to one process at a time, and the note
/// is journaled by key (``NotePoster``), so several replicas never post it twice. A follow-up never reaches a DLQ:
/// Gorgias refusing it for good (the ticket was deleted) or ``giveUpAfter`` passing ends it as `failed`, logged.
public struct HelpdeskFollowUps: Service {
    public struct Settings: Sendable {
        /// How often due follow-ups are looked for.
        public var interval: Duration = .seconds(1)
        /// How long a claim keeps other workers off a follow-up.
        public var lease: Duration = .seconds(60)
        public var batch = 16
        /// Transient failures back off up to this.
        public var backoff = Backoff(base: .seconds(2), maximum: .seconds(300))
        /// A disconnected account's follow-ups wait this long between looks.
        public var disconnectedDelay: Duration = .seconds(300)
        public var giveUpAfter: Duration = .seconds(7 * 86400)

        public init() {}
    }

    let store: Store
    let accounts: AccountDirectory
    let notes: NotePoster
    let metrics: LabeledMetrics
    let logger: Logger
    let settings: Settings
    let time: any TimeSource

    public init(
        store: Store, accounts: AccountDirectory, metrics: LabeledMetrics, logger: Logger,
        settings: Settings = Settings(), time: any TimeSource = .system
    ) {
        self.time = time
        self.store = store
        self.accounts = accounts
        self.notes = NotePoster(store: store)
        self.metrics = metrics
        self.logger = logger
        self.settings = settings
    }

    public func run() async throws {
        await runPeriodically(every: settings.interval, time: time) {
            do {
                while try await drainOnce() == settings.batch {}
                try await reportPending()
            } catch {
                logger.warning("helpdesk follow-ups not drained: \(ProcessingFailure.classify(error))")
            }
        }
    }

    /// Claims the due follow-ups and performs them concurrently; returns how many were claimed.
    @discardableResult
    public func drainOnce() async throws -> Int {
        let claimed = try await store.claimFollowUps(now: time.date, lease: settings.lease, limit: settings.batch)
        await withTaskGroup(of: Void.self) { group in
            for followUp in claimed {
                group.addTask { await perform(followUp) }
            }
        }
        return claimed.count
    }

    private func perform(_ followUp: HelpdeskFollowUp) async {
        var logger = self.logger
        logger[metadataKey: LogKeys.accountId] = "\(followUp.accountId)"
        logger[metadataKey: "followup"] = "\(followUp.key)"
        do {
            guard let entry = try await accounts.entry(followUp.accountId) else {
                return try await finish(followUp, .failed, error: "the account no longer exists", logger: logger)
            }
            guard entry.account.status == .connected else {
                return try await postpone(
                    followUp, by: settings.disconnectedDelay, error: "the account is disconnected", logger: logger)
            }
            guard let ticketId = followUp.ticketId else { return }  // claimed only once it has a ticket
            try await notes.post(entry, ticketId: ticketId, key: followUp.key, text: followUp.note)
            if followUp.closeTicket {
                let ticket = try await entry.gorgias.setTicketStatus(id: ticketId, .closed)
                if let change = ticket.statusChange(accountId: followUp.accountId) {
                    _ = try await store.applyTicketStatus(change)
                }
            }
            try await finish(followUp, .done, error: nil, logger: logger)
        } catch {
            let failure = ProcessingFailure.classify(error)
            do {
                switch failure.kind {
                case .permanent:
                    try await finish(followUp, .failed, error: failure.description, logger: logger)
                case .throttled:
                    try await postpone(
                        followUp, by: failure.retryAfter ?? .seconds(1), error: failure.description, logger: logger)
                case .transient where time.date.timeIntervalSince(followUp.createdAt) > settings.giveUpAfter.seconds:
                    try await finish(
                        followUp, .failed, error: "gave up after \(followUp.attempts) attempts: \(failure)",
                        logger: logger)
                case .transient:
                    let delay = settings.backoff.delay(attempt: followUp.attempts, floor: failure.retryAfter)
                    try await postpone(followUp, by: delay, error: failure.description, logger: logger)
                }
            } catch {
                logger.warning(
                    "follow-up outcome not recorded (its lease will run out and it is tried again): \(error)")
            }
        }
    }

    private func finish(
        _ followUp: HelpdeskFollowUp, _ outcome: HelpdeskFollowUp.Outcome, error: String?, logger: Logger
    ) async throws {
        try await store.finishFollowUp(accountId: followUp.accountId, key: followUp.key, outcome: outcome, error: error)
        metrics.counter(MetricCatalog.followUps, [("outcome", outcome.rawValue)]).increment()
        if outcome == .failed {
            logger.warning("helpdesk follow-up failed for good: \(error ?? "")")
        } else {
            logger.info("helpdesk follow-up done", metadata: ["attempts": "\(followUp.attempts)"])
        }
    }

    private func postpone(_ followUp: HelpdeskFollowUp, by delay: Duration, error: String, logger: Logger) async throws
    {
        try await store.postponeFollowUp(
            accountId: followUp.accountId, key: followUp.key, until: time.date.addingTimeInterval(delay.seconds),
            error: error)
        metrics.counter(MetricCatalog.followUps, [("outcome", "retry")]).increment()
        logger.info(
            "helpdesk follow-up postponed",
            metadata: [LogKeys.reason: "\(error)", "retry_in": "\(DurationText.format(delay))"])
    }

    private func reportPending() async throws {
        let pending = try await store.pendingFollowUps()
        metrics.gauge(MetricCatalog.followUpsPending, []).set(Int64(pending.count))
        metrics.gauge(MetricCatalog.followUpsOldest, []).set(
            pending.oldest.map { max(0, time.date.timeIntervalSince($0)) } ?? 0)
    }
}
