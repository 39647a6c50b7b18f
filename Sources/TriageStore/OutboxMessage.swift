import Foundation
import GRDB
import TriageCore

/// A reply waiting to be sent (or sent), kept so that a crash between commit and send
/// loses nothing: the outbox service sends what is pending after a restart.
public struct OutboxMessage: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "outbox"

    public var id: Int64?
    public var platform: String
    public var room: String
    /// The platform message id this replies to.
    public var replyTo: String?
    /// Unique per reply, derived from the command (Matrix uses it as its txnId).
    public var key: String
    /// The ``Reply`` as JSON.
    public var reply: String
    public var createdAt: Date
    public var sentAt: Date?
    public var attempts: Int
    public var lastError: String?

    public init(platform: String, room: String, replyTo: String?, key: String, reply: Reply, createdAt: Date) throws {
        self.platform = platform
        self.room = room
        self.replyTo = replyTo
        self.key = key
        self.reply = String(decoding: try JSONEncoder().encode(reply), as: UTF8.self)
        self.createdAt = createdAt
        self.attempts = 0
    }

    /// The decoded reply.
    public func decodedReply() throws -> Reply {
        try JSONDecoder().decode(Reply.self, from: Data(reply.utf8))
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
