import Foundation
import GRDB
import TriageCore

extension StoreTransaction {
    /// Events of one kind of an incident, in order (follow-up items, snapshots).
    public func events(incident: Int64, kind: TimelineEvent.Kind) throws -> [TimelineEvent] {
        try fetchEvents(sql: "SELECT \(Self.eventColumns) FROM timelineEvent WHERE incidentID = ? AND kind = ? ORDER BY id",
                        arguments: [incident, kind.rawValue])
    }

    static let incidentColumns = """
        id, platform, room, title, severity, status, commander, openedBy, openedAt, acknowledgedAt, mitigatedAt, \
        resolvedAt, summary, roles
        """

    /// One incident selected with ``incidentColumns`` in that order.
    func fetchIncident(sql: String, arguments: StatementArguments) throws -> Incident? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) else { return nil }
        let severityText: String = row[4], statusText: String = row[5], rolesText: String? = row[13]
        guard let severity = Severity(rawValue: severityText), let status = IncidentStatus(rawValue: statusText) else {
            throw TriageError(.database, "Incident #\(row[0] as Int64) has an unknown severity or status in the store.")
        }
        var roles: [String: String] = [:]
        if let rolesText, rolesText != "{}" {
            roles = (try? JSONDecoder().decode([String: String].self, from: Data(rolesText.utf8))) ?? [:]
        }
        return Incident(id: row[0], platform: row[1], room: row[2], title: row[3], severity: severity, status: status,
                        commander: row[6], openedBy: row[7], openedAt: row[8], acknowledgedAt: row[9], mitigatedAt: row[10],
                        resolvedAt: row[11], summary: row[12], roles: roles)
    }

    static let eventColumns = "id, incidentID, at, actor, kind, command, text, output, payload"

    /// Events selected with ``eventColumns`` in that order, decoded by position (an incident
    /// can have 100,000 events: no per-row column-name lookups).
    func fetchEvents(sql: String, arguments: StatementArguments) throws -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try cursor.next() {
            events.append(TimelineEvent(id: row[0], incidentID: row[1], at: row[2], actor: row[3],
                                        kind: TimelineEvent.Kind(rawValue: row[4]), command: row[5], text: row[6],
                                        output: row[7], payload: row[8]))
        }
        return events
    }

    /// Streams an incident's events (those matching `filter`, up to event `upTo`) in order,
    /// one row at a time: a postmortem of a million events never holds them all.
    public func forEachEvent(incident: Int64, filter: TimelineEventFilter = .all, upTo: Int64 = .max,
                             _ body: (TimelineEvent) throws -> Void) throws {
        var sql = "SELECT \(Self.eventColumns) FROM timelineEvent WHERE incidentID = ? AND id <= ?"
        var arguments: StatementArguments = [incident, upTo]
        switch filter {
        case .all: break
        case .withOutput: sql += " AND output IS NOT NULL"
        case .kind(let k):
            sql += " AND kind = ?"
            arguments += [k.rawValue]
        }
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql + " ORDER BY id"), arguments: arguments)
        while let row = try cursor.next() {
            try body(TimelineEvent(id: row[0], incidentID: row[1], at: row[2], actor: row[3],
                                   kind: TimelineEvent.Kind(rawValue: row[4]), command: row[5], text: row[6],
                                   output: row[7], payload: row[8]))
        }
    }

    /// The number of events of one kind in an incident.
    public func eventCount(incident: Int64, kind: TimelineEvent.Kind) throws -> Int {
        try TimelineEvent.filter(Column("incidentID") == incident && Column("kind") == kind.rawValue).fetchCount(db)
    }

    /// Active incidents in every room, then (with `includeResolved`) the most recent resolved
    /// ones, newest first.
    public func incidentsOverview(includeResolved: Bool, limit: Int = 50) throws -> [Incident] {
        let active = try Incident.filter(Column("status") != IncidentStatus.resolved.rawValue)
            .order(Column("id").desc).limit(limit).fetchAll(db)
        guard includeResolved else { return active }
        let resolved = try Incident.filter(Column("status") == IncidentStatus.resolved.rawValue)
            .order(Column("id").desc).limit(max(0, limit - active.count)).fetchAll(db)
        return active + resolved
    }
}

extension StoreTransaction {
    /// Runs `body` in a savepoint: if it throws, its writes are undone and the error rethrown,
    /// while the surrounding transaction goes on (a refusal still records the handling).
    public func attempt<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        return result!
    }
}
