/// One probe of `/pg health`: a query returning `value` (and optionally `detail`), the
/// thresholds that flag it, and the command to run next when it is flagged.
public struct HealthCheck: Sendable, Equatable {
    /// Stable key, used to override thresholds in the config's `health:` section.
    public var key: String
    /// What is measured, as shown ("connections used").
    public var title: String
    public var sql: String
    public var unit: ColumnSpec.Unit
    public var warn: Double?
    public var critical: Double?
    public var lowerIsWorse: Bool
    /// The commands to run next when the value is flagged (a `next` column of the query's
    /// row, when present, names them more precisely: "/pg rollback-prepared gx1").
    public var next: String
    /// Only probed when this extension is installed.
    public var requiresExtension: String?
    /// Only probed when this relation exists (e.g. `_prisma_migrations`).
    public var requiresRelation: String?

    public init(key: String, title: String, sql: String, unit: ColumnSpec.Unit, warn: Double?, critical: Double?,
                lowerIsWorse: Bool = false, next: String, requiresExtension: String? = nil, requiresRelation: String? = nil) {
        self.key = key
        self.title = title
        self.sql = sql
        self.unit = unit
        self.warn = warn
        self.critical = critical
        self.lowerIsWorse = lowerIsWorse
        self.next = next
        self.requiresExtension = requiresExtension
        self.requiresRelation = requiresRelation
    }

    /// The mark a value earns; no value (not applicable) is never flagged.
    public func evaluate(_ raw: String?) -> Mark {
        ColumnSpec(name: key, unit: unit, warn: warn, critical: critical, lowerIsWorse: lowerIsWorse).mark(for: raw)
    }

    /// The value as shown.
    public func format(_ raw: String?) -> String {
        raw == nil ? "n/a" : ValueFormatter.format(raw, unit: unit)
    }
}

