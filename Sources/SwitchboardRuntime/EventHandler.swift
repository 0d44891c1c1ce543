import Logging
import SwitchboardEvents
import SwitchboardStore

/// A worker's domain logic: handles one validated event. Throw a ``ProcessingFailure`` (or a ``ClassifiedError``)
/// to say whether a failure is transient, permanent or throttled; the runtime retries, parks or dead-letters.
///
/// Handlers must be idempotent: the same event may be delivered again after a crash or rebalance.
public protocol EventHandler: Sendable {
    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult
}

/// What a handler did with an event.
public struct HandlerResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case processed
        case ignored
    }

    public var outcome: Outcome
    /// What the handler decided, in words (never a message body): why an event was ignored (unknown account, not for
    /// Switchboard, …) or what handling it did. The runtime logs it with the event id, at info for an ignored event
    /// and at debug for a handled one.
    public var reason: String?
    /// True when the handler already wrote the ledger entry in the same transaction as its state change.
    public var recordedInLedger: Bool

    public init(_ outcome: Outcome, reason: String? = nil, recordedInLedger: Bool = false) {
        self.outcome = outcome
        self.reason = reason
        self.recordedInLedger = recordedInLedger
    }

    public static let processed = HandlerResult(.processed)

    /// Handled; `decision` says how (e.g. "ticket 42 status closed mirrored").
    public static func processed(_ decision: String, recordedInLedger: Bool = false) -> HandlerResult {
        HandlerResult(.processed, reason: decision, recordedInLedger: recordedInLedger)
    }

    public static func ignored(_ reason: String, recordedInLedger: Bool = false) -> HandlerResult {
        HandlerResult(.ignored, reason: reason, recordedInLedger: recordedInLedger)
    }
}

/// Where an event came from and how many times it has been tried.
public struct HandlerContext: Sendable {
    let recordLogger: RecordLogger
    /// Carries event id, topic, partition, offset and account id (built on use).
    public var logger: Logger { recordLogger.logger }
    public var group: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String?
    /// 1 on the first try; counts in-place retries and earlier tiers.
    public var attempt: Int

    init(
        recordLogger: RecordLogger, group: String, topic: String, partition: Int32, offset: Int64, key: String?,
        attempt: Int
    ) {
        self.recordLogger = recordLogger
        self.group = group
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.attempt = attempt
    }

    /// The ledger entry a handler writes itself when committing it with its own state change.
    public func ledgerEntry(for event: CloudEvent, outcome: RecordOutcome) -> LedgerEntry {
        LedgerEntry(group: group, eventId: event.id, outcome: outcome, fingerprint: event.fingerprint)
    }
}
