import Foundation

/// The structured part of a timeline event, as stored in its `payload` column (JSON).
/// Encoded with `Codable`, never built by hand.
public enum TimelinePayload {
    /// An incident opened: its severity and commander.
    public struct Opened: Codable, Sendable, Equatable {
        public var severity: String
        public var commander: String

        public init(severity: String, commander: String) {
            self.severity = severity
            self.commander = commander
        }
    }

    /// A change of status, severity or incident role (`role` names which role).
    public struct Change: Codable, Sendable, Equatable {
        public var role: String?
        public var from: String?
        public var to: String?

        public init(from: String?, to: String?, role: String? = nil) {
            self.role = role
            self.from = from
            self.to = to
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(role, forKey: .role)
            // `from` and `to` are always present, null when there was none.
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
        }
    }

    /// `value` as compact JSON with sorted keys; "{}" if it cannot be encoded (it always can).
    public static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
