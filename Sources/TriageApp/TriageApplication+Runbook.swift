import Foundation
import Logging
import TriageCore
import TriageStore

extension TriageApplication {
    /// The built-in runbook commands that need more than YAML steps (health, explain,
    /// integrity, migrations) and the confirmation commands of database actions.
    static func runbookHandlers(config: TriageConfig, logger: Logger, database: any SQLRunner, store: TimelineStore,
                                actions: ConfirmationFlow, runbook: RunbookCommands) throws -> [any CommandHandler] {
        [
            ConfirmCommands(flow: actions, store: store, actions: runbook.declarations, logger: logger),
            HealthCommand(database: database, checks: try HealthCommand.checks(config: config.sections["health"])),
            ExplainCommand(database: database),
            try IntegrityCommand(database: database, config: config.sections["integrity"]),
            try MigrationsCommand(database: database, config: config.sections["migrations"]),
        ]
    }

    /// Problems in the config sections the runbook commands read (`health`, `integrity`,
    /// `migrations`), for `triage check-config`.
    public static func runbookConfigProblems(_ config: TriageConfig) -> [String] {
        struct NoDatabase: SQLRunner {
            var targetNames: [String] { [] }
            func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] { [] }
        }
        var problems: [String] = []
        func check(_ body: () throws -> Void) {
            do { try body() } catch let e as PresentableError { problems.append(e.description) } catch { problems.append("unexpected \(type(of: error))") }
        }
        check { _ = try HealthCommand.checks(config: config.sections["health"]) }
        check { _ = try IntegrityCommand(database: NoDatabase(), config: config.sections["integrity"]) }
        check { _ = try MigrationsCommand(database: NoDatabase(), config: config.sections["migrations"]) }
        return problems
    }
}
