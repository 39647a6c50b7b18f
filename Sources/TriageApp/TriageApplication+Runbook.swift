import Foundation
import TriageCore
import TriageStore

extension TriageApplication {
    /// The built-in runbook commands that need more than YAML steps (health, explain,
    /// integrity, migrations) and the confirmation commands of database actions.
    static func runbookHandlers(config: TriageConfig, database: any SQLRunner, store: TimelineStore,
                                actions: ConfirmationFlow, runbook: RunbookCommands) throws -> [any CommandHandler] {
        [
            ConfirmCommands(flow: actions, store: store, actions: runbook.declarations),
            HealthCommand(database: database, checks: try HealthCommand.checks(config: config.sections["health"])),
            ExplainCommand(database: database),
            try IntegrityCommand(database: database, config: config.sections["integrity"]),
            try MigrationsCommand(database: database, config: config.sections["migrations"]),
        ]
    }
}
