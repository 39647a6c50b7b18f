import Logging
import TriageCore

/// The configured database targets; the first is the default.
///
/// Diagnostics and single-use actions share a small pool of sessions per target, each call
/// bounded by a deadline Triage measures (the statement timeout plus the connect timeout and
/// a margin), so a server that stops answering cannot hold a command or the bot. Statements
/// in `.autocommit` mode (VACUUM, REINDEX CONCURRENTLY: maintenance that can run for minutes)
/// use a session of their own per target, so diagnostics are not queued behind them.
public final class PostgresClient: SQLRunner, Sendable {
    private let pools: [String: SessionPool]
    private let maintenance: [String: SessionPool]
    private let targets: [String: PostgresTarget]
    public let targetNames: [String]

    /// - Parameter poolSize: sessions per target for diagnostics (at least 1).
    public init(targets: [PostgresTarget], logger: Logger, poolSize: Int = 3) {
        var pools: [String: SessionPool] = [:]
        var maintenance: [String: SessionPool] = [:]
        var byName: [String: PostgresTarget] = [:]
        for t in targets {
            pools[t.name] = SessionPool(target: t, size: t.poolSize ?? poolSize, logger: logger)
            maintenance[t.name] = SessionPool(target: t, size: 1, logger: logger)
            byName[t.name] = t
        }
        self.pools = pools
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
        if case .autocommit(let timeout) = mode, let lane = maintenance[name] {
            // Maintenance may run for a long time; only a statement timeout it was given bounds it.
            let deadline = timeout > 0 ? Double(timeout) / 1000 + t.deadlineMargin : nil
            return try await lane.run(statements, mode: mode, deadline: deadline)
        }
        return try await pool.run(statements, mode: mode, deadline: t.deadlineSeconds)
    }

    /// Closes every session.
    public func close() async {
        for p in pools.values { await p.close() }
        for p in maintenance.values { await p.close() }
    }
}
