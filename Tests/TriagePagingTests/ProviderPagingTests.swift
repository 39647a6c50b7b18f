import Foundation
import Logging
import Testing
import TriageChat
import TriageHandlers
import TriageCore
import TriageStore
import TriageRuntime
import TriageTesting
@testable import TriagePaging

/// Paging as the providers expect: acknowledgements made in PagerDuty or Opsgenie stop
/// Triage's escalation (seen by polling their REST APIs, here the stand-ins), reopening pages
/// again, and changing severity starts or stops the automatic page.
@Suite(.serialized) struct ProviderPagingTests {
    typealias Harness = PagingCommandsTests.Harness

    func page(_ h: Harness) async throws -> PageRecord {
        try #require(try await h.app.store.read { tx in try tx.pages(platform: "telegram", room: "ops", phases: EscalationStateMachine.Phase.allCases.map(\.rawValue)) }.first)
    }

    @Test func acknowledgementInPagerDutyStopsEscalation() async throws {
        var h = try await Harness(yaml: PagingFixture.pollingYAML())
        defer { h.f.stop() }
        _ = await h.say("/incident open sev1 Primary database down")
        #expect(try await h.engine.runDue().delivered == 3)
        let p = try await page(h)
        let key = Pager.providerKey(p)
        // Nobody acknowledged yet: polling finds the incident triggered, escalation goes on.
        h.f.clock.advance(301)
        var pass = try await h.engine.runDue()
        #expect(pass.pagesAdvanced == 1 && pass.acknowledgedInProvider == 0)
        // Bob acknowledges in the PagerDuty app.
        h.f.clock.advance(40)
        try await h.f.receivers.acknowledgeInPagerDuty(key: key, userID: "PBOB001", name: "Bob Builder")
        pass = try await h.engine.runDue()
        #expect(pass.acknowledgedInProvider == 1)
        let stopped = try await page(h)
        #expect(stopped.phase == "acknowledged" && stopped.acknowledgedBy == "@bob", "the PagerDuty user id maps to @bob")
        // The other providers are told; PagerDuty, where it happened, is not sent one again.
        let state = try await h.f.receivers.state()
        #expect(state["opsgenie"]?[key] == "acknowledged")
        #expect(try await h.f.receivers.accepted("pagerduty", where: "event_action", is: "acknowledge").isEmpty)
        let rest = try await h.f.receivers.requests("pagerduty-rest")
        #expect(!rest.isEmpty && rest.allSatisfy { ($0["query"] as? String)?.contains("incident_key=\(key)") == true })
        #expect(rest.allSatisfy { ($0["authorization"] as? String) == "Token token=\(PagingReceivers.pagerdutyToken)" })
        let incident = try #require(try await h.app.store.read { tx in try tx.activeIncident(platform: "telegram", room: "ops") })
        #expect(incident.acknowledgedAt != nil)
        let events = try await h.events()
        #expect(events.contains { $0.kind == .acknowledged && $0.actor == "@bob" && $0.text.contains("in pagerduty") })
        let outbox = try await h.app.store.read { tx in try tx.pendingOutbox(platform: "telegram") }
        #expect(outbox.contains { $0.key == "page:\(p.id!):acknowledged-in:pagerduty" })
        // No more levels, however long nobody types /ack.
        let before = try await h.f.receivers.requests().count
        h.f.clock.advance(7200)
        pass = try await h.engine.runDue()
        #expect(pass.pagesAdvanced == 0 && pass.acknowledgedInProvider == 0)
        #expect(try await h.f.receivers.requests().count == before, "an acknowledged page is not polled any more")
    }

    @Test func acknowledgementInOpsgenieStopsEscalation() async throws {
        var h = try await Harness()     // no PagerDuty token: only Opsgenie is polled
        defer { h.f.stop() }
        _ = await h.say("/incident open sev1 Primary database down")
        try await h.engine.runDue()
        let key = Pager.providerKey(try await page(h))
        try await h.f.receivers.acknowledgeInOpsgenie(alias: key, user: "bob@example.com")
        h.f.clock.advance(31)
        let pass = try await h.engine.runDue()
        #expect(pass.acknowledgedInProvider == 1)
        #expect(try await page(h).acknowledgedBy == "@bob", "the Opsgenie username is bob's email")
        #expect(try await h.f.receivers.requests("pagerduty-rest").isEmpty)
        let gets = try await h.f.receivers.requests("opsgenie-get")
        #expect(gets.allSatisfy { ($0["path"] as? String) == "/v2/alerts/\(key)" && ($0["query"] as? String) == "identifierType=alias" })
        #expect(try await h.f.receivers.state()["pagerduty"]?[key] == "acknowledged")
    }

