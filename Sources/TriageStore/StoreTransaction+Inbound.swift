import Foundation
import GRDB
import TriageCore

/// An event received and journaled but not yet finished.
public struct JournaledEvent: Sendable, Equatable {
    public var messageID: String
    public var room: String
    /// The platform's message, as JSON (the runtime's own type).
    public var message: String
    /// How many times it was started (1: once, before the crash).
    public var starts: Int
}

extension StoreTransaction {
    // MARK: Inbound journal

    /// Journals a received event as started, unless it was already handled or journaled.
    /// - Returns: true when the event is new and must be run now.
    public func journal(platform: String, messageID: String, room: String, message: String, at date: Date) throws -> Bool {
        if try wasProcessed(platform: platform, messageID: messageID) { return false }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO inboundEvent(platform, messageID, room, message, receivedAt, starts, status)
            VALUES (?, ?, ?, ?, ?, 1, 'started') ON CONFLICT DO NOTHING
            """)
        try statement.execute(arguments: [platform, messageID, room, message, date])
        return db.changesCount == 1
    }

    /// Marks a journaled event finished (its handling committed in this transaction).
    public func finishJournaled(platform: String, messageID: String) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM inboundEvent WHERE platform = ? AND messageID = ?")
        try statement.execute(arguments: [platform, messageID])
    }

    /// Events of `platform` that started but never finished (a crash, a kill), oldest first.
    public func unfinishedEvents(platform: String) throws -> [JournaledEvent] {
        try Row.fetchAll(db, sql: """
            SELECT messageID, room, message, starts FROM inboundEvent
            WHERE platform = ? AND status = 'started' ORDER BY receivedAt, rowid
            """, arguments: [platform]).map { row in
            JournaledEvent(messageID: row[0], room: row[1], message: row[2], starts: row[3])
        }
    }

    /// Counts one more start of an unfinished event (before it is retried).
    public func restartJournaled(platform: String, messageID: String) throws {
        try db.execute(sql: "UPDATE inboundEvent SET starts = starts + 1 WHERE platform = ? AND messageID = ?",
                       arguments: [platform, messageID])
    }

    /// Sets an event aside for good: it stopped Triage twice.
    public func quarantine(platform: String, messageID: String, at date: Date) throws {
        try db.execute(sql: "UPDATE inboundEvent SET status = 'quarantined' WHERE platform = ? AND messageID = ?",
                       arguments: [platform, messageID])
        _ = try markProcessed(platform: platform, messageID: messageID, at: date)
    }
}
