import SwitchboardBase

/// A transport failure is transient; the service decides which dependency's circuit it counts toward.
extension HTTPError: ClassifiedError {
    public var processingFailure: ProcessingFailure {
        let dependency = ProcessingFailure.Dependency(rawValue: service)
        return ProcessingFailure(
            isRetriable ? .transient : .permanent, "\(service).\(kind.rawValue)", reason,
            dependency: isRetriable ? dependency : nil
        )
    }
}
