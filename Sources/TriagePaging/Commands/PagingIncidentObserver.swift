import Foundation
import TriageHandlers
import TriageChat
import TriageCore
import TriageStore

/// Pages when an incident of a configured severity is opened (`paging.auto_page`) and
/// resolves its pages at the providers when the incident is resolved.
public struct PagingIncidentObserver: IncidentObserver {
    let pager: Pager

    public init(pager: Pager) {
        self.pager = pager
    }

    public func incidentChanged(_ event: IncidentEvent, in tx: StoreTransaction) throws {
        switch event.kind {
        case .opened: try incidentOpened(event.incident, by: event.actor, at: event.at, in: tx)
        case .resolved: try incidentResolved(event.incident, by: event.actor, at: event.at, in: tx)
        case .reopened, .severityChanged: break
        }
    }

    func incidentOpened(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws {
        guard let name = pager.config.autoPage[incident.severity], let policy = pager.config.policies[name] else { return }
        _ = try pager.start(Pager.Start(platform: incident.platform, room: incident.room, incidentID: incident.id,
                                        summary: incident.title, severity: incident.severity, openedBy: actor,
                                        policy: policy, auto: true), at: date, in: tx)
    }

    func incidentResolved(_ incident: Incident, by actor: String, at date: Date, in tx: StoreTransaction) throws {
        guard let id = incident.id else { return }
        for page in try tx.unresolvedPages(incident: id) {
            _ = try pager.resolve(page, by: actor, at: date, in: tx)
        }
    }
}
