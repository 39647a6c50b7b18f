import Foundation
import Logging
import TriageCore

/// One database session on its own thread: the connection is reused across commands and
/// re-established when the server has restarted. Blocking libpq calls never run on Swift's
/// cooperative pool.
public final class PostgresSession: @unchecked Sendable {
    public let target: PostgresTarget
    private let executor: ThreadExecutor
    private let logger: Logger
    private let lock = NSLock()
    /// Touched only on the executor's thread, except `cancel()` which reads it under `lock`.
    private var connection: PostgresConnection?

    public init(target: PostgresTarget, logger: Logger) {
        self.target = target
        self.logger = logger
        self.executor = ThreadExecutor(name: "triage-pg-\(target.name)")
    }

    deinit {
        executor.shutdown()
    }

    /// Runs `statements` in `mode`; a lost connection is re-established once before anything ran.
    public func run(_ statements: [SQLStatement], mode: SQLMode) async throws -> [QueryResult] {
        try await withTaskCancellationHandler {
            try await executor.run { [self] in try self.runBlocking(statements, mode: mode) }
        } onCancel: {
            self.cancel()
        }
    }

    /// Closes the connection (on the session's thread) and stops the thread.
    public func close() async {
        // A session never used has no thread and no connection to close.
        guard executor.isStarted else {
            executor.shutdown()
            return
        }
        _ = try? await executor.run { [self] in
            self.lock.withLock { self.connection = nil }
        }
        executor.shutdown()
    }

    /// Cancels the statement in flight, if any. Returns at once: `PQcancel` connects to the
    /// server and waits for it, so it runs on a thread of its own (this is called from task
    /// cancellation handlers, which may run on the cooperative pool).
    public func cancel() {
        guard let conn = lock.withLock({ connection }) else { return }
        let box = UncheckedBox(conn)
        ThreadExecutor.detach(name: "triage-pg-cancel") { box.value.cancel() }
    }

    private func connected() throws -> PostgresConnection {
        if let c = lock.withLock({ connection }), c.isHealthy { return c }
        lock.withLock { connection = nil }
        let c = try PostgresConnection(target: target)
        logger.info("connected to database", metadata: ["db.target": "\(target.name)", "db.backend_pid": "\(c.backendPID)"])
        lock.withLock { connection = c }
        return c
    }

    private func runBlocking(_ statements: [SQLStatement], mode: SQLMode) throws -> [QueryResult] {
        var attempt = 0
        while true {
            attempt += 1
            var started = false
            do {
                let conn = try connected()
                return try run(statements, mode: mode, on: conn, started: &started)
            } catch let error as PostgresError where error.isConnectionLoss {
                lock.withLock { connection = nil }
                // Retry once when nothing has run, or when it was all read-only.
                if attempt == 1 && (!started || mode == .readOnly) {
                    logger.info("database connection lost; reconnecting", metadata: ["db.target": "\(target.name)"])
                    continue
                }
                throw error
            }
        }
    }

    private func run(_ statements: [SQLStatement], mode: SQLMode, on conn: PostgresConnection, started: inout Bool) throws -> [QueryResult] {
        switch mode {
        case .readOnly, .readWrite:
            _ = try conn.execute(mode == .readOnly ? "BEGIN TRANSACTION READ ONLY" : "BEGIN")
            started = true
            do {
                var results: [QueryResult] = []
                for s in statements {
                    results.append(try conn.execute(Self.marker + (try expand(s, on: conn)), s.parameters))
                }
                _ = try conn.execute("COMMIT")
                return results
            } catch {
                if conn.isHealthy { _ = try? conn.execute("ROLLBACK") }
                throw error
            }
        case .autocommit(let timeout):
            _ = try conn.execute("SELECT set_config('statement_timeout', $1, false)", [String(timeout)])
            started = true
            defer { _ = try? conn.execute("SELECT set_config('statement_timeout', $1, false)", [String(target.statementTimeoutMs)]) }
            var results: [QueryResult] = []
            for s in statements {
                results.append(try conn.execute(Self.marker + (try expand(s, on: conn)), s.parameters))
            }
            return results
        }
    }

    /// Starts every statement Triage sends, so that pg_stat_statements (which keeps the comment)
    /// can tell Triage's own queries from the application's: `/pg slow` and the incident
    /// snapshot leave them out.
    public static let marker = "/* triage */ "

    /// Replaces `{{ident:NAME}}` placeholders with identifiers quoted by libpq.
    private func expand(_ statement: SQLStatement, on conn: PostgresConnection) throws -> String {
        var sql = statement.sql
        for (name, value) in statement.identifiers {
            sql = sql.replacingOccurrences(of: "{{ident:\(name)}}", with: try conn.quoteIdentifier(value))
        }
        for (name, value) in statement.literals {
            sql = sql.replacingOccurrences(of: "{{literal:\(name)}}", with: try conn.quoteLiteral(value))
        }
        return sql
    }
}

/// Carries a connection to the cancelling thread; only its thread-safe `cancel()` is used there.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
