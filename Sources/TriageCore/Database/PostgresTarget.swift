/// A named database Triage can run commands against.
public struct PostgresTarget: Sendable, Equatable {
    public var name: String
    /// A libpq URL (`postgresql://…`) or conninfo string (`host=… dbname=…`).
    public var connectionString: String
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
                statementTimeoutMs: Int = 10_000, lockTimeoutMs: Int = 2_000, applicationName: String = "triage") {
        self.name = name
        self.connectionString = connectionString
        self.connectTimeout = connectTimeout
        self.statementTimeoutMs = statementTimeoutMs
        self.lockTimeoutMs = lockTimeoutMs
        self.applicationName = applicationName
    }
}
