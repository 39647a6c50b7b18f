/// One SQL statement with its parameters bound as `$1`, `$2`, …
///
/// Values from chat are only ever parameters. Identifiers that cannot be parameters
/// (`VACUUM table`) are written `{{ident:NAME}}` in `sql` and listed in `identifiers`; the
/// database adapter quotes them with libpq's own escaping.
public struct SQLStatement: Sendable, Equatable {
    public var sql: String
    public var parameters: [String?]
    /// Identifier placeholders: name → value, quoted by the adapter.
    public var identifiers: [String: String]
    /// String-literal placeholders (`{{literal:NAME}}`): name → value, quoted by the adapter, for
    /// utility statements that take no parameters (`ROLLBACK PREPARED 'gid'`).
    public var literals: [String: String]

    public init(_ sql: String, parameters: [String?] = [], identifiers: [String: String] = [:], literals: [String: String] = [:]) {
        self.literals = literals
        self.sql = sql
        self.parameters = parameters
        self.identifiers = identifiers
    }
}

/// How statements are run.
public enum SQLMode: Sendable, Equatable {
    /// In a `READ ONLY` transaction with the target's statement and lock timeouts, on the
    /// target's (least-privilege) diagnostics connection.
    case readOnly
    /// In a `READ ONLY` transaction that is rolled back at the end, never committed
    /// (`EXPLAIN ANALYZE` of a recorded statement).
    case readOnlyRolledBack
    /// In a read-write transaction with the timeouts (single-use actions), on the target's
    /// action connection.
    case readWrite
    /// Each statement on its own, outside a transaction (`VACUUM`, `REINDEX CONCURRENTLY`),
    /// with the given statement timeout in milliseconds (0 for none), on the target's action
    /// connection.
    case autocommit(statementTimeoutMs: Int)
}

/// The rows of one statement, all values in PostgreSQL's text form.
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]
    /// `SELECT 3`, `VACUUM`, …
    public var commandTag: String

    public init(columns: [String], rows: [[String?]], commandTag: String = "") {
        self.columns = columns
        self.rows = rows
        self.commandTag = commandTag
    }

    /// The value of `column` in row `row`, or nil.
    public func value(_ column: String, row: Int = 0) -> String? {
        guard row < rows.count, let i = columns.firstIndex(of: column) else { return nil }
        return rows[row][i]
    }
}

/// Runs SQL against named database targets. Implemented over libpq by `TriagePostgres`.
public protocol SQLRunner: Sendable {
    /// The configured target names; the first is the default.
    var targetNames: [String] { get }
    /// Runs `statements` in order on `target` (nil = default) and returns one result each.
    func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult]
}
