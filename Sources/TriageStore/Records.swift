import GRDB
import TriageCore

extension Incident: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "incident"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension TimelineEvent: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "timelineEvent"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
