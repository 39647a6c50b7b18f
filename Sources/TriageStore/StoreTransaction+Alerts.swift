import Foundation
import GRDB

extension StoreTransaction {
    // MARK: Followed alerts

    /// Every alert Triage knows (firing, and resolved ones not yet pruned).
    public func alertStates() throws -> [AlertStateRecord] {
        try AlertStateRecord.fetchAll(db)
    }

    /// Inserts or replaces the alert's row.
    public func save(_ alert: AlertStateRecord) throws {
        try alert.save(db)
    }

    /// Firing alerts recorded in `incident`.
    public func firingAlerts(incident: Int64) throws -> [AlertStateRecord] {
        try AlertStateRecord.filter(AlertStateRecord.Columns.incidentID == incident
                                    && AlertStateRecord.Columns.status == AlertStateRecord.Status.firing.rawValue).fetchAll(db)
    }

    /// Deletes the rows of forgotten alerts.
    public func deleteAlertStates(fingerprints: [String]) throws {
        for chunk in stride(from: 0, to: fingerprints.count, by: 500) {
            let part = Array(fingerprints[chunk..<min(chunk + 500, fingerprints.count)])
            try AlertStateRecord.filter(keys: part).deleteAll(db)
        }
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
        try AlertSilenceRecord.filter(key: id).updateAll(db, AlertSilenceRecord.Columns.expiredAt.set(to: date),
                                                         AlertSilenceRecord.Columns.expiredBy.set(to: person))
    }
}
