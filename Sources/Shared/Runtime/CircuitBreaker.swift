import Foundation

/// Opens when a dependency fails for everyone: `threshold` consecutive transient failures with no success in
/// between, spanning at least two accounts (or the only active account). Any success closes it.
///
/// While open the runtime pauses consumption and keeps probing with in-flight records instead of draining the
/// topic into retry tiers (the knative lesson in anchors.md §4).
struct CircuitBreaker {
    struct Settings: Sendable {
        var threshold: Int = 10
        /// Accounts seen within this window count as "active".
        var activityWindow: Duration = .seconds(60)
    }

    enum Transition: Equatable {
        case opened(ProcessingFailure.Dependency)
        case closed
    }

    let settings: Settings
    private(set) var openDependency: ProcessingFailure.Dependency?
    private var consecutiveFailures = 0
    private var failingAccounts: Set<String> = []
    private var failingDependencies: [ProcessingFailure.Dependency: Int] = [:]
    private var activeAccounts: [String: ContinuousClock.Instant] = [:]

    init(settings: Settings) {
        self.settings = settings
    }

    var isOpen: Bool { openDependency != nil }

    mutating func recordSuccess(account: String?, now: ContinuousClock.Instant) -> Transition? {
        noteActivity(account, now: now)
        consecutiveFailures = 0
        failingAccounts = []
        failingDependencies = [:]
        guard openDependency != nil else { return nil }
        openDependency = nil
        return .closed
    }

    mutating func recordFailure(
        dependency: ProcessingFailure.Dependency?,
        account: String?,
        now: ContinuousClock.Instant
    ) -> Transition? {
        noteActivity(account, now: now)
        guard let dependency, openDependency == nil else { return nil }
        consecutiveFailures += 1
        failingDependencies[dependency, default: 0] += 1
        if let account { failingAccounts.insert(account) }
        let everyoneFailing = failingAccounts.count >= 2 || activeAccounts.count <= 1
        guard consecutiveFailures >= settings.threshold, everyoneFailing else { return nil }
        let worst = failingDependencies.max { $0.value < $1.value }!.key
        openDependency = worst
        return .opened(worst)
    }

    private mutating func noteActivity(_ account: String?, now: ContinuousClock.Instant) {
        guard let account else { return }
        activeAccounts[account] = now
        if activeAccounts.count > 64 {
            activeAccounts = activeAccounts.filter { now - $0.value < settings.activityWindow }
        }
    }
}
