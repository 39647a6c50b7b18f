import Foundation
import Testing
@testable import TriageRuntime
@testable import TriageRunbook
import TriageHandlers
import TriageChat
import TriageTesting
import TriageCore
@testable import TriageIncidents
@testable import TriagePostgres
import TriageStore
import TriageTelegram

/// Roles made for one test (cluster-wide, so named after a random tag) and dropped after it.
struct TestRoles {
    let tag = "tp\(UInt32.random(in: 0...UInt32.max))"
    var app: String { "\(tag)_app" }
    /// The least-privilege diagnostics role of docs/security.md.
    var monitor: String { "\(tag)_mon" }
    /// A role Triage may switch to for actions.
    var action: String { "\(tag)_act" }

    func drop() {
        guard let admin = try? TestEnvironment.session(TestEnvironment.postgresURL!, app: "triage-test-admin") else { return }
        _ = try? admin.exec("SET client_min_messages = warning")
        for r in [monitor, action, app] { _ = try? admin.exec("DROP ROLE IF EXISTS \(r)") }
        admin.close()
    }
}

/// A hostile application role with an IMMUTABLE function that tries, whenever it runs as
/// anyone but its owner, to write to a canary table (over dblink, as the superuser) and to
/// terminate a superuser session; and that first tries to get back to the login role.
struct Canary {
    let roles: TestRoles
    let h: RunbookHarness
    let victim: PostgresConnection

    init(_ h: RunbookHarness, roles: TestRoles, monitorIsMember: Bool = true) throws {
        self.h = h
        self.roles = roles
        let base = try #require(URLComponents(string: TestEnvironment.postgresURL!))
        let conn = "host=\(base.host ?? "127.0.0.1") port=\(base.port ?? 5432) dbname=\(h.database) user=postgres"
        try h.admin.exec("""
            CREATE EXTENSION IF NOT EXISTS dblink;
            CREATE ROLE \(roles.app) LOGIN;
            CREATE ROLE \(roles.monitor) LOGIN IN ROLE pg_monitor\(monitorIsMember ? ", \(roles.app)" : "");
            GRANT CREATE ON SCHEMA public TO \(roles.app);
            CREATE TABLE canary(who text, what text);
            SET ROLE \(roles.app);
            CREATE TABLE items(id int);
            INSERT INTO items SELECT generate_series(1, 100);
            CREATE FUNCTION hostile() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
            DECLARE conn text := '\(conn)';
            BEGIN
              FOR attempt IN 1..2 LOOP
                -- The second time, after trying to get back to the login role.
                IF attempt = 2 THEN
                  BEGIN PERFORM set_config('role', 'none', true); EXCEPTION WHEN OTHERS THEN NULL; END;
                END IF;
                IF current_user <> '\(roles.app)' THEN
                  BEGIN PERFORM dblink_exec(conn, format('INSERT INTO canary VALUES (%L, %L)', current_user, attempt));
                  EXCEPTION WHEN OTHERS THEN NULL; END;
                  BEGIN PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'canary-victim';
                  EXCEPTION WHEN OTHERS THEN NULL; END;
                  -- A session setting meant to outlive the plan (a search_path would do worse).
                  PERFORM set_config('application_name', 'hijacked', false);
                END IF;
              END LOOP;
              RETURN 1;
            END $f$;
            CREATE FUNCTION writer() RETURNS int LANGUAGE sql VOLATILE AS 'INSERT INTO items VALUES (-1) RETURNING id';
            RESET ROLE;
            """)
        victim = try h.session("canary-victim")
        try victim.exec("SELECT 1")
        // The application runs its statements (as itself: nothing happens).
        let app = try h.session("the-app", user: roles.app)
        try app.exec("SELECT id FROM items WHERE id = hostile()")
        try app.exec("SELECT id FROM items WHERE id = 7")
        try app.exec("UPDATE items SET id = 8 WHERE id = 8")
        try app.exec("SELECT writer()")
        #expect(try canaryRows().isEmpty)
    }

