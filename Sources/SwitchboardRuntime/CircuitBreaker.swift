import Foundation
import SwitchboardBase

/// Opens when a dependency fails for everyone: `threshold` consecutive transient failures of that dependency with no
/// success in between, spanning at least two accounts (or the only active account). A success of a record that uses
/// the dependency closes it; a record that never calls it (a STOP on `sms.consent` while Gorgias is down) neither
/// closes its circuit nor resets its count.
///
/// While open the runtime pauses consumption of the topics that use the dependency and keeps probing with in-flight
/// records instead of draining them into retry tiers (the knative lesson in anchors.md §4).
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
    /// Consecutive failures per dependency, and the accounts they came from.
    private var failing: [ProcessingFailure.Dependency: (count: Int, accounts: Set<String>)] = [:]
    private(set) var activeAccounts: [String: ContinuousClock.Instant] = [:]
    /// The size at which ``activeAccounts`` is next pruned of accounts idle beyond the window: twice what the last
    /// pruning kept, so a fleet with hundreds of active merchants prunes now and then, not on every record.
    private(set) var pruneActiveAt = 64

    init(settings: Settings) {
        self.settings = settings
    }

    var isOpen: Bool { openDependency != nil }

    /// A record that may use `dependencies` succeeded.
    mutating func recordSuccess(
        account: String?, dependencies: Set<ProcessingFailure.Dependency> = Set(ProcessingFailure.Dependency.allCases),
        now: ContinuousClock.Instant
    ) -> Transition? {
        noteActivity(account, now: now)
        for dependency in dependencies { failing[dependency] = nil }
        guard let open = openDependency, dependencies.contains(open) else { return nil }
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
        var record = failing[dependency] ?? (0, [])
        record.count += 1
        if let account { record.accounts.insert(account) }
        failing[dependency] = record
        guard record.count >= settings.threshold else { return nil }
        // Counted within the window here, not by the table's size: pruning is lazy (see `pruneActiveAt`).
        let window = settings.activityWindow
        let everyoneFailing =
            record.accounts.count >= 2 || activeAccounts.values.filter { now - $0 < window }.count <= 1
        guard everyoneFailing else { return nil }
        openDependency = dependency
        return .opened(dependency)
    }

    private mutating func noteActivity(_ account: String?, now: ContinuousClock.Instant) {
        guard let account else { return }
        activeAccounts[account] = now
        if activeAccounts.count > pruneActiveAt {
            activeAccounts = activeAccounts.filter { now - $0.value < settings.activityWindow }
            pruneActiveAt = max(64, 2 * activeAccounts.count)
        }
    }
}
