import Foundation
import Testing
import TriageHandlers
import TriageCore
import TriageHTTP
import TriageStore
@testable import TriageAlerts

/// Against a real Alertmanager 0.25 (gossip off, loopback) and the real test PostgreSQL.
@Suite("Alertmanager follow, real servers", .serialized, .enabled(if: AlertsTestEnvironment.ready))
struct AlertmanagerIntegrationTests {
    let http = HTTPClient(logger: AlertsTestEnvironment.logger)

    /// A database with `orders` holding 100k dead tuples (autovacuum off for it).
    func bloatedDatabase() async throws -> (url: String, name: String) {
        let db = try await AlertsTestEnvironment.freshDatabase("alerts")
        _ = try await AlertsTestEnvironment.psql(db.url, """
            CREATE TABLE orders(id int, note text) WITH (autovacuum_enabled = false);
            INSERT INTO orders SELECT g, 'x' FROM generate_series(1, 100000) g;
            DELETE FROM orders;
            """)
        return db
    }

    /// Waits until Alertmanager's groups hold `alerts` alerts (at most 5 s).
    func waitForGroups(_ url: String, alerts: Int) async throws {
        let client = AlertmanagerClient(urls: [url], http: http)
        for _ in 0..<50 {
            if try await client.groups(from: url).reduce(0, { $0 + $1.alerts.count }) >= alerts { return }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    func withServers(_ body: (AlertmanagerServer, (url: String, name: String), URL) async throws -> Void) async throws {
        let db = try await bloatedDatabase()
        let am = try await AlertmanagerServer.start(port: AlertsTestEnvironment.alertmanagerPort)
        let dir = AlertsTestEnvironment.scratch("alerts")
        do {
            try await body(am, db, dir)
        } catch {
            await am.down()
            await AlertsTestEnvironment.dropDatabase(db.name)
            throw error
        }
        await am.down()
        await AlertsTestEnvironment.dropDatabase(db.name)
    }

    @Test func firingAnnouncesOnceWithDiagnosticsThenResolvesAfterTwoMissedPolls() async throws {
        try await withServers { am, db, dir in
            let h = try await AlertsHarness(configText: AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir),
                                            directory: dir)
            defer { Task { await h.shutdown() } }
            try await post([deadTuplesAlert(db: db.name)], to: am.url, http: http)
            await h.service.pollOnce()
            let first = try await h.takeMessages()
            #expect(first.count == 1)
            let text = first.first ?? ""
            #expect(text.contains("Alert firing: HighDeadTuples"))
            #expect(text.contains("Table has high dead tuple count"))
            #expect(text.contains("datname=\(db.name)"))
            #expect(text.contains("https://runbooks.example/dead-tuples"))
            #expect(text.contains("http://prometheus.example/graph"))
            // The diagnostics ran against the mapped database and found the dead tuples.
            #expect(text.contains("/pg bloat --db main"))
            #expect(text.contains("/pg vacuum-stats --db main"))
            #expect(text.contains("/pg xmin --db main"))
            #expect(text.contains("public.orders"))
            #expect(text.contains("100000"))
            #expect(text.contains("Suggested: /pg vacuum public.orders --db main"))
            // Polling again says nothing new.
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty)

            // Resolved: Prometheus sends endsAt = now; Alertmanager drops it from the API.
            try await post([deadTuplesAlert(db: db.name, ends: Date())], to: am.url, http: http)
            try await Task.sleep(nanoseconds: 300_000_000)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty, "one missing poll is not enough")
            await h.service.pollOnce()
            let resolved = try await h.takeMessages()
            #expect(resolved.count == 1)
            #expect(resolved.first?.contains("Resolved after") == true)
            #expect(resolved.first?.contains("HighDeadTuples") == true)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty)
        }
    }

    @Test func criticalOpensAnIncidentAndEverythingLandsInItsTimeline() async throws {
        try await withServers { am, db, dir in
            let h = try await AlertsHarness(configText: AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir),
                                            directory: dir)
            defer { Task { await h.shutdown() } }
            var alert = deadTuplesAlert(db: db.name)
            alert.labels["severity"] = "critical"
            try await post([alert], to: am.url, http: http)
            await h.service.pollOnce()
            let text = try await h.takeMessages().joined()
            #expect(text.contains("Opened incident #"))
            let incident = try #require(try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") })
            #expect(incident.severity == .sev2)
            #expect(incident.openedBy == "alertmanager")
            let events = try await h.app.store.read { tx in try tx.events(incident: incident.id!) }
            #expect(events.map(\.kind.rawValue).contains("opened"))
            let fired = try #require(events.first { $0.kind.rawValue == "alert" })
            #expect(fired.output?.contains("public.orders") == true)

            // A silence typed in the room is a timeline event too.
            let reply = await h.send("/silence alertname=HighDeadTuples datname=\(db.name) 1h \"vacuum running\"")
            #expect(reply.contains("created"))
            try await post([alert].map { var a = $0; a.endsAt = Date(); return a }, to: am.url, http: http)
            try await Task.sleep(nanoseconds: 300_000_000)
            await h.service.pollOnce()
            await h.service.pollOnce()
            let resolved = try await h.takeMessages().joined()
            #expect(resolved.contains("Resolved after"))
            #expect(resolved.contains("stays open: /resolve"))
            let after = try await h.app.store.read { tx in try tx.events(incident: incident.id!) }.map(\.kind.rawValue)
            #expect(after.contains("silence"))
            #expect(after.contains("alert_resolved"))
            // The incident waits for a human.
            #expect(try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") } != nil)
        }
    }

    @Test func aCriticalAlertPagesThroughThePagingPolicy() async throws {
        try await withServers { am, db, dir in
            // The real paging plug-in: sev2 pages the `db` policy automatically.
            let paging = """
            paging:
              people:
                dave: "@dave"
              policies:
                db:
                  levels:
                    - targets: [{person: dave}]
                      wait: 5m
              notify: [chat]
              auto_page: {sev2: db}
            """
            let h = try await AlertsHarness(configText: AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url],
                                                                             directory: dir, extra: paging),
                                            directory: dir)
            defer { Task { await h.shutdown() } }
            var alert = deadTuplesAlert(db: db.name)
            alert.labels["severity"] = "critical"
            try await post([alert], to: am.url, http: http)
            // A loaded machine may answer the first poll late (or time it out): poll until the
            // incident is there (bounded), then check it was opened and paged once.
            var opened: Incident?
            for _ in 0..<30 where opened == nil {
                await h.service.pollOnce()
                opened = try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") }
                if opened == nil { try await Task.sleep(nanoseconds: 500_000_000) }
            }
            let incident = try #require(opened)
            #expect(incident.severity == .sev2)
            let pages = try await h.app.store.read { tx in try tx.unresolvedPages(incident: incident.id ?? -1) }
            #expect(pages.count == 1, "\(pages)")
            #expect(pages.first?.auto == true)
            #expect(pages.first?.policyName == "db")
            // Polling again neither opens nor pages twice.
            await h.service.pollOnce()
            #expect(try await h.app.store.read { tx in try tx.unresolvedPages(incident: incident.id ?? -1) }.count == 1)
        }
    }

    @Test func aRouteThatResolvesItsIncidentTellsTheObservers() async throws {
        try await withServers { am, db, dir in
            let text = AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir)
                .replacingOccurrences(of: "open_incident: true\n", with: "open_incident: true\n      resolve_incident: true\n")
            let observer = RecordingObserver()
            let h = try await AlertsHarness(configText: text, directory: dir, observers: [observer])
            defer { Task { await h.shutdown() } }
            var critical = deadTuplesAlert(db: db.name)
            critical.labels["severity"] = "critical"
            var second = critical
            second.labels["relname"] = "lines"
            try await post([critical, second], to: am.url, http: http)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().count == 2)
            let incident = try #require(try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") })
            // Paging's observer is told once, inside the transaction that opened the incident.
            #expect(observer.calls.withLock { $0 } == ["opened #\(incident.id!) sev2 by alertmanager visible=true"])

            // The alert that opened the incident resolves first: it stays open for the other.
            let openerRelname = try #require(try await h.app.store.read { tx in try tx.alertStates() }
                .first { $0.openedIncident }.map(FollowedAlert.init(record:))?.labels["relname"])
            let (first, last) = openerRelname == "orders" ? (critical, second) : (second, critical)
            try await post([first].map { var a = $0; a.endsAt = Date(); return a }, to: am.url, http: http)
            try await Task.sleep(nanoseconds: 300_000_000)
            await h.service.pollOnce()
            await h.service.pollOnce()
            #expect(try await h.takeMessages().joined().contains("stays open"))
            #expect(try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") } != nil)
            // The other too: the route resolves the incident and the observers hear of it.
            try await post([last].map { var a = $0; a.endsAt = Date(); return a }, to: am.url, http: http)
            try await Task.sleep(nanoseconds: 300_000_000)
            await h.service.pollOnce()
            await h.service.pollOnce()
            let closing = try await h.takeMessages().joined()
            #expect(closing.contains("Incident #\(incident.id!) resolved"), "\(closing)")
            #expect(try await h.app.store.read { tx in try tx.activeIncident(platform: "console", room: "console") } == nil)
            #expect(observer.calls.withLock { $0 }.last == "resolved #\(incident.id!) by alertmanager status=resolved")
            let kinds = try await h.app.store.read { tx in try tx.events(incident: incident.id!) }.map(\.kind.rawValue)
            #expect(kinds.filter { $0 == "alert" }.count == 2)
            #expect(kinds.filter { $0 == "alert_resolved" }.count == 2)
            #expect(kinds.last == "resolved")
        }
    }

    @Test func silencesFromChatReachAlertmanagerWithMatchersAndCreator() async throws {
        try await withServers { am, db, dir in
            let h = try await AlertsHarness(configText: AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir),
                                            directory: dir)
            defer { Task { await h.shutdown() } }
            let client = AlertmanagerClient(urls: [am.url], http: http)
            try await post([deadTuplesAlert(db: db.name)], to: am.url, http: http)
            await h.service.pollOnce()
            _ = try await h.takeMessages()

            // Bad input: usage, and nothing reaches Alertmanager.
            for bad in ["/silence alertname=~(x 2h", "/silence alertname=HighDeadTuples 90d", "/silence 2h", "/silence team!=db 2h \"all\""] {
                let reply = await h.send(bad)
                #expect(reply.contains("Silence not created"), "\(bad): \(reply)")
                #expect(reply.contains("/silence NAME=VALUE"), "\(bad): \(reply)")
            }
            #expect(try await client.silences().isEmpty)
            // A viewer may not silence.
            let refused = await h.send("/silence alertname=HighDeadTuples 2h", sender: "victor", role: .viewer)
            #expect(refused.contains("needs the responder role"))
            #expect(try await client.silences().isEmpty)

            let reply = await h.send("/silence alertname=HighDeadTuples datname=\(db.name) instance!~\"test-.*\" 2h \"vacuum running\"")
            #expect(reply.contains("Silence"))
            #expect(reply.contains("1 firing alert"))
            let silences = try await client.silences()
            #expect(silences.count == 1)
            let s = try #require(silences.first)
            #expect(s.createdBy == "alice")
            #expect(s.comment == "vacuum running")
            #expect(s.status.state == .active)
            #expect(Set(s.matchers) == [
                AMMatcher(name: "alertname", value: "HighDeadTuples", isRegex: false, isEqual: true),
                AMMatcher(name: "datname", value: db.name, isRegex: false, isEqual: true),
                AMMatcher(name: "instance", value: "test-.*", isRegex: true, isEqual: false),
            ])
            #expect(abs(s.endsAt.timeIntervalSince(s.startsAt) - 7200) < 2)
            let stored = try await h.app.store.read { tx in try tx.alertSilence(id: s.id) }
            #expect(stored?.createdBy == "alice")

            // /alerts shows the silenced state once Alertmanager applied it.
            try await Task.sleep(nanoseconds: 300_000_000)
            await h.service.pollOnce()
            let listing = await h.send("/alerts")
            #expect(listing.contains("silenced by \(s.id.prefix(8))"), "\(listing)")
            let list = await h.send("/silences")
            #expect(list.contains(String(s.id.prefix(8))))
            #expect(list.contains("vacuum running"))

            // The reply-to-alert form: #ref silences exactly that alert's labels.
            let fp = try #require(try await h.app.store.read { tx in try tx.alertStates() }.first?.fingerprint)
            let byRef = await h.send("/silence #\(fp.prefix(8)) 30m")
            #expect(byRef.contains("created"), "\(byRef)")
            let two = try await client.silences().filter { $0.status.state == .active }
            #expect(two.count == 2)
            let refSilence = try #require(two.first { $0.id != s.id })
            #expect(refSilence.matchers.count == 6)
            #expect(refSilence.matchers.allSatisfy { !$0.isRegex && $0.isEqual })
            #expect(refSilence.comment.contains("by alice"))

            // /unsilence expires it in Alertmanager.
            let un = await h.send("/unsilence \(s.id.prefix(8))")
            #expect(un.contains("expired"), "\(un)")
            let after = try await client.silences().first { $0.id == s.id }
            #expect(after?.status.state == .expired)
            #expect(try await h.app.store.read { tx in try tx.alertSilence(id: s.id) }?.expiredBy == "alice")
            // Unknown or malformed ids change nothing.
            #expect(await h.send("/unsilence \(s.id.prefix(8))").contains("No active or pending silence"))
            #expect(await h.send("/unsilence zz'--").contains("not a silence id"))
        }
    }

    @Test func inhibitedAlertsAreShownNotAnnouncedAndABurstBecomesADigest() async throws {
        try await withServers { am, db, dir in
            let text = AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir)
                .replacingOccurrences(of: "recovery_grace: 0s", with: "recovery_grace: 0s\n  max_announcements_per_poll: 3")
            let h = try await AlertsHarness(configText: text, directory: dir)
            defer { Task { await h.shutdown() } }
            // The test Alertmanager inhibits a warning by a critical of the same alertname and datname.
            var critical = deadTuplesAlert(db: db.name)
            critical.labels["severity"] = "critical"
            try await post([critical, deadTuplesAlert(db: db.name)], to: am.url, http: http)
            try await Task.sleep(nanoseconds: 1_500_000_000)
            await h.service.pollOnce()
            let first = try await h.takeMessages()
            #expect(first.count == 1, "only the critical one is announced")
            #expect(first.first?.contains("critical → sev2") == true)
            let listing = await h.send("/alerts")
            #expect(listing.contains("inhibited"), "\(listing)")

            // Twelve new alerts at once: three announcements, then one digest for the rest.
            let burst = (0..<12).map { i in
                AMPostableAlert(labels: ["alertname": "BurstAlert", "n": "\(i)", "severity": "info"], annotations: ["summary": "burst \(i)"])
            }
            try await post(burst, to: am.url, http: http)
            // Alertmanager's dispatcher puts new alerts into their groups asynchronously.
            try await waitForGroups(am.url, alerts: 14)
            await h.service.pollOnce()
            let messages = try await h.takeMessages()
            #expect(messages.count == 4, "\(messages)")
            #expect(messages.filter { $0.contains("Alert firing: BurstAlert") }.count == 3)
            #expect(messages.last?.contains("9 more alerts firing") == true)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty)
        }
    }

    @Test func alertmanagerStoppedAndRestartedMidRun() async throws {
        try await withServers { am, db, dir in
            let text = AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir)
                .replacingOccurrences(of: "recovery_grace: 0s", with: "recovery_grace: 30s")
            let h = try await AlertsHarness(configText: text, directory: dir)
            defer { Task { await h.shutdown() } }
            try await post([deadTuplesAlert(db: db.name)], to: am.url, http: http)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().count == 1)

            try await am.stop()
            let delay = await h.service.pollOnce()
            #expect(delay <= 2.5)
            let status = await h.send("/alerts")
            #expect(status.contains("unreachable since"), "\(status)")
            #expect(try await h.takeMessages().isEmpty)

            // Back, empty (Alertmanager keeps alerts in memory): nothing resolves in the grace period.
            try await am.restart()
            try await Task.sleep(nanoseconds: 2_100_000_000)  // past the backoff
            await h.service.pollOnce()
            await h.service.pollOnce()
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty, "no resolved flood")
            // Prometheus re-sends: still the same alert, no second announcement.
            try await post([deadTuplesAlert(db: db.name)], to: am.url, http: http)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty, "no second announcement")
            #expect(await h.send("/alerts").contains("reachable"))
        }
    }

    @Test func triageRestartedMidAlertDoesNotAnnounceAgain() async throws {
        try await withServers { am, db, dir in
            let text = AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url], directory: dir)
            let first = try await AlertsHarness(configText: text, directory: dir)
            try await post([deadTuplesAlert(db: db.name)], to: am.url, http: http)
            await first.service.pollOnce()
            #expect(try await first.takeMessages().count == 1)
            await first.shutdown()

            let second = try await AlertsHarness(configText: text, directory: dir)
            defer { Task { await second.shutdown() } }
            await second.service.pollOnce()
            await second.service.pollOnce()
            #expect(try await second.takeMessages().isEmpty, "no second announcement after a restart")
            // It still knows to say it resolved.
            try await post([deadTuplesAlert(db: db.name, ends: Date())], to: am.url, http: http)
            try await Task.sleep(nanoseconds: 300_000_000)
            await second.service.pollOnce()
            await second.service.pollOnce()
            #expect(try await second.takeMessages().first?.contains("Resolved after") == true)
        }
    }

    @Test func anHAPairIsDeduplicatedAndOneDownPeerResolvesNothing() async throws {
        try await withServers { am, db, dir in
            let peer = try await AlertmanagerServer.start(port: AlertsTestEnvironment.alertmanagerPort + 1)
            do {
                try await haPair(am: am, peer: peer, db: db, dir: dir)
            } catch {
                await peer.down()
                throw error
            }
            await peer.down()
        }
    }

    func haPair(am: AlertmanagerServer, peer: AlertmanagerServer, db: (url: String, name: String), dir: URL) async throws {
        do {
            let h = try await AlertsHarness(configText: AlertsHarness.config(database: db.url, dbName: db.name, alertmanagers: [am.url, peer.url], directory: dir),
                                            directory: dir)
            defer { Task { await h.shutdown() } }
            let alert = deadTuplesAlert(db: db.name)
            try await post([alert], to: am.url, http: http)
            try await post([alert], to: peer.url, http: http)
            await h.service.pollOnce()
            #expect(try await h.takeMessages().count == 1)
            try await peer.stop()
            await h.service.pollOnce()
            await h.service.pollOnce()
            await h.service.pollOnce()
            #expect(try await h.takeMessages().isEmpty)
            let status = await h.send("/alerts")
            #expect(status.contains("127.0.0.1:\(peer.port) unreachable"), "\(status)")
            #expect(status.contains("HighDeadTuples"))
        }
    }
}
