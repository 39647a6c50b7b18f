import Foundation
import TriageCore
import TriageStore

/// What a new silence does to the announcements of the firing alerts it covers, in the commit
/// that records the silence (typed `/silence …` or a tapped [Silence 1h] alike): each is edited
/// to say who silenced it until when, its buttons gone (an edit-only outbox row replacing the
/// announcement's key, like the resolve edit), and its silence buttons are spent, so a later tap
/// says who silenced it. The silence's reply notifies in the room it was made in; every other
/// room with the announcement gets a short reply of its own (an edit notifies nobody).
enum SilencedAnnouncements {
    /// At most this many announcements edited by one silence (a broad matcher on a busy system).
    static let maxEdits = 50

    /// Queues the edits; returns how many announcements it edits.
    @discardableResult
    static func edit(fingerprints: Set<String>, silenceID: String, by person: String, until end: Date, at now: Date,
                     madeIn platform: String, room: String, in tx: StoreTransaction) throws -> Int {
        guard !fingerprints.isEmpty else { return 0 }
        let covered = try tx.alertStates().filter {
            fingerprints.contains($0.fingerprint) && $0.status == .firing && $0.announced
        }.sorted { $0.firstSeen < $1.firstSeen }
        var edited = 0
        for record in covered {
            guard let base = record.messageKey else { continue }
            let alert = FollowedAlert(record: record)
            for shown in try AlertAnnouncements.shown(base: base, in: tx) {
                guard edited < maxEdits, let current = try AlertAnnouncements.current(shown, in: tx) else { continue }
                let suffix = "\(silenceID):\(shown.platform):\(shown.room)"
                _ = try tx.enqueue(OutboxMessage(platform: shown.platform, room: shown.room, replyTo: nil,
                                                 key: "\(base):silenced:\(suffix)",
                                                 reply: AlertMessages.silencedAnnouncement(current, alert: alert, silenceID: silenceID,
                                                                                           by: person, until: end),
                                                 createdAt: now, replaces: shown.key, editOnly: true))
                if let original = try? shown.decodedReply() {
                    try AlertAnnouncements.spend(original, command: "silence", by: person, at: now, in: tx)
                }
                if shown.platform != platform || shown.room != room {
                    let target = try tx.sentMessageIDs(platform: shown.platform, key: shown.key).first
                    _ = try tx.enqueue(OutboxMessage(platform: shown.platform, room: shown.room, replyTo: target,
                                                     key: "\(base):silenced-notice:\(suffix)",
                                                     reply: AlertMessages.silencedNotice(alert, silenceID: silenceID, by: person, until: end),
                                                     createdAt: now))
                }
                edited += 1
            }
        }
        return edited
    }
}
