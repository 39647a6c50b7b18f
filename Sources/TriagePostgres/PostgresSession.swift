import Foundation
import Logging
import Synchronization
import TriageCore

/// One database session on its own thread: the connection is reused across commands and
/// re-established when the server has restarted. Blocking libpq calls never run on Swift's
/// cooperative pool.
///
/// Every call has a deadline that Triage measures itself: a server that does not answer (a
/// frozen host, a network that drops packets) cannot hold a command, or the bot, longer than
/// that. When it passes, the caller gets ``PostgresError/Code/deadline`` at once, the statement
/// is cancelled with `PQcancel`, and the session is abandoned: its thread finishes the stuck
/// call in its own time and closes the connection, and the pool opens a fresh session.
public final class PostgresSession: Sendable {
    public let target: PostgresTarget
    /// The role each read-write transaction and autocommit run switches to (`SET ROLE`), if any.
    public let role: String?
    private let executor: ThreadExecutor
    private let logger: Logger

    struct State {
        /// Used only on the executor's thread, except `cancel()` which takes it under the lock.
        var connection: PostgresConnection?
        /// A call overran its deadline: the session is never used again.
        var abandoned = false
    }
    // @unchecked: PostgresConnection is not Sendable (libpq handles are used from one thread);
    // the state only hands it to the session's own thread and to PQcancel, which is thread-safe.
    private let state: UncheckedMutex<State>

    public init(target: PostgresTarget, logger: Logger, role: String? = nil) {
        self.target = target
        self.role = role
        self.logger = logger
        self.executor = ThreadExecutor(name: "triage-pg-\(target.name)")
        self.state = UncheckedMutex(State())
    }

    deinit {
        executor.shutdown()
    }

    /// Whether a call overran its deadline (the pool drops such a session).
    public var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// Runs `statements` in `mode`; a lost connection is re-established once before anything ran.
    /// - Parameter deadline: seconds before Triage gives up waiting for the server (nil: none).
    public func run(_ statements: [SQLStatement], mode: SQLMode, deadline: Double? = nil) async throws -> [QueryResult] {
        let once = OnceContinuation<[QueryResult]>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[QueryResult], Error>) in
                once.set(c)
                // The deadline's timer is removed when the call returns in time (no timer is
                // left behind per query).
                let timer = deadline.map { deadline in
                    OneShotTimer(after: deadline) { [self] in
                        let error = PostgresError(.deadline, target: target.name,
                                                  message: "the database did not answer within \(DurationFormatter.format(seconds: deadline))")
                        if once.resume(with: .failure(error)) { self.abandon() }
                    }
                }
                let accepted = executor.submit { [self] in
                    let result = Result { try self.runBlocking(statements, mode: mode) }
                    if self.isAbandoned { self.state.withLock { $0.connection = nil } }
                    timer?.cancel()
                    once.resume(with: result)
                }
                if !accepted {
                    timer?.cancel()
                    once.resume(with: .failure(TriageError(.conflict, "Triage is shutting down.")))
                }
            }
        } onCancel: {
            if once.resume(with: .failure(CancellationError())) { self.cancel() }
        }
    }

    /// Gives up on the session after a missed deadline: cancels the statement, and lets the
    /// thread close the connection and stop once the stuck call returns.
    private func abandon() {
        state.withLock { $0.abandoned = true }
        logger.warning("database did not answer in time; session abandoned", metadata: ["db.target": "\(target.name)"])
        cancel()
        executor.shutdown()
    }

    /// Closes the connection (on the session's thread) and stops the thread.
    public func close() async {
        // A session never used has no thread and no connection to close.
        guard executor.isStarted, !isAbandoned else {
            executor.shutdown()
            return
        }
        _ = try? await closeConnection(waitingAtMost: 2)
        executor.shutdown()
    }

    /// Drops the connection on the session's thread; waits at most `seconds` for it.
    private func closeConnection(waitingAtMost seconds: Double) async throws -> [QueryResult] {
        let once = OnceContinuation<[QueryResult]>()
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[QueryResult], Error>) in
            once.set(c)
            let timer = OneShotTimer(after: seconds) { once.resume(with: .success([])) }
            let accepted = executor.submit { [self] in
                self.state.withLock { $0.connection = nil }
                timer.cancel()
                once.resume(with: .success([]))
            }
            if !accepted {
                timer.cancel()
                once.resume(with: .success([]))
            }
        }
    }

    /// Cancels the statement in flight, if any. Returns at once: `PQcancel` connects to the
    /// server and waits for it, so it runs on a thread of its own (this is called from task
    /// cancellation handlers, which may run on the cooperative pool).
    public func cancel() {
        guard let conn = state.withLock({ $0.connection }) else { return }
        let box = UncheckedBox(conn)
        ThreadExecutor.detach(name: "triage-pg-cancel") { box.value.cancel() }
    }

    private func connected() throws -> PostgresConnection {
        if let c = state.withLock({ $0.connection }), c.isHealthy { return c }
        state.withLock { $0.connection = nil }
        let c = try PostgresConnection(target: target)
        logger.info("connected to database", metadata: ["db.target": "\(target.name)", "db.backend_pid": "\(c.backendPID)"])
        state.withLock { $0.connection = c }
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
                state.withLock { $0.connection = nil }
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
        case .readOnly, .readOnlyRolledBack:
            // One round trip for the whole read-only transaction (pipelined).
            var batch: [(sql: String, parameters: [String?])] = [("BEGIN TRANSACTION READ ONLY", [])]
            for s in statements { batch.append((Self.marker + (try expand(s, on: conn)), s.parameters)) }
            batch.append((mode == .readOnlyRolledBack ? "ROLLBACK" : "COMMIT", []))
            started = true
            do {
                let results = try conn.executePipeline(batch)
                return Array(results.dropFirst().dropLast())
            } catch {
                if conn.isHealthy && conn.inTransaction { _ = try? conn.execute("ROLLBACK") }
                throw error
            }
        case .readWrite:
            _ = try conn.execute("BEGIN")
            started = true
            do {
                // The configured action role, for this transaction only.
                if let role {
                    _ = try conn.execute("SELECT set_config('role', $1, true)", [role])
                }
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
            // The configured action role, for these statements only (they cannot run in a transaction).
            if let role {
                _ = try conn.execute("SELECT set_config('role', $1, false)", [role])
            }
            defer { if role != nil { _ = try? conn.execute("RESET ROLE") } }
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

/// A mutex around state that holds a non-Sendable libpq connection (see ``PostgresSession``).
final class UncheckedMutex<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched with `lock` held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// A continuation resumed by whichever comes first (the result, the deadline, cancellation).
final class OnceContinuation<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, Error>?, early: Result<T, Error>?, done: Bool)>((nil, nil, false))

    func set(_ c: CheckedContinuation<T, Error>) {
        let early: Result<T, Error>? = state.withLock { s in
            if let e = s.early { s.early = nil; return e }
            s.continuation = c
            return nil
        }
        if let early { c.resume(with: early) }
    }

    /// Resumes the continuation unless something already did; true when this call did.
    @discardableResult
    func resume(with result: Result<T, Error>) -> Bool {
        let (won, c) = state.withLock { s -> (Bool, CheckedContinuation<T, Error>?) in
            guard !s.done else { return (false, nil) }
            s.done = true
            if let c = s.continuation { s.continuation = nil; return (true, c) }
            s.early = result
            return (true, nil)
        }
        c?.resume(with: result)
        return won
    }
}
