/// Whether Triage may evaluate a recorded statement (plan it, or run it read-only) as the
/// role that ran it, and the statements that find out.
///
/// Planning folds IMMUTABLE and STABLE functions, so `EXPLAIN` runs application-defined code
/// (functions, casts, operators, index expressions, defaults, policies) — with the privileges
/// of the current role. Triage therefore switches to the statement's own role
/// (`pg_stat_statements.userid`) with `set_config('role', …, true)` inside the read-only
/// transaction. That switch does not bind the code: it can call `set_config('role', 'none',
/// true)` and be back to the *login* role of the session. So Triage also refuses when the
/// login role can do something dangerous the statement's role cannot (superuser,
/// CREATEROLE, BYPASSRLS, pg_signal_backend, pg_read/write_server_files,
/// pg_execute_server_program, pg_read/write_all_data): the code then never runs with more privilege than the
/// application has, whichever role it switches to.
public struct StatementRole: Sendable, Equatable {
    /// The capabilities compared between the login role and the statement's role.
    public static let dangerousRoles = ["pg_signal_backend", "pg_read_server_files", "pg_write_server_files",
                                        "pg_execute_server_program", "pg_read_all_data", "pg_write_all_data"]

    /// The statement's role (nil when it was dropped since).
    public var role: String?
    /// Triage's login role on this connection.
    public var login: String
    /// Whether the login role may switch to `role`.
    public var canSetRole: Bool
    /// What the login role can do and `role` cannot.
    public var extra: [String]
    /// Whether `role` is a superuser.
    public var roleIsSuperuser: Bool

    public init(role: String?, login: String, canSetRole: Bool, extra: [String], roleIsSuperuser: Bool = false) {
        self.role = role
        self.login = login
        self.canSetRole = canSetRole
        self.extra = extra
        self.roleIsSuperuser = roleIsSuperuser
    }

    /// Asks the server about the role with oid `$1` and the session's login role.
    public static func probe(userID: String) -> SQLStatement {
        SQLStatement("""
            WITH r AS (SELECT oid, rolname, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE oid = $1::oid),
                 l AS (SELECT oid, rolname, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = session_user)
            SELECT (SELECT rolname FROM r) AS role, session_user AS login, coalesce((SELECT rolsuper FROM r), false) AS role_super,
                   coalesce((SELECT pg_has_role(session_user, r.oid, 'MEMBER') FROM r), false) AS can_set,
                   array_to_string(ARRAY(
                       SELECT c FROM (VALUES ('superuser', l.rolsuper, coalesce(r.rolsuper, false)),
                                             ('CREATEROLE', l.rolcreaterole, coalesce(r.rolcreaterole, false)),
                                             ('BYPASSRLS', l.rolbypassrls, coalesce(r.rolbypassrls, false))) v(c, has, app)
                       WHERE has AND NOT app
                       UNION ALL
                       SELECT d FROM unnest($2::text[]) d
                       WHERE pg_has_role(session_user, d, 'MEMBER') AND NOT coalesce(pg_has_role(r.oid, d, 'MEMBER'), false)
                   ), ',') AS extra
            FROM l LEFT JOIN r ON true
            """, parameters: [userID, "{" + dangerousRoles.joined(separator: ",") + "}"])
    }

    /// Reads ``probe(userID:)``'s result.
    public init(_ result: QueryResult) {
        role = result.value("role")
        login = result.value("login") ?? "?"
        canSetRole = result.value("can_set") == "t"
        extra = (result.value("extra") ?? "").split(separator: ",").map(String.init)
        roleIsSuperuser = result.value("role_super") == "t"
    }

    /// Why Triage will not evaluate the statement as its role, or nil when it may.
    public var refusal: String? {
        guard let role else {
            return "the role that ran this statement no longer exists, so Triage cannot evaluate it with that role's privileges."
        }
        if role == login && extra.isEmpty { return nil }
        if !extra.isEmpty {
            return "Triage's diagnostics connection logs in as \(login), which has \(extra.joined(separator: ", ")) and \(role) has not. "
                + "Planning runs functions of the statement, and they could switch back to \(login); Triage does not run \(role)'s code with more privilege than \(role) has. "
                + "Connect diagnostics as the least-privilege role of docs/security.md (pg_monitor, and a member of \(role))."
        }
        if roleIsSuperuser && !canSetRole {
            return "the statement ran as the superuser \(role), and Triage's diagnostics role \(login) will not become a superuser to plan it "
                + "(do not grant \(role) to it). Run EXPLAIN in psql as \(role), or let the application connect as a role that is not a superuser."
        }
        if !canSetRole {
            return "Triage's diagnostics role \(login) is not a member of \(role), so it cannot plan the statement as \(role) (which it must: planning runs the statement's functions). "
                + "Grant it: GRANT \(role) TO \(login); (docs/security.md)."
        }
        return nil
    }

    /// The statement that switches to the statement's role for the rest of the transaction.
    public var setRole: SQLStatement? {
        guard let role, role != login else { return nil }
        return SQLStatement("SELECT set_config('role', $1, true)", parameters: [role])
    }
}
