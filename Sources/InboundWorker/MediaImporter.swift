import Foundation
import SwitchboardEvents
import SwitchboardGorgias
import SwitchboardHTTP
import SwitchboardSMS
import SwitchboardStore
import WorkerKit
import SwitchboardDomain

/// Makes a text's MMS media something agents can open (contracts/twilio/extras.json, "media": Twilio media URLs need the account's
/// Basic auth when media authentication is on, and vanish once the media is deleted): each file on the SMS
/// provider's own host is fetched with the account's credentials, its type read from its bytes, and uploaded to
/// Gorgias' file storage; the message attaches the Gorgias URL.
///
/// A fetch or upload failure is transient (the text retries); a file over the size limit, or one the provider no
/// longer has, becomes a line in the message saying so. Exactly once across crashes: each file is journaled as
/// `media:<message sid>:<n>` with what it became as the effect's reference. A URL on another host is never fetched
/// (the account's credentials go only to its provider): an https one is listed as a link.
struct MediaImporter: Sendable {
    let store: Store

    /// What one media item became: an attachment, or a line for the message.
    struct Imported: Codable, Sendable, Equatable {
        var attachment: GorgiasAttachment?
        var line: String?
    }

    /// The largest file imported, of any type: what Twilio accepts for a whole message's media (5 MB). The smaller
    /// limit for non-image types (500 KB) is for sending; a customer's HEIC photo or video is imported whole.
    static let fetchLimit = 5 * 1024 * 1024

    func importMedia(_ text: InboundText, entry: AccountDirectory.Entry) async throws -> [Imported] {
        var imported: [Imported] = []
        for (index, item) in text.media.enumerated() {
            imported.append(try await importItem(item, index: index, sid: text.messageSid, entry: entry))
        }
        return imported
    }

    private func importItem(_ item: InboundText.Media, index: Int, sid: String, entry: AccountDirectory.Entry)
        async throws -> Imported
    {
        let declared = item.contentType.lowercased()
        guard entry.sms.isOwnMedia(item.url) else {
            let https = URL(string: item.url)?.scheme?.lowercased() == "https"
            return Imported(
                line: https
                    ? "[Attachment \(declared): \(item.url)]"
                    : "[Attachment \(declared) not imported: it is not at an https address]")
        }
        let key = "media:\(sid):\(index)"
        let encode = { (imported: Imported) in String(decoding: try JSONEncoder().encode(imported), as: UTF8.self) }
        let outcome = try await EffectJournal(store: store, accountId: entry.account.id).once(
            key: key,
            create: { try await upload(item, declared: declared, index: index, entry: entry) },
            reference: encode
        )
        switch outcome {
        case .alreadyDone(let reference):
            if let reference, let known = try? JSONDecoder().decode(Imported.self, from: Data(reference.utf8)) {
                return known
            }
            // An unreadable record: import again and record what it became, as a first import would.
            let imported = try await upload(item, declared: declared, index: index, entry: entry)
            try await store.completeEffect(accountId: entry.account.id, key: key, reference: try encode(imported))
            return imported
        case .found(let imported), .created(let imported):
            return imported
        }
    }

    /// Fetches the media from the SMS provider and uploads it to Gorgias, or says in a line why not.
    private func upload(_ item: InboundText.Media, declared: String, index: Int, entry: AccountDirectory.Entry)
        async throws -> Imported
    {
        do {
            let fetched = try await entry.sms.media(item.url, maximumBytes: Self.fetchLimit)
            let type = MediaType.effective(declared: fetched.contentType ?? declared, bytes: fetched.bytes)
            let attachment = try await entry.gorgias.upload(
                filename: MediaType.filename(index: index, type: type), contentType: type, bytes: fetched.bytes)
            return Imported(attachment: attachment)
        } catch let error as HTTPError where error.kind == .tooLarge {
            return Imported(line: Self.tooLarge(declared, limit: Self.fetchLimit))
        } catch let error as SMSError where error.status == 404 || error.status == 410 {
            return Imported(line: "[Attachment \(declared) not imported: the SMS provider no longer has it]")
        }
    }

    static func tooLarge(_ type: String, limit: Int) -> String {
        "[Attachment \(type) not imported: it is larger than \(limit / 1024 / 1024) MB]"
    }
}
