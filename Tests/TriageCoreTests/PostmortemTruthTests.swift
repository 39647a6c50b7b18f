import Foundation
import Testing
@testable import TriageCore

/// Postmortems that tell the truth: peak severity and its history, time to acknowledge from
/// the first human acknowledgement of a page, everyone paged as a participant, provider
/// delivery lines folded into their page, a picture whose labels never collide.
@Suite("Postmortem truth")
struct PostmortemTruthTests {
    static let t0 = PostmortemFixtures.t0
    static func at(_ s: Double) -> Date { PostmortemFixtures.at(s) }

    /// Opened and paged as sev1, lowered to sev2; `/status identified` while the page kept
    /// escalating; @bob acknowledges at level 2; every provider call has its delivery line.
    static var pagedEvents: [TimelineEvent] {
        var id: Int64 = 0
        func e(_ s: Double, _ actor: String, _ kind: TimelineEvent.Kind, _ text: String, payload: String? = nil) -> TimelineEvent {
            id += 1
            return TimelineEvent(id: id, incidentID: 9, at: at(s), actor: actor, kind: kind, text: text, payload: payload)
        }
        return [
            e(0, "@zoe", .opened, "Opened sev1: Primary down"),
            e(0, "@zoe", .page, "Page #1 (policy database, level 1/2): paged @alice (primary) via chat, pagerduty, webhook."),
            e(2, "triage", .page, "pagerduty: trigger for page #1 level 1 delivered."),
            e(2, "triage", .page, "webhook: trigger for page #1 level 1 failed (HTTP 503), attempt 1; retrying at 2026-03-14 09:00:12 UTC."),
            e(12, "triage", .page, "webhook: trigger for page #1 level 1 delivered after 2 attempts."),
            e(120, "@zoe", .status, "Status investigating → identified", payload: "{\"from\":\"investigating\",\"to\":\"identified\"}"),
            e(600, "triage", .escalation, "Page #1 escalated to level 2/2: paged @bob, this room via chat, pagerduty, webhook."),
            e(601, "triage", .page, "pagerduty: trigger for page #1 level 2 delivered."),
            e(601, "triage", .page, "webhook: trigger for page #1 level 2 delivered."),
            e(700, "@bob", .acknowledged, "Page #1 acknowledged by @bob at level 2/2; escalation stopped; acknowledge sent to pagerduty, webhook."),
            e(701, "triage", .page, "pagerduty: acknowledge for page #1 level 2 delivered."),
            e(701, "triage", .page, "webhook: acknowledge for page #1 level 2 delivered."),
            e(1100, "@bob", .severity, "Severity sev1 → sev2", payload: "{\"from\":\"sev1\",\"to\":\"sev2\"}"),
            e(1500, "@bob", .status, "Status identified → monitoring", payload: "{\"from\":\"identified\",\"to\":\"monitoring\"}"),
            e(1800, "@bob", .resolved, "Resolved: failed over"),
            e(1800, "@bob", .page, "Page #1 resolved; resolve sent to pagerduty, webhook."),
            e(1801, "triage", .page, "pagerduty: resolve for page #1 level 2 delivered."),
            e(1801, "triage", .page, "webhook: resolve for page #1 level 2 delivered."),
        ]
    }

    static var paged: Postmortem {
        // As stored: acknowledgedAt from the /status identified (the old rule), severity sev2 now.
        let incident = Incident(id: 9, platform: "telegram", room: "ops", title: "Primary down", severity: .sev2, status: .resolved,
                                commander: "@zoe", openedBy: "@zoe", openedAt: t0, acknowledgedAt: at(120),
                                mitigatedAt: at(1500), resolvedAt: at(1800))
        return PostmortemBuilder.build(incident: incident, events: pagedEvents, generatedAt: at(4000))
    }

