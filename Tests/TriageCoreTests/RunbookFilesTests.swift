import Foundation
import Testing
@testable import TriageCore

/// Every file in `commands/` loads, and the action extensions of the loader are checked.
@Suite struct RunbookFilesTests {
    static let commandsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("commands").path

    @Test func everyCommandsFileLoadsWithoutErrors() {
        let outcome = RunbookLoader().load(directory: Self.commandsDirectory)
        #expect(outcome.errors.map(\.description) == [])
        let names = Set(outcome.declarations.map(\.name))
        for expected in ["pg connections", "pg idle", "pg idle-tx", "pg xmin", "pg kill-idle", "pg terminate", "pg cancel",
                         "pg active", "pg slow", "pg backup-status", "pg restore-check", "pg schema-changes", "pg constraints",
                         "pg size", "pg bloat", "pg vacuum-stats", "pg indexes", "pg unused-indexes", "pg duplicate-indexes",
                         "pg invalid-indexes", "pg autovacuum", "pg wraparound", "pg cache", "pg sequences", "pg vacuum",
                         "pg analyze", "pg reindex", "pg locks", "pg replication", "pg space"] {
            #expect(names.contains(expected), "\(expected)")
        }
        #expect(outcome.sections.count == 9)
    }

    @Test func everyActionNeedsOperatorAConfirmationAndAPreviewThatCaptures() {
        let outcome = RunbookLoader().load(directory: Self.commandsDirectory)
        let actions = outcome.declarations.filter { $0.kind == .action }
        #expect(Set(actions.map(\.name)).isSuperset(of: ["pg kill-idle", "pg terminate", "pg cancel", "pg vacuum", "pg analyze", "pg reindex"]))
        for a in actions {
            #expect(a.role == .operator)
            #expect(a.confirmations >= 1)
            #expect(a.runbook?.steps.contains { !$0.capture.isEmpty } == true, "\(a.name) captures what it previews")
        }
        let vacuum = actions.first { $0.name == "pg vacuum" }!
        #expect(vacuum.runbook?.action?.extraConfirmationWhen == "full")
        #expect(vacuum.runbook?.action?.autocommit == true)
        #expect(vacuum.runbook?.action?.lockTimeoutSeconds == nil)
        #expect(actions.first { $0.name == "pg reindex" }?.runbook?.action?.lockTimeoutSeconds == 300)
    }

    @Test func diagnosticsNeverChangeTheDatabase() {
        let outcome = RunbookLoader().load(directory: Self.commandsDirectory)
        let writes = #"\b(insert\s+into|update\s+\w+\s+set|delete\s+from|drop|alter|truncate|vacuum|reindex|analyze|pg_terminate_backend|pg_cancel_backend)\b"#
        for d in outcome.declarations where d.kind == .diagnostic {
            for step in d.runbook?.steps ?? [] {
                #expect(step.sql.lowercased().range(of: writes, options: .regularExpression) == nil, "\(d.name)")
            }
        }
    }

    func load(_ yaml: String) throws -> [CommandDeclaration] {
        try RunbookLoader().parse(yaml, file: "t.yaml").1
    }

    @Test func capturedColumnsMustBeDeclared() throws {
        let good = """
            section: s
            commands:
              - name: pg zap
                summary: z
                kind: action
                arguments: [{name: full, type: boolean}]
                steps: [{sql: "SELECT 1 AS pid", capture: [pid]}]
                action:
                  second_confirmation_when: full
                  statements:
                    - {sql: "SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p", params: [captured.pid], unless: full}
            """
        let d = try load(good)
        #expect(d[0].runbook?.action?.statements[0].unless == "full")
        let bad = good.replacingOccurrences(of: "params: [captured.pid]", with: "params: [captured.oid]")
        #expect(throws: ConfigError.self) { try self.load(bad) }
        let notBoolean = good.replacingOccurrences(of: "type: boolean", with: "type: string")
        #expect(throws: ConfigError.self) { try self.load(notBoolean) }
        let noPreview = good.replacingOccurrences(of: "steps: [{sql: \"SELECT 1 AS pid\", capture: [pid]}]", with: "steps: []")
        #expect(throws: ConfigError.self) { try self.load(noPreview) }
    }

    @Test func statementsApplyByWhenAndUnless() {
        let full = BoundArguments(["full": .boolean(true), "table": .string("t")])
        let plain = BoundArguments(["full": .boolean(false)])
        #expect(RunbookStatement(sql: "", when: "full").applies(to: full))
        #expect(!RunbookStatement(sql: "", when: "full").applies(to: plain))
        #expect(!RunbookStatement(sql: "", unless: "full").applies(to: full))
        #expect(RunbookStatement(sql: "", unless: "table").applies(to: plain))
        #expect(RunbookStatement(sql: "", when: "table").applies(to: full))
    }
}
