import Foundation

/// A room event as `/sync` and `/messages` give it. Every field is optional: an event of an
/// unknown type, or one missing its content, still decodes, and the reader decides what to
/// do with it. Only a value that is not a JSON object fails (and is left out of its array).
public struct MatrixEvent: Decodable, Sendable, Equatable {
    public var eventID: String?
    public var type: String?
    public var sender: String?
    /// `origin_server_ts` in milliseconds; 0 when absent or not a usable number.
    public var originServerTS: Int64
    /// `content`, when it is an object.
    public var content: MatrixEventContent?
    /// `unsigned.membership` (spec v1.11): the bot's membership when the event was sent.
    public var membership: String?
    /// Whether `unsigned.redacted_because` is present: the event was redacted (its content emptied).
    public var isRedacted: Bool

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", type, sender, originServerTS = "origin_server_ts", content, unsigned
    }

    enum UnsignedKeys: String, CodingKey {
        case membership, redactedBecause = "redacted_because"
    }

    public init(eventID: String?, type: String?, sender: String?, originServerTS: Int64 = 0,
                content: MatrixEventContent? = nil, membership: String? = nil, isRedacted: Bool = false) {
        self.eventID = eventID
        self.type = type
        self.sender = sender
        self.originServerTS = originServerTS
        self.content = content
        self.membership = membership
        self.isRedacted = isRedacted
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        eventID = c.string(.eventID)
        type = c.string(.type)
        sender = c.string(.sender)
        originServerTS = c.milliseconds(.originServerTS) ?? 0
        content = c.lenient(MatrixEventContent.self, forKey: .content)
        let unsigned = try? c.nestedContainer(keyedBy: UnsignedKeys.self, forKey: .unsigned)
        membership = unsigned?.string(.membership)
        isRedacted = unsigned?.contains(.redactedBecause) ?? false
    }
}
