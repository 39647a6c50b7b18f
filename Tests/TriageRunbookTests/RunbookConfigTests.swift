import Foundation
import Testing
import TriageTesting
@testable import TriageRuntime
@testable import TriageRunbook
@testable import TriageIncidents
import TriageHandlers
import TriageChat
import TriageCore

/// The config sections read by the built-in runbook commands.
@Suite struct RunbookConfigTests {
    struct NoDatabase: SQLRunner {
        var targetNames: [String] { ["default"] }
        func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] { [] }
    }

    func node(_ yaml: String) throws -> YAMLNode { try YAMLNode.parse(yaml, file: "triage.yaml") }

    @Test func healthThresholdsCanBeOverridden() throws {
        let checks = try HealthCommand.checks(config: node("thresholds: {connections: {warn: 50, critical: 60}}"))
        let c = try #require(checks.first { $0.key == "connections" })
        #expect(c.warn == 50 && c.critical == 60)
        #expect(c.evaluate("55") == .warning)
        #expect(throws: ConfigError.self) { try HealthCommand.checks(config: node("thresholds: {conections: {warn: 1}}")) }
        #expect(throws: ConfigError.self) { try HealthCommand.checks(config: node("thresholds: {connections: {warning: 1}}")) }
    }

    @Test func migrationTablesFromPresetsAndColumns() throws {
        let m = try MigrationsCommand(database: NoDatabase(), config: node("""
            tables:
              - {preset: flyway}
              - {preset: golang-migrate, table: app.schema_migrations}
              - {table: deploys, name: id, applied_at: at, failed: broken}
            """))
        #expect(m.tables == [
            MigrationsCommand.Table(table: "flyway_schema_history", name: "script", appliedAt: "installed_on", success: "success"),
            MigrationsCommand.Table(table: "app.schema_migrations", name: "version", failed: "dirty"),
            MigrationsCommand.Table(table: "deploys", name: "id", appliedAt: "at", failed: "broken"),
        ])
        #expect(throws: ConfigError.self) { try MigrationsCommand(database: NoDatabase(), config: self.node("tables: [{preset: rails}]")) }
        #expect(throws: ConfigError.self) { try MigrationsCommand(database: NoDatabase(), config: self.node("tables: [{table: x}]")) }
    }

    @Test func integrityKeys() throws {
        let i = try IntegrityCommand(database: NoDatabase(), config: node("unique_keys: [{table: products, columns: [sku, tenant]}]"))
        #expect(i.uniqueKeys == [IntegrityCommand.KeySpec(table: "products", columns: ["sku", "tenant"])])
        #expect(throws: ConfigError.self) { try IntegrityCommand(database: NoDatabase(), config: self.node("unique_keys: [{table: p, columns: []}]")) }
        #expect(throws: ConfigError.self) { try IntegrityCommand(database: NoDatabase(), config: self.node("uniq: []")) }
    }
}
