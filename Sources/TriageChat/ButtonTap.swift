import Foundation

/// A tap on one of the bot's buttons: what the button carried and where it was.
///
/// The data is the opaque value the bot put on the button (``ReplyButton/data``), never a
/// command line; what it means is looked up in the store.
public struct ButtonTap: Sendable, Codable, Equatable {
    /// The button's opaque data (Telegram `callback_data`, ≤ 64 bytes; a Matrix reaction's key
    /// mapped back to the button it stands for).
    public var data: String
    /// The platform's id of the tap, to answer it (Telegram `callback_query.id`); nil where taps
    /// are not answered (Matrix reactions).
    public var callbackID: String?
    /// The platform message id of the bot's message the button is on (`chat:message_id`,
    /// a Matrix event id), to edit it with the outcome; nil when the platform did not say.
    public var messageID: String?

    public init(data: String, callbackID: String? = nil, messageID: String? = nil) {
        self.data = data
        self.callbackID = callbackID
        self.messageID = messageID
    }
}

/// The answer to a tap, shown to the person who tapped (Telegram: a toast, or an alert box).
public struct TapAnswer: Sendable, Equatable {
    /// At most 200 characters.
    public var text: String
    /// A refusal: shown as an alert the person must dismiss.
    public var alert: Bool

    public init(_ text: String, alert: Bool = false) {
        self.text = String(text.prefix(200))
        self.alert = alert
    }
}

extension InboundMessage {
    /// What a reply to this input replies to: the message with the button for a tap (so the
    /// result sits under what was decided), else the message itself.
    public var replyTarget: String { tap?.messageID ?? messageID }
}
