import Testing
@testable import SwitchboardBase
@testable import SwitchboardHTTP
@testable import SwitchboardObservability

/// When tracing is on, and what an API call's span may say about its URL.
@Suite("Tracing rules")
struct TracingRulesTests {
    @Test(
        "tracing is on only when the OTEL variables ask for it",
        arguments: [
            ([:], false),
            (["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"], true),
            (["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"], true),
            (["OTEL_TRACES_EXPORTER": "otlp"], true),
            (["OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"], false),
            (["OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"], false),
            (["OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"], false),
        ] as [([String: String], Bool)])
    func requested(_ variables: [String: String], _ on: Bool) {
        #expect(TracingBackend.isRequested(Environment(variables)) == on)
    }

    @Test("a span's URL path keeps ids but not phone numbers or email addresses")
    func redactedPath() {
        #expect(HTTPTracing.redacted("/api/tickets/123/messages") == "/api/tickets/123/messages")
        #expect(
            HTTPTracing.redacted("/v1/PhoneNumbers/%2B15551234567/x") == "/v1/PhoneNumbers/{redacted}/x")
        #expect(HTTPTracing.redacted("/v1/PhoneNumbers/+15551234567") == "/v1/PhoneNumbers/{redacted}")
        #expect(HTTPTracing.redacted("/api/customers/ann@example.com") == "/api/customers/{redacted}")
    }
}
