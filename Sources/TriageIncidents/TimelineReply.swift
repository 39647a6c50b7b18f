import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// The timeline of an incident as a reply (also used by `triage timeline`).
public enum TimelineReply {
    public static func make(incident: Incident, events: [TimelineEvent]) -> Reply {
        Reply(title: "Incident #\(incident.id!) \(incident.severity.rawValue) [\(incident.status.rawValue)]: \(incident.title)",
              blocks: [table(events)], summary: "timeline of incident \(incident.id!)")
    }

    /// Events as a table with full UTC timestamps.
    public static func table(_ events: [TimelineEvent], title: String? = nil) -> ReplyBlock {
        let rows = events.map { e in
            [ReplyCell(UTCTime.format(e.at)), ReplyCell(e.actor), ReplyCell(e.kind.rawValue),
             ReplyCell(e.command.map { "\($0) → \(e.text)" } ?? e.text)]
        }
        return .table(ReplyTable(title: title, columns: ["time (UTC)", "who", "what", "detail"], rows: rows, emptyText: "No events yet."))
    }
}
