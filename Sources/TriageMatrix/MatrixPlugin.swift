import Foundation
import TriageChat
import TriageCore

/// Matrix as a plug-in: the `matrix:` section turns it on.
public struct MatrixPlugin: PlatformPlugin {
    public init() {}

    public var section: String { "matrix" }

    public func makePlatform(_ node: YAMLNode, context: PlatformContext) throws -> PlatformParts {
        let config = try MatrixConfig.parse(node, defaultRole: context.defaultRole, environment: context.environment)
        let platform = MatrixPlatform(config: config, http: context.http, logger: context.logger)
        return PlatformParts(platform: platform, access: config.access, commandPrefixes: config.commandPrefixes)
    }
}
