import Foundation
import GRDB

/// The delivery state of one platform message of a queued reply (a reply split at the
/// platform's size limit has several): "sending" is recorded before the platform is called,
/// "sent" with the platform message ids right after, so a restart resumes at the first part
/// not sent, and later code (edits, announcements) finds what a reply became.
public struct OutboxPart: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outboxPart"

    public enum Status: String, Codable, Sendable {
        /// The platform was (or was about to be) called; whether it delivered is not known.
        case sending
        /// Delivered; `messageIDs` says as what.
        case sent
    }

    public var outboxID: Int64
    /// 0-based, in the order the parts are sent.
    public var part: Int
    public var status: Status
    /// The platform message ids the part became, as a JSON array of strings (nil until sent).
    public var messageIDs: String?
    /// How many times "sending" was recorded (more than 1: sent again after a failure or a crash).
    public var attempts: Int
    public var updatedAt: Date

    /// The decoded message ids (empty until sent, or when the platform has none).
    public var sentMessageIDs: [String] {
        guard let messageIDs, let ids = try? JSONDecoder().decode([String].self, from: Data(messageIDs.utf8)) else { return [] }
        return ids
    }
}
