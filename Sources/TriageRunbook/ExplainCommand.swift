import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/pg explain QUERYID`: the plan of a statement from pg_stat_statements, without running it,
/// and `/pg explain-analyze QUERYID [VALUES…]` (operator): the statement run once with
/// `EXPLAIN (ANALYZE, BUFFERS)`, only for statements that read, in a read-only transaction
/// that is rolled back, under a statement timeout.
///
/// Both plan application SQL, which runs application code (IMMUTABLE and STABLE functions
/// are folded while planning; ANALYZE runs everything), so both run as the role that ran the
/// statement (`pg_stat_statements.userid`), or refuse with the reason: see ``StatementRole``.
/// Both transactions are rolled back, so session settings the code changes do not outlive it.
/// See ``ExplainPlan`` for how statements with `$n` parameters are explained on PostgreSQL 15.
public struct ExplainCommand: ActionHandler {
    let database: any SQLRunner

    public init(database: any SQLRunner) {
        self.database = database
    }

    public var declarations: [CommandDeclaration] {
        let db = ArgumentDeclaration(name: "db", type: .string, isFlag: true, help: "database target (default: the first configured)")
        let queryID = ArgumentDeclaration(name: "queryid", type: .string, isRequired: true, help: "the queryid shown by /pg slow")
        return [
            CommandDeclaration(words: ["pg", "explain"],
                               summary: "The plan of a pg_stat_statements entry (plain EXPLAIN, never ANALYZE, read-only, as the statement's own role; generic plan for $n parameters).",
                               section: "2. Slow Queries",
                               symptoms: ["slow queries", "bad query plans", "missing index", "queries that were fast are now slow"],
                               arguments: [queryID, db],
                               kind: .diagnostic),
            CommandDeclaration(words: ["pg", "explain-analyze"],
                               summary: "Run a recorded SELECT once with EXPLAIN (ANALYZE, BUFFERS): as its own role, read-only, rolled back, under a timeout; never a statement that writes.",
                               section: "2. Slow Queries",
                               symptoms: ["slow queries", "bad query plans", "estimates are wrong"],
                               arguments: [queryID,
                                           ArgumentDeclaration(name: "values", type: .text,
                                                               help: "a value for each $n, in order, separated by spaces ('quoted' for spaces, NULL for null)"),
                                           ArgumentDeclaration(name: "timeout", type: .duration, isFlag: true, defaultValue: "10s",
                                                               help: "statement timeout for the run (at most 5m)"),
                                           db],
                               kind: .action, role: .operator, confirmations: 1),
        ]
    }

    /// What one explain run came to.
    enum Step {
        /// Refused, with the reason: nothing was evaluated.
        case refused(Reply, why: String)
        /// `explain-analyze` before confirmation: what would run, as whom, for how long.
        case preview([ReplyBlock], summary: String, arguments: BoundArguments)
        case done(Reply)
    }

    /// `/pg explain` (a diagnostic).
    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        switch try await run(context, analyze: false, previewOnly: false) {
        case .refused(let reply, _), .done(let reply): return CommandOutcome(reply: reply, recordsCommand: true)
        case .preview(let blocks, let summary, _): return CommandOutcome(reply: Reply(blocks: blocks, summary: summary), recordsCommand: true)
        }
    }

    /// `/pg explain-analyze`, before confirmation: the statement, the role it runs as, the
    /// timeout; or why it cannot run (it writes, the role cannot be taken).
    public func preview(_ context: CommandContext) async throws -> ActionPreview {
        let target = context.arguments.string("db")
        switch try await run(context, analyze: true, previewOnly: true) {
        case .refused(let reply, let why):
            return ActionPreview(blocks: reply.blocks, summary: reply.summary, target: target, refusals: [why])
        case .preview(let blocks, let summary, let arguments):
            return ActionPreview(blocks: blocks, summary: summary, target: target,
                                 lockLevel: "none: read-only, rolled back (the query's own locks while it runs)",
                                 warning: "It runs the statement once for real: the server does its full work.",
                                 arguments: arguments)
        case .done(let reply):
            return ActionPreview(blocks: reply.blocks, summary: reply.summary, target: target)
        }
    }

    /// `/pg explain-analyze`, confirmed: runs it once, rolled back.
    public func execute(_ context: CommandContext, captured: [String: [String?]], target: String?) async throws -> ActionResult {
        switch try await run(context, analyze: true, previewOnly: false) {
        case .refused(_, let why): throw TriageError(.conflict, "Not run: \(why)")
        case .preview(let blocks, let summary, _): return ActionResult(blocks: blocks, summary: summary)
        case .done(let reply): return ActionResult(blocks: reply.blocks, summary: reply.summary ?? "run once, rolled back")
        }
    }

    /// The values typed after the queryid, kept in the bound arguments at preview (as JSON)
    /// so that the confirmation runs exactly them.
    static let valuesKey = "values-json"

    func run(_ context: CommandContext, analyze: Bool, previewOnly: Bool) async throws -> Step {
        let raw = context.arguments.string("queryid") ?? ""
        guard let queryID = Int64(raw) else {
            throw UsageError(.badArgument, "QUERYID is the number shown by /pg slow, not '\(raw.prefix(40))'.",
                             usage: context.declaration.usage)
        }
        var arguments = context.arguments
        var values: [String?] = []
        if analyze {
            if let json = context.arguments.string(Self.valuesKey),
               let stored = try? JSONDecoder().decode([String?].self, from: Data(json.utf8)) {
                values = stored   // confirmed: exactly what the preview showed
            } else {
                (arguments, values) = try Self.analyzeArguments(context)
                let json = (try? JSONEncoder().encode(values)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
                arguments.values[Self.valuesKey] = .string(json)
            }
        }
        let target = arguments.string("db")
        let ext = try await database.run([SQLStatement("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")],
                                         on: target, mode: .readOnly)[0]
        guard !ext.rows.isEmpty else {
            throw TriageError(.notFound, "pg_stat_statements is not installed in this database, so there are no query ids. CREATE EXTENSION pg_stat_statements;")
        }
        let lookup = SQLStatement("""
            SELECT query, userid::text AS userid, calls, round(mean_exec_time::numeric, 2) AS mean_ms,
                   round(total_exec_time::numeric, 2) AS total_ms, rows
            FROM pg_stat_statements
            WHERE queryid = $1::bigint AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY calls DESC LIMIT 1
            """, parameters: [String(queryID)])
        let found = try await database.run([lookup], on: target, mode: .readOnly)[0]
        guard let query = found.value("query"), let userID = found.value("userid") else {
            throw TriageError(.notFound, "No statement with queryid \(queryID) in pg_stat_statements for this database. /pg slow lists them.")
        }
        let stats = KeyValue("statement stats", "\(found.value("calls") ?? "?") calls, mean \(ValueFormatter.format(found.value("mean_ms"), unit: .milliseconds)), total \(ValueFormatter.format(found.value("total_ms"), unit: .milliseconds))")
        func refuse(_ why: String, _ summary: String) -> Step {
            let reply = Reply(title: "Cannot \(analyze ? "run" : "explain") queryid \(queryID)",
                              blocks: [.note(why, .warning), .code(query), .keyValues([stats])],
                              mark: .warning, summary: "queryid \(queryID): \(summary)")
            return .refused(reply, why: why)
        }
        guard ExplainPlan.isExplainable(query) else {
            return refuse("EXPLAIN only accepts SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES and TABLE statements; this is '\(ExplainPlan.leadingKeyword(query))'.",
                          "not explainable")
        }
        if analyze, let why = ExplainPlan.writeRefusal(query) {
            return refuse(why, "writes; not run")
        }
        let parameters = RunbookLoader.highestPlaceholder(in: query)
        if analyze {
            guard values.count == parameters else {
                throw UsageError(.badArgument, "queryid \(queryID) has \(parameters) parameter\(parameters == 1 ? "" : "s") ($1…$\(parameters)); give \(parameters) value\(parameters == 1 ? "" : "s"), not \(values.count).",
                                 usage: context.declaration.usage)
            }
        }
        let role = StatementRole(try await database.run([StatementRole.probe(userID: userID)], on: target, mode: .readOnly)[0])
        if let why = role.refusal {
            return refuse(why, "not evaluated: \(role.role ?? "dropped role")")
        }
        if previewOnly {
            let timeout = min(300, max(1, arguments["timeout"]?.intValue ?? 10))
            let shown = values.isEmpty ? "none" : values.map { $0.map { "'\($0.prefix(60))'" } ?? "NULL" }.joined(separator: ", ")
            return .preview([.code(query), .keyValues([stats,
                                                       KeyValue("would run", "EXPLAIN (ANALYZE, BUFFERS) once, as \(role.role ?? "?"), read-only, rolled back"),
                                                       KeyValue("values", shown),
                                                       KeyValue("timeout", "\(timeout)s")])],
                            summary: "explain-analyze \(queryID) as \(role.role ?? "?")", arguments: arguments)
        }
        if !(try await database.run([ExplainPlan.leftover], on: target, mode: .readOnly)[0].rows.isEmpty) {
            _ = try await database.run([ExplainPlan.cleanup], on: target, mode: .readOnly)
        }
        let setRole = role.setRole.map { [$0] } ?? []
        var before = setRole
        let plan: [String]
        let how: String
        if analyze {
            let timeoutMs = min(300, max(1, arguments["timeout"]?.intValue ?? 10)) * 1000
            before.append(SQLStatement("SELECT set_config('statement_timeout', $1, true)", parameters: [String(timeoutMs)]))
            let statements = ExplainPlan.analyzeStatements(for: query, values: values)
            let results = try await database.run(before + statements, on: target, mode: .readOnlyRolledBack)
            plan = results[before.count].rows.compactMap { $0.first ?? nil }
            how = "EXPLAIN (ANALYZE, BUFFERS), run once as \(role.role ?? "?") in a read-only transaction that was rolled back, timeout \(timeoutMs / 1000)s"
        } else {
            let (statements, _) = ExplainPlan.statements(for: query)
            // Rolled back, not committed: settings the planned code changed for the session
            // (set_config(…, false): search_path, role, …) are undone with the transaction.
            let results = try await database.run(before + statements, on: target, mode: .readOnlyRolledBack)
            plan = results[before.count + ExplainPlan.planIndex(parameters: parameters)].rows.compactMap { $0.first ?? nil }
            how = (parameters == 0 ? "plain EXPLAIN (no parameters)"
                                   : "generic plan for \(parameters) parameter\(parameters == 1 ? "" : "s") ($n), via PREPARE + plan_cache_mode = force_generic_plan")
                + ", planned as \(role.role ?? "?")"
        }
        let seqScans = plan.filter { $0.contains("Seq Scan") }.count
        var blocks: [ReplyBlock] = [.code(query), .keyValues([stats, KeyValue("plan", how)]), .code(plan.joined(separator: "\n"))]
        if seqScans > 0 {
            let suggested = SeqScanSuggestion.suggestions(in: plan)
            let next = suggested.isEmpty ? "/pg indexes TABLE" : suggested.map(\.command).joined(separator: ", ")
            blocks.append(.note("\(seqScans) sequential scan\(seqScans == 1 ? "" : "s") in the plan: on a large table an index on the filtered columns may help (\(next)).", .warning))
        }
        let title = analyze ? "Plan of queryid \(queryID) (run once, rolled back)" : "Plan of queryid \(queryID) (not executed)"
        let reply = Reply(title: title, blocks: blocks, mark: seqScans > 0 ? .warning : .none,
                          summary: "plan of \(queryID): \(plan.first?.trimmingCharacters(in: .whitespaces) ?? "")")
        return .done(reply)
    }

    /// `/pg explain-analyze QUERYID [VALUE…]` with its flags anywhere: the declared `values`
    /// text would swallow flags typed after the values, so the line's tokens are split here —
    /// flags bound as declared, every positional after the queryid a value (an unquoted NULL
    /// is null, a quoted one the text).
    static func analyzeArguments(_ context: CommandContext) throws -> (BoundArguments, [String?]) {
        let tokens = Array(context.parsed.tokens.dropFirst(max(0, context.declaration.words.count - 1)))
        var positional: [CommandToken] = []
        var flags: [CommandToken] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            if t.isFlag {
                flags.append(t)
                if !t.text.contains("="), i + 1 < tokens.count, !tokens[i + 1].isFlag {
                    flags.append(tokens[i + 1])
                    i += 1
                }
            } else {
                positional.append(t)
            }
            i += 1
        }
        var declaration = context.declaration
        declaration.arguments.removeAll { $0.name == "values" }
        let bound = try CommandRegistry().bind(Array(positional.prefix(1)) + flags, to: declaration)
        let values = positional.dropFirst().map { t -> String? in !t.quoted && t.text.uppercased() == "NULL" ? nil : t.text }
        return (bound, values)
    }
}
