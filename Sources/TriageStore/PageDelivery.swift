import Foundation
import GRDB

/// One provider call for a page (trigger, acknowledge, resolve), kept until it is delivered
/// or given up, so deliveries survive restarts and retry with backoff.
public struct PageDelivery: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "pageDelivery"

    /// Where a delivery is.
    public enum Status: String, Codable, Sendable {
        case pending, sending, sent, failed, cancelled
    }

    public var id: Int64?
    public var pageID: Int64
    /// The provider's name in config (`pagerduty`).
    public var provider: String
    /// `trigger`, `acknowledge`, `resolve`.
    public var action: String
    /// PagerDuty `dedup_key`, Opsgenie `alias`, webhook `groupKey`.
    public var dedupKey: String
    public var level: Int
    public var round: Int
    /// The people notified, as JSON.
    public var recipients: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var finishedAt: Date?

    public init(pageID: Int64, provider: String, action: String, dedupKey: String, level: Int, round: Int,
                recipients: String, createdAt: Date) {
        self.pageID = pageID
        self.provider = provider
        self.action = action
        self.dedupKey = dedupKey
        self.level = level
        self.round = round
        self.recipients = recipients
        self.status = .pending
        self.attempts = 0
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
