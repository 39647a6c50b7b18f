import Foundation
import Testing
import TriageTesting
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
        // The caller is released at once (it never waits for the server)…
        guard case .failure(let error) = result, error is CancellationError else {
            Issue.record("the caller was not released: \(result)")
            return
        }
        // …and the statement is cancelled on the server.
        let observer = PostgresSession(target: PostgresTarget(name: "observer", connectionString: TestEnvironment.postgresURL!,
                                                              applicationName: "triage-cancel-observer"), logger: TestEnvironment.logger)
        var running = "1"
        for _ in 0..<50 {
            running = try await observer.run([SQLStatement("""
                SELECT count(*)::text FROM pg_stat_activity
                WHERE application_name = 'triage-cancel-test' AND state = 'active' AND query LIKE '%pg_sleep(60)%'
                """)], mode: .readOnly).first?.rows.first?.first.flatMap { $0 } ?? "?"
            if running == "0" { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(running == "0")
        await observer.close()
        // The session still works after a cancel.
        let after = try await session.run([SQLStatement("SELECT 2")], mode: .readOnly)
        #expect(after.first?.rows == [["2"]])
        await session.close()
    }
}
