import Foundation
import TriageHandlers
import TriageChat
import TriageCore
import TriageStore

/// Pages when an incident of a configured severity is opened or reopened (`paging.auto_page`),
/// or raised to such a severity; stops the automatic page when the severity is lowered below;
/// resolves its pages at the providers when the incident is resolved.
public struct PagingIncidentObserver: IncidentObserver {
    let pager: Pager

    public init(pager: Pager) {
        self.pager = pager
    }

    public func incidentChanged(_ event: IncidentEvent, in tx: StoreTransaction) throws {
        switch event.kind {
        case .opened, .reopened: try incidentOpened(event.incident, by: event.actor, at: event.at, in: tx)
        case .resolved: try incidentResolved(event.incident, by: event.actor, at: event.at, in: tx)
        case .severityChanged(let from, _): try incidentSeverityChanged(event.incident, from: from, by: event.actor, at: event.at, in: tx)
        }
    }

    func incidentOpened(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws {
        guard let name = pager.config.autoPage[incident.severity], let policy = pager.config.policies[name] else { return }
        _ = try pager.start(Pager.Start(platform: incident.platform, room: incident.room, incidentID: incident.id,
                                        summary: incident.title, severity: incident.severity, openedBy: actor,
                                        policy: policy, auto: true), at: date, in: tx)
    }

    /// Raised to a severity that pages automatically: pages (unless an automatic page is
    /// running). Lowered below every severity that does: its automatic pages stop, with a
    /// notice in the room, and their alerts are resolved at the providers.
    func incidentSeverityChanged(_ incident: Incident, from previous: Severity, by actor: String, at date: Date,
                                        in tx: StoreTransaction) throws {
        guard let id = incident.id else { return }
        if pager.config.autoPage[incident.severity] != nil {
            try incidentOpened(incident, by: actor, at: date, in: tx)
            return
        }
        let levels = pager.config.autoPage.keys.sorted().map(\.rawValue).joined(separator: ", ")
        for page in try tx.unresolvedPages(incident: id) where page.auto && page.phase != "acknowledged" {
            let reason = "stopped: incident #\(id) lowered from \(previous.rawValue) to \(incident.severity.rawValue) by \(actor), "
                + "below automatic paging (\(levels))"
            let report = try pager.resolve(page, by: actor, at: date, in: tx, reason: reason)
            var text = "Page #\(page.id ?? 0) " + reason + "; escalation stopped"
            if !report.followUps.isEmpty { text += "; resolve sent to " + report.followUps.joined(separator: ", ") }
            text += ". Page again with /page POLICY|@person if needed."
            try pager.mention(Reply(blocks: [.note(text, .warning)], summary: text), platform: page.platform, room: page.room,
                              key: "page:\(page.id ?? 0):stopped", at: date, in: tx)
        }
    }

    func incidentResolved(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws {
        guard let id = incident.id else { return }
        for page in try tx.unresolvedPages(incident: id) {
            _ = try pager.resolve(page, by: actor, at: date, in: tx)
        }
    }
}
