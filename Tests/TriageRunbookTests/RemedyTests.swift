import Foundation
import Testing
@testable import TriageRuntime
@testable import TriageRunbook
import TriageHandlers
import TriageChat
import TriageTesting
import TriageCore
@testable import TriagePostgres

/// The remedies the runbook names: each is shown to have its effect, to be refused without the
/// operator role, to run nothing before confirmation and nothing again on a replayed token.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class RemedyTests {
    let h: RunbookHarness

    init() throws {
        h = try RunbookHarness(suite: "remedy")
    }

    deinit {
        h.shutdown()
    }

    func scalar(_ sql: String) throws -> String? { try h.scalar(sql) }

    /// Refused for a responder; previewed (nothing runs: `unchanged` still holds); confirmed
    /// once; the replay is refused. Returns the preview and the result.
    func guarded(_ line: String, unchanged: () throws -> Bool) async throws -> (Reply, Reply) {
        let refused = await h.send(line, role: .responder)
        #expect(refused.allText.contains("needs the operator role"), "\(line)")
        let preview = await h.send(line)
        let token = try #require(h.token(preview), "\(line): \(preview.allText)")
        #expect(try unchanged(), "\(line) ran before confirmation")
        let viewer = await h.send("/confirm \(token)", role: .viewer)
        #expect(viewer.allText.contains("needs the operator role"))
        #expect(try unchanged(), "\(line) ran on a viewer's confirmation")
        let done = await h.send("/confirm \(token)")
        let replay = await h.send("/confirm \(token)")
        #expect(replay.allText.contains("already used"), "\(line)")
        return (preview, done)
    }

    @Test func constraintsSuggestTheIndexAForeignKeyLacksAndTheSuggestionWorks() async throws {
        try h.admin.exec("CREATE TABLE fp(id int PRIMARY KEY); CREATE TABLE fc(id int PRIMARY KEY, \"Parent\" int REFERENCES fp(id))")
        let reply = await h.send("/pg constraints")
        let suggestion = try #require(reply.table("Foreign keys without")?.row(where: "table", is: "fc")?["to add the index"])
        #expect(suggestion == "/pg create-index fc \"Parent\"")
        let preview = await h.send(suggestion)
        #expect(preview.value("new index") == "fc_Parent_idx")
        _ = await h.send("/confirm \(try #require(h.token(preview)))")
        let after = await h.send("/pg constraints")
        #expect(after.table("Foreign keys without")?.row(where: "table", is: "fc") == nil)
    }

    @Test func seqScansNameTheTableAndTheStatementToExplain() async throws {
        try h.admin.exec("CREATE TABLE big(id int, customer int); INSERT INTO big SELECT g, g % 100 FROM generate_series(1, 20000) g; ANALYZE big")
        try h.admin.exec("CREATE TABLE small(id int); INSERT INTO small VALUES (1)")
        try h.admin.exec("CREATE TABLE \"odd(name\"(id int); INSERT INTO \"odd(name\" SELECT generate_series(1, 20000)")   // not a valid regex
        for _ in 0..<3 {
            try h.admin.exec("SELECT count(*) FROM big WHERE customer = 7; SELECT * FROM small; SELECT count(*) FROM \"odd(name\"")
        }
        var reply = Reply()
        #expect(await h.eventually {
            reply = await self.h.send("/pg seq-scans")
            // An idle session flushes its statistics only after 10 s; a statement flushes them sooner.
            _ = try? self.h.admin.exec("SELECT 1")
            return reply.table("Tables read")?.row(where: "table", is: "public.big")?["sequential scans"] == "3"
        })
        let big = try #require(reply.table("Tables read")?.row(where: "table", is: "public.big"))
        #expect(big["rows read per scan"] == "20000")
        #expect(reply.table("Tables read")?.row(where: "table", is: "public.small") == nil)   // below --min-rows
        let statement = try #require(reply.table("Recorded statements")?.row(where: "table", is: "big"))
        #expect(statement["query"]?.hasPrefix("SELECT count(*) FROM big WHERE customer = $1") == true)
        #expect(statement["next"] == "/pg explain \(statement["queryid"] ?? "")")
    }

    @Test func createIndexConcurrentlyBuildsItAndRefusesAnEquivalent() async throws {
        try h.admin.exec("CREATE TABLE ci(id int PRIMARY KEY, customer_id int, created_at timestamptz); INSERT INTO ci SELECT g, g % 50, now() FROM generate_series(1, 2000) g")
        let count = { try self.scalar("SELECT count(*)::text FROM pg_indexes WHERE tablename = 'ci'") }
        let (preview, done) = try await guarded("/pg create-index ci customer_id created_at") { try count() == "1" }
        #expect(preview.value("new index") == "ci_customer_id_created_at_idx")
        #expect(preview.value("columns") == "customer_id, created_at")
        #expect(preview.value("lock taken")?.hasPrefix("SHARE UPDATE EXCLUSIVE") == true)
        #expect(done.title == "Done: /pg create-index ci customer_id created_at")
        #expect(done.table("After")?.column("validity") == ["valid"])
        #expect(try scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'ci_customer_id_created_at_idx'")
                == "CREATE INDEX ci_customer_id_created_at_idx ON public.ci USING btree (customer_id, created_at)")
        // An index that already starts with the column is an equivalent: refused.
        let again = await h.send("/pg create-index ci customer_id")
        #expect(again.allText.contains("Not creating the index: ci_customer_id_created_at_idx exists and it already starts with these columns."))
        #expect(h.token(again) == nil)
        // No such column, or a hostile name: nothing to do.
        let missing = await h.send("/pg create-index ci \"x); DROP TABLE ci; --\"")
        #expect(missing.title?.hasPrefix("Nothing to do") == true)
        #expect(try count() == "2")
    }

    @Test func validateConstraintCountsOrphansFirstAndValidatesOnceClean() async throws {
        try h.admin.exec("""
            CREATE TABLE vp(id int PRIMARY KEY); CREATE TABLE vc(id int PRIMARY KEY, parent_id int, qty int);
            INSERT INTO vp SELECT generate_series(1, 10); INSERT INTO vc SELECT g, g, 1 FROM generate_series(1, 10) g;
            INSERT INTO vc VALUES (11, 99, 1), (12, 98, 1), (13, NULL, 1), (14, 5, -1);
            ALTER TABLE vc ADD CONSTRAINT vc_parent FOREIGN KEY (parent_id) REFERENCES vp(id) NOT VALID;
            ALTER TABLE vc ADD CONSTRAINT vc_qty CHECK (qty > 0) NOT VALID;
            """)
        let fk = await h.send("/pg validate-constraint vc_parent")
        #expect(fk.value("rows that violate it") == "2")   // 99 and 98; NULL is not checked
        #expect(fk.allText.contains("VALIDATE CONSTRAINT would fail: 2 rows violate vc_parent."))
        #expect(h.token(fk) == nil)
        let check = await h.send("/pg validate-constraint vc_qty --table vc")
        #expect(check.allText.contains("would fail: 1 rows violate vc_qty"))
        try h.admin.exec("DELETE FROM vc WHERE id IN (11, 12)")
        let state = { try self.scalar("SELECT convalidated::text FROM pg_constraint WHERE conname = 'vc_parent'") }
        let (preview, done) = try await guarded("/pg validate-constraint vc_parent") { try state() == "false" }
        #expect(preview.allText.contains("No row violates it: VALIDATE will succeed."))
        #expect(preview.value("lock taken")?.contains("ROW SHARE on vp") == true)
        #expect(done.table("After")?.column("state") == ["validated"])
        #expect(try state() == "true")
    }

    @Test func reindexTableConcurrentlyRebuildsEveryValidIndex() async throws {
        try h.admin.exec("CREATE TABLE rt(id int PRIMARY KEY, v int); CREATE INDEX rt_v ON rt(v); INSERT INTO rt SELECT g, g FROM generate_series(1, 1000) g")
        let nodes = { try self.h.admin.exec("SELECT relfilenode::text FROM pg_class WHERE relname IN ('rt_pkey', 'rt_v') ORDER BY relname").map { $0[0] } }
        let before = try nodes()
        let (preview, done) = try await guarded("/pg reindex-table rt") { try nodes() == before }
        #expect(preview.value("valid indexes rebuilt") == "2")
        #expect(preview.allText.contains("No duplicated keys in its unique indexes."))
        #expect(done.table("After")?.column("validity") == ["valid", "valid"])
        #expect(try nodes() != before)
    }

    @Test func setStatisticsThenAnalyze() async throws {
        try h.admin.exec("CREATE TABLE st(id int, v int); INSERT INTO st SELECT g, g % 7 FROM generate_series(1, 1000) g")
        let target = { try self.scalar("SELECT attstattarget::text FROM pg_attribute WHERE attrelid = 'st'::regclass AND attname = 'v'") }
        let (preview, done) = try await guarded("/pg set-statistics st v 500") { try target() == "-1" }
        #expect(preview.value("current statistics target") == "default (100)")
        #expect(preview.value("new statistics target") == "500")
        #expect(try target() == "500")
        #expect(done.table("After")?.column("distinct values (planner)") == ["7"])
        let bad = await h.send("/pg set-statistics st v 20000")
        #expect(bad.allText.contains("10000"))
    }

    @Test func perTableAutovacuumSettingsShowTheCurrentValues() async throws {
        try h.admin.exec("CREATE TABLE av(id int) WITH (autovacuum_vacuum_cost_delay = 10)")
        let options = { try self.scalar("SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE relname = 'av'") }
        let (preview, done) = try await guarded("/pg autovacuum-set av --vacuum-scale-factor 0.02 --cost-delay 2") { try options() == "autovacuum_vacuum_cost_delay=10" }
        #expect(preview.value("autovacuum_vacuum_scale_factor now") == "0.2 (server)")
        #expect(preview.value("autovacuum_vacuum_scale_factor new") == "0.02")
        #expect(preview.value("autovacuum_vacuum_cost_delay now") == "10")
        #expect(preview.value("autovacuum_vacuum_cost_delay new (ms)") == "2")
        #expect(preview.value("autovacuum_analyze_scale_factor new") == "-")
        #expect(done.title?.hasPrefix("Done") == true)
        #expect(Set(try options()?.split(separator: ",").map(String.init) ?? []) == ["autovacuum_vacuum_cost_delay=2", "autovacuum_vacuum_scale_factor=0.02"])
        let none = await h.send("/pg autovacuum-set av")
        #expect(none.title?.hasPrefix("Nothing to do") == true)
        let outOfRange = await h.send("/pg autovacuum-set av --analyze-scale-factor 500")
        #expect(outOfRange.title?.hasPrefix("Nothing to do") == true)
    }

    @Test func terminateWhereEndsEveryMatchingSessionAndOnlyThose() async throws {
        try h.admin.exec("DO $$ BEGIN CREATE ROLE rb_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        let batch = try (0..<3).map { _ in try h.session("rb-batch", user: "rb_app") }
        let busy = try h.session("rb-batch", user: "rb_app")
        try busy.exec("BEGIN; SELECT 1")
        let other = try h.session("rb-web", user: "rb_app")
        let su = try h.session("rb-batch")                          // a superuser's: not unless asked
        for s in batch + [other, su] { try s.exec("SELECT 1") }
        let everyone = batch + [busy, other, su]
        let alive = { Int(try self.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid IN (\(everyone.map { String($0.pid) }.joined(separator: ",")))") ?? "0") ?? 0 }
        let nothing = await h.send("/pg terminate-where")
        #expect(nothing.title?.hasPrefix("Nothing to do") == true)
        let (preview, done) = try await guarded("/pg terminate-where --app rb-batch") { try alive() == 6 }
        #expect(Set(preview.table("Would terminate")?.column("pid") ?? []) == Set((batch + [busy]).map { String($0.pid) }))
        #expect(done.summary?.contains("terminated: 4 of 4") == true)
        #expect(await h.eventually { ((try? alive()) ?? 0) == 2 })
        let idleOnly = await h.send("/pg terminate-where --app rb-web --state idle-in-transaction")
        #expect(idleOnly.title?.hasPrefix("Nothing to do") == true)
    }

    @Test func statementsResetDiscardsTheHistory() async throws {
        for i in 0..<5 { try h.admin.exec("SELECT \(i) + count(*) FROM pg_class WHERE relname = 'rb_reset_\(i)'") }
        let recorded = { Int(try self.scalar("SELECT count(*) FROM pg_stat_statements") ?? "0") ?? 0 }
        let before = try recorded()
        let (preview, done) = try await guarded("/pg statements-reset") { try recorded() >= before }
        #expect(Int(preview.value("statements recorded") ?? "0") ?? 0 > 0)
        #expect(done.title == "Done: /pg statements-reset")
        // The statements recorded before are gone (other suites on the same server record new ones at once).
        #expect(Int(done.table("After")?.column("statements recorded").first ?? "99999") ?? 99999 < before)
        #expect(try scalar("SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%rb_reset_%'") == "0")
    }
}
