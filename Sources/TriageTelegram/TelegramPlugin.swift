import TriageChat
import TriageCore

/// Telegram as a plug-in: the `telegram:` section turns it on.
public struct TelegramPlugin: PlatformPlugin {
    public init() {}

    public var section: String { "telegram" }

    public func makePlatform(_ node: YAMLNode, context: PlatformContext) throws -> PlatformParts {
        let config = try TelegramConfig.parse(node, defaultRole: context.defaultRole, environment: context.environment)
        let platform = TelegramPlatform(config: config, http: context.http, logger: context.logger)
        return PlatformParts(platform: platform, access: config.access, botName: config.botUsername)
    }
}