    func queryID(_ like: String) throws -> String {
        try #require(try h.admin.exec("""
            SELECT queryid::text FROM pg_stat_statements
            WHERE query LIKE '\(like)' AND userid = '\(roles.app)'::regrole
              AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """).first?.first ?? nil)
    }

    func canaryRows() throws -> [[String?]] { try h.admin.exec("SELECT who, what FROM canary") }

    /// The superuser session the hostile code tries to end.
    var victimAlive: Bool { (try? victim.exec("SELECT 1")) != nil }
}

@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class ExplainPrivilegeTests {
    let roles = TestRoles()
    var harnesses: [RunbookHarness] = []

    deinit {
        for h in harnesses { h.shutdown() }
        roles.drop()
    }

    /// Triage connected as the superuser (the URL's role), and as the least-privilege role.
    func harness(leastPrivilege: Bool) throws -> RunbookHarness {
        let roles = self.roles
        let h = try RunbookHarness(suite: "priv", targets: leastPrivilege ? { url in
            [PostgresTarget(name: "main", connectionString: TestEnvironment.url(url, user: roles.monitor), actionConnectionString: url)]
        } : nil)
        harnesses.append(h)
        return h
    }

    @Test func aSuperuserConnectionDoesNotPlanTheApplicationsCode() async throws {
        let h = try harness(leastPrivilege: false)
        let canary = try Canary(h, roles: roles)
        let qid = try canary.queryID("SELECT id FROM items WHERE id = hostile()%")
        let reply = await h.send("/pg explain \(qid)", role: .viewer)
        #expect(reply.title == "Cannot explain queryid \(qid)", "\(reply.allText)")
        #expect(reply.allText.contains("logs in as postgres, which has superuser"), "\(reply.allText)")
        #expect(try canary.canaryRows().isEmpty)
        #expect(canary.victimAlive)
        #expect(await h.send("/pg health", role: .viewer).allText.contains("Diagnostics run as the superuser postgres"))
        // Triage's own statements (same role as its login) are still explained.
        try h.admin.exec("CREATE TABLE own(id int); SELECT * FROM own WHERE id = 3")
        let own = try #require(try h.admin.exec("SELECT queryid::text FROM pg_stat_statements WHERE query LIKE 'SELECT * FROM own WHERE id = $1%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())").first?.first ?? nil)
        let ownPlan = await h.send("/pg explain \(own)", role: .viewer).allText
        #expect(ownPlan.contains("Seq Scan on own"), "\(ownPlan)")
    }

    @Test func theLeastPrivilegeRolePlansAsTheStatementsOwnRole() async throws {
        let h = try harness(leastPrivilege: true)
        let canary = try Canary(h, roles: roles)
        let qid = try canary.queryID("SELECT id FROM items WHERE id = hostile()%")
        let reply = await h.send("/pg explain \(qid)", role: .viewer)
        #expect(reply.title == "Plan of queryid \(qid) (not executed)", "\(reply.allText)")
        #expect(reply.value("plan")?.contains("planned as \(roles.app)") == true)
        #expect(reply.allText.contains("Seq Scan on items"))
        #expect(reply.allText.contains("id = 1"))     // hostile() was folded, as the app
        let rows = try canary.canaryRows()
        #expect(rows.isEmpty, "\(rows)")
        #expect(canary.victimAlive)
        // Nothing stays switched: the next diagnostic runs as the login role again, and the
        // setting the code changed for the session was rolled back with the plan.
        let whoami = try await h.app.database.run([SQLStatement("SELECT current_user::text, current_setting('application_name')")],
                                                  on: nil, mode: .readOnly)
        #expect(whoami[0].rows.first == [roles.monitor, "triage"])
    }

    @Test func withoutMembershipTheRefusalSaysWhatToGrant() async throws {
        let h = try harness(leastPrivilege: true)
        let canary = try Canary(h, roles: roles, monitorIsMember: false)
        let qid = try canary.queryID("SELECT id FROM items WHERE id = hostile()%")
        let reply = await h.send("/pg explain \(qid)", role: .viewer)
        #expect(reply.allText.contains("GRANT \(roles.app) TO \(roles.monitor);"), "\(reply.allText)")
        #expect(try canary.canaryRows().isEmpty)
        // A superuser's statement: never the advice to grant the superuser role.
        try h.admin.exec("SELECT count(*) FROM items WHERE id > 50")
        let su = try #require(try h.admin.exec("""
            SELECT queryid::text FROM pg_stat_statements WHERE query LIKE 'SELECT count(*) FROM items WHERE id > $1%'
              AND userid = 'postgres'::regrole AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """).first?.first ?? nil)
        let suReply = await h.send("/pg explain \(su)", role: .viewer).allText
        #expect(suReply.contains("ran as the superuser postgres"), "\(suReply)")
        #expect(!suReply.contains("GRANT postgres"))
    }

    @Test func explainAnalyzeRunsReadsOnlyRolledBackForOperators() async throws {
        let h = try harness(leastPrivilege: true)
        let canary = try Canary(h, roles: roles)
        let select = try canary.queryID("SELECT id FROM items WHERE id = $1%")
        let viewer = await h.send("/pg explain-analyze \(select) 7", role: .viewer)
        #expect(viewer.allText.contains("needs the operator role"), "\(viewer.allText)")
        // A remedy like the others: a preview (as whom, with what, for how long), then a confirmation.
        let preview = await h.send("/pg explain-analyze \(select) 7 --timeout 5s")
        #expect(preview.title?.hasPrefix("Preview (nothing has run yet)") == true, "\(preview.allText)")
        #expect(preview.value("would run")?.contains("as \(roles.app)") == true, "\(preview.allText)")
        #expect(preview.value("values") == "'7'" && preview.value("timeout") == "5s")
        #expect(!preview.allText.contains("actual time="))
        let token = try #require(h.token(preview))
        let run = await h.send("/confirm \(token)", sender: "bob")
        #expect(run.title?.hasPrefix("Done") == true && run.title?.contains("/pg explain-analyze") == true, "\(run.allText)")
        #expect(run.allText.contains("actual time="))
        #expect(run.allText.contains("Buffers:") || run.allText.contains("rows=1 loops=1"))
        #expect(run.value("plan")?.contains("as \(roles.app) in a read-only transaction that was rolled back, timeout 5s") == true)
        let replay = await h.send("/confirm \(token)", sender: "bob")
        #expect(replay.allText.contains("already used"))
        let missing = await h.send("/pg explain-analyze \(select)")
        #expect(missing.allText.contains("has 1 parameter ($1…$1); give 1 value, not 0"), "\(missing.allText)")

        let update = try canary.queryID("UPDATE items SET id = $1 WHERE id = $2%")
        let refused = await h.send("/pg explain-analyze \(update) 8 8")
        #expect(refused.allText.contains("this one writes ('update')"), "\(refused.allText)")

        // A SELECT whose function writes: the read-only transaction stops it.
        let writer = try canary.queryID("SELECT writer()%")
        let writerPreview = await h.send("/pg explain-analyze \(writer)")
        let stopped = await h.send("/confirm \(try #require(h.token(writerPreview)))", sender: "bob")
        #expect(stopped.allText.contains("read-only transaction"), "\(stopped.allText)")
        #expect(try h.admin.exec("SELECT count(*) FROM items WHERE id = -1").first?.first == "1")  // only the app's own run

        let hostile = try canary.queryID("SELECT id FROM items WHERE id = hostile()%")
        let hostilePreview = await h.send("/pg explain-analyze \(hostile)")
        if let t = h.token(hostilePreview) { _ = await h.send("/confirm \(t)", sender: "bob") }
        #expect(try canary.canaryRows().isEmpty)
        #expect(canary.victimAlive)
    }
}

@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class LeastPrivilegeTests {
    let roles = TestRoles()
    let h: RunbookHarness

    init() throws {
        let roles = self.roles
        h = try RunbookHarness(suite: "lp", config: ["migrations": "tables: [{preset: golang-migrate}]"], targets: { url in
            [PostgresTarget(name: "main", connectionString: TestEnvironment.url(url, user: roles.monitor), actionConnectionString: url)]
        })
        try h.admin.exec("CREATE ROLE \(roles.monitor) LOGIN IN ROLE pg_monitor")
    }

    deinit {
        h.shutdown()
        roles.drop()
    }

    @Test func everyDiagnosticRunsAsTheMonitorRoleOrSaysWhatItNeeds() async throws {
        try h.admin.exec("CREATE TABLE child(id int PRIMARY KEY, parent_id int); INSERT INTO child VALUES (1, 1)")
        let diagnostics = h.app.dispatcher.registry.declarations.filter {
            $0.kind == .diagnostic && $0.role == .viewer && !$0.arguments.contains { $0.isRequired }
        }
        #expect(diagnostics.count >= 25)
        for d in diagnostics {
            let text = await h.send("/" + d.name, role: .viewer).allText
            #expect(!text.contains("Internal"), "/\(d.name)")
            if text.contains("error") || text.contains("permission denied") {
                #expect(text.contains("needs a grant: permission denied"), "/\(d.name): \(text.prefix(300))")
            }
        }
        // A check on an application table the role may not read says what it needs; granted, it works.
        try h.admin.exec("CREATE TABLE schema_migrations(version bigint, dirty boolean); INSERT INTO schema_migrations VALUES (1, false)")
        let denied = await h.send("/pg migrations", role: .viewer).allText
        #expect(denied.contains("needs a grant: permission denied for table schema_migrations"), "\(denied)")
        try h.admin.exec("GRANT SELECT ON schema_migrations TO \(roles.monitor)")
        let granted = await h.send("/pg migrations", role: .viewer).allText
        #expect(!granted.contains("permission denied"), "\(granted)")
        let health = await h.send("/pg health", role: .viewer)
        #expect(!health.allText.contains("run as the superuser"))
    }

    @Test func actionsGoThroughThePrivilegedConnectionOnly() async throws {
        let victim = try h.session("lp-victim")     // a superuser session: pg_monitor cannot end it
        try victim.exec("SELECT 1")
        _ = await h.send("/pg connections")
        let preview = await h.send("/pg terminate \(victim.pid)")
        let token = try #require(h.token(preview), "\(preview.allText)")
        let done = await h.send("/confirm \(token)")
        #expect(done.title?.hasPrefix("Done") == true, "\(done.allText)")
        #expect((try? victim.exec("SELECT 1")) == nil)
        let triage = try h.admin.exec("""
            SELECT usename::text, count(*)::text FROM pg_stat_activity
            WHERE application_name = 'triage' AND datname = current_database() GROUP BY 1 ORDER BY 1
            """)
        let users = Dictionary(uniqueKeysWithValues: triage.compactMap { r in r[0].map { ($0, r[1] ?? "") } })
        #expect(users == [roles.monitor: "1", "postgres": "1"], "\(triage)")
    }

    @Test func anActionRoleIsSetForTheActionsTransactionOnly() async throws {
        try h.admin.exec("CREATE ROLE \(roles.action) NOLOGIN IN ROLE pg_signal_backend; GRANT \(roles.action) TO \(roles.monitor)")
        let monitorURL = TestEnvironment.url(h.url, user: roles.monitor)
        let client = PostgresClient(targets: [PostgresTarget(name: "main", connectionString: monitorURL, actionRole: roles.action)],
                                    logger: TestEnvironment.logger)
        let who = SQLStatement("SELECT current_user::text, session_user::text")
        #expect(try await client.run([who], on: nil, mode: .readWrite)[0].rows.first == [roles.action, roles.monitor])
        #expect(try await client.run([who], on: nil, mode: .readOnly)[0].rows.first == [roles.monitor, roles.monitor])
        #expect(try await client.run([who], on: nil, mode: .autocommit(statementTimeoutMs: 0))[0].rows.first == [roles.action, roles.monitor])
        let report = await PrivilegeCheck.report([PostgresTarget(name: "main", connectionString: monitorURL, actionRole: roles.action)],
                                                 logger: TestEnvironment.logger)
        let text = report.map(\.text).joined(separator: "\n")
        #expect(text.contains("diagnostics: role \(roles.monitor): not a superuser; pg_monitor: yes"), "\(text)")
        #expect(text.contains("actions: role \(roles.action) (login \(roles.monitor), SET ROLE)"), "\(text)")
        #expect(text.contains("can terminate other users' sessions: yes"), "\(text)")
        await client.close()
    }
}

/// Secrets that applications put in query texts, from every source Triage shows: they never
/// reach a reply, the timeline or the postmortem.
@Suite(.serialized, .enabled(if: TestEnvironment.hasPostgres))
final class LeakTests {
    let roles = TestRoles()
    let h: RunbookHarness
    let secrets = ["Leak_me_PW_4242", "Leak_active_PW", "Leak_dblink_PW", "Leak_pgp_PW", "Leak_url_PW"]

    init() throws {
        h = try RunbookHarness(suite: "leak")
    }

    deinit {
        h.shutdown()
        roles.drop()
    }

    func expectNoSecret(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for s in secrets {
            #expect(!text.contains(s), "\(what) leaks \(s): \(text.prefix(600))", sourceLocation: sourceLocation)
        }
    }

    @Test func noLeakShapeReachesAReplyTheTimelineOrThePostmortem() async throws {
        try h.admin.exec("""
            CREATE EXTENSION IF NOT EXISTS dblink; CREATE EXTENSION IF NOT EXISTS pgcrypto;
            CREATE ROLE \(roles.app) LOGIN; CREATE TABLE lt(id int);
            ALTER ROLE \(roles.app) PASSWORD 'Leak_me_PW_4242';
            """)
        // A session idle in a transaction that holds a lock, its last statement a password change.
        let holder = try h.session("leak-holder")
        try holder.exec("BEGIN; LOCK TABLE lt IN ACCESS EXCLUSIVE MODE")
        try holder.exec("ALTER ROLE \(roles.app) PASSWORD 'Leak_active_PW'")
        // Sessions waiting behind it, with a dblink connection string and a pgcrypto key in their text.
        let dbl = try h.session("leak-dblink")
        try dbl.send("SELECT * FROM lt, dblink('host=127.0.0.1 user=nobody password=Leak_dblink_PW', 'SELECT 1') AS t(a int)")
        let pgp = try h.session("leak-pgp")
        try pgp.send("SELECT pgp_sym_encrypt(id::text, 'Leak_pgp_PW') FROM lt")
        let url = try h.session("leak-url")
        try url.send("SELECT dblink_connect('postgresql://app:Leak_url_PW@db.internal/x'), id FROM lt")
        let waiting = await h.eventually {
            let r = try? self.h.admin.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'leak-%' AND wait_event_type = 'Lock'")
            return r?.first?.first == "3"
        }
        #expect(waiting)

        var replies: [(String, Reply)] = []
        for line in ["/incident open sev2 \"credentials postgresql://ops:Leak_url_PW@db/x in a ticket\"",
                     "/pg slow --limit 100", "/pg slow --by total --limit 100", "/pg active", "/pg locks", "/pg idle-tx",
                     "/pg health", "/note the app logs show password=Leak_me_PW_4242", "/timeline", "/resolve rotated"] {
            replies.append((line, await h.send(line)))
        }
        for (line, reply) in replies {
            expectNoSecret(String(describing: reply), "the reply model of \(line)")
            expectNoSecret(reply.allText, "the text of \(line)")
            expectNoSecret(TelegramHTMLRenderer().render(reply).joined(), "the Telegram HTML of \(line)")
        }
        // Each shape was there to be shown (masked).
        let all = replies.map { $0.1.allText }.joined(separator: "\n")
        #expect(all.contains("PASSWORD '***'"), "\(all.prefix(2000))")
        #expect(all.contains("password=***"))
        #expect(all.contains("pgp_sym_encrypt(id::text, '***')"))
        #expect(all.contains("postgresql://app:***@db.internal"))

        let incidentID = try #require(try await h.app.store.read { tx in try tx.incidents(limit: 1).first?.id })
        let events = try await h.app.store.read { tx in try tx.events(incident: incidentID) }
        let snapshot = try #require(events.first { $0.kind == .snapshot })
        #expect(snapshot.output?.contains("***") == true, "\(snapshot.output ?? "")")
        // The payload stays JSON, its secrets masked.
        #expect((try? JSONSerialization.jsonObject(with: Data((snapshot.payload ?? "").utf8))) != nil, "\(snapshot.payload ?? "")")
        for e in events {
            expectNoSecret([e.command ?? "", e.text, e.output ?? "", e.payload ?? ""].joined(separator: "\n"), "timeline event \(e.kind)")
        }
        let store = h.app.store
        let pm = try #require(try await store.read { tx in try PostmortemWriter.postmortem(in: tx, incident: incidentID, generatedAt: Date(), store: store) })
        expectNoSecret(MarkdownPostmortem().render(pm), "the Markdown postmortem")
        expectNoSecret(JSONPostmortem().render(pm), "the JSON postmortem")
        expectNoSecret(SVGTimeline().render(pm), "the SVG timeline")
        try holder.exec("ROLLBACK")
    }
}
