import ServiceLifecycle

/// The HTTP client as a member of a process's ServiceGroup: its transfer thread stops on graceful shutdown. List it
/// before every service that makes requests, so it stops after them.
extension HTTPClient: Service {
    public func run() async {
        try? await gracefulShutdown()
        await shutdown()
    }
}
