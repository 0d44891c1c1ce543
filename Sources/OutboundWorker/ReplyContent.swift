import Foundation
import SwitchboardBase
import SwitchboardGorgias
import SwitchboardSMS

/// What an agent reply sends: clean text (HTML turned into text), images as MMS media, and the attachments SMS
/// cannot carry.
struct ReplyContent: Sendable, Hashable {
    var text: String
    var mediaURLs: [String]
    var unsupportedAttachments: [String]
    var hasOptOutCommand: Bool

    static let imageTypes: Set<String> = ["image/png", "image/jpeg", "image/jpg", "image/gif"]
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "gif"]

    init(_ message: GorgiasMessage) {
        let raw = [message.strippedText, message.bodyText].compactMap { $0 }.first {
            !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        text =
            raw.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? HTMLText.plainText(message.bodyHTML ?? "")
        hasOptOutCommand = text.range(of: "#opt-?out\\b", options: [.regularExpression, .caseInsensitive]) != nil
        var media: [String] = []
        var unsupported: [String] = []
        for attachment in message.attachments ?? [] {
            let type = attachment.contentType?.lowercased() ?? ""
            let fileExtension = URL(string: attachment.url)?.pathExtension.lowercased() ?? ""
            if Self.imageTypes.contains(type) || (type.isEmpty && Self.imageExtensions.contains(fileExtension)) {
                media.append(attachment.url)
            } else {
                unsupported.append(attachment.name ?? URL(string: attachment.url)?.lastPathComponent ?? attachment.url)
            }
        }
        mediaURLs = media
        unsupportedAttachments = unsupported
    }

    var isEmpty: Bool { text.isEmpty && mediaURLs.isEmpty }

    /// Over the provider's body limit (Twilio 21617): sent as nothing, explained in a note.
    var isTooLong: Bool { text.count > SMSSegments.maximumBodyCharacters }
}
