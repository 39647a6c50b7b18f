import Foundation
import GRDB

extension StoreTransaction {
    // MARK: Room migrations

    /// Records that `fromRoom` moved to `toRoom` for good (Telegram group → supergroup), moves
    /// the unsent replies there, and moves the room's active incident unless the new room
    /// already has one. Recording the same move again changes nothing.
    public func recordRoomMigration(platform: String, fromRoom: String, toRoom: String, at date: Date = Date()) throws {
        try db.execute(sql: """
            INSERT INTO roomMigration(platform, fromRoom, toRoom, migratedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT(platform, fromRoom) DO UPDATE SET toRoom = excluded.toRoom
            """, arguments: [platform, fromRoom, toRoom, date])
        try moveOutbox(platform: platform, fromRoom: fromRoom, toRoom: toRoom)
        try db.execute(sql: """
            UPDATE incident SET room = ? WHERE platform = ? AND room = ? AND status <> 'resolved'
              AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.platform = ? AND i.room = ? AND i.status <> 'resolved')
            """, arguments: [toRoom, platform, fromRoom, platform, toRoom])
    }

    /// Every recorded room move of a platform, old room → new room.
    public func roomMigrations(platform: String) throws -> [String: String] {
        var moves: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT fromRoom, toRoom FROM roomMigration WHERE platform = ?", arguments: [platform]) {
            moves[row[0]] = row[1]
        }
        return moves
    }

    // MARK: Platform state

    /// A value a platform stored under `key`.
    public func platformState(platform: String, key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM platformState WHERE platform = ? AND key = ?", arguments: [platform, key])
    }

    /// Stores `value` under `key` for `platform`.
    public func setPlatformState(_ value: String, platform: String, key: String, at date: Date = Date()) throws {
        try db.execute(sql: """
            INSERT INTO platformState(platform, key, value, updatedAt) VALUES (?, ?, ?, ?)
            ON CONFLICT(platform, key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
            """, arguments: [platform, key, value, date])
    }
}
