import Foundation
import Testing
@testable import TriageRuntime
@testable import TriageRunbook
@testable import TriageIncidents
import TriageHandlers
import TriageChat
@testable import TriagePostgres
import TriageCore
import TriageTesting

/// The database going away and coming back: a clear reply within the connect timeout, the
/// bot keeps answering, and the connection is re-established after the server restarts.
@Suite(.enabled(if: TestEnvironment.hasPostgres && getuid() == 0), .serialized)
struct DatabaseOutageTests {
    @Test func downThenBackAgain() async throws {
        let dir = TestEnvironment.scratch("outage").appendingPathComponent("pg").path
        let port = String(56000 + Int.random(in: 0..<900))
        let up = try await ProcessRunner.pg(["up", dir, port])
        #expect(up.status == 0, "\(up.stderr)")
        defer { _ = try? ProcessRunner.runBlocking("/bin/bash", [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/pg.sh").path, "down", dir]) }
        let url = up.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        var config = TriageConfig.defaults(environment: ["DATABASE_URL": url, "TRIAGE_COMMANDS": TestEnvironment.commandsDirectory])
        config.databases[0].connectTimeout = 2
        config.timelinePath = TestEnvironment.scratch("outage").appendingPathComponent("t.sqlite").path
        let app = try TriageApplication(config: config, plugins: StandardPlugins.all, logger: TestEnvironment.logger)
        let console = ConsoleSession(app: app)
        let first = await console.handle(line: "/pg connections", number: 1) ?? ""
        #expect(first.contains("max_connections"), "\(first)")

        #expect(try await ProcessRunner.pg(["stop", dir]).status == 0)
        let started = Date()
        let down = await console.handle(line: "/pg connections", number: 2) ?? ""
        let elapsed = Date().timeIntervalSince(started)
        #expect(down.contains("Database 'default' is unreachable"), "\(down)")
        #expect(!down.contains("postgresql://"), "the reply must not echo the connection string")
        #expect(elapsed < 3.5, "took \(elapsed) s")
        let ping = await console.handle(line: "/ping", number: 3) ?? ""
        #expect(ping.contains("pong"))

        #expect(try await ProcessRunner.pg(["start", dir]).status == 0)
        let back = await console.handle(line: "/pg connections", number: 4) ?? ""
        #expect(back.contains("max_connections"), "\(back)")
        await app.shutdown()
    }

    @Test func unreachableHostAnswersWithinTheConnectTimeout() async throws {
        // A port nobody listens on: refused at once. A blackholed address is not used (no traffic off loopback).
        let client = PostgresClient(targets: [PostgresTarget(name: "gone", connectionString: "postgresql://postgres:secret@127.0.0.1:1/x", connectTimeout: 2)],
                                    logger: TestEnvironment.logger)
        do {
            _ = try await client.run([SQLStatement("SELECT 1")], on: nil, mode: .readOnly)
            Issue.record("expected an error")
        } catch let e as PostgresError {
            #expect(e.code == .connection)
            #expect(!e.description.contains("secret"))
        }
        await client.close()
    }
}
