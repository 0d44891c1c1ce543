import Foundation
import SwitchboardEvents
import SwitchboardJSON
import SwitchboardKafka
import TestSupport

/// Builds valid Switchboard events for runtime tests.
enum TestEvents {
    /// A valid `sms.subscription.changed` event (the simplest contract), keyed `acct:phone`.
    static func subscription(id: String, account: String = "acme", phone: String = "+15550001111", sequence: Int = 0)
        -> OutgoingRecord
    {
        let data: JSONValue = [
            "accountId": .string(account),
            "phone": .string(phone),
            "state": "subscribed",
            "at": .string(RFC3339.format(Date(timeIntervalSince1970: 1_800_000_000 + Double(sequence)))),
            "source": "test",
            "sequence": .int(Int64(sequence)),
        ]
        let event = CloudEvent(id: id, source: "test", kind: .subscription, time: Date(), data: data)
        return OutgoingRecord(
            topic: EventKind.subscription.topic, key: "\(account):\(phone)", value: event.document.serialized())
    }
}
