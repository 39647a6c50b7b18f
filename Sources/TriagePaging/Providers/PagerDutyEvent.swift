import Foundation

/// A PagerDuty Events API v2 event (`POST /v2/enqueue`), as documented: `routing_key`,
/// `event_action` (`trigger`, `acknowledge`, `resolve`) and `dedup_key`; a trigger also has
/// a `payload` (`summary`, `source`, `severity`, `timestamp`, `component`, `custom_details`)
/// and the `client` name.
struct PagerDutyEvent: Encodable, Equatable {
    var routingKey: String
    var eventAction: String
    var dedupKey: String
    var payload: Payload?
    var client: String?

    struct Payload: Encodable, Equatable {
        var summary: String
        var source: String
        /// `critical`, `error`, `warning` or `info`.
        var severity: String
        var timestamp: String
        var component: String
        var customDetails: Details

        enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component
            case customDetails = "custom_details"
        }
    }

    /// What Triage adds about the page (free-form in PagerDuty).
    struct Details: Encodable, Equatable {
        var page: Int64
        var policy: String
        var level: Int
        var round: Int
        var room: String
        var recipients: [String]
        var incident: Int64?
        var pagerdutyUsers: [String]?

        enum CodingKeys: String, CodingKey {
            case page, policy, level, round, room, recipients, incident
            case pagerdutyUsers = "pagerduty_users"
        }
    }

    enum CodingKeys: String, CodingKey {
        case routingKey = "routing_key"
        case eventAction = "event_action"
        case dedupKey = "dedup_key"
        case payload, client
    }
}
