import Foundation
import Testing
import TriageTesting
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageStore

@Suite("Incident lifecycle")
struct IncidentLifecycleTests {
    @Test("open, change, note, follow up, resolve, reopen: every step leaves an event")
    func lifecycle() async throws {
        let h = try IncidentHarness()
        let opened = await h.say("/incident open sev2 Checkout is slow")
        #expect(opened.contains("Incident #1 opened"))
        #expect(opened.contains("Database snapshot missing:"), "no database listens: the snapshot says why")

        h.clock.advance(60)
        #expect(await h.say("/note p99 at 4s", as: "@bob").contains("Noted in incident #1 (event 3)."))
        #expect(await h.say("/sev sev1").contains("now sev1 (was sev2)"))
        #expect(await h.say("/role scribe @bob").contains("@bob is now scribe"))
        #expect(await h.say("/role comms me", as: "@dave").contains("@dave is now comms"))
        #expect(await h.say("/action add an alert on pool usage").contains("Follow-up 1 recorded"))
        #expect(await h.say("/status identified").contains("now identified (was investigating)"))
        #expect(await h.say("/status monitoring").contains("now monitoring"))
        let state = await h.say("/incident", role: .viewer)
        #expect(state.contains("Incident #1 sev1 [monitoring]: Checkout is slow"))
        #expect(state.contains("scribe") && state.contains("@bob") && state.contains("@dave"))
        #expect(state.contains("Last events"))

        h.clock.advance(600)
        let resolved = await h.say("/resolve pool raised to 200")
        #expect(resolved.contains("Incident #1 resolved"))
        #expect(resolved.contains("duration             11m00s"))

        let incident = try #require(try await h.incident())
        #expect(incident.status == .resolved)
        #expect(incident.severity == .sev1)
        #expect(incident.holder(of: .scribe) == "@bob")
        #expect(incident.holder(of: .comms) == "@dave")
        #expect(incident.summary == "pool raised to 200")
        let kinds = try await h.events(1).map(\.kind.rawValue)
        #expect(kinds == ["opened", "snapshot", "note", "severity", "role", "role", "action_item", "status", "status", "resolved"])

        h.clock.advance(120)
        #expect(await h.say("/reopen it came back").contains("Incident #1 reopened"))
        #expect(try await h.incident()?.resolvedAt == nil)
        h.clock.advance(120)
        await h.say("/resolve")
        let final = try #require(try await h.incident())
        #expect(final.resolvedAt == IncidentHarness.t0.addingTimeInterval(900))
        #expect(final.summary == "pool raised to 200", "a bare /resolve keeps the summary")
    }

    @Test("refusals are clear, change nothing, and still mark the message handled")
    func refusals() async throws {
        let h = try IncidentHarness()
        #expect(await h.say("/note nothing open").contains("No open incident in this room"))
        #expect(await h.say("/reopen").contains("No incident in this room to reopen"))
        #expect(await h.say("/incident").contains("No incident in this room yet"))
        await h.say("/incident open sev3 First")
        #expect(await h.say("/incident open sev1 Second").contains("Incident #1 is already open here"))
        #expect(await h.say("/declare sev1 Second").contains("already open"))
        #expect(await h.say("/sev sev3").contains("already sev3"))
        #expect(await h.say("/status investigating").contains("already investigating"))
        #expect(await h.say("/role commander @alice").contains("@alice is already commander"))
        #expect(await h.say("/reopen").contains("still open here"))
        #expect(await h.say("/sev sev9").contains("must be one of sev1, sev2, sev3, sev4"))
        #expect(await h.say("/status fixed").contains("must be one of investigating, identified, monitoring, resolved"))
        #expect(await h.say("/role boss @x").contains("must be one of commander, scribe, comms"))
        #expect(await h.say("/incident close").contains("To open one: /incident open SEV TITLE; to close it: /resolve."))
        #expect(await h.say("/incident #1", role: .viewer).contains("Incident #1 sev3"))

        // Viewers read, never change.
        for line in ["/note hi", "/sev sev1", "/status identified", "/role scribe me", "/action x", "/resolve", "/incident open sev1 x", "/postmortem"] {
            let reply = await h.say(line, as: "@viewer", role: .viewer)
            #expect(reply.contains("needs the responder role"), "\(line): \(reply)")
        }
        #expect(await h.say("/incident", as: "@viewer", role: .viewer).contains("Incident #1 sev3 [investigating]"))
        #expect(await h.say("/timeline", as: "@viewer", role: .viewer).contains("opened"))
        #expect(await h.say("/incidents", as: "@viewer", role: .viewer).contains("First"))

        let events = try await h.events(1)
        #expect(events.map(\.kind.rawValue) == ["opened", "snapshot"], "refusals wrote nothing")
        let handled = try await h.store.read { tx in try tx.wasProcessed(platform: "telegram", messageID: "m7") }
        #expect(handled, "a refused command is still marked handled, so a redelivery does not repeat it")
    }

    @Test("several rooms have incidents at once; commands attach to their room's")
    func severalRooms() async throws {
        let h = try IncidentHarness()
        await h.say("/incident open sev2 Room A problem", room: "room-a")
        await h.say("/incident open sev3 Room B problem", room: "room-b")
        await h.say("/note for A", room: "room-a")
        await h.say("/note for B", room: "room-b")
        await h.say("/resolve done", room: "room-b")
        let a = try #require(try await h.incident(room: "room-a"))
        let b = try #require(try await h.incident(room: "room-b"))
        #expect(a.id != b.id)
        #expect(try await h.events(a.id!).filter { $0.kind == .note }.map(\.text) == ["for A"])
        #expect(try await h.events(b.id!).filter { $0.kind == .note }.map(\.text) == ["for B"])
        let list = await h.say("/incidents", room: "room-a")
        #expect(list.contains("Room A problem") && !list.contains("Room B problem"))
        #expect(list.contains("this room"))
        let all = await h.say("/incidents --all", room: "room-c")
        #expect(all.contains("Room A problem") && all.contains("Room B problem"))
        // Room B can open a new one once its incident is resolved.
        #expect(await h.say("/incident open sev4 Another", room: "room-b").contains("Incident #3 opened"))
    }

