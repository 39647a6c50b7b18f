import Foundation
import Testing
import TriageCore
import TriageStore
@testable import TriagePaging

/// The escalation engine against the provider receivers on loopback and a real SQLite file,
/// driven by a test clock.
@Suite(.serialized) struct EscalationEngineTests {
    func events(_ store: BotStore, _ incident: Int64) async throws -> [TimelineEvent] {
        try await store.read { tx in try tx.events(incident: incident) }
    }

    func triggers(_ r: PagingReceivers, _ key: String) async throws -> Int {
        try await r.accepted("pagerduty", where: "dedup_key", is: key).filter {
            (($0["body"] as? [String: Any])?["event_action"] as? String) == "trigger"
        }.count
    }

    /// PagerDuty triggers (any status) for one level and round, read from their custom details.
    func triggerCalls(_ r: PagingReceivers, level: Int, round: Int = 0, acceptedOnly: Bool = true) async throws -> Int {
        try await r.requests("pagerduty").filter { req in
            guard !acceptedOnly || (200..<300).contains(req["status"] as? Int ?? 0),
                  let body = req["body"] as? [String: Any], body["event_action"] as? String == "trigger",
                  let details = (body["payload"] as? [String: Any])?["custom_details"] as? [String: Any] else { return false }
            return details["level"] as? Int == level + 1 && details["round"] as? Int == round + 1
        }.count
    }

