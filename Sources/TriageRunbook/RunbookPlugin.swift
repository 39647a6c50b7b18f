import Foundation
import Logging
import TriageChat
import TriageCore
import TriageHandlers

/// The runbook as a plug-in: the `/pg …` commands of `commands/*.yaml`, the built-in checks
/// that need more than YAML steps (health, explain, integrity, migrations), and `/help`,
/// `/ping` and `/runbook`, which are generated from the declarations.
public struct RunbookPlugin: FeaturePlugin {
    public init() {}

    public var name: String { "runbook" }
    public var sections: [String] { ["health", "integrity", "migrations"] }

    public func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
        let config = context.config
        let loaded = RunbookLoader().load(directory: config.commandsDirectory)
        let database = context.database
        let handlers: [any CommandHandler] = [
            GeneralCommands(sections: loaded.sections, version: context.version, startedAt: context.clock.now),
            RunbookCommands(declarations: loaded.declarations, database: database),
            HealthCommand(database: database, checks: try HealthCommand.checks(config: config.sections["health"])),
            ExplainCommand(database: database),
            try IntegrityCommand(database: database, config: config.sections["integrity"]),
            try MigrationsCommand(database: database, config: config.sections["migrations"]),
        ]
        return FeatureParts(handlers: handlers, problems: loaded.errors)
    }

    /// Problems in `commands/` and in the sections the runbook commands read.
    public func check(_ config: TriageConfig, environment: [String: String]) -> [String] {
        struct NoDatabase: SQLRunner {
            var targetNames: [String] { [] }
            func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] { [] }
        }
        var problems = RunbookLoader().load(directory: config.commandsDirectory).errors.map(\.description)
        problems += configProblems("health") { _ = try HealthCommand.checks(config: config.sections["health"]) }
        problems += configProblems("integrity") { _ = try IntegrityCommand(database: NoDatabase(), config: config.sections["integrity"]) }
        problems += configProblems("migrations") { _ = try MigrationsCommand(database: NoDatabase(), config: config.sections["migrations"]) }
        return problems
    }
}
