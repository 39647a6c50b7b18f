/// One Bot API update (only the parts Triage reads).
public struct TelegramUpdate: Decodable, Sendable {
    public var update_id: Int64
    public var message: Message?

    public struct Message: Decodable, Sendable {
        public var message_id: Int64
        public var date: Int64?
        public var chat: Chat
        public var from: User?
        public var text: String?
        public var entities: [Entity]?
        public var migrate_to_chat_id: Int64?
        public var migrate_from_chat_id: Int64?
        /// The message this one replies to (its text only: `/silence` as a reply to an alert).
        public var reply_to_message: RepliedMessage?
    }

    /// The part of a replied-to message Triage reads.
    public struct RepliedMessage: Decodable, Sendable {
        public var text: String?
    }

    public struct Chat: Decodable, Sendable {
        public var id: Int64
        public var type: String
        public var title: String?
    }

    public struct User: Decodable, Sendable {
        public var id: Int64
        public var is_bot: Bool?
        public var first_name: String?
        public var username: String?

        /// `@username`, or the first name.
        public var displayName: String {
            if let username { return "@" + username }
            return first_name ?? String(id)
        }
    }

    /// A message entity; `offset` and `length` count UTF-16 code units.
    public struct Entity: Decodable, Sendable {
        public var type: String
        public var offset: Int
        public var length: Int
    }
}

/// A `getUpdates` result decoded leniently: every element separately, so a malformed
/// update is reported (with its `update_id` when it has one) and the rest are kept.
public struct TelegramUpdateBatch: Decodable, Sendable {
    public enum Element: Sendable {
        case update(TelegramUpdate)
        /// Not decodable as an update; `updateID` if it had one.
        case malformed(updateID: Int64?, problem: String)

        /// The element's `update_id`, when it has one.
        public var updateID: Int64? {
            switch self {
            case .update(let u): u.update_id
            case .malformed(let id, _): id
            }
        }
    }

    public var elements: [Element]

    public init(elements: [Element]) {
        self.elements = elements
    }

    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var elements: [Element] = []
        while !container.isAtEnd {
            elements.append(try container.decode(LenientElement.self).element)
        }
        self.elements = elements
    }

    struct LenientElement: Decodable {
        var element: Element
        private enum Keys: String, CodingKey { case update_id }

        init(from decoder: Decoder) throws {
            do {
                element = .update(try TelegramUpdate(from: decoder))
            } catch {
                let id = try? decoder.container(keyedBy: Keys.self).decode(Int64.self, forKey: .update_id)
                element = .malformed(updateID: id, problem: Self.describe(error))
            }
        }

        static func describe(_ error: Error) -> String {
            switch error {
            case DecodingError.keyNotFound(let key, let ctx):
                return "missing \((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
            case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx), DecodingError.dataCorrupted(let ctx):
                return "bad value at \(ctx.codingPath.map(\.stringValue).joined(separator: "."))"
            default:
                return "\(error)"
            }
        }
    }
}
