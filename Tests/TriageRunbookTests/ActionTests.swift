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
import TriageStore

/// Database actions: preview, role, single-use expiring confirmation, effect, timeline.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class ActionTests {
    let h: RunbookHarness

    init() throws {
        h = try RunbookHarness(suite: "act")
        try h.admin.exec("DO $$ BEGIN CREATE ROLE rb_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    }

    deinit {
        h.shutdown()
    }

    func alive(_ pids: [Int32]) throws -> Int {
        let list = pids.map(String.init).joined(separator: ",")
        return Int(try h.admin.exec("SELECT count(*) FROM pg_stat_activity WHERE pid IN (\(list))").first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    @Test func killIdleTerminatesExactlyThePreviewedSessions() async throws {
        let victims = try (0..<3).map { _ in try h.session("rb-kill", user: "rb_app") }
        for v in victims { try v.exec("SELECT 1") }
        let triageNamed = try h.session("triage", user: "rb_app")
        try triageNamed.exec("SELECT 1")
        let superuser = try h.session("rb-kill")    // postgres: superuser, only by explicit PID
        try superuser.exec("SELECT 1")
        try await Task.sleep(nanoseconds: 1_300_000_000)

        // Without the role: refused, nothing stored.
        let refused = await h.send("/pg kill-idle --older 1s --app rb-kill", role: .responder)
        #expect(refused.allText.contains("needs the operator role"))
        #expect(h.token(refused) == nil)

        let preview = await h.send("/pg kill-idle --older 1s --app rb-kill")
        let rows = try #require(preview.table("Would terminate"))
        #expect(Set(rows.column("pid")) == Set(victims.map { String($0.pid) }))
        let token = try #require(h.token(preview))
        #expect(try alive(victims.map(\.pid)) == 3)   // nothing happened before confirmation

        // Confirmation needs the operator role too.
        let viewerConfirm = await h.send("/confirm \(token)", role: .viewer, sender: "bob")
        #expect(viewerConfirm.allText.contains("needs the operator role"))

        // One victim does something after the preview: it is no longer the idle session that was shown.
        try victims[0].exec("SELECT 2")
        let done = await h.send("/confirm \(token)", sender: "carol")
        #expect(done.title?.hasPrefix("Done") == true)
        #expect(done.value("confirmed by") == "@carol")
        let gone = await h.eventually { ((try? self.alive([victims[1].pid, victims[2].pid])) ?? 1) == 0 }
        #expect(gone)
        #expect(try alive([victims[0].pid, triageNamed.pid, superuser.pid]) == 3)

        // Replaying the token does nothing.
        let replay = await h.send("/confirm \(token)")
        #expect(replay.allText.contains("already used"))
        #expect(try alive([victims[0].pid]) == 1)
    }

    @Test func killIdleInTransactionReleasesTheXminHorizon() async throws {
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        let holder = try h.session("rb-holder", user: "rb_app")
        try holder.exec("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try holder.exec("SELECT 1")
        let plainIdle = try h.session("rb-holder", user: "rb_app")
        try plainIdle.exec("SELECT 1")
        try await Task.sleep(nanoseconds: 1_300_000_000)
        let preview = await h.send("/pg kill-idle --older 1s --app rb-holder --in-transaction")
        #expect(preview.table("Would terminate")?.column("pid") == [String(holder.pid)])
        #expect(preview.table("Would terminate")?.column("state") == ["idle in transaction"])
        _ = await h.send("/confirm \(try #require(h.token(preview)))")
        let gone = await h.eventually { ((try? self.alive([holder.pid])) ?? 1) == 0 }
        #expect(gone)
        #expect(try alive([plainIdle.pid]) == 1)
        let xmin = await h.send("/pg xmin")
        #expect(xmin.table()?.row(where: "holder", is: String(holder.pid)) == nil)
    }

    @Test func everyActionAndConfirmationNeedsTheOperatorRole() async throws {
        try h.admin.exec("CREATE TABLE rl(id int PRIMARY KEY)")
        for line in ["/pg kill-idle --older 1m", "/pg terminate 1", "/pg cancel 1", "/pg vacuum rl", "/pg vacuum rl --full",
                     "/pg analyze rl", "/pg analyze", "/pg reindex rl_pkey", "/confirm abcdefgh", "/cancel"] {
            let reply = await h.send(line, role: .responder)
            #expect(reply.allText.contains("needs the operator role"), "\(line)")
        }
        let pending = try await h.app.store.read { tx in try tx.latestPendingAction(platform: "test", room: "ops", at: Date.distantPast) }
        #expect(pending == nil)
    }

    @Test func terminateNeverTouchesTriageItself() async throws {
        _ = await h.send("/pg connections")   // Triage's own session exists now
        let own = try h.admin.exec("SELECT pid::text FROM pg_stat_activity WHERE application_name = 'triage' AND datname = current_database() LIMIT 1")
        let pid = try #require(own.first?.first ?? nil)
        let reply = await h.send("/pg terminate \(pid)")
        #expect(reply.allText.contains("No session with pid \(pid) that Triage may terminate"))
        #expect(h.token(reply) == nil)
    }

    @Test func vacuumReclaimsDeadTuplesAndFullNeedsASecondConfirmation() async throws {
        await ClusterHorizon.shared.acquire()
        defer { ClusterHorizon.shared.release() }
        try h.admin.exec("CREATE TABLE vac(id int PRIMARY KEY, v int) WITH (autovacuum_enabled = off)")
        let s = try h.session("rb-vac")
        try s.exec("INSERT INTO vac SELECT g, g FROM generate_series(1, 4000) g")
        try s.exec("UPDATE vac SET v = v + 1")
        s.close()
        var preview = Reply()
        _ = await h.eventually {
            preview = await self.h.send("/pg vacuum vac")
            if let t = self.h.token(preview), preview.value("dead tuples") != "4000" { _ = await self.h.send("/cancel \(t)") }
            return preview.value("dead tuples") == "4000"
        }
        #expect(preview.value("dead tuples") == "4000")
        #expect(preview.value("lock taken")?.hasPrefix("SHARE UPDATE EXCLUSIVE") == true)
        let done = await h.send("/confirm \(try #require(h.token(preview)))")
        #expect(done.title?.hasPrefix("Done") == true)
        let dead = await h.eventually {
            (try? self.h.admin.exec("SELECT n_dead_tup::text FROM pg_stat_user_tables WHERE relname = 'vac'").first?.first) == "0"
        }
        #expect(dead)

        // VACUUM FULL: two confirmations, the first issues a new token and runs nothing.
        let size = { try self.h.admin.exec("SELECT relfilenode::text FROM pg_class WHERE relname = 'vac'").first?.first ?? nil }
        let before = try size()
        let full = await h.send("/pg vacuum vac --full")
        #expect(full.value("lock taken")?.hasPrefix("ACCESS EXCLUSIVE") == true)
        let first = await h.send("/confirm \(try #require(h.token(full)))")
        #expect(first.title?.hasPrefix("Confirmation 1 of 2") == true)
        #expect(try size() == before)
        let second = try #require(first.allText.components(separatedBy: "/confirm ").last?.prefix(8)).description
        // The two-person rule: the same person cannot give the second confirmation.
        let again = await h.send("/confirm \(second)")
        #expect(again.allText.contains("needs a confirmation from another person"))
        #expect(try size() == before)
        let run = await h.send("/confirm \(second)", sender: "bob")
        #expect(run.title?.hasPrefix("Done") == true)
        #expect(run.value("confirmed by") == "@alice, @bob")
        #expect(try size() != before)   // rewritten
    }

    @Test func expiredTokenRunsNothing() async throws {
        try h.admin.exec("CREATE TABLE exp(id int); INSERT INTO exp VALUES (1)")
        let preview = await h.send("/pg analyze exp")
        let token = try #require(h.token(preview))
        h.clock.advance(301)
        let late = await h.send("/confirm \(token)")
        #expect(late.allText.contains("expired"))
        let analyzed = try h.admin.exec("SELECT coalesce(last_analyze::text, 'never') FROM pg_stat_user_tables WHERE relname = 'exp'")
        #expect(analyzed.first?.first == "never")
        let again = await h.send("/confirm \(token)")
        #expect(again.allText.contains("already used (expired"))
    }

    @Test func cancelledTokenAndOtherRoomsRunNothing() async throws {
        try h.admin.exec("CREATE TABLE can(id int)")
        let preview = await h.send("/pg analyze can")
        let token = try #require(h.token(preview))
        let elsewhere = await h.send("/confirm \(token)", room: "other")
        #expect(elsewhere.allText.contains("another room"))
        let cancelled = await h.send("/cancel")
        #expect(cancelled.allText.contains("Cancelled /pg analyze can"))
        let confirm = await h.send("/confirm \(token)")
        #expect(confirm.allText.contains("was cancelled"))
        let unknown = await h.send("/confirm zzzzzzzz")
        #expect(unknown.allText.contains("No action with token"))
        // Without a table: the whole database.
        let all = await h.send("/pg analyze")
        #expect(all.value("target")?.hasPrefix("every table in triage_rb_act_") == true)
        let done = await h.send("/confirm \(try #require(h.token(all)))")
        #expect(done.title == "Done: /pg analyze")
        let analyzed = try h.admin.exec("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'can' AND last_analyze IS NOT NULL")
        #expect(analyzed.first?.first == "1")
    }

    @Test func cancelStopsARunningQuery() async throws {
        let s = try h.session("rb-cancel", user: "rb_app")
        try s.send("SELECT pg_sleep(30)")
        _ = await h.eventually {
            (try? self.h.admin.exec("SELECT state FROM pg_stat_activity WHERE pid = \(s.pid)").first?.first) == "active"
        }
        let preview = await h.send("/pg cancel \(s.pid)")
        #expect(preview.table("Would cancel")?.column("pid") == [String(s.pid)])
        let done = await h.send("/confirm \(try #require(h.token(preview)))")
        #expect(done.summary?.contains("cancelled: 1 of 1") == true)
        #expect(s.finishSent() == "57014")   // query_canceled
        #expect(try alive([s.pid]) == 1)     // the session stays
    }

    @Test func previewConfirmationAndResultGoIntoTheTimeline() async throws {
        try h.admin.exec("CREATE TABLE tl(id int)")
        _ = await h.send("/incident open sev2 slow checkout", room: "tl")
        let preview = await h.send("/pg analyze tl", sender: "alice", room: "tl")
        _ = await h.send("/confirm \(try #require(h.token(preview)))", sender: "bob", room: "tl")
        let events = try await h.app.store.read { tx -> [TimelineEvent] in
            let incident = try tx.activeIncident(platform: "test", room: "tl")!
            // The database snapshot taken when the incident opened is not part of this story.
            return try tx.events(incident: incident.id!).filter { $0.kind != .snapshot }
        }
        let kinds = events.map(\.kind.rawValue)
        #expect(kinds == ["opened", "preview", "confirmation", "action"])
        #expect(events[1].actor == "@alice" && events[1].text.contains("analyze tl"))
        #expect(events[2].actor == "@bob" && events[2].text.contains("requested by @alice"))
        #expect(events[3].text.contains("done"))
        _ = await h.send("/resolve", room: "tl")
    }
}
