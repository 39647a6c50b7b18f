import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/pg integrity`: NOT VALID constraints, invalid indexes, orphaned rows under every foreign
/// key (validated or not), duplicates and NULLs on keys named in the config's `integrity:`
/// section, and B-tree checks with amcheck when it is installed. Read-only throughout; each
/// probe runs on its own so one timeout does not hide the others.
public struct IntegrityCommand: CommandHandler {
    /// A key from the config: `{table: public.products, columns: [sku]}`.
    public struct KeySpec: Sendable, Equatable {
        public var table: String
        public var columns: [String]
    }

    let database: any SQLRunner
    let uniqueKeys: [KeySpec]
    let notNull: [KeySpec]

    public init(database: any SQLRunner, uniqueKeys: [KeySpec] = [], notNull: [KeySpec] = []) {
        self.database = database
        self.uniqueKeys = uniqueKeys
        self.notNull = notNull
    }

    /// Reads the config's `integrity:` section (`unique_keys:` and `not_null:` lists).
    public init(database: any SQLRunner, config node: YAMLNode?) throws {
        var unique: [KeySpec] = []
        var notNull: [KeySpec] = []
        if let node {
            try node.checkKeys(["unique_keys", "not_null"])
            func specs(_ key: String) throws -> [KeySpec] {
                try (node[key]?.list() ?? []).map { n in
                    try n.checkKeys(["table", "columns"])
                    let columns = try n.required("columns").strings()
                    guard !columns.isEmpty else { throw n.error("columns must not be empty") }
                    return KeySpec(table: try n.required("table").string(), columns: columns)
                }
            }
            unique = try specs("unique_keys")
            notNull = try specs("not_null")
        }
        self.init(database: database, uniqueKeys: unique, notNull: notNull)
    }

    public var declarations: [CommandDeclaration] {
        [CommandDeclaration(words: ["pg", "integrity"],
                            summary: "NOT VALID constraints, invalid indexes, orphaned rows per foreign key, duplicates on configured keys, amcheck.",
                            section: "5. Data Corruption Recovery",
                            symptoms: ["inconsistent data", "data corruption", "foreign key constraint violations", "orphaned rows",
                                       "duplicate primary keys", "NULL values in NOT NULL columns", "corrupt index"],
                            arguments: [ArgumentDeclaration(name: "table", type: .identifier, help: "only foreign keys of this table"),
                                        ArgumentDeclaration(name: "cap", type: .integer(min: 1, max: 10_000_000), isFlag: true, defaultValue: "10000",
                                                            help: "stop counting orphans of one key at this many"),
                                        ArgumentDeclaration(name: "amcheck", type: .integer(min: 0, max: 1000), isFlag: true, defaultValue: "20",
                                                            help: "check at most this many B-tree indexes (largest first) with amcheck; 0 skips"),
                                        ArgumentDeclaration(name: "db", type: .string, isFlag: true, help: "database target (default: the first configured)")],
                            kind: .diagnostic)]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        let target = context.arguments.string("db")
        let table = context.arguments.string("table")
        let cap = context.arguments.int("cap") ?? 10_000
        func run(_ s: SQLStatement) async throws -> QueryResult {
            try await database.run([s], on: target, mode: .readOnly)[0]
        }
        var blocks: [ReplyBlock] = []
        var findings: [String] = []

        // 1. Constraints that were never validated, and invalid indexes.
        let notValid = try await run(SQLStatement("""
            SELECT conrelid::regclass::text AS "table", conname AS constraint,
                   CASE contype WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' ELSE contype::text END AS type,
                   pg_get_constraintdef(oid) AS definition
            FROM pg_constraint WHERE NOT convalidated ORDER BY 1, 2
            """))
        blocks.append(.table(ReplyTable(title: "NOT VALID constraints (existing rows were never checked)",
                                        columns: ["table", "constraint", "type", "definition"],
                                        rows: notValid.rows.map { $0.map { ReplyCell($0 ?? "", mark: .warning) } },
                                        emptyText: "Every constraint is validated.")))
        if !notValid.rows.isEmpty { findings.append("\(notValid.rows.count) NOT VALID constraints") }
        let invalid = try await run(SQLStatement("""
            SELECT indrelid::regclass::text AS "table", indexrelid::regclass::text AS index FROM pg_index
            WHERE NOT indisvalid OR NOT indisready ORDER BY 1, 2
            """))
        if !invalid.rows.isEmpty {
            blocks.append(.table(ReplyTable(title: "Invalid indexes (/pg reindex INDEX rebuilds one)", columns: ["table", "index"],
                                            rows: invalid.rows.map { $0.map { ReplyCell($0 ?? "", mark: .warning) } })))
            findings.append("\(invalid.rows.count) invalid indexes")
        }

        // 2. Orphaned rows, one query per foreign key, names from the catalog.
        let fks = try await run(SQLStatement("""
            SELECT c.conname, c.convalidated, cn.nspname AS cs, cc.relname AS ct, pn.nspname AS ps, pc.relname AS pt,
                   array_to_json(ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord))::text AS ccols,
                   array_to_json(ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                                       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord))::text AS pcols
            FROM pg_constraint c
            JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
            JOIN pg_class pc ON pc.oid = c.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE c.contype = 'f' AND c.conparentid = 0
              AND ($1::text IS NULL OR c.conrelid::regclass::text = $1 OR cn.nspname || '.' || cc.relname = $1
                   OR (cc.relname = $1 AND pg_table_is_visible(cc.oid)))
            ORDER BY c.convalidated, cn.nspname, cc.relname, c.conname
            LIMIT 200
            """, parameters: [table]))
        var fkRows: [[ReplyCell]] = []
        for row in fks.rows {
            let r = QueryResult(columns: fks.columns, rows: [row])
            func names(_ column: String) -> [String] {
                (try? JSONDecoder().decode([String].self, from: Data((r.value(column) ?? "[]").utf8))) ?? []
            }
            let query = OrphanQuery(childSchema: r.value("cs") ?? "", childTable: r.value("ct") ?? "", childColumns: names("ccols"),
                                    parentSchema: r.value("ps") ?? "", parentTable: r.value("pt") ?? "", parentColumns: names("pcols"))
            let validated = r.value("convalidated") == "t"
            var count: String
            var mark = Mark.none
            do {
                let n = Int(try await run(query.statement(cap: cap)).value("orphans") ?? "0") ?? 0
                count = n >= cap ? "≥\(n)" : String(n)
                if n > 0 {
                    mark = .critical
                    findings.append("\(count) orphaned rows in \(query.childSchema).\(query.childTable) (\(r.value("conname") ?? ""))")
                }
            } catch let e as PresentableError {
                count = "not counted: \(e.description)"
                mark = .warning
            }
            fkRows.append([ReplyCell("\(query.childSchema).\(query.childTable)(\(query.childColumns.joined(separator: ", ")))"),
                           ReplyCell("\(query.parentSchema).\(query.parentTable)(\(query.parentColumns.joined(separator: ", ")))"),
                           ReplyCell(r.value("conname") ?? ""),
                           ReplyCell(validated ? "valid" : "NOT VALID", mark: validated ? .none : .warning),
                           ReplyCell(count, mark: mark)])
        }
        blocks.append(.table(ReplyTable(title: "Orphaned rows per foreign key (child rows whose parent is missing)",
                                        columns: ["child", "parent", "constraint", "state", "orphans"],
                                        numeric: [false, false, false, false, true], rows: fkRows,
                                        emptyText: table == nil ? "No foreign keys." : "No foreign keys on \(table!).")))

        // 3. Duplicates and NULLs on keys named in the config.
        var keyRows: [[ReplyCell]] = []
        for (index, spec) in (uniqueKeys + notNull).enumerated() {
            let isUnique = index < uniqueKeys.count
            let label = "\(spec.table)(\(spec.columns.joined(separator: ", ")))"
            do {
                guard let (schema, name) = try await resolveTable(spec.table, run: run) else {
                    keyRows.append([ReplyCell(label), ReplyCell(isUnique ? "duplicates" : "NULLs"), ReplyCell("no such table", mark: .warning)])
                    continue
                }
                let existing = try await run(SQLStatement("""
                    SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($3::text[])
                    """, parameters: [schema, name, ConfirmationFlow.arrayLiteral(spec.columns)])).rows.compactMap { $0[0] }
                let missing = spec.columns.filter { !existing.contains($0) }
                guard missing.isEmpty else {
                    keyRows.append([ReplyCell(label), ReplyCell(isUnique ? "duplicates" : "NULLs"),
                                    ReplyCell("no column " + missing.joined(separator: ", "), mark: .warning)])
                    continue
                }
                if isUnique {
                    let r = try await run(DuplicateKeyQuery(schema: schema, table: name, columns: spec.columns).statement())
                    let groups = Int(r.value("groups") ?? "0") ?? 0
                    let extra = r.value("extra_rows") ?? "0"
                    keyRows.append([ReplyCell(label), ReplyCell("duplicates"),
                                    ReplyCell(groups == 0 ? "none" : "\(groups) duplicated keys, \(extra) extra rows", mark: groups > 0 ? .critical : .none)])
                    if groups > 0 { findings.append("\(groups) duplicated keys in \(label)") }
                } else {
                    var idents = ["s": schema, "t": name]
                    var conds: [String] = []
                    for (i, c) in spec.columns.enumerated() {
                        idents["k\(i)"] = c
                        conds.append("{{ident:k\(i)}} IS NULL")
                    }
                    let r = try await run(SQLStatement("SELECT count(*) AS n FROM {{ident:s}}.{{ident:t}} WHERE " + conds.joined(separator: " OR "),
                                                       identifiers: idents))
                    let n = Int(r.value("n") ?? "0") ?? 0
                    keyRows.append([ReplyCell(label), ReplyCell("NULLs"), ReplyCell(n == 0 ? "none" : "\(n) rows with NULLs", mark: n > 0 ? .critical : .none)])
                    if n > 0 { findings.append("\(n) rows with NULLs in \(label)") }
                }
            } catch let e as PresentableError {
                keyRows.append([ReplyCell(label), ReplyCell(isUnique ? "duplicates" : "NULLs"), ReplyCell("not checked: \(e.description)", mark: .warning)])
            }
        }
        if !keyRows.isEmpty {
            blocks.append(.table(ReplyTable(title: "Configured keys", columns: ["key", "check", "result"], rows: keyRows)))
        }

        // 4. amcheck on the largest B-tree indexes.
        let amcheckLimit = context.arguments.int("amcheck") ?? 20
        let hasAmcheck = !(try await run(SQLStatement("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).rows.isEmpty)
        if !hasAmcheck {
            blocks.append(.text("amcheck is not installed (CREATE EXTENSION amcheck;), so index structure was not checked."))
        } else if amcheckLimit > 0 {
            let indexes = try await run(SQLStatement("""
                SELECT c.oid::text AS oid, c.oid::regclass::text AS index FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                ORDER BY pg_relation_size(c.oid) DESC LIMIT $1
                """, parameters: [String(amcheckLimit)]))
            var bad: [[ReplyCell]] = []
            for row in indexes.rows {
                do {
                    _ = try await run(SQLStatement("SELECT bt_index_check($1::oid::regclass)", parameters: [row[0]]))
                } catch let e as PresentableError {
                    bad.append([ReplyCell(row[1] ?? ""), ReplyCell(e.description, mark: .critical)])
                }
            }
            if !bad.isEmpty { findings.append("\(bad.count) indexes failed amcheck") }
            blocks.append(.table(ReplyTable(title: "amcheck (bt_index_check) on \(indexes.rows.count) B-tree indexes",
                                            columns: ["index", "problem"], rows: bad, emptyText: "No problems found.")))
        }

        var reply = Reply(title: "Data integrity" + (table.map { " of \($0)" } ?? ""), blocks: blocks)
        reply.mark = reply.worstMark == .none ? .ok : reply.worstMark
        reply.summary = findings.isEmpty ? "integrity: no problems found" : "integrity: " + findings.joined(separator: "; ")
        if !findings.isEmpty {
            reply.blocks.append(.text("Next: fix orphans (delete or re-parent them), then ALTER TABLE … VALIDATE CONSTRAINT; /pg reindex INDEX for invalid indexes."))
        }
        return CommandOutcome(reply: reply, recordsCommand: true)
    }

    /// Finds a table by the name someone typed (never throws on odd input): schema and name.
    func resolveTable(_ name: String, run: (SQLStatement) async throws -> QueryResult) async throws -> (String, String)? {
        let r = try await run(SQLStatement("""
            SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'm')
              AND (c.oid::regclass::text = $1 OR n.nspname || '.' || c.relname = $1 OR (c.relname = $1 AND pg_table_is_visible(c.oid)))
            ORDER BY pg_table_is_visible(c.oid) DESC LIMIT 1
            """, parameters: [name]))
        guard let row = r.rows.first, let s = row[0], let t = row[1] else { return nil }
        return (s, t)
    }
}
