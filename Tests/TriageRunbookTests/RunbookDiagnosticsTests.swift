import Foundation
import Testing
import TriageTesting
@testable import TriageRuntime
@testable import TriageRunbook
@testable import TriageIncidents
import TriageHandlers
import TriageChat
import TriageCore
@testable import TriagePostgres

/// Each diagnostic against an induced condition in a real PostgreSQL. Swift Testing makes a
/// suite instance per test, so every test gets a fresh database of its own.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class RunbookDiagnosticsTests {
    let h: RunbookHarness

    init() throws {
        h = try RunbookHarness(suite: "diag", config: [
            "migrations": "tables: [{preset: golang-migrate}]",
            "integrity": "unique_keys: [{table: child, columns: [parent_id]}]\nnot_null: [{table: public.child, columns: [parent_id]}]",
        ])
    }

    deinit {
        h.shutdown()
    }

    @Test func idleSessionsOlderThanADurationAreCountedExactly() async throws {
        for _ in 0..<3 { try h.session("rb-idle").exec("SELECT 1") }
        try await Task.sleep(nanoseconds: 2_200_000_000)
        try h.session("rb-idle").exec("SELECT 1")   // idle, but not for long enough
        let reply = await h.send("/pg idle --older 2s --app rb-idle")
        #expect(reply.value("idle sessions older than threshold") == "3")
        #expect(reply.table("Sessions")?.rows.count == 3)
        let all = await h.send("/pg idle --older 0s --app rb-idle")
        #expect(all.value("idle sessions older than threshold") == "4")
    }

    @Test func idleInTransactionHoldingXminIsReported() async throws {
        let s = try h.session("rb-xmin")
        try s.exec("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try s.exec("SELECT count(*) FROM pg_class")
        let reply = await h.send("/pg idle-tx")
        let row = try #require(reply.table("Sessions")?.row(where: "pid", is: String(s.pid)))
        #expect(row["application"] == "rb-xmin")
        #expect(row["xmin"]?.isEmpty == false)
        #expect(Int(reply.value("sessions idle in transaction") ?? "0")! >= 1)
        let xmin = await h.send("/pg xmin")
        let holder = try #require(xmin.table()?.row(where: "holder", is: String(s.pid)))
        #expect(holder["kind"] == "session")
        #expect(holder["detail"]?.contains("idle in transaction") == true)
        try s.exec("ROLLBACK")
    }

    @Test func threeSessionLockChainShowsRootBlockerFirst() async throws {
        try h.admin.exec("CREATE TABLE lk(id int PRIMARY KEY, v int); INSERT INTO lk VALUES (1, 0)")
        let s1 = try h.session("rb-lock1"), s2 = try h.session("rb-lock2"), s3 = try h.session("rb-lock3")
        try s1.exec("BEGIN")
        try s1.exec("UPDATE lk SET v = v + 1 WHERE id = 1")
        try s2.send("UPDATE lk SET v = v + 1 WHERE id = 1")
        try await Task.sleep(nanoseconds: 300_000_000)
        try s3.send("ALTER TABLE lk ADD COLUMN w int")   // a migration stuck behind the chain
        let waiting = await h.eventually {
            let r = try? self.h.admin.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('rb-lock2', 'rb-lock3') AND wait_event_type = 'Lock'")
            return r?.first?.first == "2"
        }
        #expect(waiting)
        let reply = await h.send("/pg locks")
        let tree = try #require(reply.table("Blocking tree"))
        let sessions = tree.column("session")
        // s1 is a root blocker (the tree is cluster-wide: other databases' chains may be listed too).
        let root = try #require(sessions.firstIndex(of: String(s1.pid)))
        #expect(sessions.dropFirst(root + 1).first == "  └ \(s2.pid)")     // s2 waits on s1
        #expect(sessions.dropFirst(root + 2).first == "    └ \(s3.pid)")   // s3 waits on s2 (depth 2)
        let s2row = try #require(tree.row(where: "session", is: "  └ \(s2.pid)"))
        #expect(s2row["blocked by"] == String(s1.pid))
        #expect(s2row["application"] == "rb-lock2")
        #expect(s2row["query"]?.contains("UPDATE lk") == true)
        #expect(Int(reply.value("sessions blocked") ?? "0")! >= 2)
        let health = await h.send("/pg health")
        let blocked = try #require(health.table()?.row(where: "check", is: "sessions waiting on locks"))
        #expect(Int(blocked["value"] ?? "0")! >= 2)
        #expect(blocked["run next"]?.contains("/pg locks") == true)

        // The remedy: terminate the root blocker; the chain dissolves.
        let preview = await h.send("/pg terminate \(s1.pid)")
        let token = try #require(h.token(preview))
        let done = await h.send("/confirm \(token)")
        #expect(done.title?.hasPrefix("Done") == true)
        #expect(s2.finishSent() == nil)     // the UPDATE went through once s1 was gone
        let after = await h.send("/pg locks")
        #expect(after.table("Blocking tree")?.column("session").contains(String(s1.pid)) != true)
        #expect(s3.finishSent() == nil)  // the migration went through too
    }

    @Test func deadTuplesAfterAMassUpdateAreCounted() async throws {
        try h.admin.exec("CREATE TABLE bl(id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off)")
        let s = try h.session("rb-bloat")
        try s.exec("INSERT INTO bl SELECT g, g FROM generate_series(1, 5000) g")
        try s.exec("UPDATE bl SET v = v + 1")
        s.close()  // statistics are flushed when the session ends
        var row: [String: String]?
        _ = await h.eventually {
            row = await self.h.send("/pg bloat").table()?.row(where: "table", is: "public.bl")
            return row?["dead"] == "5000"
        }
        #expect(row?["dead"] == "5000")
        #expect(row?["live"] == "5000")
        #expect(row?["dead %"] == "50.0%")
        let health = await h.send("/pg health")
        let dead = try #require(health.table()?.row(where: "check", is: "worst dead-tuple share"))
        #expect(dead["status"] == "CRITICAL")
        #expect(dead["detail"]?.contains("public.bl: 5000 dead") == true)
        #expect(dead["run next"]?.contains("/pg vacuum") == true)
    }

    @Test func slowQueryAppearsInPgStatStatementsAndCanBeExplained() async throws {
        try h.admin.exec("CREATE TABLE ex(id int PRIMARY KEY, v text); INSERT INTO ex SELECT g, 'x' FROM generate_series(1, 1000) g; ANALYZE ex")
        let s = try h.session("rb-slow")
        try s.exec("SELECT pg_sleep(0.3)")
        try s.exec("SELECT v FROM ex WHERE id = 42")
        let slow = await h.send("/pg slow --limit 100")
        let table = try #require(slow.table())
        let sleepRow = try #require(table.rows.first { $0[table.columns.firstIndex(of: "query")!].text.contains("pg_sleep") })
        let mean = sleepRow[table.columns.firstIndex(of: "mean")!].text
        #expect(Double(mean.replacingOccurrences(of: " ms", with: ""))! >= 300)

        let qid = try #require(try h.admin.exec("SELECT queryid::text FROM pg_stat_statements WHERE query LIKE 'SELECT v FROM ex WHERE id = $1%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").first?.first ?? nil)
        let plan = await h.send("/pg explain \(qid)")
        #expect(plan.allText.contains("Index Scan using ex_pkey on ex"))
        #expect(plan.allText.contains("id = $1"))
        #expect(plan.value("plan")?.contains("generic plan for 1 parameter") == true)
        // Nothing was left prepared on Triage's session, so a second run works too.
        let again = await h.send("/pg explain \(qid)")
        #expect(again.allText.contains("Index Scan using ex_pkey on ex"))
        let missing = await h.send("/pg explain 12345")
        #expect(missing.allText.contains("No statement with queryid 12345"))
        let bad = await h.send("/pg explain x1")
        #expect(bad.allText.contains("QUERYID is the number"))
    }

    @Test func unusedAndDuplicateIndexesAreFound() async throws {
        try h.admin.exec("""
            CREATE TABLE ix(a int, b int); CREATE INDEX ix_a1 ON ix(a); CREATE INDEX ix_a2 ON ix(a); CREATE INDEX ix_b ON ix(b);
            """)
        let dup = await h.send("/pg duplicate-indexes")
        let row = try #require(dup.table()?.row(where: "table", is: "ix"))
        #expect(row["indexes"] == "ix_a1, ix_a2")
        #expect(row["copies"] == "2")
        let unused = await h.send("/pg unused-indexes")
        let names = unused.table()?.column("index") ?? []
        #expect(names.contains("ix_a1") && names.contains("ix_a2") && names.contains("ix_b"))
        #expect(unused.table()?.row(where: "index", is: "ix_b")?["scans"] == "0")
    }

    @Test func invalidIndexFromAFailedConcurrentBuildIsReportedAndRebuilt() async throws {
        try h.admin.exec("CREATE TABLE inv(v int); INSERT INTO inv VALUES (1), (1), (2)")
        #expect(throws: (any Error).self) { try self.h.admin.exec("CREATE UNIQUE INDEX CONCURRENTLY inv_v ON inv(v)") }
        let reply = await h.send("/pg invalid-indexes")
        let row = try #require(reply.table()?.row(where: "index", is: "inv_v"))
        #expect(row["table"] == "inv")
        #expect(row["state"]?.hasPrefix("not") == true)
        let health = await h.send("/pg health")
        #expect(health.table()?.row(where: "check", is: "invalid indexes")?["detail"]?.contains("inv_v") == true)

        // Remove the duplicate, then rebuild the index concurrently.
        try h.admin.exec("DELETE FROM inv WHERE ctid = (SELECT max(ctid) FROM inv WHERE v = 1)")
        let before = try h.admin.exec("SELECT relfilenode::text FROM pg_class WHERE relname = 'inv_v'").first?.first ?? nil
        let preview = await h.send("/pg reindex inv_v")
        #expect(preview.value("validity") == "INVALID")
        #expect(preview.value("lock taken")?.hasPrefix("SHARE UPDATE EXCLUSIVE") == true)
        let done = await h.send("/confirm \(try #require(h.token(preview)))")
        #expect(done.title?.hasPrefix("Done") == true)
        let valid = try h.admin.exec("SELECT indisvalid::text, c.relfilenode::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'inv_v'")
        #expect(valid.first?[0] == "true")
        #expect(valid.first?[1] != before)
        #expect(await h.send("/pg invalid-indexes").table()?.row(where: "index", is: "inv_v") == nil)
    }

    @Test func failedAndUnfinishedPrismaMigrationsAreReported() async throws {
        try h.admin.exec("""
            CREATE TABLE "_prisma_migrations" (
              id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
              migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
              started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0);
            INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES
              ('1', 'c1', '20251001_init', now() - interval '30 days', now() - interval '30 days', 1),
              ('2', 'c2', '20251020_add_products', now() - interval '10 days', now() - interval '10 days', 1);
            INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs) VALUES
              ('3', 'c3', '20251031_add_analytics_table', now() - interval '1 hour', 'ERROR: relation "analytics" already exists');
            INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES
              ('4', 'c4', '20251031_backfill', now() - interval '5 minutes');
            """)
        let reply = await h.send("/pg migrations")
        #expect(reply.value("migrations") == "4")
        #expect(reply.value("applied") == "2")
        #expect(reply.value("failed") == "1")
        #expect(reply.value("unfinished (started, not finished)") == "1")
        #expect(reply.value("latest applied")?.hasPrefix("20251020_add_products") == true)
        let problems = try #require(reply.table("Failed and unfinished"))
        #expect(problems.row(where: "migration", is: "20251031_add_analytics_table")?["state"] == "FAILED")
        #expect(problems.row(where: "migration", is: "20251031_backfill")?["state"] == "UNFINISHED")
        #expect(reply.mark == .critical)
        let health = await h.send("/pg health")
        let m = try #require(health.table()?.row(where: "check", is: "failed or unfinished Prisma migrations"))
        #expect(m["value"] == "2")
        #expect(m["status"] == "CRITICAL")
        #expect(m["run next"] == "/pg migrations")
    }

    @Test func orphanedRowUnderANotValidForeignKeyIsCounted() async throws {
        try h.admin.exec("""
            CREATE TABLE parent(id int PRIMARY KEY); INSERT INTO parent VALUES (1), (2);
            CREATE TABLE child(id int PRIMARY KEY, parent_id int); INSERT INTO child VALUES (1, 1), (2, 2), (3, 99), (4, NULL), (5, 1);
            ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent(id) NOT VALID;
            """)
        let reply = await h.send("/pg integrity child")
        let notValid = try #require(reply.table("NOT VALID constraints"))
        #expect(notValid.row(where: "constraint", is: "child_parent_fk")?["type"] == "foreign key")
        let orphans = try #require(reply.table("Orphaned rows"))
        let row = try #require(orphans.row(where: "constraint", is: "child_parent_fk"))
        #expect(row["orphans"] == "1")
        #expect(row["state"] == "NOT VALID")
        #expect(reply.summary?.contains("1 orphaned rows in public.child") == true)
        let keys = try #require(reply.table("Configured keys"))
        #expect(keys.rows.map { $0.map(\.text) } == [["child(parent_id)", "duplicates", "1 duplicated keys, 1 extra rows"],
                                                     ["public.child(parent_id)", "NULLs", "1 rows with NULLs"]])
        #expect(reply.mark == .critical)
        // Fix the orphan: the count drops to zero.
        try h.admin.exec("DELETE FROM child WHERE id = 3")
        let fixed = await h.send("/pg integrity child")
        #expect(fixed.table("Orphaned rows")?.row(where: "constraint", is: "child_parent_fk")?["orphans"] == "0")
    }

    @Test func amcheckChecksBTreeIndexesWhenInstalled() async throws {
        try h.admin.exec("CREATE EXTENSION IF NOT EXISTS amcheck; CREATE TABLE am(id int PRIMARY KEY); INSERT INTO am SELECT generate_series(1, 100)")
        let reply = await h.send("/pg integrity")
        let table = try #require(reply.table("amcheck"))
        #expect(table.rows.isEmpty)
        #expect(table.title?.contains("on 0 B-tree") == false)
    }

    @Test func configuredMigrationTablesShowFailures() async throws {
        try h.admin.exec("CREATE TABLE schema_migrations(version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (20251031, true)")
        let reply = await h.send("/pg migrations")
        let table = try #require(reply.table("public.schema_migrations"))
        #expect(table.title == "public.schema_migrations: 1 failed")
        #expect(table.row(where: "migration", is: "20251031")?["state"] == "FAILED")
        #expect(reply.summary?.contains("1 failed in public.schema_migrations") == true)
    }

    @Test func everyDiagnosticRunsOnARealServer() async throws {
        let diagnostics = h.app.dispatcher.registry.declarations.filter {
            ($0.kind == .diagnostic) && !$0.arguments.contains { $0.isRequired }
        }
        #expect(diagnostics.count >= 25)
        for d in diagnostics {
            let reply = await h.send("/" + d.name)
            #expect(!reply.allText.contains("error"), "/\(d.name): \(reply.allText.prefix(300))")
            #expect(!reply.allText.contains("Internal"), "/\(d.name)")
        }
    }

    @Test func chatArgumentsReachSQLOnlyAsData() async throws {
        try h.admin.exec("CREATE TABLE x(id int); CREATE TABLE users(id int)")
        let vacuum = await h.send("/pg vacuum \"users; DROP TABLE x\"")
        #expect(vacuum.allText.contains("No table named users; DROP TABLE x"))
        #expect(h.token(vacuum) == nil)
        let quote = await h.send("/pg indexes \"a'b\"")
        #expect(quote.allText.contains("No indexes found"))
        let analyze = await h.send("/pg analyze \"x\\\"; DROP TABLE users; --\"")
        #expect(analyze.allText.contains("No table named"))
        let integrity = await h.send("/pg integrity \"users; DROP TABLE x\"")
        #expect(integrity.allText.contains("No foreign keys on users; DROP TABLE x"))
        let idle = await h.send("/pg idle --app \"'; DROP TABLE x; --\"")
        #expect(idle.value("idle sessions older than threshold") == "0")
        let tables = try h.admin.exec("SELECT count(*) FROM pg_class WHERE relname IN ('x', 'users') AND relkind = 'r'")
        #expect(tables.first?.first == "2")
    }

    @Test func runbookMapsEveryQuickReferenceSymptomToCommands() async throws {
        let expectations: [(String, String)] = [
            ("too many connections", "/pg kill-idle"), ("high response times", "/pg slow"),
            ("data recovery needed", "/pg backup-status"), ("failed migration", "/pg migrations"),
            ("inconsistent data", "/pg integrity"), ("gradual slowdown", "/pg vacuum"),
            ("disk space full", "/pg space"), ("database down", "/pg health"),
        ]
        for (symptom, command) in expectations {
            let reply = await h.send("/runbook \(symptom)")
            #expect(reply.allText.contains(command), "\(symptom) → \(command)")
        }
    }
}
