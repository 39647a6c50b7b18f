import Foundation
import TriageCore
import TriageHandlers
import TriageStore

/// When someone opens an incident in a room (typed `/incident open …` or a tapped
/// [Open incident]), the announcements there of the alerts firing without an incident say so:
/// edited (edit only) to name the incident and who opened it, the [Open incident] button gone
/// and spent (a later tap says who opened it), the silence buttons kept. The incident's own
/// reply notifies.
struct IncidentOpenedAnnouncements: IncidentObserver {
    func incidentChanged(_ event: IncidentEvent, in tx: StoreTransaction) throws {
        guard event.kind == .opened, event.actor != AlertFollowService.actor, let id = event.incident.id else { return }
        let platform = event.incident.platform, room = event.incident.room
        let firing = try tx.alertStates().filter { $0.status == .firing && $0.announced && $0.incidentID == nil }
        var edited = 0
        for record in firing {
            guard let base = record.messageKey, edited < SilencedAnnouncements.maxEdits else { continue }
            for shown in try AlertAnnouncements.shown(base: base, in: tx) where shown.platform == platform && shown.room == room {
                edited += 1
                guard let current = try AlertAnnouncements.current(shown, in: tx) else { continue }
                var reply = current
                reply.blocks.insert(.note("Incident #\(id) opened by \(event.actor) at \(UTCTime.format(event.at)): \(event.incident.title)",
                                           .none), at: 0)
                reply.buttons = try AlertAnnouncements.buttons(of: current, without: "incident open", in: tx)
                _ = try tx.enqueue(OutboxMessage(platform: platform, room: room, replyTo: nil,
                                                 key: "\(base):incident:\(id):\(platform):\(room)", reply: reply,
                                                 createdAt: event.at, replaces: shown.key, editOnly: true))
                if let original = try? shown.decodedReply() {
                    try AlertAnnouncements.spend(original, command: "incident open", by: event.actor, at: event.at, in: tx)
                }
            }
        }
    }
}
