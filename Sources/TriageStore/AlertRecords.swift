import Foundation
import GRDB

/// What Triage remembers about one Alertmanager alert (by fingerprint).
public struct AlertStateRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "alertState"

    public enum Status: String, Codable, Sendable {
        case firing, resolved
    }

    public var fingerprint: String
    public var alertname: String
    /// Labels as a JSON object.
    public var labels: String
    /// Annotations as a JSON object.
    public var annotations: String
    public var generatorURL: String?
    public var startsAt: Date
    public var firstSeen: Date
    public var lastSeen: Date
    /// Successful polls in a row that did not return this alert.
    public var missedPolls: Int
    public var status: Status
    public var resolvedAt: Date?
    /// Whether the room was told it fired (silenced alerts are not announced).
    public var announced: Bool
    public var platform: String?
    public var room: String?
    /// The outbox key of the announcement.
    public var messageKey: String?
    /// The incident the alert was recorded in.
    public var incidentID: Int64?
    /// Whether this alert opened that incident.
    public var openedIncident: Bool

    public init(fingerprint: String, alertname: String, labels: String, annotations: String, generatorURL: String?,
                startsAt: Date, firstSeen: Date, lastSeen: Date, missedPolls: Int = 0, status: Status = .firing,
                resolvedAt: Date? = nil, announced: Bool = false, platform: String? = nil, room: String? = nil,
                messageKey: String? = nil, incidentID: Int64? = nil, openedIncident: Bool = false) {
        self.fingerprint = fingerprint
        self.alertname = alertname
        self.labels = labels
        self.annotations = annotations
        self.generatorURL = generatorURL
        self.startsAt = startsAt
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.missedPolls = missedPolls
        self.status = status
        self.resolvedAt = resolvedAt
        self.announced = announced
        self.platform = platform
        self.room = room
        self.messageKey = messageKey
        self.incidentID = incidentID
        self.openedIncident = openedIncident
    }
}

/// A silence created from chat (Alertmanager holds the silence itself; this is who, where, why).
public struct AlertSilenceRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "alertSilence"

    /// Alertmanager's silence id.
    public var id: String
    /// The matchers as typed, normalised (`alertname="X", datname!="y"`).
    public var matchers: String
    public var createdBy: String
    public var comment: String
    public var platform: String
    public var room: String
    public var startsAt: Date
    public var endsAt: Date
    public var expiredAt: Date?
    public var expiredBy: String?
    public var incidentID: Int64?

    public init(id: String, matchers: String, createdBy: String, comment: String, platform: String, room: String,
                startsAt: Date, endsAt: Date, expiredAt: Date? = nil, expiredBy: String? = nil, incidentID: Int64? = nil) {
        self.id = id
        self.matchers = matchers
        self.createdBy = createdBy
        self.comment = comment
        self.platform = platform
        self.room = room
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.expiredAt = expiredAt
        self.expiredBy = expiredBy
        self.incidentID = incidentID
    }
}

extension AlertStateRecord {
    public enum Columns: String, ColumnExpression {
        case incidentID, status
    }
}

extension AlertSilenceRecord {
    public enum Columns: String, ColumnExpression {
        case expiredAt, expiredBy
    }
}