    @Test("key moments: acknowledged by a named commander, mitigated by monitoring, TTA and TTR")
    func derivedTimes() async throws {
        let h = try IncidentHarness()
        await h.say("/incident open sev1 Replication lag")
        h.clock.advance(90)
        await h.say("/note looking")
        #expect(try await h.incident()?.acknowledgedAt == nil, "notes do not acknowledge")
        h.clock.advance(150)
        await h.say("/role commander @carol")
        h.clock.advance(600)
        await h.say("/status identified")
        h.clock.advance(660)
        await h.say("/status monitoring")
        h.clock.advance(600)
        await h.say("/status investigating")
        h.clock.advance(60)
        await h.say("/status monitoring")
        h.clock.advance(1260)
        let reply = await h.say("/status resolved")
        let i = try #require(try await h.incident())
        let m = KeyMoments(i)
        #expect(m.timeToAcknowledge == 240)
        #expect(m.timeToMitigate == 1500, "the first time it was mitigated")
        #expect(m.timeToResolve == 3420)
        #expect(reply.contains("time to acknowledge  4m00s"))
        #expect(reply.contains("time to resolve      57m00s"))
        let state = await h.say("/incident", role: .viewer)
        #expect(state.contains("acknowledged  2026-03-14 09:04:00 UTC (TTA 4m00s)"))
        #expect(state.contains("resolved      2026-03-14 09:57:00 UTC (TTR 57m00s)"))
    }

    @Test("a status change acknowledges when nobody did; /resolve does too")
    func acknowledgedByStatus() async throws {
        let h = try IncidentHarness()
        await h.say("/incident open sev3 A")
        h.clock.advance(30)
        await h.say("/status identified")
        #expect(KeyMoments(try #require(try await h.incident())).timeToAcknowledge == 30)
        await h.say("/resolve")
        await h.say("/incident open sev3 B")
        h.clock.advance(45)
        await h.say("/resolve")
        let b = try #require(try await h.incident())
        #expect(KeyMoments(b).timeToAcknowledge == 45)
        #expect(b.mitigatedAt == nil, "never monitored: no mitigation moment")
    }

    @Test("/postmortem writes Markdown, SVG and JSON to the configured directory")
    func postmortemInChat() async throws {
        let h = try IncidentHarness()
        await h.say("/incident open sev2 Disk full")
        h.clock.advance(120)
        await h.say("/action add disk alerts")
        await h.say("/resolve cleaned WAL")
        h.clock.advance(60)
        let reply = await h.say("/postmortem")
        let dir = h.directory.appendingPathComponent("pm")
        #expect(reply.contains("Postmortem of incident #1"))
        #expect(reply.contains(dir.appendingPathComponent("incident-1.md").path))
        #expect(reply.contains("time to resolve      2m00s"))
        let md = try String(contentsOf: dir.appendingPathComponent("incident-1.md"), encoding: .utf8)
        #expect(md.contains("# Postmortem: incident #1 — Disk full"))
        #expect(md.contains("- [ ] add disk alerts (@alice, 2026-03-14 09:02:00 UTC)"))
        #expect(md.contains("_Generated by Triage on 2026-03-14 09:03:00 UTC."))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("incident-1-timeline.svg").path))
        let json = try Data(contentsOf: dir.appendingPathComponent("incident-1.json"))
        #expect(try JSONSerialization.jsonObject(with: json) is [String: Any])
        #expect(await h.say("/postmortem 9").contains("No incident #9"))
    }

    @Test("runbook commands are recorded while an incident is open, failures included; typos are not")
    func failedCommandRecorded() async throws {
        let h = try IncidentHarness()
        await h.say("/pg connections")
        await h.say("/incident open sev2 Database unreachable")
        h.clock.advance(30)
        let reply = await h.say("/pg connections")
        await h.say("/pg connectons")
        await h.app.shutdown()
        let commands = try await h.events(1).filter { $0.kind == .command }
        #expect(commands.count == 1, "only the command run during the incident, not the typo")
        #expect(commands.first?.command == "/pg connections")
        #expect(commands.first?.output?.isEmpty == false)
        #expect(reply.contains(commands.first?.text ?? "<none>"))
        #expect(commands.first?.at == IncidentHarness.t0.addingTimeInterval(30))
    }

    @Test("postmortems section of the config")
    func settings() throws {
        let config = try TriageConfig.parse("postmortems: /srv/pm\n", file: "c.yaml", environment: ["DATABASE_URL": "postgresql:///x"])
        #expect(try config.postmortemSettings().directory == "/srv/pm")
        let bad = try TriageConfig.parse("postmortems:\n  dir: x\n", file: "c.yaml", environment: ["DATABASE_URL": "postgresql:///x"])
        #expect(throws: ConfigError.self) { try bad.postmortemSettings() }
        let none = try TriageConfig.parse("timeline: t.sqlite\n", file: "c.yaml", environment: ["DATABASE_URL": "postgresql:///x"])
        #expect(try none.postmortemSettings().directory == "postmortems")
    }
}
