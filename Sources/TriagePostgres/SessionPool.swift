import Foundation
import Logging
import Synchronization
import TriageCore

/// A few sessions to one target, so two slow diagnostics don't queue behind each other. A
/// session that missed its deadline is dropped and replaced by a fresh one.
final class SessionPool: Sendable {
    let target: PostgresTarget
    /// The role its sessions switch to for each transaction (action connections), if any.
    let role: String?
    let size: Int
    let logger: Logger

    struct State {
        var idle: [PostgresSession] = []
        /// Sessions handed out or idle (abandoned ones no longer count).
        var open = 0
        var waiters: [CheckedContinuation<PostgresSession, Error>] = []
        var closed = false
        var all: [PostgresSession] = []
    }
    private let state = Mutex(State())

    init(target: PostgresTarget, role: String?, size: Int, logger: Logger) {
        self.target = target
        self.role = role
        self.size = max(1, size)
        self.logger = logger
    }

    /// Runs `statements` on a free session, waiting for one when all are busy.
    func run(_ statements: [SQLStatement], mode: SQLMode, deadline: Double?) async throws -> [QueryResult] {
        let session = try await acquire()
        defer { release(session) }
        return try await session.run(statements, mode: mode, deadline: deadline)
    }

    private func acquire() async throws -> PostgresSession {
        enum Next { case ready(PostgresSession), wait }
        let next: Next = try state.withLock { s in
            if s.closed { throw TriageError(.conflict, "Triage is shutting down.") }
            if let session = s.idle.popLast() { return .ready(session) }
            if s.open < size {
                s.open += 1
                let session = PostgresSession(target: target, logger: logger, role: role)
                s.all.append(session)
                return .ready(session)
            }
            return .wait
        }
        if case .ready(let session) = next { return session }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<PostgresSession, Error>) in
            let ready: PostgresSession? = state.withLock { s in
                if let session = s.idle.popLast() { return session }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func release(_ session: PostgresSession) {
        let (waiter, handed): (CheckedContinuation<PostgresSession, Error>?, PostgresSession?) = state.withLock { s in
            var give = session
            if session.isAbandoned {
                s.all.removeAll { $0 === session }
                guard !s.closed else { s.open -= 1; return (nil, nil) }
                // A fresh session takes the abandoned one's place.
                give = PostgresSession(target: target, logger: logger, role: role)
                s.all.append(give)
            }
            if !s.waiters.isEmpty {
                return (s.waiters.removeFirst(), give)
            }
            s.idle.append(give)
            return (nil, nil)
        }
        if let waiter, let handed { waiter.resume(returning: handed) }
    }

    /// Closes every session; later calls fail.
    func close() async {
        let (sessions, waiters) = state.withLock { s -> ([PostgresSession], [CheckedContinuation<PostgresSession, Error>]) in
            s.closed = true
            let w = s.waiters
            s.waiters = []
            return (s.all, w)
        }
        for w in waiters { w.resume(throwing: TriageError(.conflict, "Triage is shutting down.")) }
        for s in sessions { await s.close() }
    }
}
