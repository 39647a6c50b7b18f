import Foundation
import TriageCore
import TriagePostgres
import TriageStore

/// The guard around database actions: a read-only preview of exactly what would be affected,
/// a single-use token that expires, and on `/confirm` a run of exactly what the preview
/// showed (the preview's captured values are re-checked by the action's own SQL).
public struct ConfirmationFlow: ActionFlow {
    let database: any SQLRunner
    /// How long a token stays valid.
    public let lifetime: TimeInterval
    let renderer = StepRenderer()

    public init(database: any SQLRunner, lifetime: TimeInterval = 300) {
        self.database = database
        self.lifetime = lifetime
    }

    // MARK: Preview

    public func preview(_ context: CommandContext, spec: RunbookSpec) async throws -> CommandOutcome {
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
                    guard let i = result.columns.firstIndex(of: column) else {
                        throw TriageError(.config, "/\(context.declaration.name): the preview has no column '\(column)' to capture.")
                    }
                    captured[column, default: []].append(contentsOf: result.rows.map { $0[i] })
                }
            }
        }
        let name = context.declaration.name
        if !refusals.isEmpty {
            blocks.append(contentsOf: refusals.map { .note($0, .critical) })
            return CommandOutcome(reply: Reply(title: "Cannot run: \(context.parsed.line)", blocks: blocks, mark: .critical,
                                               summary: "refused: " + refusals.joined(separator: "; ")),
                                  recordsCommand: true)
        }
        if nothingToDo {
            return CommandOutcome(reply: Reply(title: "Nothing to do: \(context.parsed.line)", blocks: blocks, mark: .ok,
                                               summary: "nothing to do: " + (summaries.first ?? name)),
                                  recordsCommand: true)
        }
        let extra = action.extraConfirmationWhen.map { context.arguments.flag($0) } ?? false
        let needed = max(1, context.declaration.confirmations) + (extra ? 1 : 0)
        let token = Self.newToken()
        let expires = context.now.addingTimeInterval(lifetime)
        var facts = (action.lockLevel.map { [KeyValue("lock", $0)] } ?? []) + [
                     KeyValue("confirmations needed", "\(needed)" + (extra ? " (this one rewrites or blocks; a second /confirm is asked for)" : "")),
                     KeyValue("token", token),
                     KeyValue("expires", UTCTime.format(expires) + " (in \(DurationFormatter.format(seconds: lifetime)))")]
        if let t = target { facts.insert(KeyValue("database", t), at: 0) }
        blocks.append(.keyValues(facts))
        if let warning = action.warning { blocks.append(.note(warning, .warning)) }
        blocks.append(.note("To run exactly this: /confirm \(token) (operator). To drop it: /cancel \(token).", .warning))
        let summary = "preview " + (summaries.first ?? name) + "; confirm with /confirm \(token)"
        let reply = Reply(title: "Preview (nothing has run yet): \(context.parsed.line)", blocks: blocks, mark: .warning, summary: summary)
        let m = context.message
        let pending = PendingAction(token: token, platform: m.platform, room: m.room, command: name, line: context.parsed.line,
                                    target: target, requestedBy: m.senderName, captured: captured,
                                    confirmationsNeeded: needed, createdAt: context.now, expiresAt: expires)
        let line = context.parsed.line
        return CommandOutcome(reply: reply, recordsCommand: false) { tx, reply in
            try tx.insert(pending)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room) {
                try tx.append(TimelineEvent(incidentID: incident.id!, at: context.now, actor: m.senderName, kind: .preview,
                                            command: line, text: summary,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            return reply
        }
    }

    // MARK: Run after confirmation

    /// Runs a confirmed action's statements for `arguments`, with the preview's captured values.
    /// - Returns: the result blocks and a one-line summary.
    public func execute(_ declaration: CommandDeclaration, arguments: BoundArguments, pending: PendingAction) async throws -> ([ReplyBlock], String) {
        guard let action = declaration.runbook?.action else {
            throw TriageError(.notFound, "/\(declaration.name) has nothing to run.")
        }
        let captured = pending.capturedValues
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
            results = try await database.run(before + statements + after, on: pending.target, mode: mode)
        } catch {
            if action.autocommit && !after.isEmpty { _ = try? await database.run(after, on: pending.target, mode: mode) }
            throw await failure(error, action: action, arguments: arguments, pending: pending)
        }
        results = Array(results.dropFirst(before.count).prefix(statements.count))
        return render(chosen, results: results, arguments: arguments)
    }

    /// The error of a failed action with PostgreSQL's DETAIL, and what its `on_failure`
    /// statements find (the leftover of a failed REINDEX CONCURRENTLY, and how to drop it).
    func failure(_ error: any Error, action: RunbookAction, arguments: BoundArguments, pending: PendingAction) async -> any Error {
        guard let presentable = error as? PresentableError else { return error }
        var message = presentable.description
        if let pg = error as? PostgresError, let detail = pg.detail, !detail.isEmpty { message += " DETAIL: \(detail)" }
        var blocks: [ReplyBlock] = []
        let chosen = action.onFailure.filter { $0.applies(to: arguments) }
        if let statements = try? chosen.map({ try Self.statement($0, arguments: arguments, captured: pending.capturedValues) }),
           !statements.isEmpty, let results = try? await database.run(statements, on: pending.target, mode: .readOnly) {
            blocks = render(chosen, results: results, arguments: arguments).0
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
    func render(_ chosen: [RunbookStatement], results: [QueryResult], arguments: BoundArguments) -> ([ReplyBlock], String) {
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
        return (blocks, lines.joined(separator: "; "))
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

    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// A short random token that is easy to type on a phone.
    public static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// A confirmed action that failed: the message (with PostgreSQL's DETAIL) and what its
/// `on_failure` statements found.
struct ActionFailure: PresentableError {
    var message: String
    var blocks: [ReplyBlock]
    var description: String { message }
}
