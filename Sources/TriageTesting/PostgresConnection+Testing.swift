import CLibPQ
import TriageCore
import TriagePostgres

/// What the tests do with a plain session beyond ``PostgresConnection/execute(_:_:)``:
/// several statements at once, and statements that block (sent without waiting).
extension PostgresConnection {
    /// The server process id (`pg_stat_activity.pid`).
    package var pid: Int32 { backendPID }

    /// Runs `sql` (several statements allowed) and waits for it; returns the last result's rows.
    @discardableResult
    package func exec(_ sql: String) throws -> [[String?]] {
        guard let handle, let r = PQexec(handle, sql) else { throw TriageError(.database, "no connection") }
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else { throw error(from: r) }
        return Self.read(r).rows
    }

    /// Sends `sql` without waiting (for statements that block on a lock or sleep).
    package func send(_ sql: String) throws {
        guard let handle, PQsendQuery(handle, sql) == 1 else { throw TriageError(.database, "send failed") }
    }

    /// Waits for the result of ``send(_:)``; returns the SQLSTATE of an error, or nil.
    package func finishSent() -> String? {
        guard let handle else { return nil }
        var state: String?
        while let r = PQgetResult(handle) {
            if PQresultStatus(r) == PGRES_FATAL_ERROR, let s = PQresultErrorField(r, Int32(UInt8(ascii: "C"))) {
                state = String(cString: s)
            }
            PQclear(r)
        }
        return state
    }
}

// @unchecked: a test's plain session, used by one test at a time (libpq allows a connection on any one thread at a time).
extension PostgresConnection: @unchecked Sendable {}
