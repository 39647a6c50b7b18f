import Foundation
import TriageCore
import TriageStore

/// An alert's announcements as the outbox holds them, and what they show now.
///
/// An announcement is queued under `BASE:PLATFORM:ROOM` (BASE is the alert's `messageKey`; a
/// digest's key is BASE itself and is never edited). Each later change to it (silenced, an
/// incident opened, resolved) is an edit-only outbox row replacing that key, built on what the
/// announcement shows by then, so one change does not undo another.
enum AlertAnnouncements {
    /// The announcements of the alert whose `messageKey` is `base`, one per room.
    static func shown(base: String, in tx: StoreTransaction) throws -> [OutboxMessage] {
        try tx.outboxMessages(keyPrefix: base + ":").filter { $0.key == "\(base):\($0.platform):\($0.room)" }
    }

    /// What `announcement` shows now: its newest edit, else itself.
    static func current(_ announcement: OutboxMessage, in tx: StoreTransaction) throws -> Reply? {
        let base = String(announcement.key.dropLast(":\(announcement.platform):\(announcement.room)".count))
        let edits = try tx.outboxMessages(keyPrefix: base + ":").filter {
            $0.platform == announcement.platform && $0.replaces == announcement.key
        }
        return try? (edits.last ?? announcement).decodedReply()
    }

    /// Marks `reply`'s buttons that run `command` used by `person` (a later tap says who).
    static func spend(_ reply: Reply, command: String, by person: String, at now: Date, in tx: StoreTransaction) throws {
        for b in (reply.buttons ?? []).joined() {
            if let button = try tx.chatButton(data: b.data), button.command == command {
                _ = try tx.useButton(id: button.id, by: person, at: now)
            }
        }
    }

    /// `reply`'s buttons without those that run `command` (nil when none is left).
    static func buttons(of reply: Reply, without command: String, in tx: StoreTransaction) throws -> [[ReplyButton]]? {
        var rows: [[ReplyButton]] = []
        for row in reply.buttons ?? [] {
            let kept = try row.filter { try tx.chatButton(data: $0.data)?.command != command }
            if !kept.isEmpty { rows.append(kept) }
        }
        return rows.isEmpty ? nil : rows
    }
}
