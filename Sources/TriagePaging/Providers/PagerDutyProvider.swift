import Foundation
import TriageCore

/// PagerDuty Events API v2: `POST /v2/enqueue` with trigger, acknowledge and resolve events
/// that share the page's `dedup_key`. 202 is success, 400 is never retried, 429 and 5xx are.
public struct PagerDutyProvider: PagingProvider {
    public let name: String
    let routingKey: String
    let baseURL: String
    let source: String
    let timeout: Double
    /// A REST API token (a secret), for polling acknowledgements made in PagerDuty; nil: no polling.
    let apiToken: String?
    let apiURL: String

    /// - Parameters:
    ///   - routingKey: the integration's routing key (a secret: read from the environment).
    ///   - baseURL: `https://events.pagerduty.com`, or a local receiver in tests.
    ///   - apiToken: a REST API token (read from the environment), to see acknowledgements made
    ///     in PagerDuty; `apiURL` is `https://api.pagerduty.com` or a local stand-in.
    public init(name: String = "pagerduty", routingKey: String, baseURL: String, source: String = "triage", timeout: Double = 10,
                apiToken: String? = nil, apiURL: String = "https://api.pagerduty.com") {
        self.name = name
        self.routingKey = routingKey
        self.baseURL = Self.withoutTrailingSlash(baseURL)
        self.source = source
        self.timeout = timeout
        self.apiToken = apiToken
        self.apiURL = Self.withoutTrailingSlash(apiURL)
    }

    public func supports(_ action: PageAction) -> Bool { true }

    static func severity(_ sev: String) -> String {
        switch Severity(text: sev) {
        case .sev1: "critical"
        case .sev2: "error"
        case .sev3: "warning"
        default: "info"
        }
    }

    /// The event for one delivery.
    func event(for c: PageDeliveryContext) -> PagerDutyEvent {
        var event = PagerDutyEvent(routingKey: routingKey, eventAction: c.delivery.action,
                                   dedupKey: String(c.delivery.providerKey.prefix(255)))
        if c.delivery.action == PageAction.trigger.rawValue {
            let ids = c.recipients.compactMap(\.pagerdutyID)
            let details = PagerDutyEvent.Details(page: c.page.id ?? 0, policy: c.page.policyName, level: c.delivery.level + 1,
                                                 round: c.delivery.round + 1, room: "\(c.page.platform):\(c.page.room)",
                                                 recipients: c.recipients.map(\.handle), incident: c.page.incidentID,
                                                 pagerdutyUsers: ids.isEmpty ? nil : ids)
            event.payload = .init(summary: String(c.title.prefix(1024)), source: source, severity: Self.severity(c.page.severity),
                                  timestamp: UTCTime.iso(c.at), component: "postgresql", customDetails: details)
            event.client = "Triage"
        }
        return event
    }

    public func request(for c: PageDeliveryContext) throws -> HTTPRequest {
        .json("POST", baseURL + "/v2/enqueue", body: try JSONBody.encode(event(for: c)), timeout: timeout)
    }
}
