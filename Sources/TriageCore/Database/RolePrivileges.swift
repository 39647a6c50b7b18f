/// What a connection's role can do, as the server says: for `triage check-config` and
/// docs/security.md's advice (diagnostics least-privilege, actions privileged).
public struct RolePrivileges: Sendable, Equatable {
    /// The role statements run as (`current_user`: the action role when one is set).
    public var role: String
    /// The role that logged in (`session_user`).
    public var login: String
    public var superuser: Bool
    /// Has pg_monitor's privileges (reads every session, statement and setting).
    public var monitor: Bool
    /// Can read other users' query texts (pg_read_all_stats, part of pg_monitor).
    public var readsAllStats: Bool
    /// Can terminate other users' (non-superuser) sessions: superuser or pg_signal_backend.
    public var canTerminate: Bool
    /// Tables it may VACUUM, ANALYZE and REINDEX (owner, database owner or superuser), of all.
    public var maintainable: Int
    public var tables: Int
    /// Some of the tables it may not maintain (schema-qualified, at most five).
    public var notMaintainable: [String]
    /// `server_version_num` (150004 for 15.4).
    public var serverVersion: Int
    /// Other powerful attributes and roles it has (CREATEROLE, pg_read_server_files, …).
    public var powerful: [String]

    public init(role: String, login: String, superuser: Bool, monitor: Bool, readsAllStats: Bool, canTerminate: Bool,
                maintainable: Int, tables: Int, powerful: [String], notMaintainable: [String] = [], serverVersion: Int = 150000) {
        self.notMaintainable = notMaintainable
        self.serverVersion = serverVersion
        self.role = role
        self.login = login
        self.superuser = superuser
        self.monitor = monitor
        self.readsAllStats = readsAllStats
        self.canTerminate = canTerminate
        self.maintainable = maintainable
        self.tables = tables
        self.powerful = powerful
    }

    /// Asks the server (catalog reads only; runs in any transaction).
    public static let probe = SQLStatement("""
        WITH me AS (SELECT * FROM pg_roles WHERE rolname = current_user),
             rels AS (SELECT c.relowner, format('%I.%I', n.nspname, c.relname) AS name,
                             (SELECT rolsuper FROM me) OR pg_has_role(current_user, c.relowner, 'USAGE')
                               OR pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE') AS mine
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                        AND n.nspname NOT LIKE 'pg_toast%')
        SELECT current_user AS role, session_user AS login, me.rolsuper AS superuser,
               pg_has_role(current_user, 'pg_monitor', 'USAGE') AS monitor,
               pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS all_stats,
               me.rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS can_terminate,
               (SELECT count(*) FROM rels WHERE mine)::int AS maintainable,
               (SELECT count(*) FROM rels)::int AS tables,
               array_to_string(ARRAY(SELECT name FROM rels WHERE NOT mine ORDER BY name LIMIT 5), ', ') AS not_mine,
               current_setting('server_version_num')::int AS version,
               array_to_string(ARRAY(
                   SELECT a FROM (VALUES ('CREATEROLE', me.rolcreaterole), ('CREATEDB', me.rolcreatedb),
                                         ('REPLICATION', me.rolreplication), ('BYPASSRLS', me.rolbypassrls)) v(a, has) WHERE has AND NOT me.rolsuper
                   UNION ALL
                   SELECT d FROM unnest(ARRAY['pg_signal_backend', 'pg_read_server_files', 'pg_write_server_files',
                                              'pg_execute_server_program', 'pg_read_all_data', 'pg_write_all_data']) d
                   WHERE NOT me.rolsuper AND pg_has_role(current_user, d, 'USAGE')), ', ') AS powerful
        FROM me
        """)

    /// Reads ``probe``'s result (nil when the role is not in pg_roles).
    public init?(_ result: QueryResult) {
        guard let role = result.value("role") else { return nil }
        self.role = role
        login = result.value("login") ?? role
        superuser = result.value("superuser") == "t"
        monitor = result.value("monitor") == "t"
        readsAllStats = result.value("all_stats") == "t"
        canTerminate = result.value("can_terminate") == "t"
        maintainable = result.value("maintainable").flatMap { Int($0) } ?? 0
        tables = result.value("tables").flatMap { Int($0) } ?? 0
        powerful = (result.value("powerful") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        notMaintainable = (result.value("not_mine") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        serverVersion = result.value("version").flatMap { Int($0) } ?? 0
    }

    /// One line: what the role can and cannot do.
    public var summary: String {
        let who = role == login ? "role \(role)" : "role \(role) (login \(login), SET ROLE)"
        if superuser { return "\(who): superuser — can do anything" }
        let yes = { (b: Bool) in b ? "yes" : "no" }
        return "\(who): not a superuser; pg_monitor: \(yes(monitor)); reads every statement's text: \(yes(readsAllStats)); "
            + "can terminate other users' sessions: \(yes(canTerminate)); can VACUUM/ANALYZE/REINDEX \(maintainable) of \(tables) tables"
            + (notMaintainable.isEmpty ? "" : " (not: \(notMaintainable.joined(separator: ", "))\(tables - maintainable > notMaintainable.count ? ", …" : ""))")
            + "; also has: \(powerful.isEmpty ? "nothing more" : powerful.joined(separator: ", "))"
    }

    /// Warnings for a diagnostics connection.
    public var diagnosticsWarnings: [String] {
        var w: [String] = []
        if superuser {
            w.append("diagnostics run as the superuser \(role): anything they evaluate could do anything; use a least-privilege role (docs/security.md)")
        } else {
            if !monitor { w.append("the diagnostics role \(role) lacks pg_monitor: other sessions' queries and several checks are hidden (GRANT pg_monitor TO \(role))") }
            if !powerful.isEmpty { w.append("the diagnostics role \(role) has \(powerful.joined(separator: ", ")), more than diagnostics need") }
        }
        return w
    }

    /// Whether maintenance runs index expressions as the table owner (security-restricted):
    /// 15 and later, and the minor releases of May 2022 (14.3, 13.7, 12.11, 11.16, 10.21).
    public static func runsIndexExpressionsAsOwner(_ version: Int) -> Bool {
        let major = version / 10000, minor = version % 100
        switch major {
        case 15...: return true
        case 14: return minor >= 3
        case 13: return minor >= 7
        case 12: return minor >= 11
        case 11: return minor >= 16
        case 10: return minor >= 21
        default: return false
        }
    }

    /// Warnings for an action connection.
    public var actionWarnings: [String] {
        var w: [String] = []
        if !canTerminate { w.append("the action role \(role) cannot terminate other users' sessions (/pg terminate, /pg kill-idle): GRANT pg_signal_backend TO \(role)") }
        if !superuser && maintainable < tables {
            w.append("the action role \(role) may VACUUM/ANALYZE/REINDEX only \(maintainable) of \(tables) tables (it must own them, or own the database)")
        }
        if serverVersion > 0, !Self.runsIndexExpressionsAsOwner(serverVersion) {
            w.append("this server (version \(serverVersion)) runs index expressions during VACUUM, ANALYZE and REINDEX as the caller, not the table owner (CVE-2022-1552): upgrade to the latest minor release")
        }
        return w
    }
}
