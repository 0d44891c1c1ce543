import Foundation
import SwitchboardStore
import SwitchboardDomain

/// Does one side effect at most once per key: the attempt is journaled (``Store/beginEffect(accountId:key:at:)``)
/// before it is made, and a retry — after a crash or an unanswered call — first looks for what the earlier attempt
/// produced instead of producing it again.
///
/// Used for the effects that are one remote call: internal notes (``NotePoster``), system SMS (``OneOffSMS``) and
/// media uploads. Two effects keep journals of their own: a text's import (several calls, with the retry threaded
/// through ticket choice) and an agent reply (the outbound record, whose send decides consent in the same step).
public struct EffectJournal: Sendable {
    public let store: Store
    public let accountId: String

    public init(store: Store, accountId: String) {
        self.store = store
        self.accountId = accountId
    }

    /// What `once` did.
    public enum Outcome<Value> {
        /// Done before; here is the reference it recorded.
        case alreadyDone(reference: String?)
        /// An earlier attempt's result, found remotely and now recorded.
        case found(Value)
        /// Produced now, and recorded.
        case created(Value)
    }

    /// Runs effect `key` once. `find` looks for an unfinished earlier attempt's result (given when it started);
    /// `create` produces it; `reference` says what to record for a result (an id, a JSON summary).
    public func once<Value>(
        key: String,
        find: (_ startedAt: Date) async throws -> Value? = { _ in nil },
        create: () async throws -> Value,
        reference: (Value) throws -> String?
    ) async throws -> Outcome<Value> {
        if let earlier = try await store.beginEffect(accountId: accountId, key: key) {
            if earlier.state == .done { return .alreadyDone(reference: earlier.reference) }
            if let found = try await find(earlier.startedAt) {
                try await store.completeEffect(accountId: accountId, key: key, reference: try reference(found))
                return .found(found)
            }
        }
        let created = try await create()
        try await store.completeEffect(accountId: accountId, key: key, reference: try reference(created))
        return .created(created)
    }
}