    @Test func peakSeverityAndItsHistory() {
        let pm = Self.paged
        #expect(pm.openedSeverity == .sev1 && pm.peakSeverity == .sev1 && pm.incident.severity == .sev2)
        #expect(pm.severityDescription == "sev2 (peak sev1: opened sev1, lowered to sev2 at 2026-03-14 09:18:20 UTC by @bob)")
        let md = MarkdownPostmortem().render(pm)
        #expect(md.contains("| **Severity** | sev2 (peak sev1: opened sev1, lowered to sev2 at 2026-03-14 09:18:20 UTC by @bob) |"))
        #expect(md.contains("| 2026-03-14 09:18:20 UTC | sev1 → sev2 | @bob |"))
        let svg = SVGTimeline().render(pm)
        #expect(svg.contains("Incident #9 sev2 (peak sev1): Primary down"))
        let json = try? JSONSerialization.jsonObject(with: Data(JSONPostmortem().render(pm).utf8)) as? [String: Any]
        #expect((json?["incident"] as? [String: Any])?["peakSeverity"] as? String == "sev1")
        #expect((json?["severityChanges"] as? [[String: Any]])?.first?["to"] as? String == "sev2")
    }

    @Test func timeToAcknowledgeIsTheFirstHumanAcknowledgementOfAPage() {
        let pm = Self.paged
        #expect(pm.moments.timeToAcknowledge == 700, "not the /status identified at 2m while the page escalated")
        #expect(pm.momentList[1].definedBy.hasPrefix("the first human acknowledgement of a page: Page #1 acknowledged by @bob"))
        // Never acknowledged by a person: no TTA, and the report says why.
        let unacked = PostmortemBuilder.build(incident: pm.incident, events: Self.pagedEvents.filter { $0.kind != .acknowledged },
                                              generatedAt: Self.at(4000))
        #expect(unacked.moments.timeToAcknowledge == nil)
        #expect(unacked.momentList[1].definedBy.hasPrefix("no page was acknowledged by a person"))
        // An acknowledgement recorded by Triage itself is not a human one.
        var bot = Self.pagedEvents
        bot[9].actor = "triage"
        #expect(PostmortemBuilder.build(incident: pm.incident, events: bot, generatedAt: Self.at(4000)).moments.timeToAcknowledge == nil)
    }

    @Test func everyonePagedIsAParticipantWithPagedAndAcknowledgedTimes() {
        let pm = Self.paged
        let alice = pm.participants.first { $0.name == "@alice" }
        let bob = pm.participants.first { $0.name == "@bob" }
        #expect(alice?.roles == ["paged"] && alice?.events == 0 && alice?.pagedAt == Self.at(0) && alice?.acknowledgedAt == nil)
        #expect(bob?.pagedAt == Self.at(600) && bob?.acknowledgedAt == Self.at(700) && bob?.roles == ["paged"])
        #expect(!pm.participants.contains { $0.name == "triage" || $0.name == "this" })
        let md = MarkdownPostmortem().render(pm)
        #expect(md.contains("| @alice | paged | 0 | 2026-03-14 09:00:00 UTC | - |"))
        #expect(md.contains("| @bob | paged | 5 | 2026-03-14 09:10:00 UTC | 2026-03-14 09:11:40 UTC |"))
    }

    @Test func deliveryLinesFoldIntoTheirPage() {
        let pm = Self.paged
        #expect(pm.foldedCount == 9)
        let md = MarkdownPostmortem().render(pm)
        let table = md.components(separatedBy: "## Timeline")[1].components(separatedBy: "## Commands run")[0]
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| 2026-03-14") }
        #expect(rows.count == Self.pagedEvents.count - 9, "\(rows.joined(separator: "\n"))")
        #expect(!md.contains("| triage | page | pagerduty: trigger"))
        #expect(md.contains("paged @alice (primary) via chat, pagerduty, webhook. — pagerduty delivered; webhook failed (HTTP 503), attempt 1; retrying at 2026-03-14 09:00:12 UTC; webhook delivered after 2 attempts |"))
        #expect(md.contains("escalation stopped; acknowledge sent to pagerduty, webhook. — pagerduty delivered; webhook delivered |"))
        #expect(md.contains("Page #1 resolved; resolve sent to pagerduty, webhook. — pagerduty delivered; webhook delivered |"))
        #expect(md.contains("| **Events** | 18 (9 provider delivery lines folded into their pages) |"))
        // A delivery line with no page line of its own stays visible.
        let orphan = TimelineEvent(id: 99, incidentID: 9, at: Self.at(50), actor: "triage", kind: .page, text: "opsgenie: trigger for page #7 level 1 delivered.")
        let pm2 = PostmortemBuilder.build(incident: pm.incident, events: Self.pagedEvents + [orphan], generatedAt: Self.at(4000))
        #expect(MarkdownPostmortem().render(pm2).contains("opsgenie: trigger for page #7 level 1 delivered."))
        // The JSON keeps every event.
        let json = try? JSONSerialization.jsonObject(with: Data(JSONPostmortem().render(pm).utf8)) as? [String: Any]
        #expect((json?["events"] as? [Any])?.count == Self.pagedEvents.count)
    }

