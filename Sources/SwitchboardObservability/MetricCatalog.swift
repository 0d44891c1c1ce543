import SwitchboardBase

/// Every metric Switchboard exports, with its help text, in one place: alert rules, the dashboard and a test
/// check against this list. Prometheus conventions: `switchboard_` prefix, `_total` counters, `_seconds` durations;
/// the consumer group label is `group`.
public enum MetricCatalog {
    public enum Kind: String, Sendable { case counter, gauge, histogram }

    public struct Spec: Sendable, Hashable {
        public var name: String
        public var kind: Kind
        public var help: String
    }

    public static let records = Spec(
        name: "switchboard_records_total", kind: .counter,
        help: "Records finished, by topic and outcome (processed, duplicate, ignored, retried, dead_lettered).")
    public static let handlerDuration = Spec(
        name: "switchboard_handler_duration_seconds", kind: .histogram,
        help: "Time from a record's start to its outcome, including in-place retries.")
    public static let eventAge = Spec(
        name: "switchboard_event_age_at_completion_seconds", kind: .histogram,
        help: "Age of a processed record (now minus its Kafka timestamp) when its effect completed.")
    public static let accountRecords = Spec(
        name: "switchboard_account_records_total", kind: .counter,
        help:
            "Records finished per merchant account and outcome (the first METRICS_ACCOUNT_LABELS accounts by name, later ones as other)."
    )
    public static let accountEventAge = Spec(
        name: "switchboard_account_event_age_seconds", kind: .histogram,
        help: "Age of a processed record when its effect completed, per merchant account (capped like the records).")
    public static let inFlight = Spec(
        name: "switchboard_in_flight_records", kind: .gauge,
        help: "Records being handled right now by this process.")
    public static let buffered = Spec(
        name: "switchboard_buffered_records", kind: .gauge,
        help: "Fetched but unfinished records per owned partition.")
    public static let consumerLag = Spec(
        name: "switchboard_consumer_lag_records", kind: .gauge,
        help: "Records between the committed offset and the end of each partition this member owns.")
    public static let consumerLagSeconds = Spec(
        name: "switchboard_consumer_lag_seconds", kind: .gauge,
        help: "Age of the oldest unfinished record of each owned partition (0 when caught up).")
    public static let groupLag = Spec(
        name: "switchboard_consumer_group_lag_records", kind: .gauge,
        help: "Sum of consumer lag over the partitions this member owns; sum over members for the group.")
    public static let assignedPartitions = Spec(
        name: "switchboard_assigned_partitions", kind: .gauge,
        help: "Partitions assigned to this member.")
    public static let rebalances = Spec(
        name: "switchboard_rebalances_total", kind: .counter,
        help: "Partition assignments and revocations seen by this member.")
    public static let refusedCommits = Spec(
        name: "switchboard_offset_commits_refused_total", kind: .counter,
        help:
            "Offset commits the group coordinator refused, by where (revoke, shutdown); the next owner redelivers what followed the last commit and the ledger skips it."
    )
    public static let inPlaceRetries = Spec(
        name: "switchboard_in_place_retries_total", kind: .counter,
        help: "Transient failures retried in place, by error class.")
    public static let deadLetters = Spec(
        name: "switchboard_dead_letters_total", kind: .counter,
        help: "Records sent to a dead-letter topic, by source topic and error class.")
    public static let circuitOpen = Spec(
        name: "switchboard_circuit_open", kind: .gauge,
        help: "1 while consumption is paused because a dependency fails for everyone.")
    public static let dlqDepth = Spec(
        name: "switchboard_dlq_depth_records", kind: .gauge,
        help: "Records in a dead-letter topic not yet reviewed or redriven.")
    public static let httpRequests = Spec(
        name: "switchboard_http_requests_total", kind: .counter,
        help: "External HTTP calls by service and status (status 0: no response).")
    public static let httpDuration = Spec(
        name: "switchboard_http_request_duration_seconds", kind: .histogram,
        help: "External HTTP call latency by service.")
    public static let rateLimitWaits = Spec(
        name: "switchboard_rate_limit_waits_total", kind: .counter,
        help: "Times a call waited for its account's shared rate budget.")
    public static let rateLimitWaitSeconds = Spec(
        name: "switchboard_rate_limit_wait_seconds_total", kind: .counter,
        help: "Seconds spent waiting for accounts' shared rate budgets.")
    public static let throttled = Spec(
        name: "switchboard_throttled_records_total", kind: .counter,
        help:
            "Records that found their merchant's budget spent and gave their slot back to wait for it (not failures).")
    public static let budgetBacklog = Spec(
        name: "switchboard_budget_backlog_records", kind: .gauge,
        help:
            "Records waiting for their merchant's API budget in this member, by account (the busiest 20; the rest as other)."
    )
    public static let budgetBacklogOldest = Spec(
        name: "switchboard_budget_backlog_oldest_seconds", kind: .gauge,
        help: "Age of the oldest record waiting for its merchant's API budget, by account (0 when none waits).")
    public static let storeStatements = Spec(
        name: "switchboard_store_statements_total", kind: .counter,
        help: "SQL statements this process ran on its store, inside transactions or not (BEGIN and COMMIT not counted)."
    )
    public static let storeTransactions = Spec(
        name: "switchboard_store_transactions_total", kind: .counter,
        help: "Write transactions this process ran on its store.")
    public static let pollLoopAge = Spec(
        name: "switchboard_poll_loop_age_seconds", kind: .gauge,
        help: "Seconds since the consumer poll loop last ran (liveness).")
    public static let tickets = Spec(
        name: "switchboard_tickets", kind: .gauge,
        help: "Switchboard-owned tickets by mirrored status (open, closed, snoozed).")
    public static let medianTimeToClose = Spec(
        name: "switchboard_ticket_median_time_to_close_seconds", kind: .gauge,
        help: "Median time from a ticket's opening to its closing.")
    public static let optOutsLastDay = Spec(
        name: "switchboard_opt_outs_last_day", kind: .gauge,
        help: "Customers who opted out in the last 24 hours.")
    public static let conversations = Spec(
        name: "switchboard_conversations", kind: .gauge,
        help: "Conversations (one per account and phone).")
    public static let accountHealth = Spec(
        name: "switchboard_account_health", kind: .gauge,
        help:
            "Per merchant account and check (gorgias_credentials, sms_credentials): 0 while the provider refuses the account's credentials (its records wait, none is dead-lettered), 1 once a record of it succeeds again; only accounts that were ever refused have series."
    )
    public static let up = Spec(
        name: "switchboard_worker_up", kind: .gauge,
        help: "1 while the worker process runs.")
    public static let followUps = Spec(
        name: "switchboard_helpdesk_followups_total", kind: .counter,
        help:
            "Helpdesk follow-ups of consent changes (notes, ticket closes) finished, by outcome (done, failed), and postponed (retry)."
    )
    public static let followUpsPending = Spec(
        name: "switchboard_helpdesk_followups_pending", kind: .gauge,
        help: "Helpdesk follow-ups waiting for Gorgias (all accounts).")
    public static let followUpsOldest = Spec(
        name: "switchboard_helpdesk_followup_oldest_seconds", kind: .gauge,
        help: "Age of the oldest helpdesk follow-up not finished yet (0 when none waits).")