    @Test func walksEveryLevelAndRoundThroughTheProviders() async throws {
        let f = try await PagingFixture()
        defer { f.stop() }
        let (store, engine) = try f.engine()
        let (incident, page) = try await f.openIncident(store)
        let id = page.id!
        var pass = try await engine.runDue()
        #expect(pass.delivered == 3, "level 1: pagerduty, opsgenie, webhook")
        // Levels: 5m, 10m, 15m; repeated once.
        let waits: [Double] = [300, 600, 900, 300, 600, 900]
        for (i, wait) in waits.enumerated() {
            f.clock.advance(wait - 1)
            pass = try await engine.runDue()
            #expect(pass.pagesAdvanced == 0, "nothing before the wait ends (step \(i))")
            f.clock.advance(1)
            pass = try await engine.runDue()
            #expect(pass.pagesAdvanced == 1)
            if i < 5 { #expect(pass.delivered == 3, "step \(i)") }
        }
        let p = try await store.read { tx in try tx.page(id: id) }!
        #expect(p.phase == "exhausted")
        // One key for the incident: every level and round updates the same alert.
        let key = Pager.providerKey(page)
        #expect(key == "triage-incident-\(incident.id!)")
        #expect(try await triggers(f.receivers, key) == 6)
        for round in 0..<2 {
            for level in 0..<3 { #expect(try await triggerCalls(f.receivers, level: level, round: round) == 1) }
        }
        #expect(Set(try await f.receivers.state()["pagerduty"]!.keys) == [key], "one PagerDuty incident, not six")
        let ogAliases = try await f.receivers.accepted("opsgenie").compactMap { ($0["body"] as? [String: Any])?["alias"] as? String }
        #expect(ogAliases.count == 6 && Set(ogAliases) == [key])
        let hooks = try await f.receivers.accepted("webhook")
        #expect(hooks.count == 6)
        #expect(Set(hooks.compactMap { ($0["body"] as? [String: Any])?["groupKey"] as? String }) == [key])
        #expect((hooks.first?["body"] as? [String: Any])?["status"] as? String == "firing")
        // Level 1 is whoever is on primary; level 3 is dave plus the incident room.
        let firstPD = try await f.receivers.accepted("pagerduty").first!["body"] as! [String: Any]
        let details = (firstPD["payload"] as! [String: Any])["custom_details"] as! [String: Any]
        let onPrimary = f.config.schedules["primary"]!.shift(at: page.createdAt).person
        #expect(details["recipients"] as? [String] == [f.config.people[onPrimary]!.handle])
        #expect((firstPD["payload"] as! [String: Any])["severity"] as? String == "critical")
        let timeline = try await events(store, incident.id!)
        #expect(timeline.filter { $0.kind == .page && $0.text.contains("policy default") }.count == 1)
        #expect(timeline.filter { $0.kind == .escalation && $0.text.contains("escalated to level") }.count == 5)
        #expect(timeline.contains { $0.kind == .escalation && $0.text.contains("exhausted") })
        #expect(timeline.filter { $0.text.contains("delivered") }.count == 18)
        // Chat: one status message in the room, edited by every later level (each with a short
        // mention of its own), and the exhaustion notice.
        let outbox = try await store.read { tx in try tx.pendingOutbox(platform: "telegram") }
        let status = outbox.filter { $0.key.hasPrefix("page:\(id):status:") }
        #expect(status.count == 1)
        let edits = outbox.filter { $0.key.hasPrefix("page:\(id):l") && $0.replaces != nil }
        #expect(edits.count == 5 && edits.allSatisfy { $0.replaces == status.first?.key })
        #expect(outbox.contains { $0.key.hasPrefix("page:\(id):exhausted-status:") && $0.editOnly })
        #expect(outbox.contains { $0.key == "page:\(id):exhausted" })
    }

    @Test(arguments: [0, 1, 2])
    func acknowledgementAtEachLevelStopsPagingAndAcknowledgesProviders(level: Int) async throws {
        let f = try await PagingFixture()
        defer { f.stop() }
        let (store, engine) = try f.engine()
        let (incident, page) = try await f.openIncident(store)
        let id = page.id!
        try await engine.runDue()
        for wait in [300.0, 600.0].prefix(level) {
            f.clock.advance(wait)
            try await engine.runDue()
        }
        f.clock.advance(30)
        let pager = engine.pager
        let at = f.clock.now
        let report = try await store.write { tx in
            try pager.acknowledge(try tx.page(id: id)!, by: "@bob", at: at, in: tx)
        }
        #expect(Set(report.followUps) == ["pagerduty", "opsgenie", "webhook"])
        try await engine.runDue()
        let state = try await f.receivers.state()
        let key = Pager.providerKey(page)
        #expect(state["pagerduty"]?[key] == "acknowledged")
        #expect(state["opsgenie"]?[key] == "acknowledged")
        let acks = try await f.receivers.accepted("opsgenie").filter { ($0["path"] as? String)?.hasSuffix("/acknowledge") == true }
        #expect(acks.count == 1, "one acknowledge for the one alert, whatever the level")
        let pdAcks = try await f.receivers.accepted("pagerduty", where: "event_action", is: "acknowledge")
        #expect(pdAcks.count == 1)
        let hookAcks = try await f.receivers.accepted("webhook").filter { (($0["body"] as? [String: Any])?["status"] as? String) == "acknowledged" }
        #expect(hookAcks.count == 1)
        let ackAnnotations = ((hookAcks.first?["body"] as? [String: Any])?["commonAnnotations"] as? [String: Any])
        #expect(ackAnnotations?["acknowledged_by"] as? String == "@bob")
        #expect(acks.allSatisfy { ($0["query"] as? String) == "identifierType=alias" })
        // Nobody else is paged, however long we wait.
        let before = try await f.receivers.requests().count
        f.clock.advance(7200)
        let pass = try await engine.runDue()
        #expect(pass.pagesAdvanced == 0)
        #expect(try await f.receivers.requests().count == before)
        let timeline = try await events(store, incident.id!)
        #expect(timeline.contains { $0.kind == .acknowledged && $0.actor == "@bob" && $0.text.contains("level \(level + 1)/3") })
        // Resolving closes what was triggered, including the webhook.
        try await store.write { tx in _ = try pager.resolve(try tx.page(id: id)!, by: "@bob", at: at, in: tx) }
        try await engine.runDue()
        let after = try await f.receivers.state()
        #expect(after["pagerduty"]?[key] == "resolved")
        #expect(after["opsgenie"]?[key] == "closed")
        #expect(try await f.receivers.accepted("webhook").filter { (($0["body"] as? [String: Any])?["status"] as? String) == "resolved" }.count == 1)
    }

    @Test func restartMidEscalationResumesWithoutPagingTwice() async throws {
        let f = try await PagingFixture()
        defer { f.stop() }
        var (store, engine) = try f.engine()
        let (incident, page) = try await f.openIncident(store)
        let id = page.id!
        try await engine.runDue()
        // "Crash" 3 minutes in: a new store connection and engine on the same file.
        f.clock.advance(180)
        (store, engine) = try f.engine()
        try await engine.recover()
        var pass = try await engine.runDue()
        #expect(pass.pagesAdvanced == 0 && pass.delivered == 0, "level 1 is not paged again")
        f.clock.advance(120)
        pass = try await engine.runDue()
        #expect(pass.pagesAdvanced == 1 && pass.delivered == 3, "level 2 at 5m, on time")
        // Crash right after level 3 was recorded but before any provider call was made.
        f.clock.advance(600)
        let pager = engine.pager
        let at = f.clock.now
        _ = try await store.write { tx in try pager.fireDuePages(at: at, in: tx) }
        (store, engine) = try f.engine()
        try await engine.recover()
        pass = try await engine.runDue()
        #expect(pass.pagesAdvanced == 0)
        #expect(pass.delivered == 3, "level 3's stored deliveries go out after the restart")
        (store, engine) = try f.engine()
        pass = try await engine.runDue()
        #expect(pass.delivered == 0)
        for level in 0..<3 {
            #expect(try await triggerCalls(f.receivers, level: level) == 1)
        }
        let notified = try await store.read { tx in try tx.notifications(page: id) }
        #expect(notified.map(\.level) == [0, 1, 2])
        let timeline = try await events(store, incident.id!)
        #expect(timeline.filter { $0.kind == .escalation }.count == 2)
    }

    @Test func providerDownForMinutesRetriesWithBackoffAndNeverHoldsUpEscalation() async throws {
        let f = try await PagingFixture()
        defer { f.stop() }
        let (store, engine) = try f.engine()
        try await f.receivers.fail("pagerduty", status: 503)
        let (incident, page) = try await f.openIncident(store)
        let id = page.id!
        var attempts = 0
        // Eight minutes of test-clock time, one pass every 20 s.
        for _ in 0..<24 {
            let pass = try await engine.runDue()
            attempts += pass.retrying
            f.clock.advance(20)
        }
        let pdRequests = try await f.receivers.requests("pagerduty")
        #expect(pdRequests.allSatisfy { $0["status"] as? Int == 503 })
        // Backoff 10, 20, 40, 80, 120 (cap), … : far fewer calls than passes, for each of the two levels.
        let firstLevelCalls = try await triggerCalls(f.receivers, level: 0, acceptedOnly: false)
        #expect(firstLevelCalls >= 5 && firstLevelCalls <= 8, "\(firstLevelCalls) calls in 8 minutes")
        #expect(attempts == pdRequests.count)
        // Level 2 went out at 5 minutes while PagerDuty was down; the others delivered it.
        let p = try await store.read { tx in try tx.page(id: id) }!
        #expect(p.level == 1)
        #expect(try await f.receivers.accepted("opsgenie").count == 2)
        try await f.receivers.clearFailures()
        f.clock.advance(180)
        try await engine.runDue()    // level 2's trigger goes out after level 1's (same alert), in the same pass
        #expect(try await triggerCalls(f.receivers, level: 0) == 1)
        #expect(try await triggerCalls(f.receivers, level: 1) == 1)
        let timeline = try await events(store, incident.id!)
        #expect(timeline.contains { $0.text.contains("pagerduty: trigger for page #\(id) level 1 failed (HTTP 503") && $0.text.contains("retrying at") })
        #expect(timeline.contains { $0.text.contains("pagerduty: trigger for page #\(id) level 1 delivered after") })
    }

    @Test func retryAfterIsHonouredAnd400IsNotRetried() async throws {
        let f = try await PagingFixture(yaml: { base in
            PagingFixture.yaml(base: base).replacingOccurrences(of: "routing_key_env: PD_KEY", with: "routing_key_env: WRONG_KEY")
        })
        defer { f.stop() }
        let (store, engine) = try f.engine()
        try await f.receivers.fail("opsgenie", status: 429, count: 1, retryAfter: 90)
        let (incident, _) = try await f.openIncident(store)
        let first = try await engine.runDue()
        #expect(first.failed == 1, "PagerDuty answers 400 to the wrong routing key")
        #expect(first.retrying == 1, "Opsgenie answers 429")
        f.clock.advance(89)
        #expect(try await engine.runDue().delivered == 0)
        f.clock.advance(1)
        #expect(try await engine.runDue().delivered == 1, "after Retry-After")
        f.clock.advance(3600)
        try await engine.runDue()
        let rejected = try await f.receivers.requests("pagerduty").filter { $0["status"] as? Int == 400 }.count
        #expect(rejected == 6, "one per level and round, never retried (\(rejected))")
        let timeline = try await events(store, incident.id!)
        #expect(timeline.contains { $0.text.contains("rejected (HTTP 400 (Event object is invalid: Invalid routing key)); not retried") })
    }

    @Test func deadProviderIsGivenUpAfterTheConfiguredTime() async throws {
        let f = try await PagingFixture(yaml: { base in
            PagingFixture.yaml(base: base).replacingOccurrences(of: "url: \"\(base)/webhook\"", with: "url: \"http://127.0.0.1:9/webhook\"")
        })
        defer { f.stop() }
        let (store, engine) = try f.engine()
        let (incident, page) = try await f.openIncident(store, policy: "default")
        for _ in 0..<40 {
            try await engine.runDue()
            f.clock.advance(120)
        }
        let deliveries = try await store.read { tx in try tx.deliveries(page: page.id!) }.filter { $0.provider == "webhook" }
        let first = try #require(deliveries.first { $0.level == 0 && $0.round == 0 })
        #expect(first.status == .failed)
        #expect(first.attempts > 10)
        #expect(deliveries.filter { $0.status == .sent }.isEmpty)
        let timeline = try await events(store, incident.id!)
        #expect(timeline.contains { $0.text.contains("webhook: trigger for page #\(page.id!) level 1 given up after") })
    }
}
