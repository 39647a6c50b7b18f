import Foundation
import TriageCore

/// The result of one diagnostic run for an announcement.
public struct DiagnosticResult: Sendable, Equatable {
    /// The command as run (`/pg bloat --db main`).
    public var line: String
    public var reply: Reply

    public init(line: String, reply: Reply) {
        self.line = line
        self.reply = reply
    }
}

/// The chat messages of the alert flow, as platform-neutral replies.
public enum AlertMessages {
    /// Labels not worth repeating in every message.
    static let quietLabels: Set<String> = ["alertname"]

    static func mark(_ severity: Severity) -> Mark { severity <= .sev2 ? .critical : .warning }

    static func labelText(_ labels: LabelSet, without: Set<String> = quietLabels) -> String {
        labels.filter { !without.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// One message: the alert (summary, labels, since when, links), then each diagnostic's
    /// result, then the suggested remedy.
    public static func announcement(_ alert: FollowedAlert, severity: Severity, database: String?, diagnostics: [DiagnosticResult],
                                    remedy: String?, incident: (id: Int64, opened: Bool)?, now: Date) -> Reply {
        var blocks: [ReplyBlock] = []
        let summary = alert.annotations["summary"] ?? alert.annotations["message"] ?? alert.alertname
        blocks.append(.note(summary, mark(severity)))
        if let d = alert.annotations["description"], d != summary { blocks.append(.text(d)) }
        var kv: [KeyValue] = [
            KeyValue("severity", (alert.labels["severity"] ?? "-") + " → \(severity.rawValue)", mark: mark(severity)),
            KeyValue("since", UTCTime.format(alert.startsAt) + " (\(DurationFormatter.format(seconds: max(0, now.timeIntervalSince(alert.startsAt)))) ago)"),
            KeyValue("labels", labelText(alert.labels)),
        ]
        if let database { kv.append(KeyValue("database", database)) }
        if let g = alert.generatorURL, !g.isEmpty { kv.append(KeyValue("source", g)) }
        if let r = alert.annotations["runbook_url"], !r.isEmpty { kv.append(KeyValue("runbook", r)) }
        if let dash = alert.annotations["dashboard"], !dash.isEmpty { kv.append(KeyValue("dashboard", dash)) }
        kv.append(KeyValue("ref", "#\(alert.ref)"))
        blocks.append(.keyValues(kv))
        if let incident {
            blocks.append(.text(incident.opened
                ? "Opened incident #\(incident.id) (\(severity.rawValue)); recorded in its timeline."
                : "Recorded in incident #\(incident.id)'s timeline."))
        }
        for d in diagnostics {
            let head = d.line + (d.reply.summary.map { " — \($0)" } ?? "")
            blocks.append(.text(head))
            blocks.append(contentsOf: d.reply.blocks)
        }
        if let remedy { blocks.append(.note("Suggested: \(remedy)", .none)) }
        blocks.append(.text("Silence it: /silence #\(alert.ref) 2h \"reason\" · all firing: /alerts"))
        let worst = diagnostics.map { $0.reply.worstMark }.max() ?? .none
        return Reply(title: "Alert firing: \(alert.alertname)", blocks: blocks, mark: max(mark(severity), worst),
                     summary: "Alert \(alert.alertname) firing: \(summary)")
    }

    /// The short notice when an announced alert resolves.
    public static func resolved(_ alert: FollowedAlert, at now: Date, incident: Int64?, incidentResolved: Bool) -> Reply {
        let after = DurationFormatter.format(seconds: max(0, now.timeIntervalSince(alert.startsAt)))
        var text = "Resolved after \(after): \(alert.alertname)"
        let labels = labelText(alert.labels)
        if !labels.isEmpty { text += " (\(labels))" }
        text += " #\(alert.ref)"
        var blocks: [ReplyBlock] = [.note(text, .ok)]
        if let incident {
            blocks.append(.text(incidentResolved
                ? "Incident #\(incident) resolved: every alert in it has resolved."
                : "Incident #\(incident) stays open: /resolve when the cause is dealt with."))
        }
        return Reply(blocks: blocks, mark: .ok, summary: "Alert \(alert.alertname) resolved after \(after)")
    }

    /// The announcement `original` as it reads once its alert resolved (it is edited to this;
    /// the short ``resolved(_:at:incident:incidentResolved:)`` reply still notifies): what it
    /// said, under a title that says it is over, without buttons.
    public static func resolvedAnnouncement(_ original: Reply, alert: FollowedAlert, at now: Date) -> Reply {
        let after = DurationFormatter.format(seconds: max(0, now.timeIntervalSince(alert.startsAt)))
        var edited = original
        edited.title = "Resolved: \(alert.alertname) (after \(after))"
        edited.blocks.insert(.note("Resolved at \(UTCTime.format(now)), after \(after). #\(alert.ref)", .ok), at: 0)
        edited.mark = .ok
        edited.buttons = nil
        edited.summary = "Alert \(alert.alertname) resolved after \(after)"
        return edited
    }

    /// The announcement `original` as it reads once a silence covers its alert (edited to this;
    /// the silence's own reply, or ``silencedNotice(_:silenceID:by:until:)`` in another room,
    /// notifies): who silenced it until when, what it said, without buttons.
    public static func silencedAnnouncement(_ original: Reply, alert: FollowedAlert, silenceID: String, by person: String,
                                            until end: Date) -> Reply {
        var edited = original
        edited.title = "Silenced: \(alert.alertname) until \(UTCTime.format(end)) by \(person)"
        edited.blocks.insert(.note("Silenced by \(person) until \(UTCTime.format(end)) (silence \(silenceID.prefix(8)); "
                                   + "/unsilence \(silenceID.prefix(8)) ends it early). #\(alert.ref)", .none), at: 0)
        edited.mark = .none
        edited.buttons = nil
        edited.summary = "Alert \(alert.alertname) silenced by \(person) until \(UTCTime.format(end))"
        return edited
    }

    /// The short reply to an announcement in a room other than the one the silence was made in.
    public static func silencedNotice(_ alert: FollowedAlert, silenceID: String, by person: String, until end: Date) -> Reply {
        Reply(blocks: [.note("Silenced by \(person) until \(UTCTime.format(end)): \(alert.alertname) #\(alert.ref) "
                             + "(silence \(silenceID.prefix(8)))", .none)],
              summary: "Alert \(alert.alertname) silenced by \(person) until \(UTCTime.format(end))")
    }

    /// One message for the alerts beyond the per-poll limit (no flood after an outage).
    public static func digest(_ alerts: [FollowedAlert], now: Date) -> Reply {
        let rows = alerts.prefix(50).map { a -> [ReplyCell] in
            [ReplyCell(a.alertname), ReplyCell(labelText(a.labels)),
             ReplyCell(DurationFormatter.format(seconds: max(0, now.timeIntervalSince(a.startsAt)))), ReplyCell("#\(a.ref)")]
        }
        var blocks: [ReplyBlock] = [.table(ReplyTable(columns: ["alert", "labels", "firing for", "ref"], rows: Array(rows)))]
        if alerts.count > 50 { blocks.append(.text("… and \(alerts.count - 50) more.")) }
        blocks.append(.text("Diagnostics were skipped for these; /alerts lists what is firing."))
        return Reply(title: "\(alerts.count) more alerts firing", blocks: blocks, mark: .warning,
                     summary: "\(alerts.count) more alerts firing")
    }
}
