import Tracing
import SwitchboardBase
import SwitchboardEvents
import SwitchboardKafka
import SwitchboardStore

/// Traces across Kafka: the W3C trace context (`traceparent`, `tracestate`) travels in record headers, which retry
/// tiers, the DLQ and a redrive keep (``FailureHeaders/headers(for:group:attempts:errorClass:message:now:dueAt:)``
/// and ``DeadLetter/redriven()`` drop only failure headers), so every attempt of a record continues the trace its
/// webhook started. Everything here does nothing while ``TracingSwitch`` is off.
public enum RecordTracing {
    /// Reads the trace context from record headers.
    struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: [KafkaHeader]) -> String? {
            carrier.last { $0.key == key }?.stringValue
        }
    }

    /// Writes the trace context into record headers, replacing an older one.
    struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
            carrier.removeAll { $0.key == key }
            carrier.append(KafkaHeader(key: key, string: value))
        }
    }

    /// `record` carrying the current trace context (the span around the caller), when tracing is on.
    public static func carryingTrace(_ record: OutgoingRecord) -> OutgoingRecord {
        guard TracingSwitch.isOn, let context = ServiceContext.current else { return record }
        var record = record
        InstrumentationSystem.instrument.inject(context, into: &record.headers, using: HeaderInjector())
        return record
    }

    /// Runs one handling attempt of `record` in a consumer span that continues the trace in its headers, carrying
    /// the event id, account, topic, partition, offset, attempt and outcome (never a body or a phone number). The
    /// handler's API and store calls become its children.
    static func attempt(
        _ record: KafkaRecord, source: String, event: CloudEvent, attempt: Int,
        _ body: () async throws -> RecordOutcome
    ) async throws -> RecordOutcome {
        guard TracingSwitch.isOn else { return try await body() }
        var parent = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(record.headers, into: &parent, using: HeaderExtractor())
        let span = startSpan("\(source) process", context: parent, ofKind: .consumer)
        defer { span.end() }
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.destination.name"] = record.topic
        span.attributes["messaging.kafka.destination.partition"] = Int(record.partition)
        span.attributes["messaging.kafka.offset"] = Int(record.offset)
        span.attributes["messaging.message.id"] = event.id
        span.attributes["switchboard.account"] = event.accountId ?? ""
        span.attributes["switchboard.attempt"] = attempt
        do {
            let outcome = try await ServiceContext.$current.withValue(span.context) { try await body() }
            span.attributes["switchboard.outcome"] = outcome.rawValue
            return outcome
        } catch {
            let failure = ProcessingFailure.classify(error)
            span.attributes["switchboard.outcome"] = "failed"
            span.attributes["switchboard.error_class"] = failure.errorClass
            span.setStatus(SpanStatus(code: .error, message: failure.errorClass))
            throw error
        }
    }
}