extension HealthCheck {
    /// The checks `/pg health` runs, in the order shown.
    public static let standard: [HealthCheck] = [
        HealthCheck(key: "connections", title: "connections used",
                    sql: """
                    SELECT round(100.0 * count(*) / current_setting('max_connections')::int, 1) AS value,
                           count(*) || ' of ' || current_setting('max_connections') || ' max_connections' AS detail
                    FROM pg_stat_activity WHERE backend_type = 'client backend'
                    """,
                    unit: .percent, warn: 75, critical: 90, next: "/pg connections, /pg idle, /pg kill-idle --older 10m"),
        HealthCheck(key: "idle_sessions", title: "sessions idle > 10 min",
                    sql: """
                    SELECT count(*) AS value, coalesce(string_agg(DISTINCT coalesce(nullif(application_name, ''), '(unnamed)'), ', '), '') AS detail
                    FROM pg_stat_activity WHERE state = 'idle' AND backend_type = 'client backend' AND state_change < now() - interval '10 minutes'
                    """,
                    unit: .number, warn: 10, critical: 50, next: "/pg idle --older 10m, /pg kill-idle --older 10m"),
        HealthCheck(key: "idle_in_transaction", title: "longest idle in transaction",
                    sql: """
                    SELECT max(extract(epoch FROM now() - state_change))::bigint AS value,
                           count(*) || ' sessions idle in transaction' AS detail
                    FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'
                    """,
                    unit: .duration, warn: 60, critical: 600, next: "/pg idle-tx, /pg terminate PID"),
        HealthCheck(key: "long_query", title: "longest running query",
                    sql: """
                    SELECT max(extract(epoch FROM now() - query_start))::numeric(12,1) AS value,
                           coalesce('pid ' || (array_agg(pid ORDER BY query_start))[1], '') AS detail
                    FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                    """,
                    unit: .seconds, warn: 30, critical: 300, next: "/pg active, /pg cancel PID"),
        HealthCheck(key: "blocked", title: "sessions waiting on locks",
                    // pg_blocking_pids() says 0 for a prepared transaction: name those by gid, since
                    // terminating "pid 0" cannot work.
                    sql: """
                    WITH w AS (
                      SELECT a.pid, b FROM pg_stat_activity a LEFT JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS b ON true
                      WHERE cardinality(pg_blocking_pids(a.pid)) > 0
                    ), p AS (
                      SELECT string_agg(gid, ', ' ORDER BY prepared) AS gids,
                             (array_agg(CASE WHEN gid ~ '^[A-Za-z0-9_.:-]+$' THEN gid ELSE '"' || replace(gid, '"', '') || '"' END ORDER BY prepared))[1] AS oldest
                      FROM pg_prepared_xacts WHERE database = current_database()
                    )
                    SELECT (SELECT count(DISTINCT pid) FROM w) AS value,
                           concat_ws('; ',
                             'blocked by pids ' || (SELECT string_agg(DISTINCT b::text, ', ') FROM w WHERE b <> 0),
                             CASE WHEN EXISTS (SELECT 1 FROM w WHERE b = 0) THEN 'blocked by prepared transactions ' || coalesce(p.gids, '(in another database)') END
                           ) AS detail,
                           CASE WHEN EXISTS (SELECT 1 FROM w WHERE b = 0) AND p.oldest IS NOT NULL
                                THEN '/pg locks, /pg rollback-prepared ' || p.oldest END AS next
                    FROM p
                    """,
                    unit: .number, warn: 1, critical: 5, next: "/pg locks, /pg cancel PID, /pg terminate PID"),
        HealthCheck(key: "xmin_horizon", title: "xmin horizon age (xids)",
                    // Every holder PostgreSQL considers: backends' snapshot xmin and own xid (walsenders
                    // and autovacuum included), prepared transactions, slots' xmin and catalog_xmin.
                    sql: """
                    SELECT a AS value, coalesce(who || ' holds it (' || a || ' xids)', '') AS detail, next FROM (
                      SELECT greatest(age(backend_xid), age(backend_xmin)) AS a, backend_type || ' pid ' || pid AS who,
                             CASE WHEN state LIKE 'idle in transaction%' THEN '/pg xmin, /pg terminate ' || pid
                                  ELSE '/pg xmin, /pg cancel ' || pid END AS next
                      FROM pg_stat_activity WHERE (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) AND pid <> pg_backend_pid()
                        AND (datname = current_database() OR datname IS NULL)
                      UNION ALL SELECT age(transaction), 'prepared transaction ' || gid, '/pg xmin, /pg rollback-prepared ' || gid
                        FROM pg_prepared_xacts WHERE database = current_database()
                      UNION ALL SELECT age(xmin), 'replication slot ' || slot_name, '/pg xmin, /pg replication' FROM pg_replication_slots WHERE xmin IS NOT NULL
                      UNION ALL SELECT age(catalog_xmin), 'replication slot ' || slot_name || ' (catalog_xmin)', '/pg xmin, /pg replication'
                        FROM pg_replication_slots WHERE catalog_xmin IS NOT NULL
                      UNION ALL SELECT NULL, NULL, NULL) h
                    ORDER BY a DESC NULLS LAST LIMIT 1
                    """,
                    unit: .number, warn: 1_000_000, critical: 50_000_000, next: "/pg xmin, /pg idle-tx"),
        HealthCheck(key: "wraparound", title: "xid age toward wraparound",
                    sql: """
                    SELECT round(100.0 * max(age(datfrozenxid)) / 2147483647, 2) AS value,
                           max(age(datfrozenxid)) || ' xids' AS detail FROM pg_database
                    """,
                    unit: .percent, warn: 40, critical: 70, next: "/pg wraparound, /pg vacuum TABLE"),
        HealthCheck(key: "cache_hit", title: "cache hit ratio",
                    sql: """
                    SELECT CASE WHEN blks_hit + blks_read >= 10000 THEN round(100.0 * blks_hit / (blks_hit + blks_read), 2) END AS value,
                           (blks_hit + blks_read) || ' block reads' AS detail
                    FROM pg_stat_database WHERE datname = current_database()
                    """,
                    unit: .percent, warn: 95, critical: 90, lowerIsWorse: true, next: "/pg cache"),
        HealthCheck(key: "dead_tuples", title: "worst dead-tuple share",
                    sql: """
                    SELECT round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 1) AS value,
                           schemaname || '.' || relname || ': ' || n_dead_tup || ' dead' AS detail
                    FROM pg_stat_user_tables WHERE n_dead_tup >= 1000
                    ORDER BY n_dead_tup::float8 / nullif(n_live_tup + n_dead_tup, 0) DESC LIMIT 1
                    """,
                    unit: .percent, warn: 20, critical: 50, next: "/pg bloat, /pg vacuum TABLE, /pg autovacuum"),
        HealthCheck(key: "invalid_indexes", title: "invalid indexes",
                    sql: """
                    SELECT count(*) AS value, coalesce(string_agg(indexrelid::regclass::text, ', '), '') AS detail
                    FROM pg_index WHERE NOT indisvalid OR NOT indisready
                    """,
                    unit: .number, warn: 1, critical: nil, next: "/pg invalid-indexes, /pg reindex INDEX"),
        HealthCheck(key: "not_valid_constraints", title: "NOT VALID constraints",
                    sql: """
                    SELECT count(*) AS value, coalesce(string_agg(conname, ', '), '') AS detail FROM pg_constraint WHERE NOT convalidated
                    """,
                    unit: .number, warn: 1, critical: nil, next: "/pg integrity"),
        HealthCheck(key: "sequences", title: "fullest sequence",
                    sql: """
                    SELECT round(100.0 * (coalesce(last_value, start_value) - min_value)::numeric / nullif(max_value - min_value, 0), 2) AS value,
                           schemaname || '.' || sequencename AS detail
                    FROM pg_sequences
                    ORDER BY (coalesce(last_value, start_value) - min_value)::numeric / nullif(max_value - min_value, 0) DESC NULLS LAST LIMIT 1
                    """,
                    unit: .percent, warn: 75, critical: 90, next: "/pg sequences"),
        HealthCheck(key: "replication_slots", title: "inactive replication slots",
                    sql: """
                    SELECT count(*) FILTER (WHERE NOT active) AS value, count(*) || ' slots' AS detail FROM pg_replication_slots
                    """,
                    unit: .number, warn: 1, critical: nil, next: "/pg replication, /pg space"),
        HealthCheck(key: "replication_lag", title: "worst replica lag",
                    sql: """
                    SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) AS value, count(*) || ' replicas' AS detail
                    FROM pg_stat_replication WHERE NOT pg_is_in_recovery()
                    """,
                    unit: .bytes, warn: 104_857_600, critical: 1_073_741_824, next: "/pg replication"),
        HealthCheck(key: "slow_statements", title: "statements averaging > 1 s",
                    sql: """
                    SELECT count(*) AS value, coalesce('worst mean ' || CASE WHEN max(mean_exec_time) >= 60000 THEN round((max(mean_exec_time) / 60000)::numeric, 1) || ' min'
                                                               WHEN max(mean_exec_time) >= 1000 THEN round((max(mean_exec_time) / 1000)::numeric, 1) || ' s'
                                                               ELSE round(max(mean_exec_time)::numeric) || ' ms' END, '') AS detail
                    FROM pg_stat_statements
                    WHERE mean_exec_time > 1000 AND query NOT LIKE '/* triage */%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                    """,
                    unit: .number, warn: 1, critical: nil, next: "/pg slow, /pg explain QUERYID", requiresExtension: "pg_stat_statements"),
        HealthCheck(key: "migrations", title: "failed or unfinished Prisma migrations",
                    sql: """
                    SELECT count(*) AS value, coalesce(string_agg(migration_name, ', '), '') AS detail
                    FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL
                    """,
                    unit: .number, warn: nil, critical: 1, next: "/pg migrations", requiresRelation: "_prisma_migrations"),
    ]
}
