import Foundation
import TriageStore
import Testing
@testable import TriageRuntime
@testable import TriageRunbook
import TriageHandlers
import TriageChat
import TriageTesting
import TriageCore
@testable import TriagePostgres
import CLibPQ
import TriageTelegram

/// The runbook tells the truth on a hostile database: every answer here is checked against a
/// condition induced in a real PostgreSQL (and look-alikes that must not be reported), with the
/// numbers cross-checked against the catalog.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class RunbookTruthTests {
    let h: RunbookHarness

    init() throws {
        h = try RunbookHarness(suite: "truth")
    }

    deinit {
        // Prepared transactions survive their session and keep DROP DATABASE from working.
        h.rollbackPreparedTransactions()
        h.shutdown()
    }

    func scalar(_ sql: String) throws -> String? { try h.scalar(sql) }

    // MARK: 1. xmin horizon holders

    @Test func xminFindsAWriterThatHasAnXidButNoSnapshot() async throws {
        try h.admin.exec("CREATE TABLE hz(id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off); INSERT INTO hz SELECT g, 0 FROM generate_series(1, 1000) g")
        let writer = try h.session("rb-writer")
        try writer.exec("BEGIN")
        try writer.exec("UPDATE hz SET v = 1 WHERE id = 1")           // an xid, and (READ COMMITTED, idle) no snapshot
        let reader = try h.session("rb-reader")
        try reader.exec("BEGIN")
        try reader.exec("SELECT count(*) FROM hz")                     // look-alike: idle in transaction, neither xid nor snapshot
        let idle = try h.session("rb-truth-idle")
        try idle.exec("SELECT 1")                                      // look-alike: idle, no transaction
        let state = try h.admin.exec("SELECT (backend_xmin IS NULL)::text, backend_xid::text, age(backend_xid)::text FROM pg_stat_activity WHERE pid = \(writer.pid)")
        #expect(state.first?[0] == "true")                              // the condition of the bug: no snapshot…
        let xid = try #require(state.first?[1] ?? nil)                  // …but an xid

        let reply = await h.send("/pg xmin")
        let table = try #require(reply.table("Holders"))
        let row = try #require(table.row(where: "holder", is: String(writer.pid)))
        #expect(row["holds"] == "xid \(xid)")
        #expect(row["kind"] == "session")
        #expect(row["detail"]?.contains("rb-writer / idle in transaction") == true)
        #expect(row["to release it"]?.hasPrefix("/pg terminate \(writer.pid)") == true)
        #expect(Int(row["age (xids)"] ?? "") ?? -1 >= 1)
        #expect(table.row(where: "holder", is: String(reader.pid)) == nil)
        #expect(table.row(where: "holder", is: String(idle.pid)) == nil)
        #expect(reply.summary?.contains("session \(writer.pid)") == true)

        let idleTx = await h.send("/pg idle-tx")
        // (The count is cluster-wide; other suites' sessions may be in it.)
        #expect(Int(idleTx.value("holding back the xmin horizon") ?? "") ?? 0 >= 1)
        #expect(idleTx.table("Sessions")?.row(where: "pid", is: String(writer.pid))?["xmin"] == "xid \(xid)")
        #expect(idleTx.table("Sessions")?.row(where: "pid", is: String(reader.pid))?["xmin"] == "")

        let health = await h.send("/pg health")
        let check = try #require(health.table()?.row(where: "check", is: "xmin horizon age (xids)"))
        #expect(check["detail"]?.contains("client backend pid \(writer.pid) holds it") == true)

        try writer.exec("ROLLBACK")
        let after = await h.send("/pg xmin")
        #expect(after.table("Holders")?.row(where: "holder", is: String(writer.pid)) == nil)
    }

    @Test func xminListsPreparedTransactionsAndSlotCatalogXmin() async throws {
        // Creating the slot waits for every transaction with an xid in the cluster: not while
        // another suite holds one for long (the adversarial catalog's prepared transaction).
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        try h.admin.exec("CREATE TABLE px(id int)")
        let slotName = "rb_truth_\(UInt32.random(in: 0...UInt32.max))"
        let slotOwner = try h.session("rb-slot")
        // A logical slot waits for every running transaction of the cluster; never forever.
        try slotOwner.exec("SET statement_timeout = '10s'")
        try slotOwner.exec("SELECT pg_create_logical_replication_slot('\(slotName)', 'test_decoding', true)")  // temporary
        let p = try h.session("rb-prep")
        try p.exec("BEGIN; INSERT INTO px VALUES (1); PREPARE TRANSACTION 'rb-gid-1'")
        let xid = try #require(try scalar("SELECT transaction::text FROM pg_prepared_xacts WHERE gid = 'rb-gid-1'"))

        let reply = await h.send("/pg xmin")
        let table = try #require(reply.table("Holders"))
        let prepared = try #require(table.row(where: "holder", is: "rb-gid-1"))
        #expect(prepared["kind"] == "prepared transaction")
        #expect(prepared["holds"] == "xid \(xid)")
        #expect(prepared["detail"] == "owner postgres")
        #expect(prepared["to release it"]?.hasPrefix("/pg rollback-prepared rb-gid-1") == true)
        let slot = try #require(table.row(where: "holder", is: slotName))
        #expect(slot["kind"] == "replication slot")
        #expect(slot["holds"]?.hasPrefix("catalog_xmin") == true)
        #expect(slot["detail"] == "logical slot (active)")

        let health = await h.send("/pg health")
        let check = try #require(health.table()?.row(where: "check", is: "xmin horizon age (xids)"))
        #expect(check["detail"]?.isEmpty == false)
        slotOwner.close()
        try h.admin.exec("ROLLBACK PREPARED 'rb-gid-1'")
    }

    @Test func xminNamesAStandbysHotStandbyFeedbackOnItsWalsender() async throws {
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        // A real walsender: a physical replication connection sending hot_standby_feedback.
        let standby = try FeedbackStandby(url: TestEnvironment.postgresURL!, application: "rb-standby-\(UInt16.random(in: 0...UInt16.max))")
        defer { standby.close() }
        let next = try #require(UInt32(try scalar("SELECT (txid_current() % 4294967296)::text") ?? ""))
        try standby.sendFeedback(xmin: next - 1)
        #expect(await h.eventually { (try? self.scalar("SELECT backend_xmin::text FROM pg_stat_activity WHERE pid = \(standby.pid)")) == String(next - 1) })
        let reply = await h.send("/pg xmin")
        let row = try #require(reply.table("Holders")?.row(where: "holder", is: String(standby.pid)))
        #expect(row["kind"] == "standby (walsender)")
        #expect(row["holds"] == "snapshot xmin \(next - 1)")
        #expect(row["to release it"]?.hasPrefix("a standby's hot_standby_feedback") == true)
        // (Closed at once: a walsender's xmin holds back every database, other suites' too.)
    }

    // MARK: 2. VACUUM that removes nothing says why

    /// Waits until the statistics show `dead` dead tuples for `table`.
    func waitForDead(_ table: String, _ dead: Int) async -> Bool {
        // A backend that just went idle may hold its statistics up to 10 s (PGSTAT_IDLE_INTERVAL).
        await h.eventually(20) { (try? self.scalar("SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE relname = '\(table)'")) == String(dead) }
    }

    @Test func vacuumBlockedByAnOpenWriterSaysSoAndWhoThenRemovesOnceReleased() async throws {
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        try h.admin.exec("CREATE TABLE vz(id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off); INSERT INTO vz SELECT g, 0 FROM generate_series(1, 5000) g")
        let writer = try h.session("rb-vz-writer")
        try writer.exec("BEGIN; UPDATE vz SET v = 1 WHERE id = 1")         // an xid, no snapshot
        // Look-alike: an open transaction in another database does not hold this one back.
        let elsewhere = try TestEnvironment.session(TestEnvironment.postgresURL!, app: "rb-vz-elsewhere")
        defer { elsewhere.close() }
        try elsewhere.exec("BEGIN; SELECT txid_current()")
        try h.admin.exec("UPDATE vz SET v = 2 WHERE id > 1")                 // 4999 dead tuples, newer than the writer's xid
        #expect(await waitForDead("vz", 4999))

        let preview = await h.send("/pg vacuum vz")
        #expect(preview.value("dead tuples") == "4999")
        let blocked = await h.send("/confirm \(try #require(h.token(preview)))")
        #expect(blocked.title == "Done, with a warning: /pg vacuum vz")
        #expect(blocked.mark == .warning)
        let after = try #require(blocked.table("Before and after"))
        #expect(after.column("dead tuples before") == ["4999"])
        #expect(after.column("dead tuples after") == ["4999"])
        #expect(after.column("removed") == ["0"])
        #expect(after.column("size (with indexes)").first?.hasSuffix("kB") == true)
        let text = blocked.allText
        #expect(text.contains("VACUUM removed nothing: 4999 dead tuples are still there."))
        #expect(text.contains("session pid \(writer.pid) (rb-vz-writer, idle in transaction"))
        #expect(text.contains("/pg terminate \(writer.pid); then /pg vacuum vz again."))
        #expect(!text.contains("rb-vz-elsewhere"))
        #expect(blocked.summary?.contains("VACUUM removed nothing") == true)
        // PostgreSQL agrees: the tuples are still there.
        #expect(try scalar("SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE relname = 'vz'") == "4999")

        try writer.exec("ROLLBACK")
        // The writer's own update is dead now too.
        #expect(await waitForDead("vz", 5000))
        let again = await h.send("/pg vacuum vz")
        #expect(again.value("dead tuples") == "5000")
        let done = await h.send("/confirm \(try #require(h.token(again)))")
        #expect(done.title == "Done: /pg vacuum vz")
        #expect(done.table("Before and after")?.column("removed") == ["5000"])
        #expect(done.table("Before and after")?.column("dead tuples after") == ["0"])
        #expect(!done.allText.contains("removed nothing"))
        #expect(try scalar("SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE relname = 'vz'") == "0")
    }

    @Test func progressShowsARunningIndexBuildAndNothingWhenIdle() async throws {
        let idle = await h.send("/pg progress")
        #expect(idle.allText.contains("No VACUUM is running."))
        try h.admin.exec("CREATE TABLE pr(id int); INSERT INTO pr SELECT g FROM generate_series(1, 1000) g")
        let holder = try h.session("rb-pr-holder")
        try holder.exec("BEGIN; INSERT INTO pr VALUES (0)")                 // CREATE INDEX CONCURRENTLY waits for this writer
        let builder = try h.session("rb-pr-builder")
        try builder.send("CREATE INDEX CONCURRENTLY pr_id ON pr(id)")
        var reply = Reply()
        let seen = await h.eventually {
            reply = await self.h.send("/pg progress")
            // (The build starts in phase "initializing", then waits for the writer.)
            return reply.table("CREATE INDEX")?.row(where: "pid", is: String(builder.pid))?["phase"]?.hasPrefix("waiting for writers") == true
        }
        #expect(seen)
        let row = try #require(reply.table("CREATE INDEX")?.row(where: "pid", is: String(builder.pid)))
        #expect(row["command"] == "CREATE INDEX CONCURRENTLY")
        #expect(row["waiting for transactions"] == "1")
        try holder.exec("ROLLBACK")
        #expect(builder.finishSent() == nil)
    }

    // MARK: 3. REINDEX of an invalid unique index

    /// A unique index left invalid by a failed CREATE UNIQUE INDEX CONCURRENTLY over duplicates.
    func invalidUniqueIndex() throws {
        try h.admin.exec("""
            CREATE TABLE ux(id int PRIMARY KEY, email text, org int);
            INSERT INTO ux VALUES (1, 'a@x', 1), (2, 'A@x', 1), (3, 'b@x', 1), (4, 'a@x', 2), (5, NULL, 1), (6, NULL, 1),
                                  (7, 'c@x', 1), (8, 'c@x', 1), (9, 'c@x', 1)
            """)
        #expect(throws: (any Error).self) { try self.h.admin.exec("CREATE UNIQUE INDEX CONCURRENTLY ux_email ON ux (lower(email), org)") }
        #expect(try scalar("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'ux_email'::regclass") == "false")
    }

    @Test func reindexOfAnInvalidUniqueIndexOverDuplicatesIsRefusedShowingTheKeys() async throws {
        try invalidUniqueIndex()
        let reply = await h.send("/pg reindex ux_email")
        #expect(reply.title == "Cannot run: /pg reindex ux_email")
        #expect(h.token(reply) == nil)
        let dups = try #require(reply.table("Duplicated keys"))
        // (a@x, 1) twice and (c@x, 1) three times; NULL emails are distinct, (a@x, 2) is another key.
        #expect(dups.column("key") == ["c@x, 1", "a@x, 1"])
        #expect(dups.column("copies") == ["3", "2"])
        #expect(reply.allText.contains("REINDEX cannot succeed: ux_email has 2 duplicated keys"))
        let pending = try await h.app.store.read { tx in try tx.latestPendingAction(platform: "test", room: "ops", at: Date.distantPast) }
        #expect(pending == nil)

        // Look-alikes: the same index once the duplicates are gone, and a valid unique index.
        try h.admin.exec("DELETE FROM ux WHERE id IN (2, 8, 9)")
        let clean = await h.send("/pg reindex ux_email")
        #expect(clean.allText.contains("No duplicated keys."))
        #expect(h.token(clean) != nil)
        let pkey = await h.send("/pg reindex ux_pkey")
        #expect(h.token(pkey) != nil)
        #expect(pkey.value("validity") == "valid")
    }

    @Test func aFailedReindexReportsTheDetailAndOffersToDropTheLeftover() async throws {
        try invalidUniqueIndex()
        try h.admin.exec("DELETE FROM ux WHERE id IN (2, 8, 9)")
        let preview = await h.send("/pg reindex ux_email")
        let token = try #require(h.token(preview))
        // After the preview a duplicate arrives (the invalid index is not ready, so nothing stops it).
        try h.admin.exec("INSERT INTO ux VALUES (10, 'b@X', 1)")
        let failed = await h.send("/confirm \(token)")
        #expect(failed.title == "Failed: /pg reindex ux_email")
        let text = failed.allText
        #expect(text.contains("23505"))
        #expect(text.contains("DETAIL: Key (lower(email), org)=(b@x, 1) is duplicated."))
        let leftover = try #require(failed.table("Left behind"))
        #expect(leftover.column("index") == ["ux_email_ccnew"])
        #expect(leftover.column("to drop it") == ["/pg drop-index ux_email_ccnew"])
        #expect(try scalar("SELECT count(*)::text FROM pg_index WHERE indrelid = 'ux'::regclass AND NOT indisvalid") == "2")

        // The guarded drop: refused without the role, previewed, run once, replay does nothing.
        let refused = await h.send("/pg drop-index ux_email_ccnew", role: .responder)
        #expect(refused.allText.contains("needs the operator role"))
        let drop = await h.send("/pg drop-index ux_email_ccnew")
        #expect(drop.value("reason")?.hasPrefix("INVALID") == true)
        #expect(drop.value("lock taken")?.hasPrefix("SHARE UPDATE EXCLUSIVE") == true)
        let dropToken = try #require(h.token(drop))
        #expect(try scalar("SELECT count(*)::text FROM pg_class WHERE relname = 'ux_email_ccnew'") == "1")
        let viewer = await h.send("/confirm \(dropToken)", role: .viewer)
        #expect(viewer.allText.contains("needs the operator role"))
        let dropped = await h.send("/confirm \(dropToken)")
        #expect(dropped.title == "Done: /pg drop-index ux_email_ccnew")
        #expect(dropped.table("After")?.column("state") == ["dropped"])
        #expect(try scalar("SELECT count(*)::text FROM pg_class WHERE relname = 'ux_email_ccnew'") == "0")
        let replay = await h.send("/confirm \(dropToken)")
        #expect(replay.allText.contains("already used"))
    }

    @Test func dropIndexRefusesIndexesThatAreUsedUniqueOrBackAConstraint() async throws {
        try h.admin.exec("""
            CREATE TABLE di(id int PRIMARY KEY, a int, b int, c int);
            INSERT INTO di SELECT g, g % 10, g, g FROM generate_series(1, 100) g;
            CREATE INDEX di_a ON di(a); CREATE INDEX di_a_copy ON di(a); CREATE INDEX di_c ON di(c);
            CREATE UNIQUE INDEX di_b_unique ON di(b); ANALYZE di;
            """)
        try h.admin.exec("SET enable_seqscan = off; SELECT count(*) FROM di WHERE c = 5; RESET enable_seqscan")
        #expect(await h.eventually { (try? self.scalar("SELECT idx_scan::text FROM pg_stat_user_indexes WHERE indexrelname = 'di_c'")) == "1" })
        let pkey = await h.send("/pg drop-index di_pkey")
        #expect(pkey.allText.contains("Not dropping di_pkey: it enforces constraint di_pkey"))
        #expect(h.token(pkey) == nil)
        let unique = await h.send("/pg drop-index di_b_unique")
        #expect(unique.allText.contains("valid unique index that is not a duplicate"))
        #expect(h.token(unique) == nil)
        let used = await h.send("/pg drop-index di_c")
        #expect(used.allText.contains("Not dropping di_c: it is valid, used (1 scans) and not a duplicate."))
        #expect(h.token(used) == nil)
        let duplicate = await h.send("/pg drop-index di_a_copy")
        #expect(duplicate.value("reason") == "duplicate of di_a")
        #expect(h.token(duplicate) != nil)
        // An ordinary index never scanned is "unused", and may go.
        try h.admin.exec("CREATE INDEX di_ab ON di(a, b)")
        let unused = await h.send("/pg drop-index di_ab")
        #expect(unused.value("reason") == "unused since statistics were reset")
        #expect(h.token(unused) != nil)
    }

    // MARK: 4. A prepared transaction as root blocker

    @Test func aPreparedTransactionIsNamedAsRootBlockerAndRolledBackOnConfirmation() async throws {
        try h.admin.exec("CREATE TABLE pb(id int PRIMARY KEY, v int); INSERT INTO pb VALUES (1, 0)")
        let p = try h.session("rb-2pc")
        try p.exec("BEGIN; UPDATE pb SET v = 1 WHERE id = 1; PREPARE TRANSACTION 'rb gid 2'")
        p.close()                                                            // the prepared transaction outlives its session
        let xid = try #require(try scalar("SELECT transaction::text FROM pg_prepared_xacts WHERE gid = 'rb gid 2'"))
        let w1 = try h.session("rb-2pc-w1"), w2 = try h.session("rb-2pc-w2")
        try w1.send("UPDATE pb SET v = 2 WHERE id = 1")
        try await Task.sleep(nanoseconds: 300_000_000)
        try w2.send("UPDATE pb SET v = 3 WHERE id = 1")
        #expect(await h.eventually {
            (try? self.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('rb-2pc-w1', 'rb-2pc-w2') AND wait_event_type = 'Lock'")) == "2"
        })
        #expect(try scalar("SELECT pg_blocking_pids(\(w1.pid))::text") == "{0}")   // what PostgreSQL says: "pid 0"

        let locks = await h.send("/pg locks")
        let tree = try #require(locks.table("Blocking tree"))
        let root = try #require(tree.row(where: "session", is: "prepared xact 'rb gid 2'"))
        #expect(root["user"] == "postgres")
        #expect(root["application"] == "(prepared transaction)")
        #expect(root["state"]?.hasPrefix("prepared, xid \(xid) (") == true)
        #expect(root["to release it"] == "/pg rollback-prepared \"rb gid 2\"")
        // A root (no indentation); other suites' chains on the same server may come before it.
        #expect(!(root["session"] ?? " ").hasPrefix(" "))
        let w1row = try #require(tree.row(where: "session", is: "  └ \(w1.pid)"))
        #expect(w1row["blocked by"] == "prepared 'rb gid 2'")
        #expect(tree.column("session").contains("    └ \(w2.pid)"))
        #expect(!tree.column("session").contains { $0.contains("└ 0") || $0 == "0" })
        #expect(locks.summary?.contains("root blocker") == true)

        let health = await h.send("/pg health")
        let blocked = try #require(health.table()?.row(where: "check", is: "sessions waiting on locks"))
        // This chain's 2 waiters, and maybe other suites' on the same server.
        #expect((Int(String(blocked["value"]?.prefix { $0.isNumber } ?? "")) ?? 0) >= 2)
        #expect(blocked["detail"]?.contains("blocked by prepared transactions rb gid 2") == true)
        #expect(blocked["detail"]?.contains("pids 0") == false)
        #expect(blocked["run next"] == "/pg locks, /pg rollback-prepared \"rb gid 2\"")

        // The remedy, guarded.
        let refused = await h.send("/pg rollback-prepared \"rb gid 2\"", role: .responder)
        #expect(refused.allText.contains("needs the operator role"))
        let preview = await h.send("/pg rollback-prepared \"rb gid 2\"")
        #expect(preview.value("xid") == xid)
        #expect(preview.value("owner") == "postgres")
        #expect(preview.value("locks held")?.contains("RowExclusiveLock pb") == true)
        #expect(preview.value("sessions waiting on it directly") == "1")   // w1; w2 waits on w1
        let token = try #require(h.token(preview))
        #expect(try scalar("SELECT count(*)::text FROM pg_prepared_xacts WHERE gid = 'rb gid 2'") == "1")
        let done = await h.send("/confirm \(token)")
        #expect(done.title == "Done: /pg rollback-prepared \"rb gid 2\"")
        #expect(done.table("After")?.column("state") == ["rolled back"])
        #expect(try scalar("SELECT count(*)::text FROM pg_prepared_xacts WHERE gid = 'rb gid 2'") == "0")
        #expect(w1.finishSent() == nil)                                      // the waiters went through
        #expect(w2.finishSent() == nil)
        #expect(try scalar("SELECT v::text FROM pb") == "3")
        let replay = await h.send("/confirm \(token)")
        #expect(replay.allText.contains("already used"))
    }

    @Test func rollbackPreparedOnlyTouchesThisDatabasesTransactions() async throws {
        let other = try TestEnvironment.session(TestEnvironment.postgresURL!, app: "rb-2pc-other")
        defer { other.close() }
        let gid = "rb-other-\(UInt32.random(in: 0...UInt32.max))"
        try other.exec("BEGIN; SELECT txid_current(); PREPARE TRANSACTION '\(gid)'")
        defer { _ = try? other.exec("ROLLBACK PREPARED '\(gid)'") }
        let preview = await h.send("/pg rollback-prepared \(gid)")
        #expect(preview.allText.contains("No prepared transaction \(gid) in this database"))
        #expect(h.token(preview) == nil)
        let xmin = await h.send("/pg xmin")
        let row = try #require(xmin.table("Holders")?.row(where: "holder", is: gid))
        #expect(row["to release it"] == "ROLLBACK PREPARED or COMMIT PREPARED in database postgres")
    }

    // MARK: 6. kill-idle and superusers

    func alive(_ pids: [Int32]) throws -> Int {
        Int(try scalar("SELECT count(*) FROM pg_stat_activity WHERE pid IN (\(pids.map(String.init).joined(separator: ",")))") ?? "0") ?? 0
    }

    @Test func killIdleLeavesSuperusersOutUnlessNamedOrAskedForAndWarns() async throws {
        try h.admin.exec("DO $$ BEGIN CREATE ROLE rb_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        let app = try h.session("rb-su", user: "rb_app")
        let su1 = try h.session("rb-su"), su2 = try h.session("rb-su")            // postgres: a superuser
        for s in [app, su1, su2] { try s.exec("SELECT 1") }
        try await Task.sleep(nanoseconds: 1_300_000_000)

        // By default: only the ordinary session, and no superuser warning.
        let plain = await h.send("/pg kill-idle --older 1s --app rb-su")
        #expect(plain.table("Would terminate")?.column("pid") == [String(app.pid)])
        #expect(!plain.allText.contains("belong to superusers"))
        _ = await h.send("/cancel \(try #require(h.token(plain)))")

        // Naming the superuser includes its sessions, with a warning.
        let named = await h.send("/pg kill-idle --older 1s --app rb-su --user postgres")
        let rows = try #require(named.table("Would terminate"))
        #expect(Set(rows.column("pid")) == [String(su1.pid), String(su2.pid)])
        #expect(rows.column("note") == ["SUPERUSER", "SUPERUSER"])
        #expect(named.allText.contains("2 of these sessions belong to superusers (postgres, marked SUPERUSER): they are included because you asked (--user postgres)"))
        let token = try #require(h.token(named))
        #expect(try alive([su1.pid, su2.pid]) == 2)
        let refused = await h.send("/confirm \(token)", role: .responder)
        #expect(refused.allText.contains("needs the operator role"))
        let done = await h.send("/confirm \(token)")
        #expect(done.summary?.contains("terminated: 2 of 2") == true)
        #expect(await h.eventually { ((try? self.alive([su1.pid, su2.pid])) ?? 1) == 0 })
        #expect(try alive([app.pid]) == 1)
        let replay = await h.send("/confirm \(token)")
        #expect(replay.allText.contains("already used"))

        // The flag includes every superuser's session next to the others.
        let su3 = try h.session("rb-su")
        try su3.exec("SELECT 1")
        try await Task.sleep(nanoseconds: 1_300_000_000)
        // Look-alike: a replication role that is not a superuser stays out even then.
        try h.admin.exec("DO $$ BEGIN CREATE ROLE rb_repl LOGIN REPLICATION; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        let replicator = try h.session("rb-su", user: "rb_repl")
        try replicator.exec("SELECT 1")
        try await Task.sleep(nanoseconds: 1_300_000_000)
        let flagged = await h.send("/pg kill-idle --older 1s --app rb-su --include-superusers")
        #expect(Set(flagged.table("Would terminate")?.column("pid") ?? []) == [String(app.pid), String(su3.pid)])
        #expect(flagged.allText.contains("1 of these sessions belong to superusers (postgres, marked SUPERUSER): they are included because you asked (--include-superusers)"))
    }

    // MARK: 7. Noise and raw values

    @Test func slowLeavesTriagesOwnStatementsOut() async throws {
        try h.admin.exec("CREATE TABLE sl(id int); INSERT INTO sl SELECT generate_series(1, 100)")
        try h.admin.exec("SELECT count(*) FROM sl WHERE id > 5")                 // the application's
        for line in ["/pg connections", "/pg locks", "/pg xmin", "/pg size"] { _ = await h.send(line) }
        let marked = Int(try scalar("SELECT count(*) FROM pg_stat_statements WHERE query LIKE '/* triage */%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())") ?? "0") ?? 0
        #expect(marked > 0)                                                       // Triage's statements are recorded, marked
        let slow = await h.send("/pg slow --by total --limit 100")
        let queries = try #require(slow.table("Slowest")).column("query")
        #expect(queries.contains { $0.hasPrefix("SELECT count(*) FROM sl WHERE id > $1") })
        #expect(!queries.contains { $0.contains("/* triage */") })
        #expect(!queries.contains { $0.contains("pg_blocking_pids") })
    }

    @Test func theIncidentSnapshotLeavesTriagesOwnStatementsOut() async throws {
        for line in ["/pg size", "/pg restore-check", "/pg schema-changes"] { _ = await h.send(line) }
        #expect(Int(try scalar("SELECT count(*) FROM pg_stat_statements WHERE query LIKE '/* triage */%pg_total_relation_size%'") ?? "0") ?? 0 > 0)
        _ = await h.send("/incident open sev3 noise check", room: "snap")
        let snapshot = try await h.app.store.read { tx -> TimelineEvent? in
            let incident = try tx.activeIncident(platform: "test", room: "snap")!
            return try tx.events(incident: incident.id!).first { $0.kind == .snapshot }
        }
        let output = try #require(snapshot?.output)
        #expect(output.contains("Top statements") || output.contains("statements"))
        // Triage's own statements are not among the top statements. (Other Triage sessions on
        // the same server may still show as blocked or active: that is news in an incident.)
        let top = output.components(separatedBy: "Top statements").dropFirst().joined()
        #expect(!top.contains("/* triage */"))
        #expect(!top.contains("pg_total_relation_size"))
        _ = await h.send("/resolve", room: "snap")
    }

    @Test func sizesBooleansAndNeverAnalyzedTablesReadAsAPersonReadsThem() async throws {
        try h.admin.exec("CREATE TABLE na(id int); INSERT INTO na SELECT generate_series(1, 300)")
        #expect(try scalar("SELECT reltuples::text FROM pg_class WHERE relname = 'na'") == "-1")
        let size = await h.send("/pg size")
        #expect(size.table("Largest")?.row(where: "table", is: "public.na")?["rows (est.)"] == "not analyzed yet")
        #expect(size.summary?.hasSuffix(" kB") == true || size.summary?.hasSuffix(" MB") == true)   // not "7733795 bytes"
        try h.admin.exec("CREATE SEQUENCE sq AS integer CYCLE")   // (bigint maxima are the value formatter's extreme-number case, not this test's)
        let sequences = await h.send("/pg sequences")
        #expect(sequences.table()?.row(where: "sequence", is: "public.sq")?["cycles"] == "yes")
        #expect(ValueFormatter.format("2026-12-01 19:58:07.967088+00", unit: .timestamp) == "2026-12-01 19:58:07 UTC")
        #expect(ValueFormatter.format("2026-12-01 20:58:07+01", unit: .timestamp) == "2026-12-01 20:58:07 +01")
        #expect(ValueFormatter.format("f", unit: .boolean) == "no")
        #expect(ValueFormatter.timestamp("2026-12-01 19:58:07") == "2026-12-01 19:58:07")
        #expect(ValueFormatter.timestamp("applied on Monday by bob, twice") == "applied on Monday by bob, twice")   // not a timestamp
        #expect(ValueFormatter.timestamp("2026-12-01 19:58:07 and more") == "2026-12-01 19:58:07 and more")
    }

    @Test func cacheIgnoresTinyTablesButNotBigOnes() async throws {
        try h.admin.exec("CREATE TABLE tiny(id int); INSERT INTO tiny VALUES (1), (2), (3)")
        #expect(await h.eventually { (try? self.scalar("SELECT (heap_blks_read > 0)::text FROM pg_statio_user_tables WHERE relname = 'tiny'")) == "true" })
        let cache = await h.send("/pg cache")
        #expect(cache.table("Tables reading")?.row(where: "table", is: "public.tiny") == nil)
        let all = await h.send("/pg cache --min-blocks 0")
        let row = try #require(all.table("Tables reading")?.row(where: "table", is: "public.tiny"))
        #expect(row["hit ratio"]?.isEmpty == false)                              // shown only when asked for
        let health = await h.send("/pg health")
        #expect(health.table()?.row(where: "check", is: "cache hit ratio")?["status"] != "CRITICAL")
    }

    @Test func vacuumStatsFlagsATableWithAutovacuumOffAndDeadTuples() async throws {
        try h.admin.exec("CREATE TABLE off(id int) WITH (autovacuum_enabled = off); INSERT INTO off SELECT generate_series(1, 3000); DELETE FROM off")
        try h.admin.exec("CREATE TABLE onn(id int); INSERT INTO onn SELECT generate_series(1, 3000); DELETE FROM onn WHERE id <= 2000")
        #expect(await h.eventually { (try? self.scalar("SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE relname = 'off'")) == "3000" })
        let reply = await h.send("/pg vacuum-stats")
        let table = try #require(reply.table("Vacuum state"))
        let i = try #require(table.columns.firstIndex(of: "dead, waiting for a manual VACUUM"))
        let off = try #require(table.rows.first { $0[0].text == "public.off" })
        #expect(off[i].text == "3000")
        #expect(off[i].mark == .warning || off[i].mark == .critical)
        #expect(table.row(where: "table", is: "public.off")?["autovacuum"] == "OFF (table)")
        let on = try #require(table.rows.first { $0[0].text == "public.onn" })
        #expect(on[i].text == "-" && on[i].mark == .none)                         // look-alike: autovacuum will get to it
        #expect(reply.worstMark >= .warning)
    }

    @Test func backupStatusAnswersWhetherPointInTimeRecoveryIsPossible() async throws {
        let reply = await h.send("/pg backup-status")
        let mode = try #require(try scalar("SHOW archive_mode"))
        if mode == "off" {
            #expect(reply.value("point-in-time recovery possible")?.hasPrefix("NO: archive_mode is off") == true)
            #expect(reply.allText.contains("Point-in-time recovery is not possible now: archive_mode is off"))
            #expect(reply.value("archive_command") == "(not used: archive_mode is off)")
        }
        #expect(reply.value("WAL file being written")?.count == 24)
        #expect(reply.summary?.hasPrefix("point-in-time recovery: ") == true)
    }

    @Test func schemaChangesListsConstraintsNewestFirst() async throws {
        try h.admin.exec("""
            CREATE TABLE sp(id int PRIMARY KEY); CREATE TABLE sc(id int, p int);
            ALTER TABLE sc ADD CONSTRAINT sc_p FOREIGN KEY (p) REFERENCES sp(id) NOT VALID;
            ALTER TABLE sc ADD CONSTRAINT sc_id CHECK (id > 0);
            """)
        let reply = await h.send("/pg schema-changes --limit 6")
        let t = try #require(reply.table("Newest"))
        #expect(Array(t.column("name").prefix(2)) == ["sc_id on sc", "sc_p on sc"])
        #expect(t.row(where: "name", is: "sc_p on sc")?["kind"] == "foreign key")
        #expect(t.row(where: "name", is: "sc_p on sc")?["flags"] == "NOT VALID")
        #expect(t.row(where: "name", is: "sp_pkey on sp")?["kind"] == "primary key")
        #expect(!t.column("name").contains("pg_stat_statements"))                 // an extension's objects are not a migration's
    }

    @Test func restoreCheckCountsSmallTablesExactlyWithTheirNewestTimestamp() async throws {
        try h.admin.exec("""
            CREATE TABLE orders(id int, created_at timestamptz, shipped date);
            INSERT INTO orders SELECT g, timestamptz '2026-11-30 12:00:00+00' + g * interval '1 minute', NULL FROM generate_series(1, 1234) g;
            CREATE TABLE "Odd Name"(x int); INSERT INTO "Odd Name" VALUES (1);
            """)
        let reply = await h.send("/pg restore-check")
        let t = try #require(reply.table("Tables"))
        let orders = try #require(t.row(where: "table", is: "orders"))
        #expect(orders["rows"] == "1234")
        #expect(orders["counted"] == "exact")
        #expect(orders["newest timestamp"] == "2026-12-01 08:34:00 UTC")
        #expect(orders["from columns"] == "created_at, shipped")
        #expect(t.row(where: "table", is: "\"Odd Name\"")?["rows"] == "1")
        let estimates = await h.send("/pg restore-check --exact-below 0")
        #expect(estimates.table("Tables")?.row(where: "table", is: "orders")?["counted"] == "estimate")
        #expect(estimates.table("Tables")?.row(where: "table", is: "orders")?["rows"] == "not analyzed yet")
    }

    @Test func restoreCheckAgainstAnotherDatabaseShowsWhatDiffers() async throws {
        let oldURL = try TestEnvironment.freshDatabase("triage_rb_truth_old")
        defer { TestEnvironment.dropDatabase(oldURL) }
        let old = try TestEnvironment.session(oldURL, app: "rb-old")
        defer { old.close() }
        let tables = """
            CREATE TABLE orders(id int, created_at timestamptz);
            CREATE TABLE users(id int);
            INSERT INTO users SELECT generate_series(1, 10);
            """
        try old.exec(tables + "CREATE TABLE audit(id int); INSERT INTO orders SELECT g, timestamptz '2026-12-01 10:00:00+00' + g * interval '1 second' FROM generate_series(1, 120) g")
        let h2 = try RunbookHarness(suite: "truth_ag", extraTargets: ["old": oldURL])
        defer { h2.shutdown() }
        try h2.admin.exec(tables + "INSERT INTO orders SELECT g, timestamptz '2026-12-01 10:00:00+00' + g * interval '1 second' FROM generate_series(1, 100) g")
        let reply = await h2.send("/pg restore-check --against old")
        let t = try #require(reply.table("Tables (this database vs old)"))
        let orders = try #require(t.row(where: "table", is: "orders"))
        #expect(orders["rows"] == "100" && orders["rows [old]"] == "120")
        #expect(orders["newest timestamp"] == "2026-12-01 10:01:40 UTC" && orders["newest timestamp [old]"] == "2026-12-01 10:02:00 UTC")
        #expect(orders["differs"] == "rows, newest timestamp")
        #expect(t.row(where: "table", is: "users")?["differs"] == "")
        #expect(t.row(where: "table", is: "audit")?["differs"] == "only in old")
    }

    // MARK: 8. Truncation

    @Test func helpAndRunbookAreNotCutShortInTheTerminal() async throws {
        let help = TextRenderer().render(await h.send("/help"))
        let killIdle = try #require(help.split(separator: "\n").first { $0.hasPrefix("/pg kill-idle ") })
        #expect(killIdle.hasSuffix("(action)"))
        #expect(!help.split(separator: "\n").contains { $0.hasSuffix("…") })     // nothing clipped
        let quick = TextRenderer().render(await h.send("/runbook"))
        #expect(quick.contains("/pg terminate-where"))
        #expect(!quick.split(separator: "\n").contains { $0.hasSuffix("…") })
        let symptom = await h.send("/runbook too many connections")
        #expect(symptom.table()?.columns == ["command", "kind", "what it does"])
    }

    // MARK: 5. Lock tree indentation

    @Test func locksTreeKeepsEveryDepthWhenRendered() async throws {
        try h.admin.exec("CREATE TABLE lk(id int PRIMARY KEY, v int); INSERT INTO lk VALUES (1, 0)")
        let s1 = try h.session("rb-l1"), s2 = try h.session("rb-l2"), s3 = try h.session("rb-l3"), s4 = try h.session("rb-l4")
        try s1.exec("BEGIN; UPDATE lk SET v = 1 WHERE id = 1")
        try s2.send("BEGIN; LOCK TABLE lk IN SHARE MODE")                 // waits on s1's ROW EXCLUSIVE
        try await Task.sleep(nanoseconds: 300_000_000)
        try s3.send("UPDATE lk SET v = 3 WHERE id = 1")                   // waits on s1 (row) and s2 (queue)
        try await Task.sleep(nanoseconds: 300_000_000)
        try s4.send("ALTER TABLE lk ADD COLUMN w int")                    // waits on all of them
        let waiting = await h.eventually {
            (try? self.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('rb-l2', 'rb-l3', 'rb-l4') AND wait_event_type = 'Lock'")) == "3"
        }
        #expect(waiting)
        let reply = await h.send("/pg locks")
        let text = TextRenderer().render(reply)
        let lines = text.split(separator: "\n").map(String.init)
        func indent(of pid: Int32) -> Int? {
            lines.first { $0.contains("└ \(pid) ") }.map { $0.prefix { $0 == " " }.count }
        }
        #expect(lines.contains { $0.hasPrefix("\(s1.pid) ") })
        let d2 = try #require(indent(of: s2.pid)), d4 = try #require(indent(of: s4.pid))
        #expect(d2 == 2)
        #expect(d4 > d2)                                                   // depth 2 and below keep their indentation
        let telegram = TelegramHTMLRenderer().render(reply).joined()
        #expect(telegram.contains("\n    └ ") || telegram.contains("\n      └ "))
        for s in [s1, s2, s3, s4] { s.close() }
    }
}

extension RunbookHarness {
    /// One value from the admin session.
    func scalar(_ sql: String) throws -> String? {
        try admin.exec(sql).first?.first ?? nil
    }

    /// Rolls back every prepared transaction of this test database (they outlive sessions).
    func rollbackPreparedTransactions() {
        let gids = (try? admin.exec("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")) ?? []
        for case let gid? in gids.compactMap({ $0.first }) {
            _ = try? admin.execute("ROLLBACK PREPARED '\(gid.replacingOccurrences(of: "'", with: "''"))'")
        }
    }
}

/// A physical replication connection that sends hot_standby_feedback, as a standby would: its
/// walsender then holds the xmin horizon back with the standby's xmin.
final class FeedbackStandby {
    let connection: OpaquePointer
    var pid: Int32 { PQbackendPID(connection) }

    init(url: String, application: String) throws {
        let conninfo = url + (url.contains("?") ? "&" : "?") + "replication=true&application_name=" + application
        guard let c = PQconnectdb(conninfo) else { throw TriageError(.database, "no connection") }
        connection = c
        guard PQstatus(c) == CONNECTION_OK else { throw TriageError(.database, String(cString: PQerrorMessage(c))) }
        guard let identify = PQexec(c, "IDENTIFY_SYSTEM"), PQresultStatus(identify) == PGRES_TUPLES_OK,
              let lsn = PQgetvalue(identify, 0, 2).map({ String(cString: $0) }) else {
            throw TriageError(.database, String(cString: PQerrorMessage(c)))
        }
        PQclear(identify)
        guard let start = PQexec(c, "START_REPLICATION PHYSICAL \(lsn)"), PQresultStatus(start) == PGRES_COPY_BOTH else {
            throw TriageError(.database, String(cString: PQerrorMessage(c)))
        }
        PQclear(start)
    }

    /// A hot standby feedback message ('h'): send time, xmin and epoch, catalog xmin and epoch.
    func sendFeedback(xmin: UInt32) throws {
        var message: [UInt8] = [UInt8(ascii: "h")]
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { message.append(contentsOf: $0) }
        }
        append(Int64(Date().timeIntervalSince(Date(timeIntervalSince1970: 946_684_800)) * 1_000_000))
        append(xmin)
        append(UInt32(0))
        append(UInt32(0))
        append(UInt32(0))
        let sent = message.withUnsafeBytes { raw in
            PQputCopyData(connection, raw.bindMemory(to: CChar.self).baseAddress, Int32(raw.count))
        }
        guard sent == 1, PQflush(connection) == 0 else { throw TriageError(.database, String(cString: PQerrorMessage(connection))) }
    }

    func close() {
        PQfinish(connection)
    }
}
