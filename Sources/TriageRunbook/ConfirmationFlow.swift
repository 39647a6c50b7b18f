import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// The SQL side of runbook actions: a read-only preview of exactly what would be affected,
/// and after confirmation (the dispatcher's) a run of exactly what the preview showed (the
/// preview's captured values are re-checked by the action's own SQL).
public struct ConfirmationFlow: Sendable {
    let database: any SQLRunner
    let renderer = StepRenderer()

    public init(database: any SQLRunner) {
        self.database = database
    }

    // MARK: Preview

    /// Runs the action's read-only preview steps: what would be affected, and the values the
    /// action re-checks when it runs.
    public func preview(_ context: CommandContext, spec: RunbookSpec) async throws -> ActionPreview {
        guard let action = spec.action else { throw TriageError(.notFound, "/\(context.declaration.name) has nothing to run.") }
        let target = context.arguments.string("db")
        let statements = spec.steps.map { step in
            SQLStatement(step.sql, parameters: step.parameters.map { context.arguments[$0]?.sqlParameter })
        }
        let results = try await database.run(statements, on: target, mode: .readOnly)
        var blocks: [ReplyBlock] = []
        var summaries: [String] = []
        var captured: [String: [String?]] = [:]
        var nothingToDo = false
        for (step, result) in zip(spec.steps, results) {
            let (stepBlocks, summary) = renderer.render(step, result: result, arguments: context.arguments)
            blocks.append(contentsOf: stepBlocks)
            if let summary { summaries.append(summary) }
            if !step.capture.isEmpty {
                if result.rows.isEmpty { nothingToDo = true }
                for column in step.capture {
                    guard let i = result.columns.firstIndex(of: column) else {
                        throw TriageError(.config, "/\(context.declaration.name): the preview has no column '\(column)' to capture.")
                    }
                    captured[column, default: []].append(contentsOf: result.rows.map { i < $0.count ? $0[i] : nil })
                }
            }
        }
        let extra = action.extraConfirmationWhen.map { context.arguments.flag($0) } ?? false
        return ActionPreview(blocks: blocks, summary: summaries.first, nothingToDo: nothingToDo, captured: captured,
                             target: target, lockLevel: action.lockLevel, warning: action.warning,
                             needsExtraConfirmation: extra)
    }

    // MARK: Run after confirmation

    /// Runs a confirmed action's statements for `arguments`, with the preview's captured values.
    /// - Returns: the result blocks and a one-line summary.
    public func execute(_ declaration: CommandDeclaration, arguments: BoundArguments, captured: [String: [String?]],
                        target: String?) async throws -> ActionResult {
        guard let action = declaration.runbook?.action else {
            throw TriageError(.notFound, "/\(declaration.name) has nothing to run.")
        }
        let chosen = action.statements.filter { $0.applies(to: arguments) }
        var statements: [SQLStatement] = []
        for s in chosen {
            var parameters: [String?] = []
            for p in s.parameters { parameters.append(try Self.value(for: p, arguments: arguments, captured: captured)) }
            var identifiers: [String: String] = [:]
            for i in s.identifiers { identifiers[i] = try Self.identifier(for: i, arguments: arguments, captured: captured) }
            statements.append(SQLStatement(s.sql, parameters: parameters, identifiers: identifiers))
        }
        let mode: SQLMode = action.autocommit ? .autocommit(statementTimeoutMs: 0) : .readWrite
        // A longer lock wait for this action only; RESET returns to the connection's own setting.
        var before: [SQLStatement] = []
        var after: [SQLStatement] = []
        if let seconds = action.lockTimeoutSeconds {
            let set = SQLStatement("SELECT set_config('lock_timeout', $1, \(action.autocommit ? "false" : "true"))", parameters: ["\(seconds)s"])
            before = action.autocommit ? [SQLStatement("RESET lock_timeout"), set] : [set]
            after = action.autocommit ? [SQLStatement("RESET lock_timeout")] : []
        }
        var results: [QueryResult]
        do {
            results = try await database.run(before + statements + after, on: target, mode: mode)
        } catch {
            if action.autocommit && !after.isEmpty { _ = try? await database.run(after, on: target, mode: mode) }
            throw error
        }
        results = Array(results.dropFirst(before.count).prefix(statements.count))
        var blocks: [ReplyBlock] = []
        var lines: [String] = []
        for (s, r) in zip(chosen, results) {
            if r.columns.isEmpty {
                lines.append(r.commandTag)
                continue
            }
            let step = RunbookStep(title: s.title, sql: s.sql, emptyText: "nothing matched any more (changed since the preview)")
            let (b, _) = renderer.render(step, result: r, arguments: arguments)
            blocks.append(contentsOf: b)
            // A boolean column (terminated, cancelled) counts what was done.
            let flags = r.columns.indices.filter { c in r.rows.allSatisfy { $0[c] == "t" || $0[c] == "f" } }
            if r.rows.isEmpty {
                lines.append("nothing matched any more")
            } else if let c = flags.first {
                lines.append("\(r.columns[c]): \(r.rows.filter { $0[c] == "t" }.count) of \(r.rows.count)")
            } else {
                lines.append((s.title ?? "rows") + ": " + r.columns.enumerated().map { "\($0.element) \(r.rows[0][$0.offset] ?? "-")" }.joined(separator: ", "))
            }
        }
        return ActionResult(blocks: blocks, summary: lines.joined(separator: "; "))
    }

    /// A parameter: an argument's value, or a captured column as a PostgreSQL array literal.
    static func value(for name: String, arguments: BoundArguments, captured: [String: [String?]]) throws -> String? {
        if name.hasPrefix(capturedPrefix) {
            guard let values = captured[String(name.dropFirst(capturedPrefix.count))] else {
                throw TriageError(.config, "captured column \(name) is missing")
            }
            return arrayLiteral(values)
        }
        return arguments[name]?.sqlParameter
    }

    /// An identifier: an argument's value, or a captured column's first value (from the catalog).
    static func identifier(for name: String, arguments: BoundArguments, captured: [String: [String?]]) throws -> String {
        if name.hasPrefix(capturedPrefix) {
            guard let first = captured[String(name.dropFirst(capturedPrefix.count))]?.first, let value = first, !value.isEmpty else {
                throw TriageError(.config, "captured column \(name) is empty")
            }
            return value
        }
        guard let value = arguments.string(name), !value.isEmpty else {
            throw TriageError(.config, "identifier \(name) has no value")
        }
        return value
    }

    /// `{"a","b\"c",NULL}`: a PostgreSQL array literal, every element quoted.
    public static func arrayLiteral(_ values: [String?]) -> String {
        let items = values.map { v -> String in
            guard let v else { return "NULL" }
            return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return "{" + items.joined(separator: ",") + "}"
    }
}
