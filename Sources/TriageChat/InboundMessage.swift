import Foundation
import TriageCore

/// A chat message from any platform, already checked against the platform's room list.
public struct InboundMessage: Sendable, Codable {
    /// `console`, `telegram`, `matrix`.
    public var platform: String
    /// The room (chat id, room id).
    public var room: String
    /// The sender's platform id (Telegram user id, Matrix user id).
    public var sender: String
    /// A readable name for replies and the timeline (`@alice`).
    public var senderName: String
    public var text: String
    /// The platform's id of this message (for replies, de-duplication, outbox keys).
    public var messageID: String
    /// What the sender may do, from config.
    public var role: Role
    public var receivedAt: Date
    /// The text of the message this one replies to, when the platform says (Telegram does):
    /// `/silence` typed as a reply to an alert's message silences that alert.
    public var replyToText: String?

    public init(platform: String, room: String, sender: String, senderName: String? = nil, text: String,
                messageID: String, role: Role, receivedAt: Date = Date(), replyToText: String? = nil) {
        self.replyToText = replyToText
        self.platform = platform
        self.room = room
        self.sender = sender
        self.senderName = senderName ?? sender
        self.text = text
        self.messageID = messageID
        self.role = role
        self.receivedAt = receivedAt
    }
}
