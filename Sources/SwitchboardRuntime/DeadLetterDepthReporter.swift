import Foundation
import Logging
import ServiceLifecycle
import SwitchboardBase
import SwitchboardKafka

/// Reports `switchboard_dlq_depth_records` for the worker's dead-letter topics: records after the review group's
/// committed offset (``FleetRoster/deadLetterReviewGroup``; `switchboard dlq redrive|ack` advance it). Every replica
/// reports the same value; dashboards and alerts take the max per topic.
package struct DeadLetterDepthReporter: Service {
    let settings: KafkaSettings
    let deadLetterTopics: [String]
    let metrics: WorkerMetrics
    let interval: Duration
    let logger: Logger

    package init(
        settings: KafkaSettings, deadLetterTopics: [String], metrics: WorkerMetrics, interval: Duration, logger: Logger
    ) {
        self.settings = settings
        self.deadLetterTopics = deadLetterTopics
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let reader = try KafkaOffsetsReader(
            settings: settings, groupId: FleetRoster.deadLetterReviewGroup, logger: logger)
        await runPeriodically(every: interval) { await report(reader) }
    }

    private func report(_ reader: KafkaOffsetsReader) async {
        let topics = deadLetterTopics
        do {
            let lags = try await BlockingCall.run {
                try reader.lag(group: FleetRoster.deadLetterReviewGroup, topics: topics, timeout: .seconds(5))
            }
            for topic in topics {
                metrics.setDeadLetterDepth(
                    topic: topic, records: lags.filter { $0.topicPartition.topic == topic }.reduce(0) { $0 + $1.lag })
            }
        } catch {
            logger.debug("could not measure DLQ depth: \(error)")
        }
    }
}
