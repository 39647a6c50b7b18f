import Foundation

/// What the database looked like when an incident was opened: connections, active queries,
/// locks and the top statements by total time. Recorded as the timeline's `snapshot` event.
///
/// The SQL is read-only and runs in one read-only transaction with the target's timeouts.
public struct DatabaseSnapshot: Sendable {
    /// Checked first: the slow-query section needs `pg_stat_statements`.
    public static let extensionCheck = SQLStatement(
        "SELECT count(*)::int FROM pg_extension WHERE extname = 'pg_stat_statements'")

    /// Connections by state against `max_connections`.
    public static let connections = SQLStatement("""
        SELECT count(*)::int AS total,
               count(*) FILTER (WHERE state = 'active')::int AS active,
               count(*) FILTER (WHERE state = 'idle')::int AS idle,
               count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_transaction,
               current_setting('max_connections')::int AS max_connections
        FROM pg_stat_activity WHERE backend_type = 'client backend'
        """)

    /// The longest-running non-idle queries (not our own session).
    public static let activeQueries = SQLStatement("""
        SELECT pid, coalesce(usename, '') AS usename, coalesce(datname, '') AS datname, state,
               extract(epoch FROM now() - coalesce(query_start, backend_start))::bigint AS seconds,
               coalesce(wait_event_type || ':' || wait_event, '') AS waiting_on,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query
        FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid() AND application_name <> 'triage'
          AND query NOT LIKE '/* triage */%'
        ORDER BY query_start NULLS LAST
        LIMIT 10
        """)

    /// Lock counts and who blocks whom.
    public static let locks = SQLStatement("""
        SELECT (SELECT count(*)::int FROM pg_locks) AS held,
               (SELECT count(*)::int FROM pg_locks WHERE NOT granted) AS waiting,
               (SELECT count(*)::int FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0) AS blocked_sessions
        """)

    /// Sessions waiting on another session's lock.
    public static let blocked = SQLStatement("""
        SELECT pid, array_to_string(pg_blocking_pids(pid), ',') AS blocked_by,
               extract(epoch FROM now() - coalesce(query_start, backend_start))::bigint AS seconds,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
        FROM pg_stat_activity
        WHERE cardinality(pg_blocking_pids(pid)) > 0
        ORDER BY query_start NULLS LAST
        LIMIT 10
        """)

    /// The statements with the most total execution time (needs `pg_stat_statements`).
    public static let slowQueries = SQLStatement("""
        SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 2) AS mean_ms,
               left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query
        FROM pg_stat_statements
        WHERE query !~* 'pg_stat_statements|pg_stat_activity|pg_locks|pg_extension' AND query NOT LIKE '/* triage */%'
        ORDER BY total_exec_time DESC
        LIMIT 5
        """)

    /// The statements to run, given whether `pg_stat_statements` is installed.
    public static func statements(withStatements: Bool) -> [SQLStatement] {
        [connections, activeQueries, locks, blocked] + (withStatements ? [slowQueries] : [])
    }

    /// Captures a snapshot through `runner`. Never throws: a failure becomes ``failure``.
    /// - Parameters:
    ///   - runner: the database client.
    ///   - target: the database target (nil: the default).
    public static func capture(_ runner: any SQLRunner, target: String? = nil) async -> DatabaseSnapshot {
        do {
            let check = try await runner.run([extensionCheck], on: target, mode: .readOnly)
            let hasStatements = (check.first?.rows.first?.first ?? nil).flatMap { Int($0) } ?? 0 > 0
            let results = try await runner.run(statements(withStatements: hasStatements), on: target, mode: .readOnly)
            return DatabaseSnapshot(results: results, hasStatements: hasStatements)
        } catch let error as PresentableError {
            return DatabaseSnapshot(failure: error.description)
        } catch {
            return DatabaseSnapshot(failure: "the database could not be reached")
        }
    }

    /// Results of ``statements(withStatements:)`` in order (empty on failure).
    public var results: [QueryResult]
    public var hasStatements: Bool
    /// Why there is no snapshot, when it could not be taken.
    public var failure: String?

    public init(results: [QueryResult], hasStatements: Bool) {
        self.results = results
        self.hasStatements = hasStatements
        self.failure = nil
    }

    public init(failure: String) {
        self.results = []
        self.hasStatements = false
        self.failure = failure
    }

    func int(_ index: Int, _ column: String) -> Int {
        guard index < results.count else { return 0 }
        return results[index].value(column).flatMap { Int($0) } ?? 0
    }

