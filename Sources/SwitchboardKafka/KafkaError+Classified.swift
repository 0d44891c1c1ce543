import SwitchboardBase

/// A fatal librdkafka error is permanent; any other is a transient failure of the Kafka dependency.
extension KafkaError: ClassifiedError {
    public var processingFailure: ProcessingFailure {
        let errorClass = "kafka.\(code.name.lowercased())"
        return isFatal ? .permanent(errorClass, reason) : .transient(errorClass, reason, dependency: .kafka)
    }
}
