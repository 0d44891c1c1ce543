import ServiceLifecycle

/// The producer as a member of a process's ServiceGroup: on graceful shutdown it flushes (at most 5 s) and stops its
/// poll thread. List it before the consumer worker that produces through it, so it flushes after the worker's drain.
extension KafkaProducer: Service {
    public func run() async {
        try? await gracefulShutdown()
        await shutdown(timeout: .seconds(5))
    }
}
