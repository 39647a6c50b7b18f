/// How `/pg explain` explains a statement recorded by pg_stat_statements without running it.
///
/// The recorded text has its constants replaced by `$1`, `$2`, …, so it cannot be explained
/// as it is, and PostgreSQL 15 has no `EXPLAIN (GENERIC_PLAN)` (that came in 16). Triage
/// prepares the statement (PostgreSQL infers each parameter's type), forces the generic plan
/// with `SET LOCAL plan_cache_mode = force_generic_plan`, and runs `EXPLAIN EXECUTE` with NULL
/// arguments: the plan shown is the one for unknown parameter values, with `$n` in it. All of
/// it happens in a read-only transaction; plain EXPLAIN (never ANALYZE) does not execute the
/// statement. Only statements that EXPLAIN accepts are tried (SELECT, WITH, INSERT, UPDATE,
/// DELETE, VALUES, TABLE, MERGE).
public enum ExplainPlan {
    static let explainable: Set<String> = ["select", "with", "insert", "update", "delete", "values", "table", "merge"]

    /// The first keyword of `query`, lowercased, after comments, spaces and parentheses.
    public static func leadingKeyword(_ query: String) -> String {
        var s = Substring(query)
        while true {
            s = s.drop { $0.isWhitespace || $0 == "(" }
            if s.hasPrefix("--") {
                s = s.drop { $0 != "\n" }
            } else if s.hasPrefix("/*"), let end = s.range(of: "*/") {
                s = s[end.upperBound...]
            } else {
                break
            }
        }
        return String(s.prefix { $0.isLetter }).lowercased()
    }

    /// Whether `query` is a statement EXPLAIN accepts.
    public static func isExplainable(_ query: String) -> Bool {
        explainable.contains(leadingKeyword(query))
    }

    /// The statements to run in one read-only transaction; the plan is the result of the one
    /// at ``planIndex(parameters:)``.
    public static func statements(for query: String) -> (statements: [SQLStatement], parameters: Int) {
        let n = RunbookLoader.highestPlaceholder(in: query)
        if n == 0 {
            return ([SQLStatement("EXPLAIN (COSTS true) " + query)], 0)
        }
        let nulls = Array(repeating: "NULL", count: n).joined(separator: ", ")
        return ([
            SQLStatement("SET LOCAL plan_cache_mode = force_generic_plan"),
            SQLStatement("PREPARE triage_explain AS " + query),
            SQLStatement("EXPLAIN (COSTS true) EXECUTE triage_explain(\(nulls))"),
            SQLStatement("DEALLOCATE triage_explain"),
        ], n)
    }

    /// Run first when it returns a row: removes a prepared statement left by an earlier failed
    /// attempt (prepared statements are not transactional).
    public static let leftover = SQLStatement("SELECT name FROM pg_prepared_statements WHERE name = 'triage_explain'")
    public static let cleanup = SQLStatement("DEALLOCATE triage_explain")

    /// Where the plan is among ``statements(for:)``.
    public static func planIndex(parameters: Int) -> Int { parameters == 0 ? 0 : 2 }

    // MARK: EXPLAIN ANALYZE

    /// Why `query` may not be run by `EXPLAIN ANALYZE`, or nil for a statement that only
    /// reads. Only SELECT, VALUES, TABLE and WITH … SELECT qualify, and none with a
    /// data-modifying part (`INSERT`/`UPDATE`/`DELETE`/`MERGE`, `SELECT … INTO`, row locks).
    /// The read-only transaction it runs in is the guarantee; this is the clear refusal.
    public static func writeRefusal(_ query: String) -> String? {
        let first = leadingKeyword(query)
        guard ["select", "values", "table", "with"].contains(first) else {
            return "EXPLAIN ANALYZE runs the statement, and this one writes ('\(first)'): Triage only runs statements that read. /pg explain shows its plan without running it."
        }
        let words = query.lowercased().split { !($0.isLetter || $0 == "_") }
        let writing: Set<Substring> = ["insert", "update", "delete", "merge", "into", "truncate", "copy"]
        if let w = words.first(where: { writing.contains($0) }) {
            return "EXPLAIN ANALYZE runs the statement, and this one has '\(w.uppercased())' in it: Triage only runs statements that read. /pg explain shows its plan without running it."
        }
        for (a, b) in zip(words, words.dropFirst()) where a == "for" && ["share", "no", "key"].contains(b) {
            return "EXPLAIN ANALYZE runs the statement, and this one locks rows (FOR …): Triage only runs statements that read. /pg explain shows its plan without running it."
        }
        return nil
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of `query` with `values` bound to its `$n`.
    public static func analyzeStatements(for query: String, values: [String?]) -> [SQLStatement] {
        [SQLStatement("EXPLAIN (ANALYZE, BUFFERS) " + query, parameters: values)]
    }
}
