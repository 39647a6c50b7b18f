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
        let results = try await StepQueries.run(spec.steps, arguments: context.arguments, target: target, database: database)
        var blocks: [ReplyBlock] = []
        var summaries: [String] = []
        var captured: [String: [String?]] = [:]
        var nothingToDo = false
        var refusals: [String] = []
        for (step, result) in zip(spec.steps, results) {
            let (stepBlocks, summary) = renderer.render(step, result: result, arguments: context.arguments)
            blocks.append(contentsOf: stepBlocks)
            if let summary { summaries.append(summary) }
            if let refuse = step.refuse, !result.rows.isEmpty {
                refusals.append(renderer.fill(refuse, result: result, arguments: context.arguments, columns: step.columns))
            }
            if !step.capture.isEmpty {
                if result.rows.isEmpty { nothingToDo = true }
                for column in step.capture {
                    // A generated step whose generator found nothing (the extension is not
                    // installed) has no columns at all: nothing to do, its `empty` text says why.
                    if result.rows.isEmpty && result.columns.isEmpty { continue }
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
                             needsExtraConfirmation: extra, refusals: refusals)
    }

    // MARK: Run after confirmation

    /// Runs a confirmed action's statements for `arguments`, with the preview's captured values.
    /// - Returns: the result blocks and a one-line summary.
    public func execute(_ declaration: CommandDeclaration, arguments: BoundArguments, captured: [String: [String?]],
                        target: String?) async throws -> ActionResult {
        guard let action = declaration.runbook?.action else {
            throw TriageError(.notFound, "/\(declaration.name) has nothing to run.")
        }
        try await recheck(declaration, action: action, arguments: arguments, captured: captured, target: target)
        let chosen = action.statements.filter { $0.applies(to: arguments) }
        let statements = try chosen.map { try Self.statement($0, arguments: arguments, captured: captured) }
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
            throw await failure(error, action: action, arguments: arguments, captured: captured, target: target)
        }
        results = Array(results.dropFirst(before.count).prefix(statements.count))
        return render(chosen, results: results, arguments: arguments)
    }

    /// Stops a confirmed action whose object changed since the preview: the preview steps that
    /// capture the action's `recheck` columns (and its refusal steps) run again, and any
    /// difference stops the action before it changes anything. CONCURRENTLY statements cannot
    /// share a transaction with the check: a change in the moment between the two is not caught.
    func recheck(_ declaration: CommandDeclaration, action: RunbookAction, arguments: BoundArguments,
                 captured: [String: [String?]], target: String?) async throws {
        guard !action.recheck.isEmpty, let spec = declaration.runbook else { return }
        let columns = Set(action.recheck)
        let steps = spec.steps.filter { !columns.isDisjoint(with: $0.capture) || ($0.refuse != nil && !$0.generated) }
        let results = try await StepQueries.run(steps, arguments: arguments, target: target, database: database)
        var refusals: [String] = []
        var now: [String: [String?]] = [:]
        for (step, result) in zip(steps, results) {
            if let refuse = step.refuse, !result.rows.isEmpty {
                refusals.append(renderer.fill(refuse, result: result, arguments: arguments, columns: step.columns))
            }
            for column in step.capture where columns.contains(column) {
                guard let i = result.columns.firstIndex(of: column) else { continue }
                now[column, default: []].append(contentsOf: result.rows.map { i < $0.count ? $0[i] : nil })
            }
        }
        // The object itself first: when it is gone or another one, the rest follows from that.
        var changes: [String] = []
        let columnsInOrder = action.recheck.filter { $0 == "oid" } + action.recheck.filter { $0 != "oid" }
        for column in columnsInOrder {
            let before = captured[column] ?? [], after = now[column] ?? []
            guard before != after else { continue }
            if after.isEmpty {
                changes.append(action.recheckGone.map { renderer.fill($0, result: QueryResult(columns: [], rows: []), arguments: arguments) }
                               ?? "it no longer exists")
                break
            }
            if column == "oid" {
                changes.append("it was dropped and re-created under the same name since the preview")
                break
            }
            changes.append("\(column) was \(Self.shown(before)) at the preview and is \(Self.shown(after)) now")
        }
        changes += refusals
        guard !changes.isEmpty else { return }
        throw ActionFailure(message: "Not run: " + changes.joined(separator: "; ")
                                + ". Nothing was changed; run /\(declaration.name) again for a fresh preview.",
                            blocks: [])
    }

    static func shown(_ values: [String?]) -> String {
        values.map { "'" + ($0 ?? "NULL") + "'" }.joined(separator: ", ")
    }

    /// The error of a failed action with PostgreSQL's DETAIL, and what its `on_failure`
    /// statements find (the leftover of a failed REINDEX CONCURRENTLY, and how to drop it).
    func failure(_ error: any Error, action: RunbookAction, arguments: BoundArguments, captured: [String: [String?]],
                 target: String?) async -> any Error {
        guard let presentable = error as? PresentableError else { return error }
        var message = presentable.description
        if let detail = (error as? any ServerDetailed)?.serverDetail, !detail.isEmpty { message += " DETAIL: \(detail)" }
        var blocks: [ReplyBlock] = []
        let chosen = action.onFailure.filter { $0.applies(to: arguments) }
        if let statements = try? chosen.map({ try Self.statement($0, arguments: arguments, captured: captured) }),
           !statements.isEmpty, let results = try? await database.run(statements, on: target, mode: .readOnly) {
            blocks = render(chosen, results: results, arguments: arguments).blocks
        }
        return ActionFailure(message: message, blocks: blocks)
    }

    /// One action statement with its parameters and identifiers bound.
    static func statement(_ s: RunbookStatement, arguments: BoundArguments, captured: [String: [String?]]) throws -> SQLStatement {
        var parameters: [String?] = []
        for p in s.parameters { parameters.append(try value(for: p, arguments: arguments, captured: captured)) }
        var identifiers: [String: String] = [:]
        for i in s.identifiers { identifiers[i] = try identifier(for: i, arguments: arguments, captured: captured) }
        var literals: [String: String] = [:]
        for l in s.literals { literals[l] = try identifier(for: l, arguments: arguments, captured: captured) }
        var sql = s.sql
        for name in s.integers {
            let text = try identifier(for: name, arguments: arguments, captured: captured)
            guard let value = Int(text) else { throw TriageError(.config, "\(name) is not an integer") }
            sql = sql.replacingOccurrences(of: "{{integer:\(name)}}", with: String(value))
        }
        return SQLStatement(sql, parameters: parameters, identifiers: identifiers, literals: literals)
    }

    /// The blocks of an action's results and a one-line summary.
    func render(_ chosen: [RunbookStatement], results: [QueryResult], arguments: BoundArguments) -> ActionResult {
        var blocks: [ReplyBlock] = []
        var lines: [String] = []
        for (s, r) in zip(chosen, results) {
            if r.columns.isEmpty {
                lines.append(r.commandTag)
                continue
            }
            // `problem` values are warnings, not a column.
            let problems = r.columns.firstIndex(of: "problem").map { i in r.rows.compactMap { $0[i] }.filter { !$0.isEmpty } } ?? []
            let specs = s.columns.isEmpty ? r.columns.enumerated().map { c in
                // Undeclared columns: t/f read as yes/no.
                ColumnSpec(name: c.element, unit: !r.rows.isEmpty && r.rows.allSatisfy { $0[c.offset] == "t" || $0[c.offset] == "f" } ? .boolean : .none)
            } : s.columns
            let shown = specs.filter { $0.name != "problem" }
            let step = RunbookStep(title: s.title, sql: s.sql, columns: shown,
                                   emptyText: "nothing matched any more (changed since the preview)")
            let (b, _) = renderer.render(step, result: r, arguments: arguments)
            blocks.append(contentsOf: b)
            blocks.append(contentsOf: problems.map { .note($0, .warning) })
            // A boolean column (terminated, cancelled) counts what was done.
            let flags = r.columns.indices.filter { c in r.rows.allSatisfy { $0[c] == "t" || $0[c] == "f" } }
            if r.rows.isEmpty {
                lines.append("nothing matched any more")
            } else if let c = flags.first {
                lines.append("\(r.columns[c]): \(r.rows.filter { $0[c] == "t" }.count) of \(r.rows.count)")
            } else {
                let values = shown.compactMap { c in
                    r.columns.firstIndex(of: c.name).map { "\(c.title) \(ValueFormatter.format(r.rows[0][$0], unit: c.unit))" }
                }
                lines.append((s.title ?? "rows") + ": " + values.joined(separator: ", "))
            }
            lines.append(contentsOf: problems)
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