    @Test func pollingIsRateLimitedAndAProviderErrorDoesNotStopEscalation() async throws {
        var h = try await Harness(yaml: PagingFixture.pollingYAML(token: "WRONG_TOKEN"))
        defer { h.f.stop() }
        _ = await h.say("/incident open sev1 Primary database down")
        try await h.engine.runDue()
        for _ in 0..<10 {
            h.f.clock.advance(5)
            try await h.engine.runDue()
        }
        // 50 s of passes: PagerDuty asked twice at most (every 30 s), each answered 401.
        let rest = try await h.f.receivers.requests("pagerduty-rest")
        #expect((1...2).contains(rest.count) && rest.allSatisfy { $0["status"] as? Int == 401 }, "\(rest.count)")
        h.f.clock.advance(300)
        #expect(try await h.engine.runDue().pagesAdvanced == 1, "escalation goes on")
    }

    @Test func reopeningASev1IncidentPagesAgainAndAnOldResolvedAlertIsNotItsAcknowledgement() async throws {
        var h = try await Harness(yaml: PagingFixture.pollingYAML())
        defer { h.f.stop() }
        _ = await h.say("/incident open sev1 Primary database down")
        try await h.engine.runDue()
        _ = await h.say("/ack", as: "@carol")
        _ = await h.say("/resolve failed over")
        try await h.engine.runDue()
        h.f.clock.advance(600)
        let reopened = await h.say("/reopen it is back")
        #expect(reopened.contains("reopened") || reopened.contains("Reopened"), "\(reopened)")
        let pages = try await h.app.store.read { tx in try tx.pages(platform: "telegram", room: "ops", phases: ["waiting"]) }
        #expect(pages.count == 1 && pages[0].auto, "the reopened sev1 incident is paged again")
        try await h.engine.runDue()
        let full = try await h.f.receivers.fullState()
        let incidents = try #require(full["pagerduty_incidents"] as? [[String: Any]])
        #expect(incidents.count == 2, "same key, a new PagerDuty incident after the resolved one")
        #expect(incidents.last?["status"] as? String == "triggered")
        h.f.clock.advance(31)
        #expect(try await h.engine.runDue().acknowledgedInProvider == 0)
        h.f.clock.advance(300)
        #expect(try await h.engine.runDue().pagesAdvanced == 1)
    }

    @Test func loweringSeverityBelowAutoPagingStopsEscalationWithANotice() async throws {
        var h = try await Harness()
        defer { h.f.stop() }
        _ = await h.say("/incident open sev1 Primary database down")
        try await h.engine.runDue()
        let p = try await page(h)
        let key = Pager.providerKey(p)
        // sev1 → sev2 still pages automatically: nothing changes.
        _ = await h.say("/sev sev2")
        #expect(try await page(h).phase == "waiting")
        _ = await h.say("/sev sev3")
        let stopped = try await page(h)
        #expect(stopped.phase == "resolved")
        let outbox = try await h.app.store.read { tx in try tx.pendingOutbox(platform: "telegram") }
        let notice = try #require(outbox.first { $0.key == "page:\(p.id!):stopped" })
        #expect(try notice.decodedReply().summary?.contains("lowered from sev2 to sev3") == true)
        try await h.engine.runDue()
        #expect(try await h.f.receivers.state()["pagerduty"]?[key] == "resolved")
        h.f.clock.advance(7200)
        #expect(try await h.engine.runDue().pagesAdvanced == 0)
        let events = try await h.events()
        #expect(events.contains { $0.kind == .page && $0.text.contains("stopped: incident #\(p.incidentID!) lowered from sev2 to sev3") })
        // Raised again: paged again, the same alert key.
        _ = await h.say("/sev sev1")
        let again = try await h.app.store.read { tx in try tx.pages(platform: "telegram", room: "ops", phases: ["waiting"]) }
        #expect(again.count == 1 && again[0].id != p.id)
    }

    @Test func pageWithoutPagingConfiguredSaysSo() async throws {
        let dir = NSTemporaryDirectory() + "paging-none-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = TriageConfig.defaults(environment: ["DATABASE_URL": "postgresql://127.0.0.1:1/none"], timeline: dir + "/t.sqlite")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        // The shipped plug-ins: without a paging section, the paging plug-in serves the refusals.
        let app = try TriageApplication(config: config, plugins: StandardPlugins.all, logger: logger)
        for (i, text) in ["/page @bob disk is full", "/page", "/ack", "/escalate 3", "/oncall"].enumerated() {
            let m = InboundMessage(platform: "console", room: "console", sender: "@zoe", senderName: "@zoe", text: text,
                                   messageID: "\(i)", role: .operator)
            let reply = try #require(await app.dispatcher.handle(m))
            let out = TextRenderer().render(reply)
            #expect(out.contains("Paging is not configured"), "\(text): \(out)")
            #expect(!out.contains("Did you mean") && !out.contains("did you mean"), "\(text): \(out)")
        }
    }
}
