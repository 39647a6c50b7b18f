import Foundation
import TriageCore

/// The `matrix` section of Triage's config: which homeserver, which account, which rooms,
/// and what each person may do. Secrets come from environment variables named here.
public struct MatrixConfig: Sendable {
    /// Base URL of the homeserver's client-server API, without a trailing slash.
    public var homeserver: String
    /// The bot's full Matrix user id (`@triage:example.org`).
    public var userID: String
    /// The password for `m.login.password` (read from `password_env`).
    public var password: String?
    /// An access token to use instead of logging in (read from `access_token_env`).
    public var accessToken: String?
    /// Shown in the user's device list when Triage logs in with a new device.
    public var deviceName: String
    /// Room ids (`!abc:example.org`) Triage serves; invites to other rooms are not joined.
    public var rooms: Set<String>
    /// Roles by Matrix user id.
    public var users: [String: Role]
    /// The role of anyone not in `users` (nil: ignored).
    public var defaultRole: Role?
    /// Seconds a `/sync` long-poll waits for new events.
    public var syncTimeout: Int
    /// Most timeline events per room in one sync.
    public var timelineLimit: Int
    /// Characters that start a command (`/` and `!` by default).
    public var commandPrefixes: Set<Character>
    /// Seconds back that commands missed while Triage was away (a `limited` sync) are still
    /// run; older ones get one room notice that they were skipped. 0: none are run.
    public var missedMaxAge: Int

    public init(homeserver: String, userID: String, password: String? = nil, accessToken: String? = nil,
                deviceName: String = "Triage", rooms: Set<String>, users: [String: Role], defaultRole: Role? = nil,
                syncTimeout: Int = 30, timelineLimit: Int = 50, commandPrefixes: Set<Character> = ["/", "!"],
                missedMaxAge: Int = 3600) {
        self.homeserver = homeserver.hasSuffix("/") ? String(homeserver.dropLast()) : homeserver
        self.userID = userID
        self.password = password
        self.accessToken = accessToken
        self.deviceName = deviceName
        self.rooms = rooms
        self.users = users
        self.defaultRole = defaultRole
        self.syncTimeout = syncTimeout
        self.timelineLimit = timelineLimit
        self.commandPrefixes = commandPrefixes
        self.missedMaxAge = missedMaxAge
    }

    /// Rooms and roles as one policy.
    public var access: AccessPolicy {
        AccessPolicy(rooms: rooms, users: users, defaultRole: defaultRole)
    }

    /// The role of `userID`, or nil when that person gets no answer at all.
    public func role(of userID: String) -> Role? {
        access.role(of: userID)
    }

    static let keys: Set<String> = ["homeserver", "user_id", "password_env", "access_token_env", "device_name",
                                    "rooms", "users", "default_role", "sync_timeout", "timeline_limit", "command_prefixes",
                                    "missed_max_age"]

    /// Reads the `matrix` section.
    /// - Parameters:
    ///   - node: the section.
    ///   - defaultRole: the config's `roles.default`, used unless the section sets `default_role`.
    ///   - environment: where `password_env` and `access_token_env` are looked up.
    /// - Throws: ``ConfigError`` naming the file and line.
    public static func parse(_ node: YAMLNode, defaultRole: Role?,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MatrixConfig {
        try node.checkKeys(keys)
        let homeserver = try node.required("homeserver").string()
        guard let url = URL(string: homeserver), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw node["homeserver"]!.error("expected an http(s) URL such as https://matrix.example.org")
        }
        let userID = try node.required("user_id").string()
        guard Self.isUserID(userID) else {
            throw node["user_id"]!.error("expected a full Matrix user id such as @triage:example.org")
        }
        func secret(_ key: String) throws -> String? {
            guard let name = try node.string(key) else { return nil }
            guard let value = environment[name], !value.isEmpty else {
                throw node[key]!.error("environment variable \(name) is not set")
            }
            return value
        }
        let password = try secret("password_env")
        let token = try secret("access_token_env")
        guard password != nil || token != nil else {
            throw node.error("give password_env or access_token_env (the name of an environment variable holding the secret)")
        }
        var rooms = Set<String>()
        if let list = node["rooms"] {
            for item in try list.list() {
                let id = try item.string()
                // Room versions before 12 have `!opaque:server`; version 12 ids have no server part.
                guard id.hasPrefix("!"), id.count > 1, !id.contains(" ") else {
                    throw item.error("expected a room id such as !abcdef:example.org (room settings → advanced), not an alias")
                }
                rooms.insert(id)
            }
        }
        guard !rooms.isEmpty else { throw node.error("list at least one room id under rooms") }
        let access = try AccessPolicy.parse(node, rooms: rooms, inherited: defaultRole, isUserID: Self.isUserID,
                                            userIDHint: "a Matrix user id such as @alice:example.org")
        var timeout = 30
        if let t = node["sync_timeout"] {
            // A bare number is seconds here (the long-poll timeout), unlike DurationParser's minutes.
            let seconds = try t.node.int ?? DurationParser.seconds(t.string())
            guard let s = seconds, (1...300).contains(s) else {
                throw t.error("expected a duration between 1s and 300s, such as 30s")
            }
            timeout = s
        }
        let limit = try node.int("timeline_limit") ?? 50
        guard (1...500).contains(limit) else { throw node["timeline_limit"]!.error("expected a number from 1 to 500") }
        var prefixes: Set<Character> = ["/", "!"]
        if let p = node["command_prefixes"] {
            let list = try p.strings()
            guard !list.isEmpty, list.allSatisfy({ $0.count == 1 && !$0.first!.isLetter && !$0.first!.isNumber }) else {
                throw p.error("expected single punctuation characters, such as [\"/\", \"!\"]")
            }
            prefixes = Set(list.map { $0.first! })
        }
        var missedMaxAge = 3600
        if let m = node["missed_max_age"] {
            guard let s = DurationParser.seconds(try m.string()), s <= 7 * 86400 else {
                throw m.error("expected a duration up to 7d, such as 1h (0s: run no missed command)")
            }
            missedMaxAge = s
        }
        return MatrixConfig(homeserver: homeserver, userID: userID, password: password, accessToken: token,
                            deviceName: try node.string("device_name") ?? "Triage", rooms: rooms, users: access.users,
                            defaultRole: access.defaultRole, syncTimeout: timeout, timelineLimit: limit, commandPrefixes: prefixes,
                            missedMaxAge: missedMaxAge)
    }

    static func isUserID(_ s: String) -> Bool {
        guard s.hasPrefix("@"), let colon = s.firstIndex(of: ":") else { return false }
        return colon > s.index(after: s.startIndex) && s.index(after: colon) < s.endIndex
    }
}
