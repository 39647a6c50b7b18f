import Foundation
import GRDB

extension StoreTransaction {
    // MARK: Followed alerts

    /// Every alert Triage knows (firing, and resolved ones not yet pruned).
    public func alertStates() throws -> [AlertStateRecord] {
        try AlertStateRecord.fetchAll(db)
    }

    public func alertState(fingerprint: String) throws -> AlertStateRecord? {
        try AlertStateRecord.fetchOne(db, key: fingerprint)
    }

    /// Inserts or replaces the alert's row.
    public func save(_ alert: AlertStateRecord) throws {
        try alert.save(db)
    }

    /// Firing alerts recorded in `incident`.
    public func firingAlerts(incident: Int64) throws -> [AlertStateRecord] {
        try AlertStateRecord.filter(sql: "incidentID = ? AND status = 'firing'", arguments: [incident]).fetchAll(db)
    }

    /// Forgets resolved alerts older than `date`; returns how many.
    @discardableResult
    public func pruneResolvedAlerts(before date: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM alertState WHERE status = 'resolved' AND resolvedAt < ?", arguments: [date])
        return db.changesCount
    }

    // MARK: Silences made from chat

    public func insert(_ silence: AlertSilenceRecord) throws {
        try silence.insert(db)
    }

    public func alertSilence(id: String) throws -> AlertSilenceRecord? {
        try AlertSilenceRecord.fetchOne(db, key: id)
    }

    /// Marks a silence expired from chat.
    public func markSilenceExpired(id: String, by person: String, at date: Date) throws {
        try db.execute(sql: "UPDATE alertSilence SET expiredAt = ?, expiredBy = ? WHERE id = ?", arguments: [date, person, id])
    }
}

extension StoreTransaction {
    /// Deletes the rows of forgotten alerts.
    public func deleteAlertStates(fingerprints: [String]) throws {
        for chunk in stride(from: 0, to: fingerprints.count, by: 500) {
            let part = Array(fingerprints[chunk..<min(chunk + 500, fingerprints.count)])
            try AlertStateRecord.filter(keys: part).deleteAll(db)
        }
    }
}
