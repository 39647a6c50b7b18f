import Foundation
import GRDB
import GRDBSQLite
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
    /// - Parameter from: the id of the incident's first event, when known: the rows are then
    ///   read in one sequential sweep of the table between the first and the last, rather than
    ///   through the incident index row by row.
    public func forEachEvent(incident: Int64, filter: TimelineEventFilter = .all, from: Int64 = 0, upTo: Int64 = .max,
                             _ body: (TimelineEvent) throws -> Void) throws {
        // The summary and the timeline table read no outputs (an empty one stands for one that
        // is there); past its first 2,000 events the summary reads text, command and payload
        // only for the kinds it reads them from.
        let columns: String
        var keepUpTo = Int64.max
        switch filter {
        case .summary:
            columns = Self.withoutOutputColumns
            keepUpTo = try summaryKeepUpTo(incident: incident)
        case .withoutOutputs: columns = Self.withoutOutputColumns
        default: columns = Self.eventColumns
        }
        let sweep: Bool
        switch filter {
        case .all, .summary, .withoutOutputs, .withOutput, .withOutputOrKind: sweep = from > 0
        case .kind, .kinds: sweep = false
        }
        // A few kinds out of many events: through the (incident, kind) index, not a walk of
        // every row of the incident (SQLite prefers the incident index for its id order).
        let table = sweep ? "timelineEvent" : "timelineEvent INDEXED BY timelineEvent_incident_kind"
        var sql = "SELECT \(columns) FROM \(table) WHERE " + (sweep ? "+incidentID = ? AND id BETWEEN ? AND ?" : "incidentID = ? AND id BETWEEN ? AND ?")
        var arguments: StatementArguments = [incident, from, upTo]
        switch filter {
        case .all, .summary, .withoutOutputs: break
        case .withOutput: sql += " AND output IS NOT NULL"
        case .withOutputOrKind(let k):
            sql += " AND (output IS NOT NULL OR kind = ?)"
            arguments += [k.rawValue]
        case .kind(let k):
            sql += " AND kind = ?"
            arguments += [k.rawValue]
        case .kinds(let ks):
            sql += " AND kind IN (" + ks.map { _ in "?" }.joined(separator: ", ") + ")"
            arguments += StatementArguments(ks.map(\.rawValue))
        }
        let statement = try db.cachedStatement(sql: sql + " ORDER BY id")
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        let s = statement.sqliteStatement
        let withOutputs = columns == Self.eventColumns
        // Decoded straight from the statement by position (a million rows per postmortem): the
        // row cursor only steps, and reads a date the usual way when it is not GRDB's text.
        while let row = try cursor.next() {
            let at: Date
            if sqlite3_column_type(s, 2) == SQLITE_TEXT, let p = sqlite3_column_text(s, 2),
               let fast = Self.fastDate(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, 2)))) {
                at = fast
            } else {
                at = row[2]
            }
            let id = sqlite3_column_int64(s, 0)
            let kind = Self.text(s, 4) ?? ""
            let keep = id <= keepUpTo || Self.isSummaryKind(kind)
            let output = withOutputs ? Self.text(s, 7) : (sqlite3_column_int64(s, 7) != 0 ? "" : nil)
            try body(TimelineEvent(id: id, incidentID: sqlite3_column_int64(s, 1), at: at,
                                   actor: Self.text(s, 3) ?? "", kind: TimelineEvent.Kind(rawValue: kind),
                                   command: keep ? Self.text(s, 5) : nil, text: keep ? Self.text(s, 6) ?? "" : "", output: output,
                                   payload: keep ? Self.text(s, 8) : nil))
        }
    }

    /// Column `index` of the current row as text (as GRDB reads it), nil when NULL.
    @inline(__always)
    static func text(_ s: SQLiteStatement, _ index: CInt) -> String? {
        guard sqlite3_column_type(s, index) != SQLITE_NULL, let p = sqlite3_column_text(s, index) else { return nil }
        return String(cString: p)
    }

    /// The event columns with, in place of the output, whether there is one.
    static let withoutOutputColumns = "id, incidentID, at, actor, kind, command, text, output IS NOT NULL, payload"

    /// The kinds a summary reads text, command and payload from past the first 2,000 events
    /// (when the picture stops showing each one). The first 100 events keep everything, for
    /// the first responder action. Decided here rather than in SQL: an `IN` list there is
    /// an index probe per row and column.
    static func isSummaryKind(_ kind: String) -> Bool {
        switch kind {
        case "opened", "status", "severity", "resolved", "reopened", "page", "escalation", "acknowledged": true
        default: false
        }
    }

    /// Up to which event id a summary read keeps every column: all of them for an incident of
    /// at most 2,000 events, else the first 100.
    func summaryKeepUpTo(incident: Int64) throws -> Int64 {
        // Whether there is a 2,001st event, without counting a million.
        let beyond = try Int64.fetchOne(db, sql: "SELECT id FROM timelineEvent WHERE incidentID = ? ORDER BY id LIMIT 1 OFFSET 2000",
                                        arguments: [incident])
        if beyond == nil { return .max }
        return try Int64.fetchOne(db, sql: "SELECT id FROM timelineEvent WHERE incidentID = ? ORDER BY id LIMIT 1 OFFSET 99",
                                  arguments: [incident]) ?? .max
    }

    /// The id of an incident's last event (0 when it has none).
    public func lastEventID(incident: Int64) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT max(id) FROM timelineEvent WHERE incidentID = ?", arguments: [incident]) ?? 0
    }

    /// The ids of an incident's first and last events (0, 0 when it has none).
    public func eventIDRange(incident: Int64) throws -> (first: Int64, last: Int64) {
        // Two subqueries: SQLite answers each min or max from one end of the index, not both together.
        let row = try Row.fetchOne(db, sql: "SELECT (SELECT min(id) FROM timelineEvent WHERE incidentID = ?), "
                                       + "(SELECT max(id) FROM timelineEvent WHERE incidentID = ?)", arguments: [incident, incident])
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// Reads GRDB's stored date text, `YYYY-MM-DD HH:MM:SS.SSS` (UTC), without a calendar (a
    /// million rows are read per postmortem); nil for anything else, read the usual way.
    static func fastDate(_ data: Data) -> Date? {
        data.withUnsafeBytes { fastDate($0) }
    }

    static func fastDate(_ raw: UnsafeRawBufferPointer) -> Date? {
        let count = raw.count
        guard count == 23 || count == 19 else { return nil }
        let b = raw.assumingMemoryBound(to: UInt8.self)
        // Straight-line digits (a million rows per pass): any non-digit makes `bad` non-zero.
        var bad: UInt8 = 0
        @inline(__always) func d(_ i: Int) -> Int {
            let v = b[i] &- 48
            bad |= v > 9 ? 1 : 0
            return Int(v)
        }
        guard b[4] == 45, b[7] == 45, b[10] == 32, b[13] == 58, b[16] == 58 else { return nil }
        let y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3)
        let mo = d(5) * 10 + d(6), day = d(8) * 10 + d(9)
        let h = d(11) * 10 + d(12), mi = d(14) * 10 + d(15), s = d(17) * 10 + d(18)
        var millis = 0
        if count == 23 {
            guard b[19] == 46 else { return nil }
            millis = d(20) * 100 + d(21) * 10 + d(22)
        }
        guard bad == 0, (1...12).contains(mo), (1...31).contains(day), h < 24, mi < 60, s < 61 else { return nil }
        // Days from the civil date (H. Hinnant's algorithm), proleptic Gregorian, UTC.
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * ((mo + 9) % 12) + 2) / 5 + day - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        let seconds = Double(days * 86_400 + h * 3600 + mi * 60 + s) + Double(millis) / 1000
        return Date(timeIntervalSince1970: seconds)
    }

    /// The number of events of one kind in an incident.
    public func eventCount(incident: Int64, kind: TimelineEvent.Kind) throws -> Int {
        try TimelineEvent.filter(TimelineEvent.Columns.incidentID == incident && TimelineEvent.Columns.kind == kind.rawValue).fetchCount(db)
    }

    /// Active incidents in every room, then (with `includeResolved`) the most recent resolved
    /// ones, newest first.
    public func incidentsOverview(includeResolved: Bool, limit: Int = 50) throws -> [Incident] {
        let active = try Incident.filter(Incident.Columns.status != IncidentStatus.resolved.rawValue)
            .order(Incident.Columns.id.desc).limit(limit).fetchAll(db)
        guard includeResolved else { return active }
        let resolved = try Incident.filter(Incident.Columns.status == IncidentStatus.resolved.rawValue)
            .order(Incident.Columns.id.desc).limit(max(0, limit - active.count)).fetchAll(db)
        return active + resolved
    }
}

extension StoreTransaction {
    /// Runs `body` in a savepoint: if it throws, its writes are undone and the error rethrown,
    /// while the surrounding transaction goes on (a refusal still records the handling).
    public func attempt<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        let queuedBefore = queued?.count ?? 0
        do {
            try db.inSavepoint {
                result = try body()
                return .commit
            }
        } catch {
            // Rolled back: the replies queued inside are gone, the outbox must not get them.
            queued?.truncate(to: queuedBefore)
            throw error
        }
        guard let result else { throw DatabaseError(resultCode: .SQLITE_ABORT, message: "savepoint returned no result") }
        return result
    }
}
