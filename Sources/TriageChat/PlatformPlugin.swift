import Logging
import TriageCore

/// A chat platform as a plug-in: it names its config section, parses and checks it, and
/// builds the platform. Adding a platform is one target with one of these, plus one line in
/// the executable's plug-in list.
public protocol PlatformPlugin: Sendable {
    /// The config section that turns the platform on (`telegram`, `matrix`).
    var section: String { get }
    /// Builds the platform from its section.
    /// - Throws: ``ConfigError`` naming the file and line of the problem.
    func makePlatform(_ node: YAMLNode, context: PlatformContext) throws -> PlatformParts
}

/// What a platform plug-in gets from the composition root.
public struct PlatformContext: Sendable {
    /// `roles.default` of the config: the role of unlisted people unless the section says otherwise.
    public var defaultRole: Role?
    /// Where secrets named in the section (`token_env`) are looked up.
    public var environment: [String: String]
    /// The process's one HTTP client.
    public var http: any HTTPTransport
    public var logger: Logger

    public init(defaultRole: Role?, environment: [String: String], http: any HTTPTransport, logger: Logger) {
        self.defaultRole = defaultRole
        self.environment = environment
        self.http = http
        self.logger = logger
    }
}

/// A built platform and the rules it is served by.
public struct PlatformParts: Sendable {
    public var platform: any ChatPlatform
    /// Rooms and roles: applied by the platform when it turns updates into messages, and
    /// printed by `check-config`.
    public var access: AccessPolicy
    /// Characters that start a command (Matrix adds `!`).
    public var commandPrefixes: Set<Character>
    /// The bot's username, for `/cmd@BotName`.
    public var botName: String?

    public init(platform: any ChatPlatform, access: AccessPolicy, commandPrefixes: Set<Character> = ["/"], botName: String? = nil) {
        self.platform = platform
        self.access = access
        self.commandPrefixes = commandPrefixes
        self.botName = botName
    }
}
