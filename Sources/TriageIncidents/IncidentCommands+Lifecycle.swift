import Foundation
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// The commands that change an incident.
extension IncidentCommands {
    func open(_ context: CommandContext) async throws -> CommandOutcome {
        let events = context.incidentEvents
        let m = context.message
        let at = context.now
        let severity = Severity(rawValue: context.arguments.string("severity") ?? "") ?? .sev3
        let title = context.arguments.string("title") ?? ""
        let line = context.parsed.line
        // Refuse before spending seconds on a snapshot; checked again when committing.
        if let store, let active = try await store.read({ tx in try tx.activeIncident(platform: m.platform, room: m.room) }) {
            throw Self.alreadyOpen(active)
        }
        let snapshot: DatabaseSnapshot
        if let database {
            snapshot = await DatabaseSnapshot.capture(database)
        } else {
            snapshot = DatabaseSnapshot(failure: "no database is configured")
        }
        let snapshotOutput = TextRenderer(maxCellWidth: 400).render(snapshot.reply)
        return Self.outcome { tx in
            if let active = try tx.activeIncident(platform: m.platform, room: m.room) {
                throw Self.alreadyOpen(active)
            }
            let incident = try tx.insert(Incident(platform: m.platform, room: m.room, title: title, severity: severity,
                                                  commander: m.senderName, openedBy: m.senderName, openedAt: at))
            let id = incident.id!
            try tx.append(TimelineEvent(incidentID: id, at: at, actor: m.senderName, kind: .opened, command: line,
                                        text: "Opened \(severity.rawValue): \(title)",
                                        payload: TimelinePayload.json(TimelinePayload.Opened(severity: severity.rawValue, commander: m.senderName))))
            try tx.append(TimelineEvent(incidentID: id, at: at, actor: "triage", kind: .snapshot, text: snapshot.summary,
                                        output: snapshotOutput, payload: snapshot.payloadJSON))
            try events.emit(IncidentEvent(.opened, incident: incident, actor: m.senderName, at: at), in: tx)
            return Reply(title: "Incident #\(id) opened", blocks: [
                .keyValues([
                    KeyValue("severity", severity.rawValue, mark: severity <= .sev2 ? .critical : .warning),
                    KeyValue("title", title),
                    KeyValue("status", IncidentStatus.investigating.rawValue),
                    KeyValue("commander", m.senderName),
                    KeyValue("opened", UTCTime.format(at)),
                ]),
                .note(snapshot.summary, snapshot.mark == .ok ? .none : snapshot.mark),
                .text("Commands run here are now recorded. /note, /status, /role, /action, /resolve."),
            ], summary: "incident \(id) opened")
        }
    }

    static func alreadyOpen(_ active: Incident) -> TriageError {
        TriageError(.conflict, "Incident #\(active.id!) is already open here: \(active.title). Resolve it first (one open incident per room).")
    }

