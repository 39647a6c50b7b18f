import Foundation
import Logging
import Testing
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageTesting
import TriageStore
import TriageRunbook
import TriageIncidents
@testable import TriagePaging

/// The paging commands through the real dispatcher and incident commands, on SQLite; the
/// providers are the loopback receivers, called only by the engine.
@Suite(.serialized) struct PagingCommandsTests {
    struct Harness {
        let f: PagingFixture
        let app: TriageApplication
        let engine: EscalationEngine
        var seq = 0

        init(yaml: ((String) -> String)? = nil) async throws {
            f = try await PagingFixture(yaml: yaml)
            var config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"], timeline: f.storePath)
            config.sections["paging"] = try YAMLNode.parse((yaml ?? PagingFixture.yaml)(f.receivers.baseURL), file: "paging.yaml")
            let setup = try #require(try PagingSetup.make(config: config, environment: PagingFixture.environment))
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let clock = f.clock
            // Paging's handler and observer as a plug-in of the test's, so the test drives the engine.
            struct TestPaging: FeaturePlugin {
                let setup: PagingSetup
                var name: String { "paging" }
                var sections: [String] { ["paging"] }
                func makeFeature(_ context: FeatureContext) throws -> FeatureParts {
                    FeatureParts(handlers: [setup.handler], observers: [setup.observer])
                }
            }
            let plugins = PluginList(features: [RunbookPlugin(), IncidentsPlugin(), TestPaging(setup: setup)], platforms: [])
            app = try TriageApplication(config: config, plugins: plugins, logger: logger, clock: clock)
            engine = EscalationEngine(pager: setup.pager, store: app.store, http: f.receivers.http, logger: logger, clock: clock)
        }

        mutating func say(_ text: String, as who: String = "@zoe", role: Role = .responder) async -> String {
            seq += 1
            let m = InboundMessage(platform: "telegram", room: "ops", sender: who, senderName: who, text: text,
                                   messageID: "\(seq)", role: role, receivedAt: f.clock.now)
            guard let reply = await app.dispatcher.handle(m, delivery: .init(enqueue: true)) else { return "" }
            return TextRenderer().render(reply)
        }

        func events() async throws -> [TimelineEvent] {
            try await app.store.read { tx in
                guard let i = try tx.latestIncident(platform: "telegram", room: "ops") else { return [] }
                return try tx.events(incident: i.id!)
            }
        }
    }

    @Test func sev1IncidentPagesAndAckStopsItAndResolveClosesIt() async throws {
        var h = try await Harness()
        defer { h.f.stop() }
        let opened = await h.say("/incident open sev1 Primary database down")
        #expect(opened.contains("opened"))
        // Nothing was sent during the command: the providers are called by the engine.
        #expect(try await h.f.receivers.requests().isEmpty)
        #expect(try await h.engine.runDue().delivered == 3)
        h.f.clock.advance(301)
        #expect(try await h.engine.runDue().pagesAdvanced == 1)
        h.f.clock.advance(10)
        let ack = await h.say("/ack", as: "@carol")
        #expect(ack.contains("Acknowledged"))
        #expect(ack.contains("acknowledging at"))
        let incident = try await h.app.store.read { tx in try tx.activeIncident(platform: "telegram", room: "ops") }
        #expect(incident?.acknowledgedAt == h.f.clock.now)
        try await h.engine.runDue()
        let state = try await h.f.receivers.state()
        #expect(state["pagerduty"]?.values.allSatisfy { $0 == "acknowledged" } == true)
        #expect(state["pagerduty"]?.count == 1, "one PagerDuty incident for the one Triage incident, at every level")
        #expect(await h.say("/ack").contains("already acknowledged"))
        let resolved = await h.say("/resolve fixed the disk")
        #expect(resolved.contains("resolved"))
        try await h.engine.runDue()
        let after = try await h.f.receivers.state()
        #expect(after["pagerduty"]?.values.allSatisfy { $0 == "resolved" } == true)
        #expect(after["opsgenie"]?.values.allSatisfy { $0 == "closed" } == true)
        let kinds = try await h.events().map(\.kind)
        #expect(kinds.contains(.page) && kinds.contains(.escalation) && kinds.contains(.acknowledged))
        // The chat mention went to the incident room through the outbox.
        let outbox = try await h.app.store.read { tx in try tx.pendingOutbox(platform: "telegram") }
        #expect(outbox.contains { $0.key == "page:1:status:telegram:ops" })
        // Acknowledged: the status message is edited to say so (only an edit).
        #expect(outbox.contains { $0.key.hasPrefix("page:1:acknowledged-status:") && $0.replaces == "page:1:status:telegram:ops" && $0.editOnly })
    }

    @Test func sev3DoesNotPageButPagePersonDoes() async throws {
        var h = try await Harness()
        defer { h.f.stop() }
        _ = await h.say("/incident open sev3 Slow reports")
        #expect(try await h.engine.runDue().delivered == 0)
        let page = await h.say("/page @carol replica lag is growing")
        #expect(page.contains("Page #1 started"))
        #expect(page.contains("@carol"))
        #expect(try await h.engine.runDue().delivered == 3)
        let pd = try await h.f.receivers.accepted("pagerduty").first?["body"] as? [String: Any]
        #expect(((pd?["payload"] as? [String: Any])?["summary"] as? String)?.contains("replica lag is growing") == true)
        let escalate = await h.say("/escalate")
        #expect(escalate.contains("escalated"), "repeats the one-level person policy")
        let unknown = await h.say("/page nobody")
        #expect(unknown.contains("No policy or person named 'nobody'"))
        let viewer = await h.say("/page default", as: "@eve", role: .viewer)
        #expect(viewer.contains("needs the responder role"))
        let help = await h.say("/help")
        for c in ["/page", "/ack", "/escalate", "/oncall"] { #expect(help.contains(c)) }
    }

    @Test func oncallShowsNowAndNextAndOverridesWin() async throws {
        var h = try await Harness()
        defer { h.f.stop() }
        let f = h.f
        let at = f.clock.now
        let primary = f.config.schedules["primary"]!
        let (now, next) = primary.nowAndNext(at: at)
        let out = await h.say("/oncall primary")
        #expect(out.contains(f.config.people[now.person]!.handle))
        #expect(out.contains(f.config.people[next.person]!.handle))
        #expect(out.contains(UTCTime.format(now.endsAt)))
        #expect(out.contains("Europe/Berlin"))
        let other = now.person == "alice" ? "bob" : "alice"
        let o = await h.say("/oncall override @\(other) 2h --schedule primary")
        #expect(o.contains("On-call override"))
        let after = await h.say("/oncall primary")
        #expect(after.contains("@\(other) (override)"))
        #expect(after.contains(UTCTime.format(at.addingTimeInterval(7200))))
        // A page now reaches the override, not the rotation.
        _ = await h.say("/incident open sev2 Checkpoints too frequent")
        try await h.engine.runDue()
        let pd = try await h.f.receivers.accepted("pagerduty").first?["body"] as? [String: Any]
        let details = (pd?["payload"] as? [String: Any])?["custom_details"] as? [String: Any]
        #expect(details?["recipients"] as? [String] == ["@\(other)"])
        #expect(await h.say("/oncall nowhere").contains("No schedule named"))
        #expect(await h.say("/oncall override @nobody 1h").contains("No person named"))
    }
}
