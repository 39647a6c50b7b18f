import Foundation
import Testing
import TriageCore
import TriageHTTP
@testable import TriageAlerts

@Suite("Alert matchers and /silence parsing")
struct SilenceParsingTests {
    @Test func matcherOperators() throws {
        let eq = try #require(try LabelMatcher.parse("alertname=HighDeadTuples"))
        #expect(eq.op == .equal && eq.value == "HighDeadTuples")
        #expect(try LabelMatcher.parse("datname!=shop")?.op == .notEqual)
        #expect(try LabelMatcher.parse("instance=~\"db-(1|2)\"")?.op == .regex)
        #expect(try LabelMatcher.parse("instance=~\"db-(1|2)\"")?.value == "db-(1|2)")
        #expect(try LabelMatcher.parse("job!~test.*")?.op == .notRegex)
        // Not a matcher at all: nil (it may be a duration or a comment word).
        #expect(try LabelMatcher.parse("2h") == nil)
        #expect(try LabelMatcher.parse("=x") == nil)
        // Look-alikes are refused, not misread.
        #expect(throws: MatcherError.self) { try LabelMatcher.parse("a=~(unclosed") }
        #expect(throws: MatcherError.self) { try LabelMatcher.parse("a=\"open") }
    }

    @Test func regexMatchersAreAnchoredLikeAlertmanager() throws {
        let m = try #require(try LabelMatcher.parse("datname=~shop"))
        #expect(m.matches(["datname": "shop"]))
        #expect(!m.matches(["datname": "shopping"]))
        #expect(!m.matches(["datname": "myshop"]))
        let missing = try #require(try LabelMatcher.parse("team!=db"))
        #expect(missing.matches([:]))
    }

    @Test func descriptionQuotesAndEscapes() throws {
        let m = try LabelMatcher(name: "summary", op: .equal, value: "say \"hi\"")
        #expect(m.description == #"summary="say \"hi\"""#)
        #expect(try LabelMatcher.parse(m.description) == m)
    }

