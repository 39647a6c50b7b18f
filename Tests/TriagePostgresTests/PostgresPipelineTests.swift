import Foundation
import Testing
import TriageTesting
@testable import TriagePostgres
import TriageCore

/// A read-only run is one round trip (libpq's pipeline mode): the statements still run in
/// one read-only transaction, in order, and a failing one is reported and leaves the
/// session usable.
@Suite(.enabled(if: TestEnvironment.hasPostgres))
struct PostgresPipelineTests {
    func session(_ name: String) -> PostgresSession {
        PostgresSession(target: PostgresTarget(name: name, connectionString: TestEnvironment.postgresURL!,
                                               applicationName: "triage-pipeline-test"), logger: TestEnvironment.logger)
    }

    @Test func statementsRunInOrderInOneReadOnlyTransaction() async throws {
        let s = session("pipeline")
        defer { Task { await s.close() } }
        let results = try await s.run([
            SQLStatement("SELECT now()::text, current_setting('transaction_read_only')"),
            SQLStatement("SELECT $1::text || '!'", parameters: ["a'b<i>"]),
            SQLStatement("SELECT n FROM generate_series(1, 3) n"),
            SQLStatement("SELECT now()::text, pg_current_xact_id_if_assigned() IS NULL"),
        ], mode: .readOnly)
        #expect(results.count == 4)
        let first = results[0].rows.first ?? []
        #expect(first.count == 2 && first[1] == "on")
        #expect(results[1].rows == [["a'b<i>!"]])
        #expect(results[2].rows == [["1"], ["2"], ["3"]])
        // now() is the transaction's start: the same in the first and last statement.
        #expect(results[3].rows.first?.first ?? nil == first.first ?? "none")
        #expect(results[3].rows.first?.last ?? nil == "t")
    }

    @Test func aFailingStatementIsReportedAndTheSessionStaysUsable() async throws {
        let s = session("pipeline-failure")
        defer { Task { await s.close() } }
        for mode in [SQLMode.readOnly, .readOnlyRolledBack] {
            do {
                _ = try await s.run([SQLStatement("SELECT 1"), SQLStatement("SELECT 1 / $1::int", parameters: ["0"]),
                                     SQLStatement("SELECT 3")], mode: mode)
                Issue.record("a division by zero was not reported")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22012")
                #expect(error.code == .query)
            }
            // Not left inside the aborted transaction, nor in pipeline mode.
            let after = try await s.run([SQLStatement("SELECT 'again'"), SQLStatement("SELECT 2")], mode: mode)
            #expect(after.map(\.rows) == [[["again"]], [["2"]]])
        }
    }

    @Test func aWriteInAReadOnlyRunIsRefusedByTheServer() async throws {
        let s = session("pipeline-write")
        defer { Task { await s.close() } }
        do {
            _ = try await s.run([SQLStatement("CREATE TABLE triage_pipeline_must_not_exist (x int)")], mode: .readOnly)
            Issue.record("a write ran in a read-only transaction")
        } catch let error as PostgresError {
            #expect(error.sqlState == "25006")
        }
        let exists = try await s.run([SQLStatement("SELECT to_regclass('triage_pipeline_must_not_exist') IS NULL")], mode: .readOnly)
        #expect(exists.first?.rows == [["t"]])
    }

    @Test func aQuotedIdentifierReachesTheServerQuoted() async throws {
        let s = session("pipeline-ident")
        defer { Task { await s.close() } }
        let name = #"we"ird <b>name"#
        let results = try await s.run([SQLStatement("SELECT 1 AS {{ident:col}}", identifiers: ["col": name])], mode: .readOnly)
        #expect(results.first?.columns == [name])
    }
}
