import ServiceLifecycle

/// The store as a member of a process's ServiceGroup: it runs what the store needs while it is used (PostgreSQL's
/// connection pool) and closes it on graceful shutdown. List it before every service that uses it: a group shuts its
/// services down in reverse order, so the store closes after the last of them has stopped.
extension Store: Service {
    public func run() async {
        await withDiscardingTaskGroup { group in
            for service in services {
                group.addTask { try? await service.run() }
            }
            try? await gracefulShutdown()
            await close()
        }
    }
}
