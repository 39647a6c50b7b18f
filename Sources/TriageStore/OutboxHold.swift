import Foundation
import GRDB

/// A room of a platform that must not be sent to before a time (a 429 `retry_after`, or the
/// backoff after a failure), kept in the store so a restart waits it out too.
public struct OutboxHold: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outboxHold"

    public var platform: String
    public var room: String
    public var notBefore: Date

    public init(platform: String, room: String, notBefore: Date) {
        self.platform = platform
        self.room = room
        self.notBefore = notBefore
    }
}
