import Foundation
import GRDB

/// One escalation as stored: its policy snapshot (JSON, so a config change never confuses
/// a page in flight) and its state machine's position.
public struct PageRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "page"

    public var id: Int64?
    public var incidentID: Int64?
    public var platform: String
    public var room: String
    public var policyName: String
    /// The escalation policy as JSON.
    public var policy: String
    public var summary: String
    public var severity: String
    public var openedBy: String
    public var createdAt: Date
    /// `pending`, `waiting`, `acknowledged`, `exhausted`, `resolved`.
    public var phase: String
    public var level: Int
    public var round: Int
    public var nextAt: Date?
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var resolvedAt: Date?
    /// Paged automatically when the incident was opened.
    public var auto: Bool

    public init(incidentID: Int64?, platform: String, room: String, policyName: String, policy: String, summary: String,
                severity: String, openedBy: String, createdAt: Date, auto: Bool) {
        self.incidentID = incidentID
        self.platform = platform
        self.room = room
        self.policyName = policyName
        self.policy = policy
        self.summary = summary
        self.severity = severity
        self.openedBy = openedBy
        self.createdAt = createdAt
        self.phase = "pending"
        self.level = 0
        self.round = 0
        self.auto = auto
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
