import Foundation
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// The commands that read incidents, and `/postmortem`.
extension IncidentCommands {
    func show(_ context: CommandContext) throws -> CommandOutcome {
        let m = context.message, now = context.now
        var id: Int64?
        if let text = context.arguments.string("id") {
            guard let n = Int64(text.hasPrefix("#") ? String(text.dropFirst()) : text), n > 0 else {
                throw UsageError(.badArgument, "/incident takes an incident id (or nothing for this room's). To open one: /incident open SEV TITLE; to close it: /resolve.",
                                 usage: context.declaration.usage)
            }
            id = n
        }
        return Self.outcome { [id] tx in
            let incident: Incident
            var note: String?
            if let id {
                guard let found = try tx.incident(id: id) else { throw TriageError(.notFound, "No incident #\(id).") }
                incident = found
            } else if let active = try tx.activeIncident(platform: m.platform, room: m.room) {
                incident = active
            } else if let last = try tx.latestIncident(platform: m.platform, room: m.room) {
                incident = last
                note = "No open incident in this room; this is the last one. /reopen reopens it."
            } else {
                throw TriageError(.notFound, "No incident in this room yet. Open one with /incident open SEV TITLE.")
            }
            let recent = try tx.events(incident: incident.id!, last: 5)
            let count = try tx.eventCount(incident: incident.id!)
            let followUps = try tx.eventCount(incident: incident.id!, kind: .followUp)
            return IncidentStateReply.make(incident, recent: recent, eventCount: count, followUps: followUps, now: now, note: note)
        }
    }

    func list(_ context: CommandContext) -> CommandOutcome {
        let all = context.arguments.flag("all"), now = context.now
        let m = context.message
        return Self.outcome { tx in
            let incidents = try tx.incidentsOverview(includeResolved: all, limit: 50)
            let rows = incidents.map { i in
                let here = i.platform == m.platform && i.room == m.room
                let age = DurationFormatter.format(seconds: i.end(now: now).timeIntervalSince(i.openedAt))
                return [ReplyCell("#\(i.id!)"), ReplyCell(i.severity.rawValue, mark: i.isActive && i.severity <= .sev2 ? .critical : .none),
                        ReplyCell(i.status.rawValue), ReplyCell(here ? "this room" : "\(i.platform):\(i.room)"),
                        ReplyCell(i.commander ?? "-"), ReplyCell(age), ReplyCell(i.title)]
            }
            let open = incidents.filter(\.isActive).count
            return Reply(title: all ? "Incidents (open and recent)" : "Open incidents",
                         blocks: [.table(ReplyTable(columns: ["id", "sev", "status", "room", "commander", all ? "age/duration" : "age", "title"],
                                                    rows: rows, emptyText: all ? "No incidents yet." : "No open incidents. /incidents --all lists resolved ones."))],
                         summary: "\(open) open incident\(open == 1 ? "" : "s")")
        }
    }

    func timeline(_ context: CommandContext) -> CommandOutcome {
        let m = context.message
        let last = context.arguments.int("last") ?? 20
        return Self.outcome { tx in
            guard let incident = try tx.activeIncident(platform: m.platform, room: m.room)
                ?? tx.latestIncident(platform: m.platform, room: m.room) else {
                throw TriageError(.notFound, "No incident in this room yet. Open one with /incident open SEV TITLE.")
            }
            let events = try tx.events(incident: incident.id!, last: last)
            let total = try tx.eventCount(incident: incident.id!)
            var reply = TimelineReply.make(incident: incident, events: events)
            if total > events.count {
                reply.blocks.append(.text("Last \(events.count) of \(total) events; /timeline --last N shows more, `triage timeline \(incident.id!)` all."))
            }
            return reply
        }
    }

    func postmortem(_ context: CommandContext) async throws -> CommandOutcome {
        guard let store else { throw TriageError(.config, "Postmortems need the timeline store.") }
        let m = context.message, now = context.now
        let requested = context.arguments.int("id").map(Int64.init)
        let pm: Postmortem = try await store.read { tx in
            if let requested {
                guard let pm = try PostmortemWriter.postmortem(in: tx, incident: requested, generatedAt: now, store: store) else {
                    throw TriageError(.notFound, "No incident #\(requested).")
                }
                return pm
            }
            guard let i = try tx.activeIncident(platform: m.platform, room: m.room) ?? tx.latestIncident(platform: m.platform, room: m.room),
                  let pm = try PostmortemWriter.postmortem(in: tx, incident: i.id!, generatedAt: now, store: store) else {
                throw TriageError(.notFound, "No incident in this room yet; /postmortem ID writes another room's.")
            }
            return pm
        }
        // Rendering and writing files are blocking work: they run on a thread of their own.
        let files = try await PostmortemWriter(store: store, directory: postmortems.directory).writeAll(pm)
        let id = pm.incident.id ?? 0
        var blocks: [ReplyBlock] = [.keyValues([
            KeyValue("title", pm.incident.title),
            KeyValue("severity", pm.severityChanges.isEmpty ? pm.incident.severity.rawValue
                     : "\(pm.incident.severity.rawValue) (peak \(pm.peakSeverity.rawValue))"),
            KeyValue("status", pm.incident.status.rawValue),
            KeyValue("duration", DurationFormatter.format(seconds: pm.duration)),
            KeyValue("time to acknowledge", KeyMoments.format(pm.moments.timeToAcknowledge)),
            KeyValue("time to resolve", KeyMoments.format(pm.moments.timeToResolve)),
            KeyValue("events", "\(pm.eventCount)"),
            KeyValue("commands run", "\(pm.kindCounts["command"] ?? 0)"),
            KeyValue("follow-ups", "\(pm.followUpCount)"),
            KeyValue("participants", pm.participants.map(\.name).joined(separator: ", ")),
        ])]
        if pm.incident.isActive {
            blocks.append(.note("The incident is still open: the report covers it up to \(UTCTime.format(now)).", .warning))
        }
        blocks.append(.table(ReplyTable(title: "Written", columns: ["file", "what"],
                                        rows: files.map { [ReplyCell($0.path), ReplyCell($0.what)] })))
        blocks.append(.text("Fill in impact, root cause and lessons in the Markdown file."))
        // The Markdown and its SVG picture go to the room as files where the platform takes them.
        let paths = files.map(\.path).filter { $0.hasSuffix(".md") || $0.hasSuffix(".svg") }
        let attachments = try await ThreadExecutor.detached(name: "triage-postmortem-read") {
            try paths.map { path in
                ReplyAttachment(fileName: (path as NSString).lastPathComponent,
                                mimeType: path.hasSuffix(".svg") ? "image/svg+xml" : "text/markdown",
                                content: try String(contentsOfFile: path, encoding: .utf8))
            }
        }
        return CommandOutcome(reply: Reply(title: "Postmortem of incident #\(id)", blocks: blocks,
                                           summary: "postmortem of incident \(id) written to \(files.first?.path ?? "")",
                                           attachments: attachments.isEmpty ? nil : attachments))
    }
}
