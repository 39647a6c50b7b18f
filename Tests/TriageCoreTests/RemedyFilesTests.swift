import Foundation
import Testing
@testable import TriageCore

/// The remedies in `commands/` are guarded the same way as the first actions, and the loader
/// checks the placeholders they use.
@Suite struct RemedyFilesTests {
    @Test func everyRemedyIsAnOperatorActionWithAPreview() {
        let outcome = RunbookLoader().load(directory: RunbookFilesTests.commandsDirectory)
        let actions = Dictionary(uniqueKeysWithValues: outcome.declarations.filter { $0.kind == .action }.map { ($0.name, $0) })
        #expect(Set(actions.keys) == ["pg kill-idle", "pg terminate", "pg cancel", "pg vacuum", "pg analyze", "pg reindex",
                                      "pg drop-index", "pg create-index", "pg reindex-table", "pg set-statistics", "pg autovacuum-set",
                                      "pg validate-constraint", "pg terminate-where", "pg rollback-prepared", "pg statements-reset"])
        for name in ["pg drop-index", "pg create-index", "pg reindex-table", "pg validate-constraint", "pg rollback-prepared"] {
            #expect(actions[name]?.runbook?.action?.autocommit == true, "\(name) runs outside a transaction")
        }
        // Refusals: a preview that finds a reason it cannot succeed issues no token.
        for name in ["pg reindex", "pg reindex-table", "pg drop-index", "pg create-index", "pg validate-constraint"] {
            #expect(actions[name]?.runbook?.steps.contains { $0.refuse != nil } == true, "\(name)")
        }
        #expect(actions["pg reindex"]?.runbook?.action?.onFailure.isEmpty == false)
        // Every DDL remedy re-checks at confirm time that its object is the one previewed.
        for name in ["pg reindex", "pg drop-index", "pg create-index", "pg reindex-table", "pg set-statistics",
                     "pg autovacuum-set", "pg validate-constraint", "pg vacuum", "pg analyze"] {
            #expect(actions[name]?.runbook?.action?.recheck.contains("oid") == true, "\(name) rechecks its object")
        }
        #expect(actions["pg rollback-prepared"]?.runbook?.action?.recheck == ["prepared_at"])
    }

    @Test func recheckNamesCapturedColumnsOnly() throws {
        func load(_ recheck: String) throws -> [CommandDeclaration] {
            try Self.parse(action: "recheck: \(recheck)\nstatements: [{sql: \"SELECT 1\"}]")
        }
        #expect(try load("[a]").first?.runbook?.action?.recheck == ["a"])
        #expect(throws: ConfigError.self) { try load("[b]") }
    }

    /// One action command with `body` under its `action:` key.
    static func parse(action body: String) throws -> [CommandDeclaration] {
        try RunbookLoader().parse("""
            section: s
            commands:
              - name: x y
                summary: s
                kind: action
                arguments: [{name: n, type: integer}]
                steps: [{sql: "SELECT 1 AS a", capture: [a]}]
                action:
            \(body.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))
            """, file: "t.yaml").1
    }

    @Test func literalAndIntegerPlaceholdersMustBeDeclaredAndUsed() throws {
        func load(_ statement: String) throws -> [CommandDeclaration] {
            try Self.parse(action: "statements:\n  - \(statement)")
        }
        #expect(try load(#"{sql: "ROLLBACK PREPARED {{literal:captured.a}}", literals: [captured.a]}"#).count == 1)
        #expect(try load(#"{sql: "SET STATISTICS {{integer:n}}", integers: [n]}"#).count == 1)
        #expect(throws: ConfigError.self) { try load(#"{sql: "ROLLBACK PREPARED 'x'", literals: [captured.a]}"#) }
        #expect(throws: ConfigError.self) { try load(#"{sql: "SET {{integer:m}}", integers: [m]}"#) }
    }
}
