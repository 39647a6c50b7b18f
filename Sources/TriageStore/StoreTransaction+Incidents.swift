import Foundation
import GRDB
import TriageCore

extension StoreTransaction {
    /// Events of one kind of an incident, in order (follow-up items, snapshots).
    public func events(incident: Int64, kind: TimelineEvent.Kind) throws -> [TimelineEvent] {
        try TimelineEvent.filter(Column("incidentID") == incident && Column("kind") == kind.rawValue)
            .order(Column("id")).fetchAll(db)
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
