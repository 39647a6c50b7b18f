import Logging
import TriageCore

/// The configured database targets; the first is the default. Each target has three sessions:
///
/// - diagnostics (`.readOnly`, `.readOnlyRolledBack`) over the target's connection string,
///   meant for a least-privilege role;
/// - actions (`.readWrite`) over the action connection string (or the same one), switching to
///   the configured action role for each transaction only;
/// - maintenance (`.autocommit`: VACUUM, REINDEX CONCURRENTLY, which can run for minutes) over
///   the action connection too, so diagnostics and short actions are not queued behind them.
///
/// Sessions connect on first use, so a target whose actions are never run never opens the
/// privileged connection.
public final class PostgresClient: SQLRunner, @unchecked Sendable {
    private let sessions: [String: PostgresSession]
    private let actionSessions: [String: PostgresSession]
    private let maintenanceSessions: [String: PostgresSession]
    public let targetNames: [String]

    public init(targets: [PostgresTarget], logger: Logger) {
        var sessions: [String: PostgresSession] = [:]
        var actions: [String: PostgresSession] = [:]
        var maintenance: [String: PostgresSession] = [:]
        for t in targets {
            sessions[t.name] = PostgresSession(target: t, logger: logger)
            actions[t.name] = PostgresSession(target: t.forActions, logger: logger, role: t.actionRole)
            maintenance[t.name] = PostgresSession(target: t.forActions, logger: logger, role: t.actionRole)
        }
        self.sessions = sessions
        self.actionSessions = actions
        self.maintenanceSessions = maintenance
        self.targetNames = targets.map(\.name)
    }

    public func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] {
        let name = target ?? targetNames.first ?? ""
        guard let session = sessions[name] else {
            let known = targetNames.joined(separator: ", ")
            throw UsageError(.badArgument, "Unknown database '\(name.prefix(40))'. Known: \(known.isEmpty ? "none configured" : known).")
        }
        switch mode {
        case .readOnly, .readOnlyRolledBack:
            return try await session.run(statements, mode: mode)
        case .readWrite:
            return try await (actionSessions[name] ?? session).run(statements, mode: mode)
        case .autocommit:
            return try await (maintenanceSessions[name] ?? session).run(statements, mode: mode)
        }
    }

    /// Closes every session.
    public func close() async {
        for s in sessions.values { await s.close() }
        for s in actionSessions.values { await s.close() }
        for s in maintenanceSessions.values { await s.close() }
    }
}
