import Foundation
import TriageCore

/// Opsgenie Alert API v2: create an alert with the page's key as `alias`, then
/// acknowledge or close it by alias. Responses are 202 and processed asynchronously.
public struct OpsgenieProvider: PagingProvider {
    public let name: String
    let apiKey: String
    let baseURL: String
    let timeout: Double

    /// - Parameters:
    ///   - apiKey: an API integration key (a secret: read from the environment).
    ///   - baseURL: `https://api.opsgenie.com` (or the EU instance), or a local receiver in tests.
    public init(name: String = "opsgenie", apiKey: String, baseURL: String, timeout: Double = 10) {
        self.name = name
        self.apiKey = apiKey
        self.baseURL = Self.withoutTrailingSlash(baseURL)
        self.timeout = timeout
    }

    public func supports(_ action: PageAction) -> Bool { true }

    static func priority(_ sev: String) -> String {
        switch Severity(text: sev) {
        case .sev1: "P1"
        case .sev2: "P2"
        case .sev3: "P3"
        default: "P4"
        }
    }

    public func request(for c: PageDeliveryContext) throws -> HTTPRequest {
        let auth = [("Authorization", "GenieKey \(apiKey)")]
        let alias = String(c.delivery.providerKey.prefix(512))
        switch PageAction(rawValue: c.delivery.action) ?? .trigger {
        case .trigger:
            let responders = c.recipients.map { p in
                p.opsgenieID.map { OpsgenieRequest.Responder(id: $0) } ?? OpsgenieRequest.Responder(username: p.email ?? p.name)
            }
            var details = ["page": "\(c.page.id ?? 0)", "policy": c.page.policyName, "level": "\(c.delivery.level + 1)",
                           "round": "\(c.delivery.round + 1)", "room": "\(c.page.platform):\(c.page.room)"]
            if let i = c.page.incidentID { details["incident"] = "\(i)" }
            let body = OpsgenieRequest.CreateAlert(
                message: String(c.title.prefix(130)), alias: alias,
                description: String("\(c.title)\nPaged: \(c.recipients.map(\.handle).joined(separator: ", "))\nAcknowledge in chat with /ack.".prefix(15000)),
                responders: responders, priority: Self.priority(c.page.severity), details: details, source: "Triage",
                tags: ["triage", c.page.severity])
            return .json("POST", baseURL + "/v2/alerts", body: try JSONBody.encode(body), headers: auth, timeout: timeout)
        case .acknowledge, .resolve:
            let verb = c.delivery.action == PageAction.acknowledge.rawValue ? "acknowledge" : "close"
            let escaped = alias.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? alias
            let body = OpsgenieRequest.AlertAction(user: c.actor ?? "Triage", source: "Triage",
                                                   note: verb == "close" ? "Resolved in Triage" : "Acknowledged in Triage")
            return .json("POST", baseURL + "/v2/alerts/\(escaped)/\(verb)?identifierType=alias", body: try JSONBody.encode(body),
                         headers: auth, timeout: timeout)
        }
    }
}
