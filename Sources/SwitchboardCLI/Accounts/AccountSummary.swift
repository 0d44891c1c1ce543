import Foundation
import Shared

/// What the CLI shows of an account: everything but the secrets.
struct AccountSummary: Codable {
    var id: String
    var status: String
    var gorgiasBaseURL: String
    var gorgiasAuth: String
    var gorgiasEmail: String?
    var smsBaseURL: String
    var smsAccountSid: String
    var smsFrom: String?
    var smsMessagingServiceSid: String?
    var settings: AccountSettings
    var gorgiasIntegrationId: Int64?
    /// The merchant health checks' last results (empty until the StatusWorker has checked it).
    var health: [AccountHealth]
    var createdAt: Date
    var updatedAt: Date

    init(_ account: Account, health: [AccountHealth] = []) {
        id = account.id
        status = account.status.rawValue
        gorgiasBaseURL = account.gorgiasBaseURL
        gorgiasAuth = account.gorgiasAuthKind.rawValue
        gorgiasEmail = account.gorgiasEmail
        smsBaseURL = account.smsBaseURL
        smsAccountSid = account.smsAccountSid
        switch account.smsSender {
        case .number(let number): smsFrom = number
        case .messagingService(let sid): smsMessagingServiceSid = sid
        }
        settings = account.settings
        gorgiasIntegrationId = account.gorgiasIntegrationId
        self.health = health
        createdAt = account.createdAt
        updatedAt = account.updatedAt
    }

    var sender: String { smsFrom ?? smsMessagingServiceSid.map { "service \($0)" } ?? "-" }

    /// `ok`, the failing checks by name, or `-` before any check.
    var healthSummary: String {
        guard !health.isEmpty else { return "-" }
        let failing = health.filter { !$0.healthy }.map(\.check)
        return failing.isEmpty ? "ok" : "failing: " + failing.joined(separator: ", ")
    }
}
