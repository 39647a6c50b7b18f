import Foundation
import Testing
@testable import TriageCore

@Suite("Postmortem")
struct PostmortemTests {
    @Test("key moments and times between them are derived from the timeline, each saying what defined it")
    func keyMoments() {
        let pm = PostmortemFixtures.postmortem
        #expect(pm.moments.detected == PostmortemFixtures.t0)
        // Nobody was paged: the first responder action (@alice's /pg connections at 1m35s),
        // not the commander named later.
        #expect(pm.moments.timeToAcknowledge == 95)
        #expect(pm.momentList.map(\.name) == ["detected", "acknowledged", "mitigated", "resolved"])
        #expect(pm.momentList[1].definedBy == "nobody was paged; the first responder action: @alice ran /pg connections")
        #expect(pm.momentList[2].definedBy == "the first /status monitoring, by @carol")
        #expect(pm.momentList[0].definedBy.contains("opened by @alice as sev2"))
        #expect(pm.moments.timeToMitigate == 1500)
        #expect(pm.moments.timeToResolve == 3720)
        #expect(KeyMoments.format(pm.moments.timeToResolve) == "1h02m")
        #expect(pm.duration == 3720)
        #expect(pm.end == PostmortemFixtures.at(3720))
    }

    @Test("status phases follow status, resolve and reopen events")
    func phases() {
        let pm = PostmortemFixtures.postmortem
        #expect(pm.phases.map(\.status) == [.investigating, .identified, .monitoring])
        #expect(pm.phases.map(\.seconds) == [610, 890, 2220])

        var events = PostmortemFixtures.events
        events.append(TimelineEvent(id: 200, incidentID: 42, at: PostmortemFixtures.at(4000), actor: "@carol", kind: .reopened, text: "Reopened"))
        events.append(TimelineEvent(id: 201, incidentID: 42, at: PostmortemFixtures.at(4600), actor: "@carol", kind: .resolved, text: "Resolved"))
        var incident = PostmortemFixtures.incident
        incident.resolvedAt = PostmortemFixtures.at(4600)
        let reopened = PostmortemBuilder.build(incident: incident, events: events, generatedAt: PostmortemFixtures.at(9000))
        #expect(reopened.phases.map(\.status) == [.investigating, .identified, .monitoring, .resolved, .investigating])
        #expect(reopened.phases.last?.seconds == 600)
        #expect(reopened.moments.timeToResolve == 4600)
    }

    @Test("an open incident runs to the time of the report")
    func openIncident() {
        var incident = PostmortemFixtures.incident
        incident.status = .identified
        incident.resolvedAt = nil
        let events = Array(PostmortemFixtures.events.prefix(6))
        let pm = PostmortemBuilder.build(incident: incident, events: events, generatedAt: PostmortemFixtures.at(1000))
        #expect(pm.moments.timeToResolve == nil)
        #expect(pm.duration == 1000)
        #expect(pm.phases.map(\.status) == [.investigating, .identified])
        #expect(pm.phases.last?.end == PostmortemFixtures.at(1000))
        let md = MarkdownPostmortem().render(pm)
        #expect(md.contains("| **Resolved** | not yet |"))
        #expect(md.contains("(still open)"))
    }

    @Test("participants: role holders first, the bot left out")
    func participants() {
        let pm = PostmortemFixtures.postmortem
        #expect(pm.participants.map(\.name) == ["@carol", "@bob", "@dave", "@alice"])
        #expect(pm.participants[0].roles == ["commander"])
        #expect(pm.participants[3].roles == ["opener"])
        #expect(pm.participants[0].events == 5)
        #expect(pm.followUpCount == 2)
        #expect(pm.outputCount == 3)
    }

    @Test("Markdown matches the golden file")
    func markdownGolden() throws {
        try GoldenFile.check(MarkdownPostmortem().render(PostmortemFixtures.postmortem), name: "postmortem-basic.md")
    }

    @Test("JSON matches the golden file and parses")
    func jsonGolden() throws {
        let json = JSONPostmortem().render(PostmortemFixtures.postmortem)
        try GoldenFile.check(json, name: "postmortem-basic.json")
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let events = object?["events"] as? [[String: Any]]
        #expect(events?.count == PostmortemFixtures.events.count)
        let moments = object?["keyMoments"] as? [String: Any]
        #expect(moments?["timeToResolveSeconds"] as? Int == 3720)
        #expect(moments?["acknowledged"] as? String == "2026-03-14T09:01:35Z", "the first responder action: nobody was paged")
        #expect((events?[1]["payload"] as? [String: Any]) != nil, "JSON payloads are embedded as JSON")
        #expect((object?["followUps"] as? [Any])?.count == 2)
    }

