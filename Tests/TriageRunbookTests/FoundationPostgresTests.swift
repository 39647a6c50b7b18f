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
import TriageStore

/// The foundation against a real PostgreSQL: induced idle sessions and dead tuples are
/// reported exactly; the timeline records commands; bad input gets clear answers.
@Suite(.enabled(if: TestEnvironment.hasPostgres), .serialized)
struct FoundationPostgresTests {
    let url: String
    let app: TriageApplication
    let console: ConsoleSession

    init() throws {
        url = try TestEnvironment.freshDatabase("found")
        var config = TriageConfig.defaults(environment: ["DATABASE_URL": url, "TRIAGE_COMMANDS": TestEnvironment.commandsDirectory])
        config.timelinePath = TestEnvironment.scratch("found").appendingPathComponent("t.sqlite").path
        config.databases.append(PostgresTarget(name: "other", connectionString: TestEnvironment.postgresURL!))
        app = try TriageApplication(config: config, plugins: StandardPlugins.all, logger: TestEnvironment.logger)
        console = ConsoleSession(app: app)
    }

    func say(_ line: String) async -> String {
        await console.handle(line: line, number: Int.random(in: 1...1_000_000)) ?? ""
    }

    @Test func idleSessionsOlderThanAThresholdAreReportedExactly() async throws {
        let tag = "idle-\(UInt16.random(in: 0...UInt16.max))"
        let sessions = try (0..<3).map { _ in try TestEnvironment.session(url, app: tag) }
        for s in sessions { _ = try s.execute("SELECT 1") }
        let young = try TestEnvironment.session(url, app: tag + "-young")
        try await Task.sleep(nanoseconds: 1_600_000_000)
        _ = try young.execute("SELECT 1")   // idle, but only just

        let out = await say("/pg idle --older 1s --limit 500")
        let pids = sessions.map { String($0.backendPID) }
        let ourRows = out.split(separator: "\n").filter { $0.contains(tag) }
        #expect(ourRows.count == 3, "\(out)")
        for pid in pids {
            #expect(ourRows.contains { $0.hasPrefix(pid + " ") || $0.contains(" \(pid) ") }, "pid \(pid) missing in\n\(out)")
        }
        #expect(!out.contains(String(young.backendPID) + " "), "young session listed")

        let conns = await say("/pg connections")
        let row = conns.split(separator: "\n").first { $0.hasPrefix(tag + " ") }
        #expect(row?.hasSuffix(" 3") == true, "\(conns)")
        withExtendedLifetime(sessions) {}
        withExtendedLifetime(young) {}
    }

    @Test func deadTuplesAfterMassUpdatesAreReported() async throws {
        let s = try TestEnvironment.session(url, app: "bloat-maker")
        _ = try s.execute("CREATE TABLE bloated (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)")
        _ = try s.execute("INSERT INTO bloated SELECT g, 0 FROM generate_series(1, 1000) g")
        _ = try s.execute("UPDATE bloated SET v = v + 1")
        _ = try s.execute("UPDATE bloated SET v = v + 1 WHERE id <= 500")
        _ = try s.execute("SELECT pg_stat_force_next_flush()")
        _ = try s.execute("SELECT 1")
        var out = ""
        for _ in 0..<30 {
            out = await say("/pg bloat")
            if out.contains("public.bloated") && out.contains(" 1500 ") { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        let row = out.split(separator: "\n").first { $0.hasPrefix("public.bloated") }
        #expect(row != nil, "\(out)")
        let fields = row.map { $0.split(separator: " ").map(String.init) } ?? []
        // table, live, dead, dead %, size…
        #expect(fields.count > 3 && fields[1] == "1000" && fields[2] == "1500", "\(out)")
        #expect(fields.count > 3 && fields[3].hasPrefix("60.0%"), "\(out)")
        #expect(out.contains("60.0% !!"), "60% dead is over the critical threshold\n\(out)")
    }

    @Test func everyFoundationCommandAnswers() async throws {
        for line in ["/pg connections", "/pg idle", "/pg active", "/pg slow --by total --limit 3", "/pg size",
                     "/pg bloat", "/pg vacuum-stats", "/pg indexes", "/pg indexes pg_class", "/ping", "/help", "/help pg slow"] {
            let out = await say(line)
            #expect(!out.isEmpty, "\(line)")
            #expect(!out.contains("[CRIT]") || line == "/pg connections", "\(line):\n\(out)")
            #expect(!out.contains("Internal error"), "\(line):\n\(out)")
        }
    }

    @Test func slowQueriesComeFromPgStatStatements() async throws {
        let missing = await say("/pg slow")
        #expect(missing.contains("pg_stat_statements is not installed"), "\(missing)")
        let s = try TestEnvironment.session(url, app: "slowpoke")
        _ = try s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        _ = try s.execute("SELECT pg_sleep(0.3), 'slow-marker-7781' AS marker")
        let out = await say("/pg slow --limit 50")
        let row = out.split(separator: "\n").first { $0.contains("SELECT pg_sleep($1), $2 AS marker") }
        #expect(row != nil, "\(out)")
        // 0.3 s mean is shown as ~300 ms
        #expect(row?.contains(" 30") == true && row?.contains(" ms") == true, "\(out)")
    }

    @Test func hostileArgumentsAreOnlyData() async throws {
        let out = await say(#"/pg indexes "pg_class; DROP TABLE bloated_never""#)
        #expect(out.contains("No indexes found"), "\(out)")
        let quote = await say(#"/pg indexes "a'b""#)
        #expect(quote.contains("No indexes found"), "\(quote)")
    }

    @Test func otherTargetsAreChosenWithDb() async throws {
        let out = await say("/pg size --db other")
        #expect(out.contains("[other]"), "\(out)")
        #expect(out.contains("postgres"), "\(out)")
        let bad = await say("/pg size --db nowhere")
        #expect(bad.contains("Unknown database 'nowhere'"), "\(bad)")
    }

    @Test func commandsInAnIncidentAreRecordedBeforeTheReply() async throws {
        _ = await say("/incident open sev2 Checkout is slow")
        let reply = await say("/pg connections")
        _ = await say("/note looked at connections")
        let (incident, events) = try await app.store.read { tx -> (Incident?, [TimelineEvent]) in
            let i = try tx.activeIncident(platform: "console", room: "console")
            return (i, try i.map { try tx.events(incident: $0.id!) } ?? [])
        }
        #expect(incident?.title == "Checkout is slow")
        #expect(events.map(\.kind) == [.opened, .snapshot, .command, .note])
        let command = events[2]
        #expect(command.command == "/pg connections")
        #expect(command.text.contains("connections used"))
        #expect(command.output?.contains("max_connections") == true)
        #expect(reply.contains("max_connections"))
        let timeline = await say("/timeline")
        #expect(timeline.contains("/pg connections"))
        #expect(timeline.contains(" UTC"))
        let resolved = await say("/resolve fixed")
        #expect(resolved.contains("resolved"))
    }
}
