/// Someone who can be paged: how chat mentions them and who they are at each provider.
public struct PagingPerson: Codable, Sendable, Equatable, Hashable {
    /// The key in `paging.people` (`alice`).
    public var name: String
    /// The chat mention (`@alice`).
    public var handle: String
    public var email: String?
    /// The Opsgenie user id (responder), if known.
    public var opsgenieID: String?
    /// The PagerDuty user id, passed along in `custom_details`.
    public var pagerdutyID: String?
    /// Who they are in chat, `PLATFORM:USER_ID` (`telegram:123456`, `matrix:@alice:example.org`):
    /// the people paged may tap [Ack] on their page whatever their role.
    public var chatIDs: [String]?

    /// Their user ids on `platform` (from ``chatIDs``).
    public func userIDs(on platform: String) -> [String] {
        (chatIDs ?? []).compactMap { id in
            guard id.hasPrefix(platform + ":") else { return nil }
            return String(id.dropFirst(platform.count + 1))
        }
    }

    public init(name: String, handle: String? = nil, email: String? = nil, opsgenieID: String? = nil, pagerdutyID: String? = nil) {
        self.name = name
        self.handle = handle ?? "@" + name
        self.email = email
        self.opsgenieID = opsgenieID
        self.pagerdutyID = pagerdutyID
    }

    /// Whether `text` names this person (`alice`, `@alice`, the handle, the email).
    public func matches(_ text: String) -> Bool {
        let t = text.lowercased()
        let bare = t.hasPrefix("@") ? String(t.dropFirst()) : t
        return bare == name.lowercased() || t == handle.lowercased() || "@" + bare == handle.lowercased()
            || (email.map { $0.lowercased() == t } ?? false)
    }
}
