import Foundation
import GRDB
import TriageCore

/// The operations available inside one store transaction.
public struct StoreTransaction {
    let db: Database
    let signals: CommitSignals?
    /// The replies this transaction queued, handed to the outbox when it commits.
    let queued: QueuedReplies?

    init(db: Database, signals: CommitSignals? = nil, queued: QueuedReplies? = nil) {
        self.db = db
        self.signals = signals
        self.queued = queued
    }

    // MARK: Incidents

    /// The active incident in `room`, if any.
    /// (Runs for every command typed in a room: a cached statement that uses the partial
    /// unique index, decoded by position.)
    public func activeIncident(platform: String, room: String) throws -> Incident? {
        try fetchIncident(sql: "SELECT \(Self.incidentColumns) FROM incident WHERE platform = ? AND room = ? AND status <> 'resolved'",
                          arguments: [platform, room])
    }

    /// The most recent incident in `room`, active or not.
    public func latestIncident(platform: String, room: String) throws -> Incident? {
        try fetchIncident(sql: "SELECT \(Self.incidentColumns) FROM incident WHERE platform = ? AND room = ? ORDER BY id DESC LIMIT 1",
                          arguments: [platform, room])
    }

    public func incident(id: Int64) throws -> Incident? {
        try fetchIncident(sql: "SELECT \(Self.incidentColumns) FROM incident WHERE id = ?", arguments: [id])
    }

    /// Incidents, newest first.
    public func incidents(activeOnly: Bool = false, limit: Int = 100) throws -> [Incident] {
        var request = Incident.order(Incident.Columns.id.desc)
        if activeOnly { request = request.filter(Incident.Columns.status != IncidentStatus.resolved.rawValue) }
        return try request.limit(limit).fetchAll(db)
    }

    /// Inserts a new incident and returns it with its id.
    public func insert(_ incident: Incident) throws -> Incident {
        var copy = incident
        try copy.insert(db)
        return copy
    }

    public func update(_ incident: Incident) throws {
        try incident.update(db)
    }

    // MARK: Timeline

    /// Appends an event and returns it with its id.
    @discardableResult
    public func append(_ event: TimelineEvent) throws -> TimelineEvent {
        // Secrets never reach the timeline (and so no postmortem made from it).
        let event = event.redacted()
        let insert = try db.cachedStatement(sql: """
            INSERT INTO timelineEvent(incidentID, at, actor, kind, command, text, output, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [event.incidentID, event.at, event.actor, event.kind.rawValue, event.command,
                                       event.text, event.output, event.payload])
        var copy = event
        copy.id = db.lastInsertedRowID
        return copy
    }

    /// Events of an incident in order; `last` keeps only the most recent N.
    public func events(incident: Int64, last: Int? = nil) throws -> [TimelineEvent] {
        if let last {
            return try fetchEvents(sql: "SELECT \(Self.eventColumns) FROM timelineEvent WHERE incidentID = ? ORDER BY id DESC LIMIT ?",
                                   arguments: [incident, last]).reversed()
        }
        return try fetchEvents(sql: "SELECT \(Self.eventColumns) FROM timelineEvent WHERE incidentID = ? ORDER BY id",
                               arguments: [incident])
    }

    public func eventCount(incident: Int64) throws -> Int {
        try TimelineEvent.filter(TimelineEvent.Columns.incidentID == incident).fetchCount(db)
    }

    // MARK: Cursors and de-duplication

    /// The stored cursor of a platform (Telegram offset, Matrix next_batch).
    public func cursor(platform: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM platformCursor WHERE platform = ?", arguments: [platform])
    }

    public func setCursor(_ value: String, platform: String, at date: Date = Date()) throws {
        try db.execute(sql: """
            INSERT INTO platformCursor(platform, value, updatedAt) VALUES (?, ?, ?)
            ON CONFLICT(platform) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
            """, arguments: [platform, value, date])
    }

    /// Records that a message was handled; false when it already was (a duplicate delivery).
    public func markProcessed(platform: String, messageID: String, at date: Date = Date()) throws -> Bool {
        // On every command's path: a statement compiled once per connection.
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO processedMessage(platform, messageID, handledAt) VALUES (?, ?, ?)")
            .execute(arguments: [platform, messageID, date])
        return db.changesCount == 1
    }

    public func wasProcessed(platform: String, messageID: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM processedMessage WHERE platform = ? AND messageID = ?",
                          arguments: [platform, messageID]) ?? false
    }

    // MARK: Outbox

    /// Queues a reply; a second reply with the same key is ignored.
    @discardableResult
    public func enqueue(_ message: OutboxMessage) throws -> OutboxMessage {
        var copy = message
        try copy.insert(db, onConflict: .ignore)
        if let queued, db.changesCount > 0 { queued.add(copy) }
        return copy
    }

    /// Unsent replies of a platform, oldest first.
    public func pendingOutbox(platform: String, limit: Int = 100) throws -> [OutboxMessage] {
        try OutboxMessage.filter(OutboxMessage.Columns.platform == platform && OutboxMessage.Columns.sentAt == nil)
            .order(OutboxMessage.Columns.id).limit(limit).fetchAll(db)
    }

    public func markSent(outboxID: Int64, at date: Date = Date()) throws {
        try db.cachedStatement(sql: "UPDATE outbox SET sentAt = ?, attempts = attempts + 1, lastError = NULL WHERE id = ?")
            .execute(arguments: [date, outboxID])
    }

    /// Records a failed attempt; `give up` marks it done so it is not retried.
    public func markFailed(outboxID: Int64, error: String, giveUp: Bool, at date: Date = Date()) throws {
        try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, lastError = ?, sentAt = CASE WHEN ? THEN ? ELSE sentAt END WHERE id = ?",
                       arguments: [error, giveUp, date, outboxID])
    }

    /// Moves unsent replies of a room to another room (Telegram group → supergroup migration).
    public func moveOutbox(platform: String, fromRoom: String, toRoom: String) throws {
        try db.execute(sql: "UPDATE outbox SET room = ? WHERE platform = ? AND room = ? AND sentAt IS NULL",
                       arguments: [toRoom, platform, fromRoom])
    }
}
