import Foundation
import Testing
import Ingress
import LocalFleet
import SwitchboardJSON
import SwitchboardRuntime
import TestSupport

/// One text's trace, exported over OTLP/HTTP by the real `switchboard-ingress` and `InboundWorker` to a local
/// receiver: the webhook's span, an attempt that failed while Gorgias was down, the attempt from the retry tier that
/// imported it, and that attempt's Gorgias and store calls as its children — all one trace, with no phone number
/// or message body in any span.
@Suite("Tracing", .serialized, .timeLimit(.minutes(3)))
struct TracingTests {
    /// A span as OTLP/JSON carries it, with its service.
    struct ExportedSpan {
        var service: String
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        var attributes: [String: String]
    }

    @Test("a text's spans from the webhook through a retry tier to the Gorgias call share one trace")
    func webhookToGorgiasThroughRetryTier() async throws {
        let collector = try await WebhookReceiver(status: 204)
        let tracing = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        ]
        let fleet = try await E2EFleet(environment: tracing.merging(["IN_PLACE_RETRIES": "1"]) { $1 })
        let acme = E2EFleet.TestAccount(id: "acme")
        try await fleet.addAccount(acme)
        try await fleet.start(.inbound)
        let ingress = try await IngressProcess(fleet, environment: tracing)
        try await fleet.sandbox.post("/sandbox/faults", ["gorgiasFailRate": 1.0])

        let phone = "+15557654321"
        try await fleet.customerTexts(
            acme, from: phone, "Is my parcel lost?",
            to: IngressRegistration.endpoints(ingressURL: ingress.url, accountId: acme.id))
        func spans() -> [ExportedSpan] { collector.requests.flatMap { Self.spans(in: $0.json) } }
        #expect(
            await eventually(timeout: .seconds(30)) {
                spans().contains { $0.attributes["switchboard.outcome"] == "failed" }
            }, "an attempt failed while Gorgias was down:\n\(fleet.logs)")
        try await fleet.sandbox.post("/sandbox/faults", ["gorgiasFailRate": 0.0])
        #expect(
            await eventually(timeout: .seconds(30)) {
                spans().contains { $0.attributes["switchboard.outcome"] == "processed" }
                    && spans().contains { $0.name.hasPrefix("gorgias ") }
            }, "the tier's attempt imported it:\n\(fleet.logs)")

        let all = spans()
        let webhook = try #require(all.first { $0.name.hasPrefix("webhook POST") }, "\(all.map(\.name))")
        #expect(webhook.service == "switchboard-ingress")
        let trace = all.filter { $0.traceId == webhook.traceId }
        let attempts = trace.filter { $0.name == "sms.inbound process" }
        let failed = try #require(attempts.first { $0.attributes["switchboard.outcome"] == "failed" })
        let processed = try #require(attempts.first { $0.attributes["switchboard.outcome"] == "processed" })
        #expect(failed.service == FleetRoster.inbound.name && failed.parentSpanId == webhook.spanId, "\(failed)")
        #expect(failed.attributes["switchboard.error_class"]?.hasPrefix("gorgias.") == true, "\(failed.attributes)")
        #expect(failed.attributes["messaging.destination.name"] == "sms.inbound")
        #expect(
            processed.attributes["messaging.destination.name"]?.contains(".retry.") == true,
            "the successful attempt came from a retry tier: \(processed.attributes)")
        #expect(processed.parentSpanId == webhook.spanId, "the tier's attempt continues the webhook's trace")
        #expect(
            processed.attributes["switchboard.account"] == "acme" && processed.attributes["messaging.message.id"] != nil
        )
        let children = trace.filter { $0.parentSpanId == processed.spanId }
        #expect(children.contains { $0.name.hasPrefix("gorgias ") }, "\(children.map(\.name))")
        #expect(children.contains { $0.name.hasPrefix("store ") }, "\(children.map(\.name))")

        let exported = collector.requests.map { String(decoding: $0.body, as: UTF8.self) }.joined()
        #expect(!exported.contains("7654321") && !exported.contains("parcel"), "no phone number or body in a span")
        await ingress.stop()
        await fleet.shutdown()
    }

    /// The spans of one OTLP/JSON export request.
    static func spans(in request: JSONValue?) -> [ExportedSpan] {
        (request?["resourceSpans"]?.arrayValue ?? []).flatMap { resource -> [ExportedSpan] in
            let service = Self.attributes(resource["resource"]?["attributes"])["service.name"] ?? ""
            return (resource["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] }.map { span in
                ExportedSpan(
                    service: service, traceId: span["traceId"]?.stringValue ?? "",
                    spanId: span["spanId"]?.stringValue ?? "", parentSpanId: span["parentSpanId"]?.stringValue ?? "",
                    name: span["name"]?.stringValue ?? "", attributes: Self.attributes(span["attributes"]))
            }
        }
    }

    /// OTLP key-value attributes as text.
    static func attributes(_ list: JSONValue?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in list?.arrayValue ?? [] {
            guard let key = attribute["key"]?.stringValue, let value = attribute["value"]?.objectValue?.values.first
            else { continue }
            result[key] = value.stringValue ?? value.intValue.map(String.init) ?? value.serialized()
        }
        return result
    }
}
