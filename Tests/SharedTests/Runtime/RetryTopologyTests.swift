import Testing
import SwitchboardBase
@testable import SwitchboardRuntime

@Suite("Retry topology")
struct RetryTopologyTests {
    let topology = RetryTopology(tiers: [.seconds(30), .seconds(300), .seconds(3600)])

    @Test("names tiers and the DLQ, and classifies topics")
    func names() {
        #expect(topology.retryTopic("sms.inbound", tier: 0) == "sms.inbound.retry.30s")
        #expect(topology.retryTopic("sms.inbound", tier: 1) == "sms.inbound.retry.5m")
        #expect(topology.retryTopic("sms.inbound", tier: 2) == "sms.inbound.retry.1h")
        #expect(topology.deadLetterTopic("sms.inbound") == "sms.inbound.dlq")
        #expect(topology.classify("sms.inbound.retry.5m")! == ("sms.inbound", .retry(tier: 1)))
        #expect(topology.classify("sms.inbound.dlq")! == ("sms.inbound", .deadLetter))
        #expect(topology.classify("other") == nil)
        #expect(
            topology.consumedTopics(["sms.inbound"]) == [
                "sms.inbound", "sms.inbound.retry.30s", "sms.inbound.retry.5m", "sms.inbound.retry.1h",
            ])
    }

    @Test("failures climb the tiers to the DLQ; long waits skip short tiers; deferrals never reach the DLQ")
    func next() {
        #expect(topology.nextTopic(source: "s", after: .source).topic == "s.retry.30s")
        #expect(topology.nextTopic(source: "s", after: .retry(tier: 0)).topic == "s.retry.5m")
        #expect(topology.nextTopic(source: "s", after: .retry(tier: 2)).topic == "s.dlq")
        #expect(topology.nextTopic(source: "s", after: .source, minimumDelay: .seconds(120)).topic == "s.retry.5m")
        #expect(topology.nextTopic(source: "s", after: .retry(tier: 2), deferral: true).topic == "s.retry.1h")
        #expect(RetryTopology(tiers: []).nextTopic(source: "s", after: .source).topic == "s.dlq")
    }

    @Test("RETRY_TIERS is parsed and checked")
    func configuration() throws {
        #expect(try RetryTopology.from(Environment(["RETRY_TIERS": "10s, 2m"])).tiers == [.seconds(10), .seconds(120)])
        #expect(throws: ConfigurationError.self) { try RetryTopology.from(Environment(["RETRY_TIERS": "5m,30s"])) }
        #expect(throws: ConfigurationError.self) { try RetryTopology.from(Environment(["RETRY_TIERS": "soon"])) }
    }

    @Test("a retry tier's source topic is the part before .retry.; other topics are their own source")
    func sourceTopic() {
        #expect(RetryTopology.sourceTopic(of: "sms.inbound.retry.30s") == "sms.inbound")
        #expect(RetryTopology.sourceTopic(of: "sms.inbound") == "sms.inbound")
        #expect(RetryTopology.sourceTopic(of: "sms.inbound.dlq") == "sms.inbound.dlq")
        #expect(RetryTopology.sourceTopic(of: ".retry.") == "")
        #expect(RetryTopology.sourceTopic(of: "a.retry.b.retry.c") == "a")
        #expect(RetryTopology.sourceTopic(of: "") == "")
    }
}