    /// What a worker process exports (histograms add `_bucket`, `_sum`, `_count`).
    public static let worker: [Spec] = [
        records, handlerDuration, eventAge, accountRecords, accountEventAge, inFlight, buffered, consumerLag,
        consumerLagSeconds, groupLag,
        assignedPartitions, rebalances, refusedCommits, inPlaceRetries, deadLetters, circuitOpen, dlqDepth,
        httpRequests,
        httpDuration, rateLimitWaits, rateLimitWaitSeconds, throttled, budgetBacklog, budgetBacklogOldest, pollLoopAge,
        accountHealth, up, storeStatements, storeTransactions,
    ]

    /// Helpdesk follow-ups, exported by the Inbound and Outbound workers.
    public static let helpdeskFollowUps: [Spec] = [followUps, followUpsPending, followUpsOldest]

    /// Conversation analytics, exported by the StatusWorker only.
    public static let conversationAnalytics: [Spec] = [tickets, medianTimeToClose, optOutsLastDay, conversations]

    /// Every metric any worker exports.
    public static let all: [Spec] = worker + conversationAnalytics + helpdeskFollowUps
}

/// The `check` labels of ``MetricCatalog/accountHealth`` besides the credentials checks, as the StatusWorker's merchant
/// health check records them and merchant notices name them.
public enum MerchantHealthCheck {
    /// The merchant's Gorgias HTTP integration is present and active.
    public static let gorgiasIntegration = "gorgias_integration"
    /// The sender number's incoming-message webhook still points where Switchboard set it.
    public static let smsInboundWebhook = "sms_inbound_webhook"
}

extension ProcessingFailure.Dependency {
    /// The `check` label of ``MetricCatalog/accountHealth`` for the account's credentials at this dependency.
    public var credentialsCheck: String { "\(rawValue)_credentials" }
}
