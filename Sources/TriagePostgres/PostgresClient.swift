import Logging
import TriageCore

/// The configured database targets, one session each; the first is the default.
public final class PostgresClient: SQLRunner, @unchecked Sendable {
    private let sessions: [String: PostgresSession]
    public let targetNames: [String]

    public init(targets: [PostgresTarget], logger: Logger) {
        var sessions: [String: PostgresSession] = [:]
        for t in targets { sessions[t.name] = PostgresSession(target: t, logger: logger) }
        self.sessions = sessions
        self.targetNames = targets.map(\.name)
    }

    public func run(_ statements: [SQLStatement], on target: String?, mode: SQLMode) async throws -> [QueryResult] {
        let name = target ?? targetNames.first ?? ""
        guard let session = sessions[name] else {
            let known = targetNames.joined(separator: ", ")
            throw UsageError(.badArgument, "Unknown database '\(name.prefix(40))'. Known: \(known.isEmpty ? "none configured" : known).")
        }
        return try await session.run(statements, mode: mode)
    }

    /// Closes every session.
    public func close() async {
        for s in sessions.values { await s.close() }
    }
}
