import Foundation
import TriageCore

/// A generic webhook posting Alertmanager's notification shape (`version: "4"`): `firing`
/// when a level is paged, `acknowledged` when someone acknowledges the page, `resolved` when
/// the incident is. Every call for an incident carries the same `groupKey` and fingerprint.
public struct AlertmanagerWebhookProvider: PagingProvider {
    public let name: String
    let url: String
    let receiver: String
    let externalURL: String
    let timeout: Double

    public init(name: String = "webhook", url: String, receiver: String = "triage", externalURL: String = "", timeout: Double = 10) {
        self.name = name
        self.url = url
        self.receiver = receiver
        self.externalURL = externalURL
        self.timeout = timeout
    }

    public func supports(_ action: PageAction) -> Bool { true }

    /// A stable 16-hex-digit fingerprint (FNV-1a) of the key.
    static func fingerprint(_ key: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in key.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public func request(for c: PageDeliveryContext) throws -> HTTPRequest {
        let action = PageAction(rawValue: c.delivery.action) ?? .trigger
        let resolved = action == .resolve
        // Alertmanager itself only knows firing and resolved; `acknowledged` tells the receiver
        // that someone took the page (the alert is still active: endsAt stays open).
        let status = action == .resolve ? "resolved" : action == .acknowledge ? "acknowledged" : "firing"
        var labels = ["alertname": "TriagePage", "severity": c.page.severity, "policy": c.page.policyName,
                      "level": "\(c.delivery.level + 1)", "page": "\(c.page.id ?? 0)"]
        if let i = c.page.incidentID { labels["incident"] = "\(i)" }
        var annotations = ["summary": c.page.summary, "recipients": c.recipients.map(\.handle).joined(separator: ", "),
                           "room": "\(c.page.platform):\(c.page.room)"]
        if action == .acknowledge {
            annotations["acknowledged_by"] = c.actor ?? c.page.acknowledgedBy ?? ""
            annotations["acknowledged_at"] = UTCTime.iso(c.page.acknowledgedAt ?? c.at)
        }
        let alert = AlertmanagerNotification.Alert(
            status: status, labels: labels, annotations: annotations, startsAt: UTCTime.iso(c.page.createdAt),
            endsAt: resolved ? UTCTime.iso(c.at) : "0001-01-01T00:00:00Z", generatorURL: externalURL,
            fingerprint: Self.fingerprint(c.delivery.providerKey))
        let body = AlertmanagerNotification(status: status, receiver: receiver, groupKey: c.delivery.providerKey,
                                            groupLabels: ["alertname": "TriagePage"], commonLabels: labels,
                                            commonAnnotations: annotations, externalURL: externalURL, alerts: [alert])
        return .json("POST", url, body: try JSONBody.encode(body), timeout: timeout)
    }
}
