import Foundation
import SwitchboardBase
import SwitchboardDomain
import SwitchboardSMS
import SwitchboardStore
import WorkerKit
import SwitchboardGorgias

/// Sends an agent reply as SMS, exactly once, or explains in a note why it was not sent.
///
/// The send is recorded (`sending`) before anything else. Consent is decided at the moment the send starts, in
/// one step with stamping the attempt (``Store/beginSend(id:accountId:phone:conversationalWindow:at:)``), so an
/// opt-out committed before that moment always blocks it. A retry — after a crash, a timeout or a dropped connection —
/// first looks for the message in the provider's list and records it instead of sending it again; only a message the
/// provider never got is sent again.
struct ReplySender: Sendable {
    let store: Store
    let notes: NotePoster
    /// Runs after the reply is claimed and before consent is decided for the send (a seam for the race test).
    let beforeSend: (@Sendable () async throws -> Void)?

    init(store: Store, beforeSend: (@Sendable () async throws -> Void)? = nil) {
        self.store = store
        self.notes = NotePoster(store: store)
        self.beforeSend = beforeSend
    }

    /// What became of a reply.
    enum Outcome: String, Sendable {
        case sent
        case alreadySent = "already sent"
        case blocked
        case refused
        case nothingToSend = "nothing to send"
    }

    @discardableResult
    func deliver(_ job: ReplyJob) async throws -> Outcome {
        let account = job.account
        let now = Date()
        let (record, created) = try await store.claimOutbound(
            OutboundMessage(
                id: OutboundMessage.id(accountId: account.id, ticketId: job.ticketId, messageId: job.message.id),
                accountId: account.id,
                ticketId: job.ticketId, messageId: job.message.id, toPhone: job.phone,
                bodyDigest: Self.digest(job.content),
                state: .sending, createdAt: now, updatedAt: now
            ))
        if !created {
            guard record.state == .sending else {
                // Already sent, refused or explained: only a note a crash interrupted may be missing.
                switch record.state {
                case .blocked: try await postNotSent(job, note: record.errorMessage ?? "")
                case .failed where record.errorCode != nil: try await postRefusedNote(job, code: record.errorCode!)
                case .failed: break
                default: try await noteUnsupported(job)
                }
                return .alreadySent
            }
            let reconciler = SMSReconciler(sms: job.entry.sms, store: store, accountId: account.id)
            if let started = record.sendStartedAt,
                let sent = try await reconciler.findSent(
                    to: job.phone, sender: account.smsSender, body: job.content.text,
                    mediaCount: job.content.mediaURLs.count, attemptedAt: started
                )
            {
                try await recordSent(job, record: record, sid: sent.sid, providerSegments: sent.segments)
                try await noteUnsupported(job)
                return .alreadySent
            }
        }
        if let note = contentProblem(job) {
            try await block(job, record: record, note: note)
            return job.content.isEmpty && job.content.unsupportedAttachments.isEmpty ? .nothingToSend : .blocked
        }
        try await beforeSend?()
        let window = account.settings.conversationalReplyHours.map { Duration.seconds($0 * 3600) }
        if case .blocked(let subscriber) = try await store.beginSend(
            id: record.id, accountId: account.id, phone: job.phone, conversationalWindow: window)
        {
            let note = ReplyNotes.consentBlocked(
                job.phone, subscriber: subscriber, conversationalReplyHours: account.settings.conversationalReplyHours)
            try await store.advanceOutbound(id: record.id, to: .blocked, errorMessage: note)
            try await postNotSent(job, note: note)
            return .blocked
        }
        do {
            let sent = try await job.entry.sms.send(
                to: job.phone, sender: account.smsSender, body: job.content.text, mediaURLs: job.content.mediaURLs,
                statusCallback: account.settings.statusCallbackURL
            )
            try await recordSent(job, record: record, sid: sent.sid, providerSegments: sent.segments)
        } catch let error as SMSError where ProcessingFailure.classify(error).kind == .permanent {
            try await refused(job, record: record, error: error)
            return .refused
        }
        try await noteUnsupported(job)
        return .sent
    }

    /// Why the reply's content cannot go by SMS, if it cannot (nil for an empty reply without attachments: nothing
    /// to send and nothing to explain).
    private func contentProblem(_ job: ReplyJob) -> String? {
        if job.content.isTooLong { return ReplyNotes.tooLong(characters: job.content.text.count) }
        if job.content.isEmpty {
            return job.content.unsupportedAttachments.isEmpty
                ? "" : ReplyNotes.unsupportedAttachments(job.content.unsupportedAttachments, nothingSent: true)
        }
        return nil
    }

    /// Nothing is sent: the record says `blocked` (so a redelivery does not reconsider) and the agent gets the note.
    private func block(_ job: ReplyJob, record: OutboundMessage, note: String) async throws {
        try await store.advanceOutbound(id: record.id, to: .blocked, errorMessage: note.isEmpty ? nil : note)
        try await postNotSent(job, note: note)
    }

    private func postNotSent(_ job: ReplyJob, note: String) async throws {
        guard !note.isEmpty else { return }
        try await notes.post(job.entry, ticketId: job.ticketId, key: job.noteKey("not-sent"), text: note)
    }

    private func recordSent(_ job: ReplyJob, record: OutboundMessage, sid: String, providerSegments: Int?) async throws
    {
        let segments = providerSegments.flatMap { $0 > 0 ? $0 : nil } ?? SMSSegments.count(job.content.text).segments
        do {
            try await store.advanceOutbound(id: record.id, to: .sent, providerSid: sid, segments: segments)
        } catch let error as StoreError where error.code == .constraint {
            // Another reply claimed this message between our look and our claim: look again on the retry.
            throw ProcessingFailure.transient(
                "sms.claimed_by_another_reply", "the provider message was claimed by another reply meanwhile",
                dependency: .store)
        }
    }

    /// The provider refused for good: 21610 means the recipient opted out there, so the subscriber is unsubscribed.
    private func refused(_ job: ReplyJob, record: OutboundMessage, error: SMSError) async throws {
        let code = error.code ?? 0
        if error.isOptOut {
            _ = try await store.applyConsent(
                ConsentChange(
                    accountId: job.account.id, phone: job.phone, state: .unsubscribed, at: Date(),
                    source: ConsentSource.provider(code: code),
                    eventId: job.eventId
                ))
        }
        try await store.advanceOutbound(id: record.id, to: .failed, errorCode: code, errorMessage: error.message)
        try await postRefusedNote(job, code: code)
    }

    private func postRefusedNote(_ job: ReplyJob, code: Int) async throws {
        let note =
            SMSErrorCodes.optOutCodes.contains(code)
            ? ReplyNotes.providerOptOut(code: code) : ReplyNotes.refused(code: code)
        try await notes.post(job.entry, ticketId: job.ticketId, key: job.noteKey("refused"), text: note)
    }

    private func noteUnsupported(_ job: ReplyJob) async throws {
        guard !job.content.unsupportedAttachments.isEmpty, !job.content.isEmpty else { return }
        try await notes.post(
            job.entry, ticketId: job.ticketId, key: job.noteKey("attachments"),
            text: ReplyNotes.unsupportedAttachments(job.content.unsupportedAttachments, nothingSent: false)
        )
    }

    static func digest(_ content: ReplyContent) -> String {
        String(
            SHA256Digest.hex(Array((content.text + "\u{0}" + content.mediaURLs.joined(separator: "\u{0}")).utf8))
                .prefix(32))
    }
}
