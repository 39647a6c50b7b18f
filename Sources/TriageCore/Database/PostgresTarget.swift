/// A named database Triage can run commands against.
public struct PostgresTarget: Sendable, Equatable {
    public var name: String
    /// A libpq URL (`postgresql://…`) or conninfo string (`host=… dbname=…`): the
    /// diagnostics connection, meant for a least-privilege role (docs/security.md).
    public var connectionString: String
    /// The connection actions (terminate, VACUUM, REINDEX…) use, when they need a more
    /// privileged role than diagnostics; nil: the diagnostics connection string.
    public var actionConnectionString: String?
    /// A role the action connection switches to (`SET ROLE`) for each action's transaction
    /// only; nil: the login role.
    public var actionRole: String?
    /// Seconds to wait for a connection (libpq's `connect_timeout`, at least 2).
    public var connectTimeout: Int
    /// Milliseconds a diagnostic may run before the server cancels it.
    public var statementTimeoutMs: Int
    /// Milliseconds a statement may wait for a lock.
    public var lockTimeoutMs: Int
    /// `application_name` of Triage's sessions; actions never terminate sessions named so.
    public var applicationName: String
    /// Sessions for diagnostics (nil: the client's default).
    public var poolSize: Int?
    /// Seconds Triage waits for an answer beyond the server's own timeouts before giving up
    /// on a call (nil: `connect_timeout` + 3 s).
    public var deadlineExtra: Double?

    /// Seconds added to a statement timeout to get Triage's own deadline.
    public var deadlineMargin: Double {
        deadlineExtra ?? Double(max(2, connectTimeout)) + 3
    }

    /// Triage's own deadline for one call with the target's statement timeout.
    public var deadlineSeconds: Double {
        Double(statementTimeoutMs) / 1000 + deadlineMargin
    }

    public init(name: String, connectionString: String, connectTimeout: Int = 5,
                statementTimeoutMs: Int = 10_000, lockTimeoutMs: Int = 2_000, applicationName: String = "triage",
                actionConnectionString: String? = nil, actionRole: String? = nil) {
        self.name = name
        self.connectionString = connectionString
        self.actionConnectionString = actionConnectionString
        self.actionRole = actionRole
        self.connectTimeout = connectTimeout
        self.statementTimeoutMs = statementTimeoutMs
        self.lockTimeoutMs = lockTimeoutMs
        self.applicationName = applicationName
    }

    /// The target as the action connection sees it: the action connection string, if any.
    public var forActions: PostgresTarget {
        var t = self
        t.connectionString = actionConnectionString ?? connectionString
        return t
    }
}
