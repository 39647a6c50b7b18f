import Logging
import TriageCore

/// The configured database targets; the first is the default. Each target has three lanes:
///
/// - diagnostics (`.readOnly`, `.readOnlyRolledBack`): a small pool of sessions over the
///   target's connection string, meant for a least-privilege role, so two slow probes don't
///   queue behind each other;
/// - actions (`.readWrite`): a session over the action connection string (or the same one),
///   switching to the configured action role for each transaction only;
/// - maintenance (`.autocommit`: VACUUM, REINDEX CONCURRENTLY, which can run for minutes) over
///   the action connection too, so diagnostics and short actions are not queued behind them.
///
/// Every call is bounded by a deadline Triage measures (the statement timeout plus the connect
/// timeout and a margin), so a server that stops answering cannot hold a command or the bot.
/// Sessions connect on first use, so a target whose actions are never run never opens the
/// privileged connection.
public final class PostgresClient: SQLRunner, Sendable {
    private let pools: [String: SessionPool]
    private let actions: [String: SessionPool]
    private let maintenance: [String: SessionPool]
    private let targets: [String: PostgresTarget]
    public let targetNames: [String]

    /// - Parameter poolSize: sessions per target for diagnostics (at least 1).
    public init(targets: [PostgresTarget], logger: Logger, poolSize: Int = 3) {
        var pools: [String: SessionPool] = [:]
        var actions: [String: SessionPool] = [:]
        var maintenance: [String: SessionPool] = [:]
        var byName: [String: PostgresTarget] = [:]
        for t in targets {
            pools[t.name] = SessionPool(target: t, role: nil, size: t.poolSize ?? poolSize, logger: logger)
            actions[t.name] = SessionPool(target: t.forActions, role: t.actionRole, size: 1, logger: logger)
            maintenance[t.name] = SessionPool(target: t.forActions, role: t.actionRole, size: 1, logger: logger)
            byName[t.name] = t
        }
        self.pools = pools
        self.actions = actions
        self.maintenance = maintenance
        self.targets = byName
        self.targetNames = targets.map(\.name)
    }

    public func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] {
        let name = target ?? targetNames.first ?? ""
        guard let pool = pools[name], let t = targets[name] else {
            let known = targetNames.joined(separator: ", ")
            throw UsageError(.badArgument, "Unknown database '\(name.prefix(40))'. Known: \(known.isEmpty ? "none configured" : known).")
        }
        switch mode {
        case .readOnly, .readOnlyRolledBack:
            return try await pool.run(statements, mode: mode, deadline: t.deadlineSeconds)
        case .readWrite:
            return try await (actions[name] ?? pool).run(statements, mode: mode, deadline: t.deadlineSeconds)
        case .autocommit(let timeout):
            // Maintenance may run for a long time; only a statement timeout it was given bounds it.
            let deadline = timeout > 0 ? Double(timeout) / 1000 + t.deadlineMargin : nil
            return try await (maintenance[name] ?? pool).run(statements, mode: mode, deadline: deadline)
        }
    }

    /// Closes every session.
    public func close() async {
        for p in pools.values { await p.close() }
        for p in actions.values { await p.close() }
        for p in maintenance.values { await p.close() }
    }
}
