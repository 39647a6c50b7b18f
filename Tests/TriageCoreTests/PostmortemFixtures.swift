import Foundation
import TriageCore

/// A fixed incident for postmortem tests: every kind of event, awkward characters, exact times.
enum PostmortemFixtures {
    static let t0 = Date(timeIntervalSince1970: 1_773_478_800)   // 2026-03-14 09:00:00 UTC

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    static var incident: Incident {
        var i = Incident(id: 42, platform: "telegram", room: "-1001234", title: "Checkout | orders <slow> & timing out",
                         severity: .sev2, status: .resolved, commander: "@carol", openedBy: "@alice", openedAt: t0,
                         acknowledgedAt: at(240), mitigatedAt: at(1500), resolvedAt: at(3720),
                         summary: "Idle-in-transaction sessions held the pool; killed and fixed the job.")
        i.assign(.scribe, to: "@bob")
        i.assign(.comms, to: "@dave")
        return i
    }

    static var events: [TimelineEvent] {
        var id: Int64 = 100
        func e(_ s: Double, _ actor: String, _ kind: TimelineEvent.Kind, _ text: String, command: String? = nil,
               output: String? = nil, payload: String? = nil) -> TimelineEvent {
            id += 1
            return TimelineEvent(id: id, incidentID: 42, at: at(s), actor: actor, kind: kind, command: command,
                                 text: text, output: output, payload: payload)
        }
        return [
            e(0, "@alice", .opened, "Opened sev2: Checkout | orders <slow> & timing out", command: "/incident open sev2 Checkout | orders <slow> & timing out"),
            e(0, "triage", .snapshot, "Database snapshot: 97/100 connections (12 active, 80 idle in transaction), 12 running queries, 3 waiting locks",
              output: "Database snapshot\n\nconnections  97 of 100 !!\nidle in transaction  80 !", payload: "{\"connections\":[{\"total\":\"97\"}]}"),
            e(95, "@alice", .command, "97 of 100 connections used (97.0%)", command: "/pg connections",
              output: "Usage\n\nconnections  97\nmax  100\n```\nfenced inside output\n```"),
            e(240, "@carol", .role, "Commander: @carol (was @alice)", payload: "{\"role\":\"commander\",\"from\":\"@alice\",\"to\":\"@carol\"}"),
            e(300, "@bob", .note, "Pool is full of idle in transaction sessions from the billing job\nsecond line"),
            e(610, "@carol", .status, "Status investigating → identified", payload: "{\"from\":\"investigating\",\"to\":\"identified\"}"),
            e(900, "@carol", .command, "80 sessions terminated", command: "/pg kill idle --older 5m", output: "terminated 80 sessions"),
            e(1200, "@bob", .followUp, "Add an alert on idle in transaction > 5m"),
            e(1500, "@carol", .status, "Status identified → monitoring", payload: "{\"from\":\"identified\",\"to\":\"monitoring\"}"),
            e(1800, "@dave", .note, "Status page updated"),
            e(2400, "@bob", .followUp, "Set idle_in_transaction_session_timeout on the billing role"),
            e(3720, "@carol", .resolved, "Resolved: Idle-in-transaction sessions held the pool; killed and fixed the job.",
              payload: "{\"from\":\"monitoring\",\"to\":\"resolved\"}"),
        ]
    }

    static var postmortem: Postmortem {
        PostmortemBuilder.build(incident: incident, events: events, generatedAt: at(7200))
    }

    /// An incident with `count` events spread over four hours, every kind represented.
    static func large(count: Int) -> Postmortem {
        let kinds: [TimelineEvent.Kind] = [.note, .command, .note, .followUp, .page, .note, .action]
        var events: [TimelineEvent] = []
        events.reserveCapacity(count)
        events.append(TimelineEvent(id: 1, incidentID: 7, at: t0, actor: "@alice", kind: .opened, text: "Opened sev1: big"))
        for n in 1..<count {
            let kind = n == count / 2 ? .status : kinds[n % kinds.count]
            let at = t0.addingTimeInterval(Double(n) * 14_400 / Double(count))
            events.append(TimelineEvent(id: Int64(n + 1), incidentID: 7, at: at, actor: "@user\(n % 9)", kind: kind,
                                        command: kind == .command ? "/pg activity --limit \(n % 50)" : nil,
                                        text: "event \(n) with <markup> & | pipes",
                                        output: kind == .command ? "pid  state\n\(n)  active\n" : nil,
                                        payload: kind == .status ? "{\"from\":\"investigating\",\"to\":\"monitoring\"}" : nil))
        }
        let incident = Incident(id: 7, platform: "matrix", room: "!ops:hs", title: "Big one", severity: .sev1, status: .resolved,
                                commander: "@alice", openedBy: "@alice", openedAt: t0, acknowledgedAt: at(60),
                                mitigatedAt: at(7200), resolvedAt: at(14_400))
        return PostmortemBuilder.build(incident: incident, events: events, generatedAt: at(20_000))
    }
}