    @Test("Markdown has every section, full UTC timestamps, escaped cells and safe fences")
    func markdownContent() {
        let md = MarkdownPostmortem().render(PostmortemFixtures.postmortem)
        for heading in ["## Key moments", "## Participants and roles", "## Timeline", "## Commands run",
                        "## Follow-up actions", "## Impact", "## Root cause", "## Lessons"] {
            #expect(md.contains("\n\(heading)\n"), "missing \(heading)")
        }
        #expect(md.contains("| 2026-03-14 09:05:00 UTC | @bob | note | Pool is full of idle in transaction sessions from the billing job<br>second line |"))
        #expect(md.contains("Checkout \\| orders &lt;slow&gt; &amp; timing out"))
        #expect(md.contains("- [ ] Add an alert on idle in transaction > 5m".replacingOccurrences(of: ">", with: "&gt;")))
        #expect(md.contains("<details>\n<summary>2026-03-14 09:01:35 UTC · @alice · <code>/pg connections</code>"))
        #expect(md.contains("````text\nUsage"), "an output holding ``` gets a longer fence")
        #expect(md.contains("![Timeline of incident #42](incident-42-timeline.svg)"))
        #expect(md.contains("**Time to acknowledge (TTA):** 1m35s"))
        #expect(md.contains("**Time to resolve (TTR):** 1h02m"))
    }

    @Test("the SVG is well-formed XML with one mark per event and a band per phase")
    func svg() throws {
        let pm = PostmortemFixtures.postmortem
        let svg = SVGTimeline().render(pm)
        let checker = SVGChecker.parse(svg)
        #expect(checker.error == nil, "\(String(describing: checker.error))")
        #expect(checker.rootName == "svg")
        #expect(checker.marks == PostmortemFixtures.events.map { String($0.id!) })
        #expect(checker.phases == ["investigating", "identified", "monitoring"])
        #expect(!svg.contains("<slow>"))
    }

    @Test("control characters and markup from chat cannot break the SVG")
    func svgHostileText() {
        var events = PostmortemFixtures.events
        events.append(TimelineEvent(id: 300, incidentID: 42, at: PostmortemFixtures.at(100), actor: "@eve\u{1}\"",
                                    kind: TimelineEvent.Kind(rawValue: "custom<kind>"), text: "]]> <!-- & \u{7}\u{0} \"quoted\" 'single' — ünïcødé 🔥"))
        let pm = PostmortemBuilder.build(incident: PostmortemFixtures.incident, events: events, generatedAt: PostmortemFixtures.at(7200))
        let checker = SVGChecker.parse(SVGTimeline().render(pm))
        #expect(checker.error == nil, "\(String(describing: checker.error))")
        #expect(checker.marks.count == events.count)
        #expect(checker.markKinds["custom<kind>"] == 1)
        #expect(checker.lanes.contains("other"))
    }

    @Test("a postmortem of an incident with 100,000 events renders completely; the picture aggregates")
    func hundredThousandEvents() throws {
        let pm = PostmortemFixtures.large(count: 100_000)
        #expect(pm.eventCount == 100_000)
        let md = MarkdownPostmortem().render(pm)
        let svg = SVGTimeline().render(pm)
        let json = JSONPostmortem().render(pm)
        // One timeline row per event, one <details> per output, one checklist item per follow-up.
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| 2026-") && $0.contains(" UTC | @user") }
        #expect(rows.count == 99_999)
        #expect(md.components(separatedBy: "<details>").count - 1 == pm.outputCount)
        #expect(md.components(separatedBy: "\n- [ ] ").count - 1 == pm.followUpCount)
        #expect(pm.phases.map(\.status) == [.investigating, .monitoring])
        let checker = SVGChecker.parse(svg)
        #expect(checker.error == nil)
        #expect(checker.marks.isEmpty, "past 2,000 events: bins, not one mark per event")
        #expect(checker.binTotal == 100_000, "every event is in a bin")
        #expect(svg.utf8.count < 300_000, "\(svg.utf8.count) bytes")
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((object?["events"] as? [Any])?.count == 100_000)
    }

    @Test("text buffer escapings")
    func escaping() {
        var b = TextBuffer()
        b.write(cell: "a|b\n<c>&d\r")
        #expect(b.string == "a\\|b<br>&lt;c&gt;&amp;d")
        var x = TextBuffer()
        x.write(xml: "<a href=\"x\">&\u{1}</a>")
        #expect(x.string == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;")
        var j = TextBuffer()
        j.write(json: "q\"b\\n\n\u{1}é")
        #expect(j.string == "\"q\\\"b\\\\n\\n\\u0001é\"")
        var l = TextBuffer()
        l.write(xml: "héllo world", limit: 4)
        #expect(l.string == "héll…")
        var d = TextBuffer()
        d.write(decimal: 12.34)
        d.write(" ")
        d.write(decimal: -0.96)
        d.write(" ")
        d.write(decimal: 7)
        #expect(d.string == "12.3 -1 7")
    }

    @Test("tick spacing gives a readable axis")
    func ticks() {
        #expect(SVGTimeline.tickStep(60) == 10)
        #expect(SVGTimeline.tickStep(3720) == 600)
        #expect(SVGTimeline.tickStep(14_400) == 1800)
    }
}
