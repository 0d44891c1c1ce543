import Testing
import SwitchboardEvents
import SwitchboardKafka

/// One hostile record for a source topic and what must become of it.
struct HostileCase: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable, Hashable {
        /// Dead-lettered on `<topic>.dlq` with this error class.
        case deadLettered(String)
        /// Consumed without a dead letter: processed, ignored or skipped as a duplicate.
        case handled
    }

    var name: String
    var kind: EventKind
    var key: String?
    var value: [UInt8]
    var outcome: Outcome

    var testDescription: String { "\(kind.topic): \(name)" }

    /// What the decoder alone must say: the rejection class, or nil when the record decodes (a conflicting
    /// duplicate is valid on its own; only the ledger knows it conflicts).
    var decoderClass: String? {
        guard case .deadLettered(let errorClass) = outcome, errorClass != "event.conflicting_duplicate" else {
            return nil
        }
        return errorClass
    }

    /// The record to produce; every hostile record goes to partition 0 so the good record behind it is last.
    var record: OutgoingRecord {
        OutgoingRecord(topic: kind.topic, partition: 0, key: key.map { Array($0.utf8) }, value: value)
    }
}
