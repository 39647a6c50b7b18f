import Foundation
import GRDB

/// A part of a reply sent to a room at a time (what the outbox's pacing is rebuilt from).
public struct RecentSend: Sendable, Equatable {
    public var room: String
    public var at: Date
}

extension StoreTransaction {
    // MARK: Outbox parts

    /// The recorded parts of a queued reply, in part order.
    public func outboxParts(outboxID: Int64) throws -> [OutboxPart] {
        try OutboxPart.filter(OutboxPart.Columns.outboxID == outboxID).order(OutboxPart.Columns.part).fetchAll(db)
    }

    /// Records that part `part` of a reply is about to be sent (before the platform call).
    public func markPartSending(outboxID: Int64, part: Int, at date: Date = Date()) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO outboxPart(outboxID, part, status, messageIDs, attempts, updatedAt) VALUES (?, ?, 'sending', NULL, 1, ?)
            ON CONFLICT(outboxID, part) DO UPDATE SET status = 'sending', attempts = attempts + 1, updatedAt = excluded.updatedAt
            """)
        try statement.execute(arguments: [outboxID, part, date])
    }

    /// Records that part `part` was delivered as `messageIDs`; `complete` when it was the
    /// reply's last part (the reply is then marked sent).
    public func markPartSent(outboxID: Int64, part: Int, messageIDs: [String], complete: Bool, at date: Date = Date()) throws {
        let ids = String(decoding: try JSONEncoder().encode(messageIDs), as: UTF8.self)
        let statement = try db.cachedStatement(sql: """
            INSERT INTO outboxPart(outboxID, part, status, messageIDs, attempts, updatedAt) VALUES (?, ?, 'sent', ?, 1, ?)
            ON CONFLICT(outboxID, part) DO UPDATE SET status = 'sent', messageIDs = excluded.messageIDs, updatedAt = excluded.updatedAt
            """)
        try statement.execute(arguments: [outboxID, part, ids, date])
        if complete { try markSent(outboxID: outboxID, at: date) }
    }

    /// The platform message ids of every part sent so far of the reply queued under `key`, in
    /// part order (the first is where the reply starts: the message to edit later). Empty
    /// while nothing of it was sent, or when the platform has no message ids.
    public func sentMessageIDs(platform: String, key: String) throws -> [String] {
        let parts = try OutboxPart.fetchAll(db, sql: """
            SELECT p.* FROM outboxPart p JOIN outbox o ON o.id = p.outboxID
            WHERE o.platform = ? AND o.key = ? AND p.status = 'sent' ORDER BY p.part
            """, arguments: [platform, key])
        return parts.flatMap(\.sentMessageIDs)
    }

    /// The reply queued under `key` for `platform`, sent or not.
    public func outboxMessage(platform: String, key: String) throws -> OutboxMessage? {
        try OutboxMessage.filter(OutboxMessage.Columns.platform == platform && OutboxMessage.Columns.key == key).fetchOne(db)
    }

    /// Whether a reply queued at or after `date` takes the place of the message `messageID`
    /// (an edit of it is on its way).
    public func editQueued(platform: String, of messageID: String, since date: Date) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT 1 FROM outbox o JOIN outbox t ON t.platform = o.platform AND t.key = o.replaces
            JOIN outboxPart p ON p.outboxID = t.id AND p.part = 0 AND p.status = 'sent'
            WHERE o.platform = ? AND o.createdAt >= ? AND json_extract(p.messageIDs, '$[0]') = ?
            LIMIT 1
            """, arguments: [platform, date, messageID]) ?? false
    }

    /// Replies (sent or not, of any platform) whose key starts with `prefix`, oldest first.
    public func outboxMessages(keyPrefix prefix: String) throws -> [OutboxMessage] {
        try OutboxMessage.fetchAll(db, sql: "SELECT * FROM outbox WHERE substr(key, 1, ?) = ? ORDER BY id",
                                   arguments: [prefix.unicodeScalars.count, prefix])
    }

    /// Parts sent to rooms of `platform` since `date`, oldest first (to rebuild pacing).
    public func recentSends(platform: String, since date: Date) throws -> [RecentSend] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT o.room AS room, p.updatedAt AS at FROM outboxPart p JOIN outbox o ON o.id = p.outboxID
            WHERE p.updatedAt > ? AND p.status = 'sent' AND o.platform = ? ORDER BY p.updatedAt
            """, arguments: [date, platform])
        // Decoded without trapping subscripts: a damaged row is skipped, never fatal.
        return rows.compactMap { row -> RecentSend? in
            let room: DatabaseValue = row["room"]
            let at: DatabaseValue = row["at"]
            guard let room = String.fromDatabaseValue(room), let at = Date.fromDatabaseValue(at) else { return nil }
            return RecentSend(room: room, at: at)
        }
    }

    // MARK: Holds

    /// Records that `room` must not be sent to before `notBefore` (kept across restarts).
    public func setHold(platform: String, room: String, notBefore: Date) throws {
        try db.execute(sql: """
            INSERT INTO outboxHold(platform, room, notBefore) VALUES (?, ?, ?)
            ON CONFLICT(platform, room) DO UPDATE SET notBefore = excluded.notBefore
            """, arguments: [platform, room, notBefore])
    }

    /// Rooms of `platform` that must still wait at `date`; holds that are over are deleted.
    public func holds(platform: String, at date: Date = Date()) throws -> [OutboxHold] {
        try db.execute(sql: "DELETE FROM outboxHold WHERE platform = ? AND notBefore <= ?", arguments: [platform, date])
        return try OutboxHold.filter(OutboxHold.Columns.platform == platform).fetchAll(db)
    }
}
