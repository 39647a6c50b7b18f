import Foundation

/// Alertmanager's webhook notification (`version: "4"`), as its documentation gives it: the
/// group's status, receiver, `groupKey`, labels and annotations, and the alerts.
struct AlertmanagerNotification: Encodable, Equatable {
    var version = "4"
    /// `firing`, `resolved` (and, from Triage, `acknowledged`).
    var status: String
    var receiver: String
    var groupKey: String
    var truncatedAlerts = 0
    var groupLabels: [String: String]
    var commonLabels: [String: String]
    var commonAnnotations: [String: String]
    var externalURL: String
    var alerts: [Alert]

    struct Alert: Encodable, Equatable {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: String
        /// `0001-01-01T00:00:00Z` while the alert is active.
        var endsAt: String
        var generatorURL: String
        var fingerprint: String
    }
}