    /// One line for the timeline and the open reply.
    public var summary: String {
        if let failure { return "Database snapshot missing: \(failure)" }
        let total = int(0, "total"), max = int(0, "max_connections")
        var parts = ["\(total)/\(max) connections (\(int(0, "active")) active, \(int(0, "idle_in_transaction")) idle in transaction)"]
        let running = results.count > 1 ? results[1].rows.count : 0
        parts.append("\(running) running quer\(running == 1 ? "y" : "ies")")
        parts.append("\(int(2, "waiting")) waiting lock\(int(2, "waiting") == 1 ? "" : "s")")
        if hasStatements, results.count > 4, let top = results[4].rows.first, let ms = top[1] {
            parts.append("top statement \(ms) ms total")
        }
        return "Database snapshot: " + parts.joined(separator: ", ")
    }

    /// The worst mark: connections near the limit, blocked sessions.
    public var mark: Mark {
        if failure != nil { return .warning }
        let total = int(0, "total"), max = Swift.max(1, int(0, "max_connections"))
        if total * 10 >= max * 9 || int(2, "blocked_sessions") > 0 { return .critical }
        if total * 10 >= max * 7 || int(2, "waiting") > 0 { return .warning }
        return .ok
    }

    /// The snapshot as a reply (its text rendering is the event's full output).
    public var reply: Reply {
        guard failure == nil else {
            return Reply(title: "Database snapshot", blocks: [.note(summary, .warning)], mark: .warning, summary: summary)
        }
        var blocks: [ReplyBlock] = []
        let max = Swift.max(1, int(0, "max_connections"))
        let total = int(0, "total")
        blocks.append(.keyValues([
            KeyValue("connections", "\(total) of \(max)", mark: total * 10 >= max * 9 ? .critical : total * 10 >= max * 7 ? .warning : .none),
            KeyValue("active", "\(int(0, "active"))"),
            KeyValue("idle", "\(int(0, "idle"))"),
            KeyValue("idle in transaction", "\(int(0, "idle_in_transaction"))", mark: int(0, "idle_in_transaction") > 0 ? .warning : .none),
            KeyValue("locks held", "\(int(2, "held"))"),
            KeyValue("locks waiting", "\(int(2, "waiting"))", mark: int(2, "waiting") > 0 ? .warning : .none),
            KeyValue("blocked sessions", "\(int(2, "blocked_sessions"))", mark: int(2, "blocked_sessions") > 0 ? .critical : .none),
        ]))
        if results.count > 1 {
            blocks.append(.table(Self.table("Active queries", results[1],
                                            columns: ["pid", "usename", "datname", "state", "seconds", "waiting_on", "query"],
                                            numeric: [true, false, false, false, true, false, false], empty: "No active queries.")))
        }
        if results.count > 3 {
            blocks.append(.table(Self.table("Blocked sessions", results[3], columns: ["pid", "blocked_by", "seconds", "query"],
                                            numeric: [true, false, true, false], empty: "No session is waiting on a lock.")))
        }
        if hasStatements, results.count > 4 {
            blocks.append(.table(Self.table("Top statements by total time", results[4], columns: ["calls", "total_ms", "mean_ms", "query"],
                                            numeric: [true, true, true, false], empty: "pg_stat_statements has no entries.")))
        } else {
            blocks.append(.note("Top statements unavailable: pg_stat_statements is not installed.", .none))
        }
        return Reply(title: "Database snapshot", blocks: blocks, mark: mark, summary: summary)
    }

    static func table(_ title: String, _ result: QueryResult, columns: [String], numeric: [Bool], empty: String) -> ReplyTable {
        let indexes = columns.map { result.columns.firstIndex(of: $0) }
        let rows = result.rows.map { row in indexes.map { i in ReplyCell(i.flatMap { row[$0] } ?? "") } }
        return ReplyTable(title: title, columns: columns.map { $0.replacingOccurrences(of: "_", with: " ") },
                          numeric: numeric, rows: rows, emptyText: empty)
    }

    /// The raw results as JSON, for the event's payload.
    public var payloadJSON: String {
        var out = "{"
        if let failure {
            out += "\"failure\":" + JSONText.quoted(failure) + "}"
            return out
        }
        let names = ["connections", "active_queries", "locks", "blocked", "top_statements"]
        var first = true
        for (i, r) in results.enumerated() where i < names.count {
            if !first { out += "," }
            first = false
            out += JSONText.quoted(names[i]) + ":["
            for (j, row) in r.rows.enumerated() {
                if j > 0 { out += "," }
                out += "{"
                for (k, col) in r.columns.enumerated() {
                    if k > 0 { out += "," }
                    out += JSONText.quoted(col) + ":" + (row[k].map(JSONText.quoted) ?? "null")
                }
                out += "}"
            }
            out += "]"
        }
        return out + "}"
    }
}
