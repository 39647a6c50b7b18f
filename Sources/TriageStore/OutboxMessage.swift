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
    /// The key of an earlier reply in the same room that this one takes the place of: the
    /// platform edits that message into this reply where it can (``ChatSink/canEdit(into:)``),
    /// else this reply is sent as a message of its own (see ``editOnly``).
    public var replaces: String?
    /// Only an edit: when the message to replace was never sent, is gone, or cannot be edited
    /// into this reply, nothing is sent (a short reply of its own says what happened).
    public var editOnly: Bool
    /// The reply this message was made from, kept in memory (not a column): the outbox sends a
    /// reply handed over by its commit without decoding the JSON back.
    var madeFrom: Reply?

    enum CodingKeys: String, CodingKey {
        case id, platform, room, replyTo, key, reply, createdAt, sentAt, attempts, lastError, replaces, editOnly
    }

    /// - Parameters:
    ///   - replaces: the key of an earlier reply in the room to edit into this one (see ``replaces``).
    ///   - editOnly: send nothing when that edit cannot be made.
    public init(platform: String, room: String, replyTo: String?, key: String, reply: Reply, createdAt: Date,
                replaces: String? = nil, editOnly: Bool = false) throws {
        self.platform = platform
        self.room = room
        self.replyTo = replyTo
        self.key = key
        self.reply = String(decoding: try JSONEncoder().encode(reply), as: UTF8.self)
        self.createdAt = createdAt
        self.attempts = 0
        self.replaces = replaces
        self.editOnly = editOnly
        self.madeFrom = reply
    }

    /// The decoded reply (the one it was made from, when this copy was made in this process).
    public func decodedReply() throws -> Reply {
        if let madeFrom { return madeFrom }
        return try JSONDecoder().decode(Reply.self, from: Data(reply.utf8))
    }

    /// Equal when every column is (the in-memory reply is a copy of one of them).
    public static func == (a: OutboxMessage, b: OutboxMessage) -> Bool {
        a.id == b.id && a.platform == b.platform && a.room == b.room && a.replyTo == b.replyTo && a.key == b.key
            && a.reply == b.reply && a.createdAt == b.createdAt && a.sentAt == b.sentAt && a.attempts == b.attempts
            && a.lastError == b.lastError && a.replaces == b.replaces && a.editOnly == b.editOnly
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
