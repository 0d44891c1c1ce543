import Foundation
import Prometheus
import Testing
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardStore

/// Per-account series: each merchant's outcomes under its own label, with the number of named accounts capped.
@Suite("Per-account metrics")
struct AccountMetricsTests {
    @Test("the first accounts get their own label; later ones, and an empty one, count as other")
    func labelsAreCapped() {
        let labels = AccountLabels(limit: 2)
        #expect(labels.label("acme") == "acme")
        #expect(labels.label("bolt") == "bolt")
        #expect(labels.label("crow") == AccountLabels.other)
        #expect(labels.label("acme") == "acme", "a named account keeps its label")
        #expect(labels.label("") == AccountLabels.other)
    }

    @Test("records finish into the account's series; beyond the cap into other; the age only for processed records")
    func series() {
        let registry = PrometheusCollectorRegistry()
        let metrics = WorkerMetrics(
            group: "g", metrics: LabeledMetrics(registry: registry), accountLabels: AccountLabels(limit: 1))
        let produced = Date().addingTimeInterval(-2)
        metrics.accountRecordFinished(account: "acme", outcome: .processed, eventTime: produced)
        metrics.accountRecordFinished(account: "acme", outcome: .processed, eventTime: produced)
        metrics.accountRecordFinished(account: "acme", outcome: .deadLettered, eventTime: produced)
        metrics.accountRecordFinished(account: "bolt", outcome: .processed, eventTime: produced)
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(
            text.contains(#"switchboard_account_records_total{group="g",account="acme",outcome="processed"} 2"#),
            "\(text)")
        #expect(
            text.contains(#"switchboard_account_records_total{group="g",account="acme",outcome="dead_lettered"} 1"#))
        #expect(text.contains(#"switchboard_account_records_total{group="g",account="other",outcome="processed"} 1"#))
        #expect(!text.contains(#"account="bolt""#))
        #expect(text.contains(#"switchboard_account_event_age_seconds_count{group="g",account="acme"} 2"#), "\(text)")
    }
}
