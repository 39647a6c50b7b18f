import Foundation
import TriageCore
import TriageStore

/// Incident lifecycle commands: open, note, resolve, timeline.
public struct IncidentCommands: CommandHandler {
    public init() {}

    public var declarations: [CommandDeclaration] {
        let section = "Incidents"
        return [
            CommandDeclaration(words: ["incident", "open"], summary: "Open an incident in this room.", section: section,
                               arguments: [ArgumentDeclaration(name: "severity", type: .choice(Severity.allCases.map(\.rawValue)), isRequired: true),
                                           ArgumentDeclaration(name: "title", type: .text, isRequired: true)],
                               role: .responder, aliases: [["declare"]]),
            CommandDeclaration(words: ["note"], summary: "Add a note to the open incident's timeline.", section: section,
                               arguments: [ArgumentDeclaration(name: "text", type: .text, isRequired: true)], role: .responder),
            CommandDeclaration(words: ["resolve"], summary: "Resolve the open incident.", section: section,
                               arguments: [ArgumentDeclaration(name: "summary", type: .text)], role: .responder),
            CommandDeclaration(words: ["timeline"], summary: "Show the incident's timeline.", section: section,
                               arguments: [ArgumentDeclaration(name: "last", type: .integer(min: 1, max: 500), isFlag: true, defaultValue: "20")]),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let at = context.now
        switch context.declaration.name {
        case "incident open":
            let severity = Severity(rawValue: context.arguments.string("severity") ?? "") ?? .sev3
            let title = context.arguments.string("title") ?? ""
            return CommandOutcome(reply: Reply()) { tx, _ in
                if let active = try tx.activeIncident(platform: m.platform, room: m.room) {
                    throw TriageError(.conflict, "Incident #\(active.id!) is already open here: \(active.title). Resolve it first.")
                }
                let incident = try tx.insert(Incident(platform: m.platform, room: m.room, title: title, severity: severity,
                                                      commander: m.senderName, openedBy: m.senderName, openedAt: at))
                try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .opened,
                                            command: context.parsed.line, text: "Opened \(severity.rawValue): \(title)"))
                return Reply(title: "Incident #\(incident.id!) opened", blocks: [.keyValues([
                    KeyValue("severity", severity.rawValue, mark: severity <= .sev2 ? .critical : .warning),
                    KeyValue("title", title), KeyValue("commander", m.senderName),
                    KeyValue("opened", UTCTime.format(at)),
                ])], summary: "incident \(incident.id!) opened")
            }
        case "note":
            let text = context.arguments.string("text") ?? ""
            return CommandOutcome(reply: Reply()) { tx, _ in
                let incident = try Self.active(tx, m)
                try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .note, text: text))
                return Reply.text("Noted in incident #\(incident.id!).")
            }
        case "resolve":
            let summary = context.arguments.string("summary")
            return CommandOutcome(reply: Reply()) { tx, _ in
                var incident = try Self.active(tx, m)
                incident.status = .resolved
                incident.resolvedAt = at
                incident.summary = summary ?? incident.summary
                try tx.update(incident)
                try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .resolved,
                                            text: "Resolved" + (summary.map { ": \($0)" } ?? "")))
                let duration = DurationFormatter.format(seconds: at.timeIntervalSince(incident.openedAt))
                return Reply(title: "Incident #\(incident.id!) resolved",
                             blocks: [.keyValues([KeyValue("duration", duration), KeyValue("resolved", UTCTime.format(at))])],
                             mark: .ok, summary: "incident \(incident.id!) resolved")
            }
        default:
            let last = context.arguments.int("last") ?? 20
            return CommandOutcome(reply: Reply()) { tx, _ in
                guard let incident = try tx.activeIncident(platform: m.platform, room: m.room)
                    ?? tx.latestIncident(platform: m.platform, room: m.room) else {
                    throw TriageError(.notFound, "No incident in this room yet. Open one with /incident open SEV TITLE.")
                }
                let events = try tx.events(incident: incident.id!, last: last)
                return TimelineReply.make(incident: incident, events: events)
            }
        }
    }

    static func active(_ tx: StoreTransaction, _ m: InboundMessage) throws -> Incident {
        guard let incident = try tx.activeIncident(platform: m.platform, room: m.room) else {
            throw TriageError(.notFound, "No open incident in this room. Open one with /incident open SEV TITLE.")
        }
        return incident
    }
}

/// The timeline of an incident as a reply (also used by `triage timeline`).
public enum TimelineReply {
    public static func make(incident: Incident, events: [TimelineEvent]) -> Reply {
        let rows = events.map { e in
            [ReplyCell(UTCTime.format(e.at)), ReplyCell(e.actor), ReplyCell(e.kind.rawValue),
             ReplyCell(e.command.map { "\($0) → \(e.text)" } ?? e.text)]
        }
        return Reply(title: "Incident #\(incident.id!) \(incident.severity.rawValue) [\(incident.status.rawValue)]: \(incident.title)",
                     blocks: [.table(ReplyTable(columns: ["time (UTC)", "who", "what", "detail"], rows: rows,
                                                emptyText: "No events yet."))],
                     summary: "timeline of incident \(incident.id!)")
    }
}
