import Foundation
import Synchronization
import SwitchboardBase
import SwitchboardEvents
import SwitchboardRuntime
import SwitchboardStore
import TestSupport
import SwitchboardJSON

/// A handler whose behaviour per event id is scripted, recording every invocation.
final class ScriptedHandler: EventHandler {
    enum Behaviour: Sendable {
        case succeed
        /// Fails transiently this many times, then succeeds.
        case failTransiently(times: Int)
        case failPermanently
        /// Throttled this many times (retry after 1 s), then fails transiently `failures` times, then succeeds.
        case throttleThenFail(throttles: Int, failures: Int)
    }

    struct Invocation: Sendable {
        var eventId: String
        var key: String?
        var topic: String
        var partition: Int32
        var offset: Int64
        var attempt: Int
        var sequence: Int
    }

    private let behaviours: Mutex<[String: Behaviour]>
    private let invocations = Mutex<[Invocation]>([])
    private let failures = Mutex<[String: Int]>([:])
    let delay: @Sendable () -> Duration
    let gate: AsyncEvent?

    init(
        behaviours: [String: Behaviour] = [:], delay: @escaping @Sendable () -> Duration = { .zero },
        gate: AsyncEvent? = nil
    ) {
        self.behaviours = Mutex(behaviours)
        self.delay = delay
        self.gate = gate
    }

    func handle(_ event: CloudEvent, context: HandlerContext) async throws -> HandlerResult {
        if let gate { await gate.wait() }
        let pause = delay()
        if pause > .zero { try await Task.sleep(for: pause) }
        let behaviour = behaviours.withLock { $0[event.id] } ?? .succeed
        switch behaviour {
        case .succeed:
            break
        case .failTransiently(let times):
            let failed = nextTry(event.id)
            if failed <= times {
                throw ProcessingFailure.transient(
                    "test.flaky", "scripted transient failure \(failed)/\(times)", dependency: nil)
            }
        case .failPermanently:
            throw ProcessingFailure.permanent("test.rejected", "scripted permanent failure")
        case .throttleThenFail(let throttles, let failures):
            let tries = nextTry(event.id)
            if tries <= throttles {
                throw ProcessingFailure(
                    .throttled, "test.rate_limited", "scripted throttling \(tries)/\(throttles)",
                    retryAfter: .seconds(1))
            }
            if tries <= throttles + failures {
                throw ProcessingFailure.transient(
                    "test.flaky", "scripted transient failure \(tries - throttles)/\(failures)", dependency: nil)
            }
        }
        invocations.withLock {
            $0.append(
                Invocation(
                    eventId: event.id, key: context.key, topic: context.topic, partition: context.partition,
                    offset: context.offset, attempt: context.attempt,
                    sequence: Int(event.data["sequence"]?.intValue ?? -1)
                ))
        }
        return .processed
    }

    /// Counts one more try of `eventId` that reached a scripted failure; returns the count.
    private func nextTry(_ eventId: String) -> Int {
        failures.withLock { counts in
            counts[eventId, default: 0] += 1
            return counts[eventId]!
        }
    }

    var handled: [Invocation] { invocations.withLock { $0 } }
    var handledCount: Int { invocations.withLock { $0.count } }

    /// How many times each event id was handled successfully.
    var countsById: [String: Int] {
        invocations.withLock { Dictionary($0.map { ($0.eventId, 1) }, uniquingKeysWith: +) }
    }
}

/// A ledger that remembers nothing, so tests see every redelivery the runtime lets through.
final class ForgetfulLedger: IdempotencyLedger {
    func lookup(group: String, eventId: String) async throws -> LedgerEntry? { nil }
    func record(_ entry: LedgerEntry) async throws -> Bool { true }
}