    @Test func pictureLabelsKeyEventsWithoutCollisionsAndHasNoEmptyLanes() throws {
        let pm = Self.paged
        let svg = SVGTimeline().render(pm)
        let checker = SVGChecker.parse(svg)
        #expect(checker.error == nil)
        #expect(checker.lanes == ["lifecycle", "paging"], "only lanes with events: \(checker.lanes)")
        let texts = checker.labels.map(\.text)
        for expected in ["detected", "acknowledged", "resolved", "paged @alice", "escalated @bob", "ack @bob", "sev1→sev2"] {
            #expect(texts.contains(expected), "missing label \(expected) in \(texts)")
        }
        try Self.expectNoOverlap(checker.labels)
        // Many key events close together still do not collide (some are left out instead).
        var crowded = Self.pagedEvents
        for n in 0..<60 {
            crowded.append(TimelineEvent(id: Int64(100 + n), incidentID: 9, at: Self.at(900 + Double(n)), actor: "@bob", kind: .severity,
                                         text: "Severity", payload: n % 2 == 0 ? "{\"from\":\"sev2\",\"to\":\"sev1\"}" : "{\"from\":\"sev1\",\"to\":\"sev2\"}"))
        }
        let dense = SVGChecker.parse(SVGTimeline().render(PostmortemBuilder.build(incident: pm.incident, events: crowded, generatedAt: Self.at(4000))))
        #expect(dense.error == nil && dense.labels.count >= 6)
        try Self.expectNoOverlap(dense.labels)
    }

    static func expectNoOverlap(_ labels: [(text: String, x: Double, y: Double)]) throws {
        for (i, a) in labels.enumerated() {
            for b in labels[(i + 1)...] where a.y == b.y {
                let aw = Double(a.text.count) * SVGTimeline.charWidth, bw = Double(b.text.count) * SVGTimeline.charWidth
                #expect(a.x + aw <= b.x || b.x + bw <= a.x, "labels '\(a.text)' and '\(b.text)' overlap")
            }
            #expect(a.x >= 0 && a.x + Double(a.text.count) * SVGTimeline.charWidth <= 1200, "label '\(a.text)' leaves the picture")
        }
    }

    @Test func marksAggregateAboveTwoThousandEvents() {
        let small = PostmortemFixtures.large(count: 2000)
        #expect(SVGChecker.parse(SVGTimeline().render(small)).marks.count == 2000)
        let big = PostmortemFixtures.large(count: 2001)
        let checker = SVGChecker.parse(SVGTimeline().render(big))
        #expect(checker.marks.isEmpty && checker.binTotal == 2001)
    }

    @Test func htmlIsSelfContainedWithThePictureInlineAndCollapsibleOutputs() {
        let html = HTMLPostmortem().render(PostmortemFixtures.postmortem)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("<?xml"))
        #expect(html.components(separatedBy: "<details>").count - 1 == 3)
        #expect(html.contains("<summary>2026-03-14 09:01:35 UTC · @alice · <code>/pg connections</code>"))
        #expect(html.contains("Checkout | orders &lt;slow&gt; &amp; timing out"))
        #expect(!html.contains("<slow>"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func streamingSpoolsToFilesAndGivesTheSameDocument() throws {
        let pm = PostmortemFixtures.large(count: 30_000)
        let dir = NSTemporaryDirectory() + "spool-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for doc in [MarkdownPostmortem() as any PostmortemDocument, HTMLPostmortem(), JSONPostmortem()] {
            var pieces: [UInt8] = []
            var emits = 0
            let summary = try PostmortemStream.render(doc, incident: pm.incident, source: pm.source, generatedAt: pm.generatedAt,
                                                      spoolDirectory: dir) { bytes in
                emits += 1
                pieces += bytes
            }
            #expect(emits > 4, "written in pieces")
            #expect(summary.eventCount == 30_000)
            #expect(String(decoding: pieces, as: UTF8.self) == PostmortemStream.string(doc, pm))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "spools are removed")
        }
    }
}
