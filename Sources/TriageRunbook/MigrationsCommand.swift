import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/pg migrations`: Prisma's `_prisma_migrations` (failed, unfinished, latest applied) in
/// every schema that has one, and the other migration tables named in the config's
/// `migrations:` section.
public struct MigrationsCommand: CommandHandler {
    /// A migration table from the config. `failed` names a boolean column that is true for a
    /// failed migration (golang-migrate's `dirty`); `success` one that is false for it (Flyway).
    public struct Table: Sendable, Equatable {
        public var table: String
        public var name: String
        public var appliedAt: String?
        public var failed: String?
        public var success: String?

        public init(table: String, name: String, appliedAt: String? = nil, failed: String? = nil, success: String? = nil) {
            self.table = table
            self.name = name
            self.appliedAt = appliedAt
            self.failed = failed
            self.success = success
        }

        /// Well-known tools' tables.
        public static let presets: [String: Table] = [
            "flyway": Table(table: "flyway_schema_history", name: "script", appliedAt: "installed_on", success: "success"),
            "golang-migrate": Table(table: "schema_migrations", name: "version", failed: "dirty"),
            "knex": Table(table: "knex_migrations", name: "name", appliedAt: "migration_time"),
            "typeorm": Table(table: "migrations", name: "name", appliedAt: "timestamp"),
        ]
    }

    let database: any SQLRunner
    let tables: [Table]

    public init(database: any SQLRunner, tables: [Table] = []) {
        self.database = database
        self.tables = tables
    }

    /// Reads `migrations: {tables: [{preset: flyway} | {table, name, applied_at, failed, success}]}`.
    public init(database: any SQLRunner, config node: YAMLNode?) throws {
        var tables: [Table] = []
        if let node {
            try node.checkKeys(["tables"])
            for n in try node["tables"]?.list() ?? [] {
                try n.checkKeys(["preset", "table", "name", "applied_at", "failed", "success"])
                var t: Table
                if let preset = try n.string("preset") {
                    guard let p = Table.presets[preset] else {
                        throw n["preset"]!.error("unknown preset '\(preset)'; known: \(Table.presets.keys.sorted().joined(separator: ", "))")
                    }
                    t = p
                    if let table = try n.string("table") { t.table = table }
                } else {
                    t = Table(table: try n.required("table").string(), name: try n.required("name").string())
                }
                if let v = try n.string("name") { t.name = v }
                if let v = try n.string("applied_at") { t.appliedAt = v }
                if let v = try n.string("failed") { t.failed = v }
                if let v = try n.string("success") { t.success = v }
                tables.append(t)
            }
        }
        self.init(database: database, tables: tables)
    }

    public var declarations: [CommandDeclaration] {
        [CommandDeclaration(words: ["pg", "migrations"],
                            summary: "Migration state: Prisma's failed and unfinished migrations and the latest applied; other migration tables from the config.",
                            section: "4. Migration Rollback",
                            symptoms: ["failed migration", "application fails after migration", "schema errors in logs", "partial migration"],
                            arguments: [ArgumentDeclaration(name: "limit", type: .integer(min: 1, max: 200), isFlag: true, defaultValue: "10",
                                                            help: "recent migrations to list per table"),
                                        ArgumentDeclaration(name: "db", type: .string, isFlag: true, help: "database target (default: the first configured)")],
                            kind: .diagnostic)]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        let target = context.arguments.string("db")
        let limit = String(context.arguments.int("limit") ?? 10)
        func run(_ s: SQLStatement) async throws -> QueryResult {
            try await database.run([s], on: target, mode: .readOnly)[0]
        }
        var blocks: [ReplyBlock] = []
        var findings: [String] = []
        var found = 0
        let prisma = try await run(SQLStatement("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = '_prisma_migrations' AND c.relkind IN ('r', 'p') ORDER BY n.nspname
            """))
        for row in prisma.rows {
            guard let schema = row[0], let name = row[1] else { continue }
            found += 1
            let ids = ["s": schema, "t": name]
            let counts = try await run(SQLStatement("""
                SELECT count(*) AS total,
                       count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL) AS applied,
                       count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL AND logs IS NOT NULL) AS failed,
                       count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL AND logs IS NULL) AS unfinished,
                       count(*) FILTER (WHERE rolled_back_at IS NOT NULL) AS rolled_back,
                       (SELECT migration_name FROM {{ident:s}}.{{ident:t}} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
                        ORDER BY finished_at DESC, migration_name DESC LIMIT 1) AS latest,
                       (SELECT finished_at FROM {{ident:s}}.{{ident:t}} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
                        ORDER BY finished_at DESC LIMIT 1)::text AS latest_at
                FROM {{ident:s}}.{{ident:t}}
                """, identifiers: ids))
            let failed = Int(counts.value("failed") ?? "0") ?? 0
            let unfinished = Int(counts.value("unfinished") ?? "0") ?? 0
            blocks.append(.text("Prisma (\(schema)._prisma_migrations)"))
            blocks.append(.keyValues([
                KeyValue("migrations", counts.value("total") ?? "0"),
                KeyValue("applied", counts.value("applied") ?? "0"),
                KeyValue("failed", String(failed), mark: failed > 0 ? .critical : .none),
                KeyValue("unfinished (started, not finished)", String(unfinished), mark: unfinished > 0 ? .critical : .none),
                KeyValue("rolled back", counts.value("rolled_back") ?? "0"),
                KeyValue("latest applied", (counts.value("latest") ?? "none") + (counts.value("latest_at").map { " at \(ValueFormatter.timestamp($0))" } ?? "")),
            ]))
            if failed > 0 { findings.append("\(failed) failed") }
            if unfinished > 0 { findings.append("\(unfinished) unfinished") }
            let problems = try await run(SQLStatement("""
                SELECT migration_name AS migration,
                       CASE WHEN logs IS NOT NULL THEN 'FAILED' ELSE 'UNFINISHED' END AS state,
                       started_at::text AS started, extract(epoch FROM now() - started_at)::bigint AS age_s,
                       applied_steps_count AS steps, left(regexp_replace(coalesce(logs, ''), '\\s+', ' ', 'g'), 300) AS logs
                FROM {{ident:s}}.{{ident:t}} WHERE finished_at IS NULL AND rolled_back_at IS NULL
                ORDER BY started_at
                """, identifiers: ids))
            if !problems.rows.isEmpty {
                blocks.append(.table(ReplyTable(title: "Failed and unfinished", columns: ["migration", "state", "started", "ago", "steps", "logs"],
                                                rows: problems.rows.map { r in
                                                    [ReplyCell(r[0] ?? ""), ReplyCell(r[1] ?? "", mark: .critical), ReplyCell(ValueFormatter.timestamp(r[2] ?? "")),
                                                     ReplyCell(ValueFormatter.format(r[3], unit: .duration)), ReplyCell(r[4] ?? ""), ReplyCell(r[5] ?? "")]
                                                })))
                blocks.append(.text("Next: fix or revert the schema change, then `npx prisma migrate resolve --rolled-back NAME` (or --applied); /pg invalid-indexes and /pg locks show what a failed or hanging migration left."))
            }
            let recent = try await run(SQLStatement("""
                SELECT migration_name, coalesce(finished_at::text, '') AS finished,
                       CASE WHEN rolled_back_at IS NOT NULL THEN 'rolled back' WHEN finished_at IS NOT NULL THEN 'applied'
                            WHEN logs IS NOT NULL THEN 'FAILED' ELSE 'UNFINISHED' END AS state
                FROM {{ident:s}}.{{ident:t}} ORDER BY started_at DESC, migration_name DESC LIMIT $1
                """, parameters: [limit], identifiers: ids))
            blocks.append(.table(ReplyTable(title: "Most recent", columns: ["migration", "finished", "state"],
                                            rows: recent.rows.map { r in
                                                [ReplyCell(r[0] ?? ""), ReplyCell(ValueFormatter.timestamp(r[1] ?? "")),
                                                 ReplyCell(r[2] ?? "", mark: r[2] == "FAILED" || r[2] == "UNFINISHED" ? .critical : .none)]
                                            })))
        }

        for table in tables {
            let resolved = try await run(SQLStatement("""
                SELECT n.nspname, c.relname,
                       array_to_json(ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))::text AS cols
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p')
                  AND (c.oid::regclass::text = $1 OR n.nspname || '.' || c.relname = $1 OR (c.relname = $1 AND pg_table_is_visible(c.oid)))
                ORDER BY pg_table_is_visible(c.oid) DESC LIMIT 1
                """, parameters: [table.table]))
            guard let row = resolved.rows.first, let schema = row[0], let name = row[1] else {
                blocks.append(.text("\(table.table): no such table."))
                continue
            }
            found += 1
            let columns = Set((try? JSONDecoder().decode([String].self, from: Data((row[2] ?? "[]").utf8))) ?? [])
            let wanted = [table.name, table.appliedAt, table.failed, table.success].compactMap { $0 }
            let missing = wanted.filter { !columns.contains($0) }
            guard missing.isEmpty else {
                blocks.append(.note("\(schema).\(name): no column " + missing.joined(separator: ", ") + " (check the migrations config).", .warning))
                continue
            }
            var ids = ["s": schema, "t": name, "name": table.name]
            var state = "''"
            if let f = table.failed {
                ids["failed"] = f
                state = "CASE WHEN {{ident:failed}} THEN 'FAILED' ELSE 'ok' END"
            } else if let s = table.success {
                ids["success"] = s
                state = "CASE WHEN {{ident:success}} THEN 'ok' ELSE 'FAILED' END"
            }
            var applied = "''"
            var order = "{{ident:name}} DESC"
            if let a = table.appliedAt {
                ids["applied"] = a
                applied = "{{ident:applied}}::text"
                order = "{{ident:applied}} DESC NULLS LAST, {{ident:name}} DESC"
            }
            let recent = try await run(SQLStatement("""
                SELECT {{ident:name}}::text AS migration, \(applied) AS applied_at, \(state) AS state
                FROM {{ident:s}}.{{ident:t}} ORDER BY \(order) LIMIT $1
                """, parameters: [limit], identifiers: ids))
            var failedCount = 0
            if table.failed != nil || table.success != nil {
                failedCount = Int(try await run(SQLStatement("SELECT count(*) FROM {{ident:s}}.{{ident:t}} WHERE \(state) = 'FAILED'",
                                                             identifiers: ids)).rows.first?.first.flatMap { $0 } ?? "0") ?? 0
            }
            if failedCount > 0 { findings.append("\(failedCount) failed in \(schema).\(name)") }
            blocks.append(.table(ReplyTable(title: "\(schema).\(name)" + (failedCount > 0 ? ": \(failedCount) failed" : ""),
                                            columns: ["migration", "applied at", "state"],
                                            rows: recent.rows.map { r in
                                                [ReplyCell(r[0] ?? ""), ReplyCell(ValueFormatter.timestamp(r[1] ?? "")), ReplyCell(r[2] ?? "", mark: r[2] == "FAILED" ? .critical : .none)]
                                            }, emptyText: "No migrations recorded.")))
        }
        if found == 0 {
            blocks.append(.text("No migration table found: no _prisma_migrations in any schema" + (tables.isEmpty ? ", and none configured (config: migrations: tables: [{preset: flyway}])." : ".")))
        }
        var reply = Reply(title: "Migrations", blocks: blocks)
        reply.mark = findings.isEmpty ? (found > 0 ? .ok : .none) : .critical
        reply.summary = findings.isEmpty ? "migrations: no failed or unfinished migrations" : "migrations: " + findings.joined(separator: ", ")
        return CommandOutcome(reply: reply, recordsCommand: true)
    }
}
