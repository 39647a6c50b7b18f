import Foundation

/// `m.relates_to`: a reply (`m.in_reply_to`), a reaction (`m.annotation` with a key) or an
/// edit (`m.replace`).
public struct MatrixRelation: Codable, Sendable, Equatable {
    public var relType: String?
    public var eventID: String?
    public var key: String?
    public var inReplyTo: MatrixEventReference?

    enum CodingKeys: String, CodingKey {
        case relType = "rel_type", eventID = "event_id", key, inReplyTo = "m.in_reply_to"
    }

    public init(relType: String? = nil, eventID: String? = nil, key: String? = nil, inReplyTo: MatrixEventReference? = nil) {
        self.relType = relType
        self.eventID = eventID
        self.key = key
        self.inReplyTo = inReplyTo
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        relType = c.string(.relType)
        eventID = c.string(.eventID)
        key = c.string(.key)
        inReplyTo = c.lenient(MatrixEventReference.self, forKey: .inReplyTo)
    }

    /// A reply to `eventID`.
    public static func reply(to eventID: String) -> MatrixRelation {
        MatrixRelation(inReplyTo: MatrixEventReference(eventID: eventID))
    }
}

/// `{"event_id": …}`.
public struct MatrixEventReference: Codable, Sendable, Equatable {
    public var eventID: String?

    enum CodingKeys: String, CodingKey { case eventID = "event_id" }

    public init(eventID: String?) { self.eventID = eventID }

    public init(from decoder: any Decoder) throws {
        eventID = try decoder.container(keyedBy: CodingKeys.self).string(.eventID)
    }
}
