import Foundation
import Synchronization
import SwitchboardStore

/// Process-local key parking for tests and benchmarks (the store is the real one).
public final class InMemoryKeyParking: KeyParking {
    private let members = Mutex<[String: [ParkedEvent]]>([:])

    public init() {}

    public func head(group: String, key: String) async throws -> ParkedEvent? {
        members.withLock { $0["\(group)\u{0}\(key)"]?.first }
    }

    public func park(group: String, key: String, eventId: String, topic: String, dueAt: Date) async throws {
        members.withLock { members in
            let slot = "\(group)\u{0}\(key)"
            var list = members[slot] ?? []
            if let index = list.firstIndex(where: { $0.eventId == eventId }) {
                list[index].topic = topic
                list[index].dueAt = dueAt
            } else {
                list.append(ParkedEvent(eventId: eventId, topic: topic, dueAt: dueAt))
            }
            members[slot] = list
        }
    }

    public func release(group: String, key: String, eventId: String) async throws {
        members.withLock { members in
            let slot = "\(group)\u{0}\(key)"
            members[slot]?.removeAll { $0.eventId == eventId }
            if members[slot]?.isEmpty == true { members[slot] = nil }
        }
    }
}
