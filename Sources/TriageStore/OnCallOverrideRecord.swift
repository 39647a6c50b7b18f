import Foundation
import GRDB

/// An on-call override made with `/oncall override`.
public struct OnCallOverrideRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "oncallOverride"

    public var id: Int64?
    public var schedule: String
    public var person: String
    public var startsAt: Date
    public var endsAt: Date
    public var createdBy: String
    public var createdAt: Date

    public init(schedule: String, person: String, startsAt: Date, endsAt: Date, createdBy: String, createdAt: Date) {
        self.schedule = schedule
        self.person = person
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
