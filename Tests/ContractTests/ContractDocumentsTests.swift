import Foundation
import Testing
import ProviderContracts
import SwitchboardGorgias
import SwitchboardJSON
import SwitchboardSMS
import SwitchboardDomain

/// The contract documents themselves: they load (Twilio's through OpenAPIKit), their own examples are valid against
/// their own schemas, and the clients' models decode those examples.
@Suite("Contract documents")
struct ContractDocumentsTests {
    let contracts: ProviderContracts

    init() throws { contracts = try ProviderContracts.repository() }

    @Test("every Gorgias example follows its schema and decodes into the client's model")
    func gorgiasExamples() throws {
        #expect(contracts.gorgias.examples.count >= 6)
        for example in contracts.gorgias.examples {
            let issues = try contracts.gorgias.schema(example.schema).validate(example.value)
            #expect(issues.isEmpty, "\(example.name): \(issues)")
        }
        func decode<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
            let example = try #require(contracts.gorgias.examples.first { $0.name == name })
            return try JSONDecoder().decode(T.self, from: Data(example.value.canonicalBytes()))
        }
        #expect(try decode("file.json", as: GorgiasAttachment.self).size == 48213)
        let integration = try decode("integration.json", as: GorgiasIntegration.self)
        #expect(integration.triggers?["ticket-message-created"] == true)
        #expect(try decode("customer.json", as: GorgiasCustomer.self).hasPhone("+15551230001"))
        let message = try decode("message.json", as: GorgiasMessage.self)
        #expect(message.attachments?.first?.size == 20114)
        let ticket = try decode("ticket.json", as: GorgiasTicket.self)
        #expect(ticket.statusChange(accountId: "shop")?.snoozedUntil != nil)
    }

    @Test("Twilio's documents load, and their examples of the calls Switchboard makes decode into its models")
    func twilioExamples() throws {
        let examples = contracts.twilio.examples
        func example(_ method: String, _ path: String, _ status: Int, _ name: String? = nil) throws -> JSONValue {
            try #require(
                examples.first {
                    $0.method == method && $0.path == path && $0.status == status && (name == nil || $0.name == name)
                }?.value)
        }
        let messages = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
        let created = try JSONDecoder().decode(
            SMSMessage.self, from: Data(try example("POST", messages, 201, "create").canonicalBytes()))
        #expect(created.sid.hasPrefix("SM") && created.segments != nil)
        let page = try JSONDecoder().decode(
            SMSMessagePage.self, from: Data(try example("GET", messages, 200, "readFullPage1").canonicalBytes()))
        #expect(!page.messages.isEmpty)
        // Twilio pages on with a PageToken in the next page's URI (relative to the API host).
        #expect(page.messages.count == 2 && page.nextPageURI?.contains("PageToken=") == true)
        // Every example of the documents follows the documents' own schema, once converted for the validator.
        let message = try contracts.twilio.component("twilio/api.v2010.account.message")
        for example in examples where example.path == messages && example.status == 201 {
            #expect(message.validate(example.value).isEmpty, "\(example.name): \(message.validate(example.value))")
        }
    }
}
