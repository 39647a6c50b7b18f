import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/pg explain QUERYID`: the plan of a statement from pg_stat_statements, without running it.
/// See ``ExplainPlan`` for how statements with `$n` parameters are explained on PostgreSQL 15.
public struct ExplainCommand: CommandHandler {
    let database: any SQLRunner

    public init(database: any SQLRunner) {
        self.database = database
    }

    public var declarations: [CommandDeclaration] {
        [CommandDeclaration(words: ["pg", "explain"],
                            summary: "The plan of a pg_stat_statements entry (plain EXPLAIN, never ANALYZE, read-only; generic plan for $n parameters).",
                            section: "2. Slow Queries",
                            symptoms: ["slow queries", "bad query plans", "missing index", "queries that were fast are now slow"],
                            arguments: [ArgumentDeclaration(name: "queryid", type: .string, isRequired: true, help: "the queryid shown by /pg slow"),
                                        ArgumentDeclaration(name: "db", type: .string, isFlag: true, help: "database target (default: the first configured)")],
                            kind: .diagnostic)]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        let raw = context.arguments.string("queryid") ?? ""
        guard let queryID = Int64(raw) else {
            throw UsageError(.badArgument, "QUERYID is the number shown by /pg slow, not '\(raw.prefix(40))'.",
                             usage: context.declaration.usage)
        }
        let target = context.arguments.string("db")
        let ext = try await database.run([SQLStatement("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")],
                                         on: target, mode: .readOnly)[0]
        guard !ext.rows.isEmpty else {
            throw TriageError(.notFound, "pg_stat_statements is not installed in this database, so there are no query ids. CREATE EXTENSION pg_stat_statements;")
        }
        let lookup = SQLStatement("""
            SELECT query, calls, round(mean_exec_time::numeric, 2) AS mean_ms, round(total_exec_time::numeric, 2) AS total_ms, rows
            FROM pg_stat_statements
            WHERE queryid = $1::bigint AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY calls DESC LIMIT 1
            """, parameters: [String(queryID)])
        let found = try await database.run([lookup], on: target, mode: .readOnly)[0]
        guard let query = found.value("query") else {
            throw TriageError(.notFound, "No statement with queryid \(queryID) in pg_stat_statements for this database. /pg slow lists them.")
        }
        let stats = KeyValue("statement stats", "\(found.value("calls") ?? "?") calls, mean \(ValueFormatter.format(found.value("mean_ms"), unit: .milliseconds)), total \(ValueFormatter.format(found.value("total_ms"), unit: .milliseconds))")
        guard ExplainPlan.isExplainable(query) else {
            let reply = Reply(title: "Cannot explain queryid \(queryID)",
                              blocks: [.note("EXPLAIN only accepts SELECT, INSERT, UPDATE, DELETE, MERGE, VALUES and TABLE statements; this is '\(ExplainPlan.leadingKeyword(query))'.", .warning),
                                       .code(query), .keyValues([stats])],
                              mark: .warning, summary: "queryid \(queryID) is not explainable")
            return CommandOutcome(reply: reply, recordsCommand: true)
        }
        if !(try await database.run([ExplainPlan.leftover], on: target, mode: .readOnly)[0].rows.isEmpty) {
            _ = try await database.run([ExplainPlan.cleanup], on: target, mode: .readOnly)
        }
        let (statements, parameters) = ExplainPlan.statements(for: query)
        let results = try await database.run(statements, on: target, mode: .readOnly)
        let plan = results[ExplainPlan.planIndex(parameters: parameters)].rows.compactMap { $0.first ?? nil }
        let seqScans = plan.filter { $0.contains("Seq Scan") }.count
        var blocks: [ReplyBlock] = [.code(query), .keyValues([stats,
            KeyValue("plan", parameters == 0 ? "plain EXPLAIN (no parameters)"
                                             : "generic plan for \(parameters) parameter\(parameters == 1 ? "" : "s") ($n), via PREPARE + plan_cache_mode = force_generic_plan")]),
            .code(plan.joined(separator: "\n"))]
        if seqScans > 0 {
            blocks.append(.note("\(seqScans) sequential scan\(seqScans == 1 ? "" : "s") in the plan: on a large table an index on the filtered columns may help (/pg indexes TABLE).", .warning))
        }
        let reply = Reply(title: "Plan of queryid \(queryID) (not executed)", blocks: blocks, mark: seqScans > 0 ? .warning : .none,
                          summary: "plan of \(queryID): \(plan.first?.trimmingCharacters(in: .whitespaces) ?? "")")
        return CommandOutcome(reply: reply, recordsCommand: true)
    }
}
