import Foundation
import SwitchboardDomain
import SwitchboardRuntime

/// The demo merchant of `switchboard-dev fleet`.
enum DemoAccount {
    static let id = "demo"
    static let number = "+15550100000"
    static let brand = "Demo Outfitters"

    static var account: LocalAccount {
        var settings = AccountSettings(brand: brand)
        settings.helpContact = "help@demo.example"
        settings.consentReplies = .provider  // the sandbox answers STOP, START and HELP itself, as Twilio does by default
        return LocalAccount(id: id, number: number, settings: settings)
    }

    /// Short retry tiers, so a retried event shows up while you watch.
    static let topology = RetryTopology(tiers: [.seconds(5), .seconds(30)])
}
