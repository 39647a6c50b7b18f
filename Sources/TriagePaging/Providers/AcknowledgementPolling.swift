import Foundation
import TriageCore

/// An acknowledgement made in a provider (its app, phone call, e-mail), seen by asking its
/// REST API about the alert Triage opened.
public struct ProviderAcknowledgement: Sendable, Equatable {
    /// The provider's user id (PagerDuty user id), if it says.
    public var userID: String?
    /// Who, as the provider names them (PagerDuty's user summary, Opsgenie's username).
    public var name: String?
    /// When, if the provider says.
    public var at: Date?

    public init(userID: String? = nil, name: String? = nil, at: Date? = nil) {
        self.userID = userID
        self.name = name
        self.at = at
    }
}

/// A provider that can be asked whether the alert with a key was acknowledged there.
public protocol AcknowledgementPolling: Sendable {
    /// Whether it is set up for it (PagerDuty needs a REST API token besides its routing key).
    var pollsAcknowledgements: Bool { get }
    /// The request asking about the alert with `providerKey`.
    func statusRequest(providerKey: String) throws -> HTTPRequest
    /// The acknowledgement in `response`, or nil when the alert is not acknowledged (or not
    /// there yet). Alerts created before `since` (an earlier page of a reopened incident) are
    /// not this page's. Throws a presentable error for a response it cannot read.
    func acknowledgement(from response: HTTPResponse, since: Date) throws -> ProviderAcknowledgement?
}

enum ProviderTime {
    /// An ISO 8601 time as the providers write it (with or without fractional seconds).
    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    /// Percent-encodes a key for a path segment or query value.
    static func escape(_ key: String) -> String {
        key.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? key
    }

    /// Allowance for clocks: an alert created up to this long before the page is still its own.
    static let skew: TimeInterval = 60
}

extension PagerDutyProvider: AcknowledgementPolling {
    public var pollsAcknowledgements: Bool { apiToken != nil }

    /// REST API v2 `GET /incidents?incident_key=KEY`: the incidents the Events API opened for
    /// the key (an alert's dedup key is its incident's `incident_key`).
    public func statusRequest(providerKey: String) throws -> HTTPRequest {
        var request = HTTPRequest(url: apiURL + "/incidents?incident_key=" + ProviderTime.escape(String(providerKey.prefix(255)))
                                  + "&date_range=all&limit=25", timeout: timeout)
        request.headers = [("Accept", "application/vnd.pagerduty+json;version=2"),
                           ("Authorization", "Token token=\(apiToken ?? "")")]
        return request
    }

    /// The incident for the key: `acknowledged` (the first acknowledgement's user and time), or
    /// `resolved` in PagerDuty after this page started; `triggered` is nil.
    public func acknowledgement(from response: HTTPResponse, since: Date) throws -> ProviderAcknowledgement? {
        guard response.status == 200 else {
            throw TriageError(.http, "PagerDuty REST API answered HTTP \(response.status)" + Self.bodyHint(response))
        }
        guard let incidents = try? JSONDecoder().decode(ProviderResponse.PagerDutyIncidents.self, from: response.body).incidents else {
            throw TriageError(.http, "PagerDuty REST API: no incidents list in the answer")
        }
        // An open incident (triggered or acknowledged) is this page's; otherwise the newest
        // resolved one, if it was opened after the page started (not an earlier page's).
        func created(_ i: ProviderResponse.PagerDutyIncidents.Incident) -> Date { ProviderTime.parse(i.createdAt) ?? .distantPast }
        let open = incidents.filter { $0.status != "resolved" }
        let candidates = open.isEmpty ? incidents : open
        guard let incident = candidates.enumerated().max(by: { (created($0.element), $0.offset) < (created($1.element), $1.offset) })?.element,
              let status = incident.status else { return nil }
        switch status {
        case "acknowledged":
            let first = incident.acknowledgements?.first
            return ProviderAcknowledgement(userID: first?.acknowledger?.id, name: first?.acknowledger?.summary,
                                           at: ProviderTime.parse(first?.at))
        case "resolved":
            guard created(incident) >= since.addingTimeInterval(-ProviderTime.skew) else { return nil }
            let by = incident.resolvedBy ?? incident.lastStatusChangeBy
            return ProviderAcknowledgement(userID: by?.id, name: by?.summary, at: ProviderTime.parse(incident.lastStatusChangeAt))
        default:
            return nil
        }
    }
}

extension OpsgenieProvider: AcknowledgementPolling {
    public var pollsAcknowledgements: Bool { true }

    /// Alert API v2 `GET /v2/alerts/KEY?identifierType=alias`.
    public func statusRequest(providerKey: String) throws -> HTTPRequest {
        var request = HTTPRequest(url: baseURL + "/v2/alerts/" + ProviderTime.escape(String(providerKey.prefix(512))) + "?identifierType=alias",
                                  timeout: timeout)
        request.headers = [("Authorization", "GenieKey \(apiKey)")]
        return request
    }

    /// `acknowledged: true` (with `report.acknowledgedBy` and `ackTime`, milliseconds after
    /// creation), or `status: closed` after this page started; 404 is "not created yet".
    public func acknowledgement(from response: HTTPResponse, since: Date) throws -> ProviderAcknowledgement? {
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw TriageError(.http, "Opsgenie Alert API answered HTTP \(response.status)" + Self.bodyHint(response))
        }
        guard let data = try? JSONDecoder().decode(ProviderResponse.OpsgenieAlert.self, from: response.body).data else {
            throw TriageError(.http, "Opsgenie Alert API: no data in the answer")
        }
        let created = ProviderTime.parse(data.createdAt)
        func after(_ ms: Double?) -> Date? {
            guard let created, let ms, ms >= 0, ms.isFinite else { return nil }
            return created.addingTimeInterval(ms / 1000)
        }
        if data.acknowledged == true {
            return ProviderAcknowledgement(name: data.report?.acknowledgedBy, at: after(data.report?.ackTime))
        }
        if data.status == "closed", let created, created >= since.addingTimeInterval(-ProviderTime.skew) {
            return ProviderAcknowledgement(name: data.report?.closedBy, at: after(data.report?.closeTime))
        }
        return nil
    }
}
