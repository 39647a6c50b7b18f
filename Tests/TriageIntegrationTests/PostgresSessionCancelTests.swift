import Foundation
import Testing
@testable import TriagePostgres
import TriageCore

/// Cancelling the task that waits for a statement cancels the statement on the server
/// (`PQcancel`, sent from a thread of its own).
@Suite(.enabled(if: TestEnvironment.hasPostgres))
struct PostgresSessionCancelTests {
    @Test func cancellingTheTaskCancelsTheRunningStatement() async throws {
        let target = PostgresTarget(name: "cancel", connectionString: TestEnvironment.postgresURL!, statementTimeoutMs: 120_000,
                                    applicationName: "triage-cancel-test")
        let session = PostgresSession(target: target, logger: TestEnvironment.logger)
        _ = try await session.run([SQLStatement("SELECT 1")], mode: .readOnly)   // connected before the clock starts
        let task = Task { try await session.run([SQLStatement("SELECT pg_sleep(60)")], mode: .readOnly) }
        try await Task.sleep(nanoseconds: 500_000_000)
        task.cancel()
        let result = await task.result
        guard case .failure(let error as PostgresError) = result else {
            Issue.record("the statement was not cancelled: \(result)")
            return
        }
        #expect(error.sqlState == "57014", "\(error.debugDescription)")
        // The session still works after a cancel.
        let after = try await session.run([SQLStatement("SELECT 2")], mode: .readOnly)
        #expect(after.first?.rows == [["2"]])
        await session.close()
    }
}
