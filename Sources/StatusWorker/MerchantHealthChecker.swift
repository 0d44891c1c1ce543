import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import SwitchboardBase
import SwitchboardDomain
import SwitchboardObservability
import SwitchboardRuntime
import SwitchboardSMS
import SwitchboardStore
import WorkerKit
import SwitchboardGorgias

/// Checks each connected merchant's Gorgias HTTP integration every `MERCHANT_HEALTH_INTERVAL`: Gorgias deactivates
/// one after 100 failed deliveries (or an admin does), and from then on agents' replies never reach Switchboard, with
/// no error anywhere. Exports `switchboard_account_health{check="gorgias_integration"}` (0: deactivated or removed)
/// and, when Gorgias refuses the key, `check=ProcessingFailure.Dependency.gorgias.credentialsCheck`. One Gorgias call per merchant per interval, from
/// the merchant's own budget. A result that flips tells the merchant (``MerchantNotices``).
struct MerchantHealthChecker: Service {
    let store: Store
    let accounts: AccountDirectory
    let metrics: LabeledMetrics
    let accountLabels: AccountLabels
    let interval: Duration
    let notices: MerchantNotices
    let logger: Logger

    func run() async throws {
        await runPeriodically(every: interval) {
            do {
                for account in try await store.accounts() where account.status == .connected {
                    guard let integration = account.gorgiasIntegrationId else { continue }
                    await check(account, integration: integration)
                }
            } catch {
                logger.warning("merchant health not checked: \(error)")
            }
        }
    }

    func check(_ account: Account, integration: Int64) async {
        do {
            guard let entry = try await accounts.entry(account.id) else { return }
            let found = try await entry.gorgias.integration(id: integration)
            await record(
                account, ProcessingFailure.Dependency.gorgias.credentialsCheck, healthy: true, detail: "accepted")
            let detail =
                switch found {
                case nil: "integration \(integration) is gone from Gorgias"
                case let found? where !found.isActive:
                    "integration \(integration) deactivated in Gorgias at \(found.deactivatedDatetime ?? "?")"
                default: "integration \(integration) active"
                }
            await record(
                account, MerchantHealthCheck.gorgiasIntegration, healthy: found?.isActive == true, detail: detail)
            await checkInboundWebhook(account, sms: entry.sms)
            if found?.isActive != true {
                logger.warning(
                    "agents' replies do not reach Switchboard: \(detail); run accounts reconnect --ingress-url",
                    metadata: [LogKeys.accountId: "\(account.id)"])
            }
        } catch {
            let failure = ProcessingFailure.classify(error)
            if failure.refusedCredentials == .gorgias {
                await record(
                    account, ProcessingFailure.Dependency.gorgias.credentialsCheck, healthy: false,
                    detail: "refused by Gorgias (401/403)")
            }
            // Gorgias down or the budget spent says nothing about this merchant: the last answer stands.
            logger.debug(
                "merchant health check skipped",
                metadata: [LogKeys.accountId: "\(account.id)", LogKeys.errorClass: "\(failure.errorClass)"])
        }
    }

    /// The sender's incoming texts still reach the ingress: read where the provider really routes them (a number's
    /// webhook, its TwiML App, its Messaging Service: ``InboundRoute``). Someone editing the number or the service in
    /// the provider's console silently cuts customers' texts off from the helpdesk.
    private func checkInboundWebhook(_ account: Account, sms: SMSClient) async {
        guard let expected = account.settings.ingressInboundURL ?? account.settings.inboundWebhookURL else { return }
        do {
            let route = try await sms.inboundRoute(for: account.smsSender)
            let detail =
                route.map {
                    $0.reaches(expected) ? "incoming texts reach Switchboard (\($0.description))" : $0.description
                }
                ?? "the sender is no longer the SMS account's"
            await record(
                account, MerchantHealthCheck.smsInboundWebhook, healthy: route?.reaches(expected) == true,
                detail: detail)
        } catch {
            logger.debug(
                "inbound webhook not checked",
                metadata: [LogKeys.accountId: "\(account.id)", LogKeys.reason: "\(error)"])
        }
    }

    /// Exports the result, keeps it for `switchboard accounts list|show`, and tells the merchant when it flipped.
    private func record(_ account: Account, _ check: String, healthy: Bool, detail: String) async {
        set(account.id, check, healthy: healthy)
        let now = Date()
        do {
            let changed = try await store.recordHealth(
                account: account.id, check: check, healthy: healthy, detail: detail, at: now)
            await notices.healthRecorded(
                account, check: check, healthy: healthy, detail: detail, checkedAt: now, changedAt: changed)
        } catch {
            logger.warning("merchant health not stored: \(error)", metadata: [LogKeys.accountId: "\(account.id)"])
        }
    }

    private func set(_ account: String, _ check: String, healthy: Bool) {
        metrics.gauge(MetricCatalog.accountHealth, [("account", accountLabels.label(account)), ("check", check)])
            .record(healthy ? 1.0 : 0.0)
    }
}
