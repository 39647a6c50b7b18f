import Foundation
import Testing
@testable import TriageAlerts

@Suite("Follow state machine")
struct AlertTrackerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func alert(_ fp: String, startsAt: Date? = nil, endsIn: Double = 300, at now: Date? = nil,
               state: AMAlertStatus.State = .active) -> AMAlert {
        let now = now ?? t0
        return AMAlert(labels: ["alertname": "A\(fp)"], fingerprint: fp, startsAt: startsAt ?? t0, updatedAt: now,
                       endsAt: now.addingTimeInterval(endsIn), status: AMAlertStatus(state: state, silencedBy: state == .suppressed ? ["s"] : []))
    }

    func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }

    @Test func newFiringResolvedAfterTwoMissedPolls() {
        var tr = AlertTracker(resolveAfterMissedPolls: 2)
        #expect(tr.observe(["a": alert("a")], at: at(0)) == [.fired("a")])
        tr.markAnnounced("a", platform: "console", room: "console", messageKey: "k", incidentID: nil, openedIncident: false)
        #expect(tr.observe(["a": alert("a", at: at(15))], at: at(15)) == [])
        #expect(tr.observe([:], at: at(30)) == [])
        #expect(tr.alerts["a"]?.missedPolls == 1)
        // Back before the second miss: still firing, the count starts again.
        #expect(tr.observe(["a": alert("a", at: at(45))], at: at(45)) == [])
        #expect(tr.alerts["a"]?.missedPolls == 0)
        #expect(tr.observe([:], at: at(60)) == [])
        #expect(tr.observe([:], at: at(75)) == [.resolved("a")])
        #expect(tr.alerts["a"]?.status == .resolved)
        // Gone stays gone: no second resolved notice.
        #expect(tr.observe([:], at: at(90)) == [])
    }

    @Test func endsAtInThePastCountsAsMissing() {
        var tr = AlertTracker(resolveAfterMissedPolls: 1)
        _ = tr.observe(["a": alert("a")], at: at(0))
        tr.markAnnounced("a", platform: "p", room: "r", messageKey: nil, incidentID: nil, openedIncident: false)
        #expect(tr.observe(["a": alert("a", endsIn: -1, at: at(10))], at: at(10)) == [.resolved("a")])
    }

    @Test func restartFromStoreDoesNotAnnounceAgain() {
        var tr = AlertTracker()
        _ = tr.observe(["a": alert("a")], at: at(0))
        tr.markAnnounced("a", platform: "p", room: "r", messageKey: "k", incidentID: 7, openedIncident: true)
        let saved = tr.takeChanges().save.map(\.record)
        // A new process: rebuilt from the rows.
        var restarted = AlertTracker(known: saved.map(FollowedAlert.init(record:)))
        #expect(restarted.observe(["a": alert("a", at: at(20))], at: at(20)) == [])
        #expect(restarted.alerts["a"]?.incidentID == 7)
        #expect(restarted.alerts["a"]?.openedIncident == true)
    }

    @Test func failedPollsAndGraceResolveNothing() {
        var tr = AlertTracker(resolveAfterMissedPolls: 1)
        _ = tr.observe(["a": alert("a")], at: at(0))
        tr.markAnnounced("a", platform: "p", room: "r", messageKey: nil, incidentID: nil, openedIncident: false)
        // Just after an outage Alertmanager may be empty until Prometheus re-sends.
        #expect(tr.observe([:], at: at(10), countMisses: false) == [])
        #expect(tr.alerts["a"]?.status == .firing)
        #expect(tr.observe(["a": alert("a", at: at(20))], at: at(20), countMisses: false) == [])
    }

    @Test func silencedAlertsAreAnnouncedOnlyWhenTheSilenceEnds() {
        var tr = AlertTracker()
        #expect(tr.observe(["a": alert("a", state: .suppressed)], at: at(0)) == [])
        #expect(tr.observe(["a": alert("a", at: at(15), state: .suppressed)], at: at(15)) == [])
        #expect(tr.observe(["a": alert("a", at: at(30))], at: at(30)) == [.fired("a")])
        tr.markAnnounced("a", platform: "p", room: "r", messageKey: nil, incidentID: nil, openedIncident: false)
        // Silenced after the announcement: nothing more to say.
        #expect(tr.observe(["a": alert("a", at: at(45), state: .suppressed)], at: at(45)) == [])
        // A never-announced alert that resolves is resolved quietly.
        _ = tr.observe(["b": alert("b", state: .suppressed)], at: at(50))
        _ = tr.observe(["a": alert("a", at: at(60))], at: at(60))
        #expect(tr.observe(["a": alert("a", at: at(70))], at: at(70)) == [])
        #expect(tr.alerts["b"]?.status == .resolved)
    }

    @Test func refireAfterResolutionIsANewEpisode() {
        var tr = AlertTracker(resolveAfterMissedPolls: 1)
        _ = tr.observe(["a": alert("a")], at: at(0))
        tr.markAnnounced("a", platform: "p", room: "r", messageKey: "k1", incidentID: nil, openedIncident: false)
        #expect(tr.observe([:], at: at(10)) == [.resolved("a")])
        #expect(tr.observe(["a": alert("a", startsAt: at(20), at: at(20))], at: at(20)) == [.fired("a")])
        #expect(tr.alerts["a"]?.announced == false)
        #expect(tr.alerts["a"]?.messageKey == nil)
    }

    @Test func onlyMeaningfulChangesAreWritten() {
        var tr = AlertTracker()
        _ = tr.observe(["a": alert("a"), "b": alert("b")], at: at(0))
        #expect(tr.takeChanges().save.count == 2)
        _ = tr.observe(["a": alert("a", at: at(15)), "b": alert("b", at: at(15))], at: at(15))
        #expect(tr.takeChanges().save.isEmpty)
        _ = tr.observe(["a": alert("a", at: at(30))], at: at(30))
        #expect(tr.takeChanges().save.map(\.fingerprint) == ["b"])
    }

    @Test func pruneForgetsOldResolvedAlerts() {
        var tr = AlertTracker(resolveAfterMissedPolls: 1)
        _ = tr.observe(["a": alert("a"), "b": alert("b")], at: at(0))
        _ = tr.observe(["b": alert("b", at: at(10))], at: at(10))
        tr.prune(resolvedBefore: at(11))
        #expect(tr.alerts.keys.sorted() == ["b"])
        #expect(tr.takeChanges().delete == ["a"])
    }

    @Test func backoffAndGrace() {
        var h = AlertmanagerHealth(urls: ["http://a", "http://b"], baseDelay: 1, maxDelay: 8)
        #expect(h.due(at: at(0)) == ["http://a", "http://b"])
        h.failed("http://a", error: "refused", at: at(0), jitter: 1)
        #expect(h.due(at: at(0.5)) == ["http://b"])
        h.failed("http://a", error: "refused", at: at(1), jitter: 1)
        h.failed("http://a", error: "refused", at: at(3), jitter: 1)
        h.failed("http://a", error: "refused", at: at(7), jitter: 1)
        h.failed("http://a", error: "refused", at: at(15), jitter: 1)
        #expect(h.peers[0].nextAttempt == at(23))   // capped at 8 s
        #expect(h.peers[0].failingSince == at(0))
        h.succeeded("http://a", at: at(23))
        #expect(h.peers[0].reachable)
        #expect(!h.missesCount(answered: ["http://a"], at: at(30), grace: 60))
        #expect(h.missesCount(answered: ["http://b"], at: at(30), grace: 60))
        #expect(h.missesCount(answered: ["http://a"], at: at(84), grace: 60))
        #expect(!h.missesCount(answered: [], at: at(84), grace: 60))
        // A restart seen through /api/v2/status starts the grace too.
        let first = h.noteStart("http://b", startedAt: at(-100), at: at(90))
        #expect(!first)
        let restarted = h.noteStart("http://b", startedAt: at(85), at: at(90))
        #expect(restarted)
        #expect(!h.missesCount(answered: ["http://b"], at: at(100), grace: 60))
    }
}
