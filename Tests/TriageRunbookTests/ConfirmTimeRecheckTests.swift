import Foundation
import Testing
import TriageTesting
import TriageCore
@testable import TriagePostgres

/// A confirmed DDL action acts on the object its preview showed, or not at all: between the
/// preview and `/confirm` someone may drop and re-create the object under the same name, or
/// change it so that the preview's reason no longer holds. Each case changes the object after
/// the preview and checks that nothing was run and that the reply says so and why.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class ConfirmTimeRecheckTests {
    let h: RunbookHarness

    init() throws {
        h = try RunbookHarness(suite: "recheck")
    }

    deinit {
        h.rollbackPreparedTransactions()
        h.shutdown()
    }

    func scalar(_ sql: String) throws -> String? { try h.scalar(sql) }

    func indexOID(_ name: String) throws -> String? {
        try scalar("SELECT oid::text FROM pg_class WHERE relname = '\(name)'")
    }

    @Test func dropIndexOfAnIndexReCreatedUnderTheSameNameIsNotRun() async throws {
        try h.admin.exec("""
            CREATE TABLE rc(id int PRIMARY KEY, a int); INSERT INTO rc SELECT g, g FROM generate_series(1, 100) g;
            CREATE INDEX rc_a ON rc(a); CREATE INDEX rc_a_copy ON rc(a)
            """)
        let preview = await h.send("/pg drop-index rc_a_copy")
        #expect(preview.value("reason") == "duplicate of rc_a")
        let token = try #require(h.token(preview))
        // Someone replaces the duplicate by a unique index under the same name.
        try h.admin.exec("DROP INDEX rc_a_copy; CREATE UNIQUE INDEX rc_a_copy ON rc(a, id)")
        let replaced = try #require(try indexOID("rc_a_copy"))

        let reply = await h.send("/confirm \(token)")
        #expect(reply.title == "Failed: /pg drop-index rc_a_copy")
        let text = reply.allText
        #expect(text.contains("Not run: it was dropped and re-created under the same name since the preview"))
        #expect(text.contains("Nothing was changed; run /pg drop-index again for a fresh preview."))
        #expect(try indexOID("rc_a_copy") == replaced)                 // the new index is still there
        // A token is spent either way.
        #expect(await h.send("/confirm \(token)").allText.contains("already used"))
    }

    @Test func dropIndexWhoseReasonNoLongerHoldsIsNotRun() async throws {
        try h.admin.exec("""
            CREATE TABLE ru(id int PRIMARY KEY, a int, b int); INSERT INTO ru SELECT g, g, g FROM generate_series(1, 1000) g;
            CREATE INDEX ru_b ON ru(b); ANALYZE ru
            """)
        let preview = await h.send("/pg drop-index ru_b")
        #expect(preview.value("reason") == "unused since statistics were reset")
        let token = try #require(h.token(preview))
        // The same index (same oid) starts being used after the preview.
        let oid = try #require(try indexOID("ru_b"))
        try h.admin.exec("SET enable_seqscan = off; SELECT count(*) FROM ru WHERE b = 5; RESET enable_seqscan")
        #expect(await h.eventually {
            (try? self.scalar("SELECT idx_scan::text FROM pg_stat_user_indexes WHERE indexrelname = 'ru_b'")) == "1"
        })

        let reply = await h.send("/confirm \(token)")
        let text = reply.allText
        #expect(reply.title == "Failed: /pg drop-index ru_b")
        #expect(text.contains("Not run: reason was 'unused since statistics were reset' at the preview and is 'in use' now; "
                              + "Not dropping ru_b: it is valid, used (1 scans) and not a duplicate."))
        #expect(try indexOID("ru_b") == oid)
    }

    @Test func dropIndexOfAnIndexDroppedMeanwhileSaysItIsGone() async throws {
        try h.admin.exec("CREATE TABLE rg(id int PRIMARY KEY, a int); CREATE INDEX rg_a ON rg(a)")
        let token = try #require(h.token(await h.send("/pg drop-index rg_a")))
        try h.admin.exec("DROP INDEX rg_a")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: rg_a no longer exists. Nothing was changed"))
    }

    @Test func reindexOfAnIndexReCreatedUnderTheSameNameIsNotRun() async throws {
        try h.admin.exec("""
            CREATE TABLE rr(id int PRIMARY KEY, a int); INSERT INTO rr SELECT g, g FROM generate_series(1, 100) g;
            CREATE INDEX rr_a ON rr(a)
            """)
        let token = try #require(h.token(await h.send("/pg reindex rr_a")))
        try h.admin.exec("DROP INDEX rr_a; CREATE INDEX rr_a ON rr(id)")
        let before = try #require(try indexOID("rr_a"))
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: it was dropped and re-created under the same name since the preview"))
        // REINDEX CONCURRENTLY swaps in a new relation (new oid): the same oid means it did not run.
        #expect(try indexOID("rr_a") == before)
    }

    @Test func theUnchangedObjectStillRuns() async throws {
        // The look-alike: nothing changed, so the recheck lets the action through.
        try h.admin.exec("""
            CREATE TABLE rk(id int PRIMARY KEY, a int); INSERT INTO rk SELECT g, g FROM generate_series(1, 100) g;
            CREATE INDEX rk_a ON rk(a)
            """)
        let before = try #require(try indexOID("rk_a"))
        let token = try #require(h.token(await h.send("/pg reindex rk_a")))
        let reply = await h.send("/confirm \(token)")
        #expect(reply.title == "Done: /pg reindex rk_a")
        #expect(try indexOID("rk_a") != before)                         // rebuilt: a new relation
    }

    @Test func validateConstraintAlreadyValidatedMeanwhileIsNotRun() async throws {
        try h.admin.exec("""
            CREATE TABLE rp(id int PRIMARY KEY); CREATE TABLE rch(id int PRIMARY KEY, p int);
            INSERT INTO rp VALUES (1); INSERT INTO rch VALUES (1, 1);
            ALTER TABLE rch ADD CONSTRAINT rch_p_fk FOREIGN KEY (p) REFERENCES rp(id) NOT VALID
            """)
        let token = try #require(h.token(await h.send("/pg validate-constraint rch_p_fk")))
        try h.admin.exec("ALTER TABLE rch VALIDATE CONSTRAINT rch_p_fk")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: rch_p_fk is no longer a NOT VALID constraint (validated or dropped since the preview)"))
    }

    @Test func validateConstraintWithOrphansAddedAfterThePreviewFailsAndChangesNothing() async throws {
        // Orphans are counted by the preview, not again at confirm time (a full scan): VALIDATE
        // finds them itself, fails as a whole, and the reply carries PostgreSQL's DETAIL.
        try h.admin.exec("""
            CREATE TABLE op(id int PRIMARY KEY); CREATE TABLE och(id int PRIMARY KEY, p int);
            INSERT INTO op VALUES (1); INSERT INTO och VALUES (1, 1);
            ALTER TABLE och ADD CONSTRAINT och_p_fk FOREIGN KEY (p) REFERENCES op(id) NOT VALID
            """)
        let token = try #require(h.token(await h.send("/pg validate-constraint och_p_fk")))
        // An orphan written after the preview with the trigger bypassed, as a bulk load would.
        try h.admin.exec("SET session_replication_role = replica; INSERT INTO och VALUES (2, 99); RESET session_replication_role")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.title == "Failed: /pg validate-constraint och_p_fk")
        #expect(reply.allText.contains("DETAIL: Key (p)=(99) is not present in table \"op\"."))
        #expect(try scalar("SELECT convalidated::text FROM pg_constraint WHERE conname = 'och_p_fk'") == "false")
    }

    @Test func setStatisticsOnAColumnReAddedUnderTheSameNameIsNotRun() async throws {
        try h.admin.exec("CREATE TABLE rs(id int PRIMARY KEY, v int)")
        let token = try #require(h.token(await h.send("/pg set-statistics rs v 500")))
        try h.admin.exec("ALTER TABLE rs DROP COLUMN v; ALTER TABLE rs ADD COLUMN v text")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: it was dropped and re-created under the same name since the preview"))
        #expect(try scalar("SELECT attstattarget::text FROM pg_attribute WHERE attrelid = 'rs'::regclass AND attname = 'v'") == "-1")
    }

    @Test func createIndexOnATableReCreatedUnderTheSameNameIsNotRun() async throws {
        try h.admin.exec("CREATE TABLE rt(id int PRIMARY KEY, a int)")
        let token = try #require(h.token(await h.send("/pg create-index rt a")))
        try h.admin.exec("DROP TABLE rt; CREATE TABLE rt(id int PRIMARY KEY, a int)")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: it was dropped and re-created under the same name since the preview"))
        #expect(try scalar("SELECT count(*)::text FROM pg_index WHERE indrelid = 'rt'::regclass") == "1")   // only the pkey
    }

    @Test func rollbackPreparedOfAGidReusedSinceThePreviewIsNotRun() async throws {
        try h.admin.exec("CREATE TABLE rx(id int PRIMARY KEY)")
        let p = try h.session("rc-2pc")
        try p.exec("BEGIN; INSERT INTO rx VALUES (1); PREPARE TRANSACTION 'rc gid'")
        let token = try #require(h.token(await h.send("/pg rollback-prepared \"rc gid\"")))
        // The prepared transaction is committed and another one takes the same gid.
        try h.admin.exec("COMMIT PREPARED 'rc gid'")
        try await Task.sleep(nanoseconds: 50_000_000)                   // prepared times differ
        try p.exec("BEGIN; INSERT INTO rx VALUES (2); PREPARE TRANSACTION 'rc gid'")
        let reply = await h.send("/confirm \(token)")
        #expect(reply.allText.contains("Not run: prepared_at was"))
        #expect(try scalar("SELECT count(*)::text FROM pg_prepared_xacts WHERE gid = 'rc gid'") == "1")
        try h.admin.exec("ROLLBACK PREPARED 'rc gid'")
    }
}
