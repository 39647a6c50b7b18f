import Foundation
import TriageCore

/// The `telegram:` section of Triage's config. Every key is documented in
/// `config/telegram.example.yaml`.
public struct TelegramConfig: Sendable {
    /// The bot token (from the environment variable named by `token_env`). Never logged.
    public var token: String
    /// The name of the environment variable the token came from, for messages.
    public var tokenEnv: String
    /// `https://api.telegram.org`, or a self-hosted Bot API server (or a test stand-in).
    public var apiURL: String
    /// The bot's username without `@`; nil: learnt from `getMe` at start.
    public var botUsername: String?
    /// Long-poll timeout in seconds (0–50).
    public var pollTimeout: Int
    /// Chats the bot serves; messages from any other chat get no reply.
    public var chats: Set<Int64>
    /// Who may do what: roles by Telegram user id (as text), and the role of anyone unlisted
    /// (`default_role`, else the config's `roles.default`, else nobody).
    public var access: AccessPolicy
    /// Seconds to establish a connection.
    public var connectTimeout: Double
    /// Seconds for calls other than `getUpdates` and sends.
    public var requestTimeout: Double
    /// Seconds a `sendMessage` may take before it counts as failed: longer than a poll's, so
    /// a slow send is not given up on (and sent again) while Telegram may still deliver it.
    public var sendTimeout: Double = 75
    /// Seconds between two messages to the same chat.
    public var chatInterval: Double
    /// Messages per minute to one group or supergroup.
    public var groupPerMinute: Int
    /// Messages per second to all chats together (Telegram: about 30).
    public var globalPerSecond: Int = 30
    /// Register the commands with `setMyCommands` at start.
    public var registerCommands: Bool

    public static let defaultAPIURL = "https://api.telegram.org"

    public init(token: String, tokenEnv: String = "TRIAGE_TELEGRAM_TOKEN", apiURL: String = TelegramConfig.defaultAPIURL,
                botUsername: String? = nil, pollTimeout: Int = 50, chats: Set<Int64>, users: [Int64: Role] = [:],
                defaultRole: Role? = nil, connectTimeout: Double = 10, requestTimeout: Double = 30,
                chatInterval: Double = 1, groupPerMinute: Int = 20, registerCommands: Bool = true) {
        self.token = token
        self.tokenEnv = tokenEnv
        self.apiURL = apiURL
        self.botUsername = botUsername
        self.pollTimeout = pollTimeout
        self.chats = chats
        self.access = AccessPolicy(rooms: Set(chats.map(String.init)),
                                   users: Dictionary(uniqueKeysWithValues: users.map { (String($0.key), $0.value) }),
                                   defaultRole: defaultRole)
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.chatInterval = chatInterval
        self.groupPerMinute = groupPerMinute
        self.registerCommands = registerCommands
    }

    static let keys: Set<String> = ["token_env", "api_url", "bot_username", "poll_timeout", "chats", "users",
                                    "default_role", "connect_timeout", "request_timeout", "send_timeout", "rate_limit",
                                    "register_commands"]

    /// Reads the section. Every problem names the file, line and key.
    /// - Parameters:
    ///   - node: the `telegram:` mapping.
    ///   - defaultRole: the config's `roles.default`, used unless the section sets `default_role`.
    ///   - environment: where `token_env` is looked up.
    public static func parse(_ node: YAMLNode, defaultRole: Role?, environment: [String: String]) throws -> TelegramConfig {
        try node.checkKeys(keys)
        let tokenKey = try node.required("token_env")
        let tokenEnv = try tokenKey.string()
        guard let token = environment[tokenEnv], !token.isEmpty else {
            throw tokenKey.error("environment variable \(tokenEnv) (named by telegram.token_env) is not set")
        }
        guard token.range(of: #"^[0-9]+:[A-Za-z0-9_-]+$"#, options: .regularExpression) != nil else {
            throw tokenKey.error("the value of \(tokenEnv) does not look like a bot token (digits:letters from @BotFather)")
        }
        var config = TelegramConfig(token: token, tokenEnv: tokenEnv, chats: [])
        if let url = try node.string("api_url") {
            guard let c = URLComponents(string: url), c.scheme == "https" || c.scheme == "http", c.host != nil else {
                throw node["api_url"]!.error("expected an http(s) URL such as \(defaultAPIURL)")
            }
            config.apiURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let name = try node.string("bot_username") {
            config.botUsername = name.hasPrefix("@") ? String(name.dropFirst()) : name
        }
        if let t = try node.int("poll_timeout") {
            guard (0...50).contains(t) else { throw node["poll_timeout"]!.error("must be between 0 and 50 seconds (Telegram caps it at 50)") }
            config.pollTimeout = t
        }
        let chatsNode = try node.required("chats")
        for item in try chatsNode.list() {
            guard let id = Int64(try item.string()) else { throw item.error("expected a chat id (a whole number, groups are negative)") }
            config.chats.insert(id)
        }
        if config.chats.isEmpty { throw chatsNode.error("list at least one chat id: the bot answers only there") }
        config.access = try AccessPolicy.parse(node, rooms: Set(config.chats.map(String.init)), inherited: defaultRole,
                                               isUserID: { Int64($0) != nil },
                                               userIDHint: "a Telegram user id (a whole number)")
        if let c = try node.double("connect_timeout") {
            guard c > 0 else { throw node["connect_timeout"]!.error("must be positive") }
            config.connectTimeout = c
        }
        if let r = try node.double("request_timeout") {
            guard r > 0 else { throw node["request_timeout"]!.error("must be positive") }
            config.requestTimeout = r
        }
        if let s = try node.double("send_timeout") {
            guard s > 0 else { throw node["send_timeout"]!.error("must be positive") }
            config.sendTimeout = s
        }
        if let rl = node["rate_limit"] {
            try rl.checkKeys(["chat_interval", "group_per_minute", "global_per_second"])
            if let i = try rl.double("chat_interval") {
                guard i >= 0 else { throw rl["chat_interval"]!.error("must be zero or more seconds") }
                config.chatInterval = i
            }
            if let g = try rl.int("group_per_minute") {
                guard g > 0 else { throw rl["group_per_minute"]!.error("must be positive") }
                config.groupPerMinute = g
            }
            if let g = try rl.int("global_per_second") {
                guard g > 0 else { throw rl["global_per_second"]!.error("must be positive") }
                config.globalPerSecond = g
            }
        }
        if let b = try node.bool("register_commands") { config.registerCommands = b }
        return config
    }
}
