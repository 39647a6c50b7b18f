import Logging
import TriageCore

/// The configured database targets, one session each; the first is the default.
///
/// Statements in `.autocommit` mode (VACUUM, REINDEX CONCURRENTLY: maintenance that can run
/// for minutes) use a second session per target, so diagnostics are not queued behind them.
public final class PostgresClient: SQLRunner, @unchecked Sendable {
    private let sessions: [String: PostgresSession]
    private let maintenanceSessions: [String: PostgresSession]
    public let targetNames: [String]

    public init(targets: [PostgresTarget], logger: Logger) {
        var sessions: [String: PostgresSession] = [:]
        var maintenance: [String: PostgresSession] = [:]
        for t in targets {
            sessions[t.name] = PostgresSession(target: t, logger: logger)
            maintenance[t.name] = PostgresSession(target: t, logger: logger)
        }
        self.sessions = sessions
        self.maintenanceSessions = maintenance
        self.targetNames = targets.map(\.name)
    }

    public func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] {
        let name = target ?? targetNames.first ?? ""
        guard let session = sessions[name] else {
            let known = targetNames.joined(separator: ", ")
            throw UsageError(.badArgument, "Unknown database '\(name.prefix(40))'. Known: \(known.isEmpty ? "none configured" : known).")
        }
        if case .autocommit = mode, let maintenance = maintenanceSessions[name] {
            return try await maintenance.run(statements, mode: mode)
        }
        return try await session.run(statements, mode: mode)
    }

    /// Closes every session.
    public func close() async {
        for s in sessions.values { await s.close() }
        for s in maintenanceSessions.values { await s.close() }
    }
}