    @Test func silenceWithMatchersDurationAndComment() throws {
        let r = try SilenceRequest.parse(#"alertname=HighDeadTuples datname=shop 2h "vacuum running""#, minSeconds: 60, maxSeconds: 7 * 86400)
        guard case .matchers(let ms) = r.target else { Issue.record("no matchers"); return }
        #expect(ms.map(\.description) == [#"alertname="HighDeadTuples""#, #"datname="shop""#])
        #expect(r.seconds == 7200)
        #expect(r.comment == "vacuum running")
    }

    @Test func silenceOperatorsAndUnquotedComment() throws {
        let r = try SilenceRequest.parse(#"alertname=~"High.*|Slow.*" instance!~"test-.*" env!=dev 30m index rebuild"#,
                                         minSeconds: 60, maxSeconds: 86400)
        guard case .matchers(let ms) = r.target else { Issue.record("no matchers"); return }
        #expect(ms.map(\.op) == [.regex, .notRegex, .notEqual])
        #expect(ms[0].value == "High.*|Slow.*")
        #expect(r.comment == "index rebuild")
    }

    @Test func silenceByAlertReference() throws {
        let r = try SilenceRequest.parse("#3f2a9c1d 1h", minSeconds: 60, maxSeconds: 86400)
        #expect(r.target == .alert(ref: "3f2a9c1d"))
        #expect(r.comment == nil)
    }

    @Test func silenceAsAReplyToTheAlertMessage() throws {
        let announcement = "Alert firing: HighDeadTuples\n  ref  #546278d2\nSilence it: /silence #546278d2 2h \"reason\""
        let r = try SilenceRequest.parse("2h \"vacuum\"", minSeconds: 60, maxSeconds: 86400, replyingTo: announcement)
        #expect(r.target == .alert(ref: "546278d2"))
        #expect(r.comment == "vacuum")
        // Typed matchers win over the replied-to message.
        let typed = try SilenceRequest.parse("alertname=X 2h", minSeconds: 60, maxSeconds: 86400, replyingTo: announcement)
        #expect(typed.target != .alert(ref: "546278d2"))
        // Not an alert, or a digest naming several: refused with the usage line.
        for replied in ["pong: Triage 0.1.0", "9 more alerts firing #0000aaaa #1111bbbb", "issue #12 and color #ff00ff00ff"] {
            #expect(throws: UsageError.self) { try SilenceRequest.parse("2h", minSeconds: 60, maxSeconds: 86400, replyingTo: replied) }
        }
        #expect(SilenceRequest.alertRefs(in: "ref #546278d2, also #ABCDEF01.") == ["546278d2", "abcdef01"])
    }

    @Test(arguments: [
        "",                                   // nothing
        "alertname=X",                        // no duration
        "2h",                                 // no matcher
        "alertname=X 10s",                    // below the minimum
        "alertname=X 30d",                    // above the maximum
        "alertname=X 2h extra=y",             // after the duration, a look-alike is comment
        "alertname=~(bad 2h",                 // bad regex
        "1x=y 2h",                            // bad label name: starts with a digit
        "alertname=X 2h \"unclosed",          // unclosed quote
        "alertname=~.* 2h",                   // matches the empty label: everything
        "team!=db 2h",                        // the same, by negation
        "#zz 2h",                             // not hex
        "#3f2a9c1d alertname=X 2h",           // both forms
        "alertname=X banana",                 // neither matcher nor duration
        "\"comment first\" alertname=X 2h",   // comment before the duration
    ])
    func badSilencesAreRefusedWithUsage(_ text: String) throws {
        if text == "alertname=X 2h extra=y" {
            // The look-alike that is fine: after the duration everything is the comment.
            let r = try SilenceRequest.parse(text, minSeconds: 60, maxSeconds: 86400)
            #expect(r.comment == "extra=y")
            return
        }
        do {
            _ = try SilenceRequest.parse(text, minSeconds: 60, maxSeconds: 86400)
            Issue.record("accepted: \(text)")
        } catch let e as UsageError {
            #expect(e.usage == SilenceRequest.usage)
            #expect(e.message.hasPrefix("Silence not created"))
        }
    }
}

@Suite("Alertmanager JSON")
struct AlertmanagerJSONTests {
    @Test func parsesGoTimestamps() throws {
        let a = try #require(AMJSON.parseDate("2026-12-01T19:37:13.123456789Z"))
        #expect(abs(a.timeIntervalSince1970 - 1_796_153_833.123456789) < 1e-5)
        let b = try #require(AMJSON.parseDate("2026-12-01T20:37:13+01:00"))
        #expect(b.timeIntervalSince1970 == 1_796_153_833)
        #expect(AMJSON.parseDate("0001-01-01T00:00:00Z") != nil)
        for bad in ["", "2026-12-01", "2026-13-01T00:00:00Z", "2026-12-01T19:37:13", "2026-12-01T19:37:13.Z", "2026-12-01T19:37:13Zjunk"] {
            #expect(AMJSON.parseDate(bad) == nil, "\(bad)")
        }
        #expect(AMJSON.format(Date(timeIntervalSince1970: 1_796_153_833.25)) == "2026-12-01T19:37:13Z")
    }

    @Test func decodesAlertGroupsOf025() throws {
        let json = """
        [{"alerts":[{"annotations":{"summary":"s"},"endsAt":"2026-12-01T20:00:00.000Z","fingerprint":"0a1b2c3d4e5f6071",
          "receivers":[{"name":"triage"}],"startsAt":"2026-12-01T19:00:00.000Z",
          "status":{"inhibitedBy":[],"silencedBy":[],"state":"active"},"updatedAt":"2026-12-01T19:01:00.000Z",
          "generatorURL":"http://prom/graph","labels":{"alertname":"HighDeadTuples","datname":"shop"}}],
          "labels":{"alertname":"HighDeadTuples"},"receiver":{"name":"triage"}}]
        """
        let groups = try AMJSON.decoder().decode([AMAlertGroup].self, from: Data(json.utf8))
        #expect(groups.count == 1)
        #expect(groups[0].alerts[0].alertname == "HighDeadTuples")
        #expect(groups[0].alerts[0].status.mutedBy == nil)
        #expect(groups[0].routeLabels == nil)
    }