    func severity(_ context: CommandContext) -> CommandOutcome {
        let events = context.incidentEvents
        let m = context.message, at = context.now
        let severity = Severity(rawValue: context.arguments.string("severity") ?? "") ?? .sev3
        return Self.outcome { tx in
            var incident = try Self.active(tx, m)
            guard incident.severity != severity else {
                throw TriageError(.conflict, "Incident #\(incident.id!) is already \(severity.rawValue).")
            }
            let from = incident.severity
            incident.severity = severity
            try tx.update(incident)
            try events.emit(IncidentEvent(.severityChanged(from: from, to: severity), incident: incident, actor: m.senderName, at: at), in: tx)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .severity,
                                                text: "Severity \(from.rawValue) → \(severity.rawValue)",
                                                payload: Self.change(from.rawValue, severity.rawValue)))
            return Reply.text("Incident #\(incident.id!) is now \(severity.rawValue) (was \(from.rawValue)); event \(e.id!).",
                              mark: severity < from ? .warning : .none)
        }
    }

    func status(_ context: CommandContext) -> CommandOutcome {
        let to = IncidentStatus(rawValue: context.arguments.string("status") ?? "") ?? .investigating
        if to == .resolved { return resolve(context) }
        let m = context.message, at = context.now
        return Self.outcome { tx in
            var incident = try Self.active(tx, m)
            guard incident.status != to else {
                throw TriageError(.conflict, "Incident #\(incident.id!) is already \(to.rawValue).")
            }
            let from = incident.status
            incident.status = to
            if to != .investigating, incident.acknowledgedAt == nil { incident.acknowledgedAt = at }
            if to == .monitoring, incident.mitigatedAt == nil { incident.mitigatedAt = at }
            try tx.update(incident)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .status,
                                                text: "Status \(from.rawValue) → \(to.rawValue)",
                                                payload: Self.change(from.rawValue, to.rawValue)))
            var text = "Incident #\(incident.id!) is now \(to.rawValue) (was \(from.rawValue)); event \(e.id!)."
            if to == .monitoring { text += " Mitigated after \(DurationFormatter.format(seconds: at.timeIntervalSince(incident.openedAt)))." }
            return Reply.text(text, mark: to == .monitoring ? .ok : .none)
        }
    }

    func role(_ context: CommandContext) -> CommandOutcome {
        let m = context.message, at = context.now
        let role = IncidentRole(rawValue: context.arguments.string("role") ?? "") ?? .commander
        var person = (context.arguments.string("person") ?? "").trimmingCharacters(in: .whitespaces)
        if person.lowercased() == "me" { person = m.senderName }
        let who = person
        return Self.outcome { tx in
            guard !who.isEmpty, who.count <= 100 else { throw TriageError(.conflict, "Name someone: /role \(role.rawValue) @name (or me).") }
            var incident = try Self.active(tx, m)
            let from = incident.holder(of: role)
            guard from != who else {
                throw TriageError(.conflict, "\(who) is already \(role.rawValue) of incident #\(incident.id!).")
            }
            incident.assign(role, to: who)
            if role == .commander, incident.acknowledgedAt == nil { incident.acknowledgedAt = at }
            try tx.update(incident)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .role,
                                                text: "\(role.rawValue.capitalized): \(who)" + (from.map { " (was \($0))" } ?? ""),
                                                payload: Self.change(from, who, role: role.rawValue)))
            return Reply.text("\(who) is now \(role.rawValue) of incident #\(incident.id!)" + (from.map { " (was \($0))" } ?? "") + "; event \(e.id!).")
        }
    }

    func note(_ context: CommandContext) -> CommandOutcome {
        let m = context.message, at = context.now
        let text = context.arguments.string("text") ?? ""
        return Self.outcome { tx in
            let incident = try Self.active(tx, m)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .note, text: text))
            return Reply(blocks: [.text("Noted in incident #\(incident.id!) (event \(e.id!)).")], summary: "note")
        }
    }

    func followUp(_ context: CommandContext) -> CommandOutcome {
        let m = context.message, at = context.now
        let text = context.arguments.string("text") ?? ""
        return Self.outcome { tx in
            let incident = try Self.active(tx, m)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .followUp, text: text))
            let n = try tx.eventCount(incident: incident.id!, kind: .followUp)
            return Reply.text("Follow-up \(n) recorded for incident #\(incident.id!) (event \(e.id!)); it will be a checklist item in the postmortem.")
        }
    }

    func resolve(_ context: CommandContext) -> CommandOutcome {
        let events = context.incidentEvents
        let m = context.message, at = context.now
        let summary = context.arguments.string("summary")
        return Self.outcome { tx in
            var incident = try Self.active(tx, m)
            let from = incident.status
            incident.status = .resolved
            incident.resolvedAt = at
            if incident.acknowledgedAt == nil { incident.acknowledgedAt = at }
            if let summary, !summary.isEmpty { incident.summary = summary }
            try tx.update(incident)
            try events.emit(IncidentEvent(.resolved, incident: incident, actor: m.senderName, at: at), in: tx)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .resolved,
                                                text: "Resolved" + (summary.map { ": \($0)" } ?? ""),
                                                payload: Self.change(from.rawValue, IncidentStatus.resolved.rawValue)))
            let moments = KeyMoments(incident)
            let followUps = try tx.eventCount(incident: incident.id!, kind: .followUp)
            return Reply(title: "Incident #\(incident.id!) resolved",
                         blocks: [.keyValues([
                            KeyValue("resolved", UTCTime.format(at)),
                            KeyValue("duration", DurationFormatter.format(seconds: at.timeIntervalSince(incident.openedAt))),
                         ] + moments.intervals.map { KeyValue($0.name, KeyMoments.format($0.seconds)) } + [
                            KeyValue("follow-ups", "\(followUps)"),
                            KeyValue("event", "\(e.id!)"),
                         ]), .text("Write the report with /postmortem.")],
                         mark: .ok, summary: "incident \(incident.id!) resolved")
        }
    }

    func reopen(_ context: CommandContext) -> CommandOutcome {
        let events = context.incidentEvents
        let m = context.message, at = context.now
        let reason = context.arguments.string("reason")
        return Self.outcome { tx in
            if let active = try tx.activeIncident(platform: m.platform, room: m.room) {
                throw TriageError(.conflict, "Incident #\(active.id!) is still open here; nothing to reopen.")
            }
            guard var incident = try tx.latestIncident(platform: m.platform, room: m.room) else {
                throw TriageError(.notFound, "No incident in this room to reopen.")
            }
            incident.status = .investigating
            incident.resolvedAt = nil
            try tx.update(incident)
            try events.emit(IncidentEvent(.reopened, incident: incident, actor: m.senderName, at: at), in: tx)
            let e = try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .reopened,
                                                text: "Reopened" + (reason.map { ": \($0)" } ?? ""),
                                                payload: Self.change(IncidentStatus.resolved.rawValue, IncidentStatus.investigating.rawValue)))
            return Reply(title: "Incident #\(incident.id!) reopened",
                         blocks: [.keyValues([KeyValue("status", "investigating"), KeyValue("severity", incident.severity.rawValue),
                                              KeyValue("commander", incident.commander ?? "-"), KeyValue("event", "\(e.id!)")])],
                         mark: .warning, summary: "incident \(incident.id!) reopened")
        }
    }
}
