import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// `/incident`: an incident's current state at a glance.
public enum IncidentStateReply {
    /// - Parameters:
    ///   - incident: the incident.
    ///   - recent: its last few events, in order.
    ///   - eventCount: how many events it has.
    ///   - followUps: how many follow-up items.
    ///   - now: the current time (for the age).
    ///   - note: a line shown under the title.
    public static func make(_ incident: Incident, recent: [TimelineEvent], eventCount: Int, followUps: Int, now: Date,
                            note: String? = nil) -> Reply {
        let moments = KeyMoments(incident)
        var kvs = [
            KeyValue("severity", incident.severity.rawValue, mark: incident.isActive && incident.severity <= .sev2 ? .critical : .none),
            KeyValue("status", incident.status.rawValue, mark: incident.isActive ? .warning : .ok),
        ]
        for role in IncidentRole.allCases {
            kvs.append(KeyValue(role.rawValue, incident.holder(of: role) ?? "-"))
        }
        kvs.append(KeyValue("opened", "\(UTCTime.format(incident.openedAt)) by \(incident.openedBy)"))
        kvs.append(KeyValue(incident.isActive ? "age" : "duration",
                            DurationFormatter.format(seconds: incident.end(now: now).timeIntervalSince(incident.openedAt))))
        kvs.append(KeyValue("acknowledged", moments.acknowledged.map { "\(UTCTime.format($0)) (TTA \(KeyMoments.format(moments.timeToAcknowledge)))" } ?? "not yet"))
        kvs.append(KeyValue("mitigated", moments.mitigated.map { "\(UTCTime.format($0)) (after \(KeyMoments.format(moments.timeToMitigate)))" } ?? "not yet"))
        if let resolved = moments.resolved {
            kvs.append(KeyValue("resolved", "\(UTCTime.format(resolved)) (TTR \(KeyMoments.format(moments.timeToResolve)))"))
        }
        if let summary = incident.summary { kvs.append(KeyValue("summary", summary)) }
        kvs.append(KeyValue("events", "\(eventCount), \(followUps) follow-up\(followUps == 1 ? "" : "s")"))
        var blocks: [ReplyBlock] = []
        if let note { blocks.append(.note(note, .none)) }
        blocks.append(.keyValues(kvs))
        blocks.append(TimelineReply.table(recent, title: "Last events"))
        return Reply(title: "Incident #\(incident.id!) \(incident.severity.rawValue) [\(incident.status.rawValue)]: \(incident.title)",
                     blocks: blocks, summary: "incident \(incident.id!) state")
    }
}
