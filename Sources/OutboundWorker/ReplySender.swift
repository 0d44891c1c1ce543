import Crypto
import Foundation
import Shared

/// Sends an agent reply as SMS, exactly once, or explains in a note why it was not sent.
///
/// The send is recorded (`sending`, with the attempt time) before the provider call. A retry — after a crash, a
/// timeout or a dropped connection — first looks for the message in the provider's list and records it instead of
/// sending it again; only a message the provider never got is sent again.
struct ReplySender: Sendable {
    let store: Store
    let notes: NotePoster

    init(store: Store) {
        self.store = store
        self.notes = NotePoster(store: store)
    }

    func deliver(_ job: ReplyJob) async throws {
        let account = job.account
        if let reason = try await consentBlock(job) {
            try await block(job, note: reason)
            return
        }
        if job.content.isTooLong {
            try await block(job, note: ReplyNotes.tooLong(characters: job.content.text.count))
            return
        }
        if job.content.isEmpty {
            if !job.content.unsupportedAttachments.isEmpty {
                try await block(job, note: ReplyNotes.unsupportedAttachments(job.content.unsupportedAttachments, nothingSent: true))
            }
            return
        }
        let now = Date()
        let (record, created) = try await store.claimOutbound(OutboundMessage(
            id: OutboundMessage.id(accountId: account.id, ticketId: job.ticketId, messageId: job.message.id), accountId: account.id,
            ticketId: job.ticketId, messageId: job.message.id, toPhone: job.phone, bodyDigest: Self.digest(job.content),
            state: .sending, createdAt: now, updatedAt: now
        ))
        if !created {
            guard record.state == .sending else { return try await noteUnsupported(job) }  // already sent or explained
            if let started = record.sendStartedAt,
                let sent = try await SMSReconciler.findSent(job.entry.sms, to: job.phone, body: job.content.text, since: started.addingTimeInterval(-5))
            {
                try await recordSent(job, record: record, sid: sent.sid, providerSegments: sent.segments)
                return try await noteUnsupported(job)
            }
        }
        try await store.markSendAttempt(id: record.id)
        do {
            let sent = try await job.entry.sms.send(
                to: job.phone, sender: account.smsSender, body: job.content.text, mediaURLs: job.content.mediaURLs,
                statusCallback: account.settings.statusCallbackURL
            )
            try await recordSent(job, record: record, sid: sent.sid, providerSegments: sent.segments)
        } catch let error as SMSError where ProcessingFailure.classify(error).kind == .permanent {
            try await refused(job, record: record, error: error)
            return
        }
        try await noteUnsupported(job)
    }

    /// Why consent forbids sending, if it does.
    private func consentBlock(_ job: ReplyJob) async throws -> String? {
        let subscriber = try await store.subscriber(accountId: job.account.id, phone: job.phone)
        switch subscriber?.state {
        case .subscribed?: return nil
        case .unsubscribed?: return ReplyNotes.unsubscribed(job.phone, since: subscriber!.changedAt, source: subscriber!.source)
        case .pending?: return ReplyNotes.pending(job.phone, since: subscriber!.changedAt)
        case nil: return ReplyNotes.noConsent(job.phone)
        }
    }

    /// Nothing is sent: the record says `blocked` (so a redelivery does not reconsider) and the agent gets a note.
    private func block(_ job: ReplyJob, note: String) async throws {
        let now = Date()
        _ = try await store.claimOutbound(OutboundMessage(
            id: OutboundMessage.id(accountId: job.account.id, ticketId: job.ticketId, messageId: job.message.id), accountId: job.account.id,
            ticketId: job.ticketId, messageId: job.message.id, toPhone: job.phone, bodyDigest: Self.digest(job.content), state: .blocked,
            errorMessage: note, createdAt: now, updatedAt: now
        ))
        try await notes.post(job.entry, ticketId: job.ticketId, key: job.noteKey("not-sent"), text: note)
    }

    private func recordSent(_ job: ReplyJob, record: OutboundMessage, sid: String, providerSegments: Int?) async throws {
        let segments = providerSegments.flatMap { $0 > 0 ? $0 : nil } ?? SMSSegments.count(job.content.text).segments
        try await store.advanceOutbound(id: record.id, to: .sent, providerSid: sid, segments: segments)
    }

    /// The provider refused for good: 21610 means the recipient opted out there, so the subscriber is unsubscribed.
    private func refused(_ job: ReplyJob, record: OutboundMessage, error: SMSError) async throws {
        let code = error.code ?? 0
        if error.isOptOut {
            _ = try await store.applyConsent(ConsentChange(
                accountId: job.account.id, phone: job.phone, state: .unsubscribed, at: Date(), source: "provider:\(code)"
            ))
        }
        try await store.advanceOutbound(id: record.id, to: .failed, errorCode: code, errorMessage: error.message)
        let note = error.isOptOut ? ReplyNotes.providerOptOut(code: code) : ReplyNotes.refused(code: code)
        try await notes.post(job.entry, ticketId: job.ticketId, key: job.noteKey("refused"), text: note)
    }

    private func noteUnsupported(_ job: ReplyJob) async throws {
        guard !job.content.unsupportedAttachments.isEmpty else { return }
        try await notes.post(
            job.entry, ticketId: job.ticketId, key: job.noteKey("attachments"),
            text: ReplyNotes.unsupportedAttachments(job.content.unsupportedAttachments, nothingSent: false)
        )
    }

    static func digest(_ content: ReplyContent) -> String {
        let bytes = Array((content.text + "\u{0}" + content.mediaURLs.joined(separator: "\u{0}")).utf8)
        return SHA256.hash(data: bytes).prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