    @Test func mergeDeduplicatesAnHAPair() {
        let t = Date(timeIntervalSince1970: 1_000_000)
        func alert(_ fp: String, updated: Double, state: AMAlertStatus.State = .active) -> AMAlert {
            AMAlert(labels: ["alertname": "A", "fp": fp], fingerprint: fp, startsAt: t, updatedAt: t.addingTimeInterval(updated),
                    endsAt: t.addingTimeInterval(3600), status: AMAlertStatus(state: state))
        }
        let g1 = AMAlertGroup(labels: ["alertname": "A"], receiver: AMReceiver(name: "r"), alerts: [alert("1", updated: 0), alert("2", updated: 5)])
        let g2 = AMAlertGroup(labels: ["alertname": "A"], receiver: AMReceiver(name: "r"),
                              alerts: [alert("1", updated: 10, state: .suppressed), alert("2", updated: 1)])
        let merged = AlertSnapshot.merge([[g1], [g2]])
        #expect(merged.groups.count == 1)
        #expect(merged.groups[0].alerts.count == 2)
        #expect(merged.alerts.count == 2)
        // The fresher copy wins.
        #expect(merged.alerts["1"]?.status.state == .suppressed)
        #expect(merged.alerts["2"]?.updatedAt == t.addingTimeInterval(5))
    }
}

@Suite("Alert messages")
struct AlertMessageTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func alert() -> FollowedAlert {
        FollowedAlert(fingerprint: "546278d28b774079", labels: ["alertname": "HighDeadTuples", "datname": "shop", "severity": "warning"],
                      annotations: ["summary": "Table has high dead tuple count", "runbook_url": "https://rb/x"],
                      generatorURL: "http://prom/graph", startsAt: t0, firstSeen: t0, lastSeen: t0)
    }

    @Test func announcementCarriesAlertLinksDiagnosticsAndRemedy() {
        let diag = DiagnosticResult(line: "/pg bloat --db main", reply: Reply(blocks: [.text("public.orders 100500")], mark: .warning, summary: "worst public.orders"))
        let r = AlertMessages.announcement(alert(), severity: .sev3, database: "main", diagnostics: [diag],
                                           remedy: "/pg vacuum public.orders --db main", incident: (4, true), now: t0.addingTimeInterval(720))
        let text = TextRenderer().render(r)
        for part in ["Alert firing: HighDeadTuples", "Table has high dead tuple count", "12m00s ago", "datname=shop",
                     "http://prom/graph", "https://rb/x", "#546278d2", "Opened incident #4", "/pg bloat --db main — worst public.orders",
                     "public.orders 100500", "Suggested: /pg vacuum public.orders --db main", "/silence #546278d2"] {
            #expect(text.contains(part), "\(part)")
        }
        #expect(r.mark == .warning)
        #expect(!text.contains("alertname=HighDeadTuples"), "alertname is the title, not repeated in the labels")
    }

    @Test func resolvedNoticeSaysHowLongAndWhatHappensToTheIncident() {
        let open = TextRenderer().render(AlertMessages.resolved(alert(), at: t0.addingTimeInterval(840), incident: 4, incidentResolved: false))
        #expect(open.contains("Resolved after 14m00s: HighDeadTuples"))
        #expect(open.contains("Incident #4 stays open: /resolve"))
        let closed = TextRenderer().render(AlertMessages.resolved(alert(), at: t0.addingTimeInterval(60), incident: 4, incidentResolved: true))
        #expect(closed.contains("Incident #4 resolved"))
    }

    @Test func hostNeverCarriesCredentialsOrPath() {
        #expect(AlertmanagerClient.host("https://user:secret@am.example:9093/prefix/") == "am.example:9093")
        #expect(AlertmanagerClient.host("http://127.0.0.1:9093") == "127.0.0.1:9093")
        let e = AlertmanagerError(.unreachable, host: AlertmanagerClient.host("https://u:pw@am:1/x"), message: "refused")
        #expect(!e.description.contains("pw"))
    }

    @Test func queryCarriesFilterAndReceiver() throws {
        let http = HTTPClient(logger: AlertsTestEnvironment.logger)
        let c = AlertmanagerClient(urls: ["http://am/"], http: http, filter: [try #require(try LabelMatcher.parse(#"team=~"db|dba""#))], receiver: "triage.*")
        #expect(c.urls == ["http://am"])
        #expect(c.alertQuery().map { "\($0.0)=\($0.1)" } == [#"filter=team=~"db|dba""#, "receiver=triage.*"])
        #expect(AlertmanagerClient.percentEncode(#"team=~"db|dba""#) == "team%3D~%22db%7Cdba%22")
    }
}
