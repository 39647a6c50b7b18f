/// Who Triage answers on one platform, and what each person may do: the rooms served, roles by
/// platform user id, and the role of anyone not listed.
///
/// Nothing is granted by default: a person gets a role only when the config lists them or
/// sets a default role (`roles.default` for every platform, `default_role` in a platform's
/// own section). With neither, unlisted people get no answer at all.
public struct AccessPolicy: Sendable, Equatable {
    /// Rooms served (chat ids, room ids); messages from any other room get no reply.
    public var rooms: Set<String>
    /// Roles by platform user id.
    public var users: [String: Role]
    /// The role of people not in ``users``; nil: they are ignored.
    public var defaultRole: Role?

    public init(rooms: Set<String>, users: [String: Role] = [:], defaultRole: Role? = nil) {
        self.rooms = rooms
        self.users = users
        self.defaultRole = defaultRole
    }

    /// Whether messages from `room` are answered.
    public func serves(room: String) -> Bool {
        rooms.contains(room)
    }

    /// The role of `user`, or nil when that person gets no answer.
    public func role(of user: String) -> Role? {
        users[user] ?? defaultRole
    }

    /// Who is an operator, a responder, a viewer, and what everyone else gets: the effective
    /// policy as `check-config` prints it.
    public var summary: [String] {
        var lines: [String] = []
        for role in Role.allCases.reversed() {
            let people = users.filter { $0.value == role }.map(\.key).sorted()
            lines.append("\(role): " + (people.isEmpty ? "nobody listed" : people.joined(separator: ", ")))
        }
        lines.append("anyone else: " + (defaultRole.map { "\($0)" } ?? "no answer"))
        lines.append("rooms: " + (rooms.isEmpty ? "none" : rooms.sorted().joined(separator: ", ")))
        return lines
    }
}

extension AccessPolicy {
    /// Reads the `users` mapping and `default_role` of a platform section.
    /// - Parameters:
    ///   - node: the platform's section.
    ///   - rooms: the rooms it serves (parsed by the platform, which knows their shape).
    ///   - inherited: the config's `roles.default`, used unless the section sets `default_role`.
    ///   - isUserID: whether a key of `users` is a user id of this platform.
    ///   - userIDHint: what a user id looks like, for the error message.
    public static func parse(_ node: YAMLNode, rooms: Set<String>, inherited: Role?,
                             isUserID: (String) -> Bool, userIDHint: String) throws -> AccessPolicy {
        var users: [String: Role] = [:]
        if let map = node["users"] {
            for (id, value) in try map.entries() {
                guard isUserID(id) else { throw value.error("'\(id.prefix(60))' is not \(userIDHint)") }
                users[id] = try Role.parse(value, allowNone: false)
            }
        }
        var fallback = inherited
        if let d = node["default_role"] {
            fallback = try Role.parse(d, allowNone: true)
        }
        return AccessPolicy(rooms: rooms, users: users, defaultRole: fallback)
    }
}

extension Role {
    /// A role named in config; `none` (when allowed) is nil.
    public static func parse(_ node: YAMLNode, allowNone: Bool) throws -> Role? {
        let name = try node.string()
        if allowNone && name.lowercased() == "none" { return nil }
        guard let role = Role(name: name) else {
            throw node.error(allowNone ? "role must be none, viewer, responder or operator"
                                       : "role must be viewer, responder or operator")
        }
        return role
    }
}

extension YAMLNode {
    /// A secret named by `key`: the key holds the name of an environment variable, whose
    /// value is the secret. The secret itself is never part of an error.
    /// - Returns: nil when the key is absent.
    public func secret(_ key: String, environment: [String: String]) throws -> String? {
        guard let node = self[key] else { return nil }
        let name = try node.string()
        guard let value = environment[name], !value.isEmpty else {
            throw node.error("environment variable \(name) (named by \(key)) is not set")
        }
        return value
    }
}
