import Foundation

/// One alert as Triage follows it: what Alertmanager said, and what Triage did about it.
public struct FollowedAlert: Sendable, Equatable {
    public enum Status: String, Sendable {
        case firing, resolved
    }

    public var fingerprint: String
    public var labels: LabelSet
    public var annotations: LabelSet
    public var generatorURL: String?
    /// Alertmanager's `startsAt`: when the condition began.
    public var startsAt: Date
    /// When Triage first saw it.
    public var firstSeen: Date
    public var lastSeen: Date
    /// Successful polls in a row without it.
    public var missedPolls: Int
    public var status: Status
    public var resolvedAt: Date?
    /// Silenced or inhibited at the last poll that saw it.
    public var suppressed: Bool
    /// Whether a room was told it fired.
    public var announced: Bool
    public var platform: String?
    public var room: String?
    public var messageKey: String?
    public var incidentID: Int64?
    public var openedIncident: Bool

    public init(fingerprint: String, labels: LabelSet, annotations: LabelSet = [:], generatorURL: String? = nil,
                startsAt: Date, firstSeen: Date, lastSeen: Date, missedPolls: Int = 0, status: Status = .firing,
                resolvedAt: Date? = nil, suppressed: Bool = false, announced: Bool = false, platform: String? = nil,
                room: String? = nil, messageKey: String? = nil, incidentID: Int64? = nil, openedIncident: Bool = false) {
        self.fingerprint = fingerprint
        self.labels = labels
        self.annotations = annotations
        self.generatorURL = generatorURL
        self.startsAt = startsAt
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.missedPolls = missedPolls
        self.status = status
        self.resolvedAt = resolvedAt
        self.suppressed = suppressed
        self.announced = announced
        self.platform = platform
        self.room = room
        self.messageKey = messageKey
        self.incidentID = incidentID
        self.openedIncident = openedIncident
    }

    public var alertname: String { labels["alertname"] ?? "(no alertname)" }
    /// The short reference shown in chat (`/silence #3f2a9c1d`).
    public var ref: String { String(fingerprint.prefix(8)) }
}

/// What a poll means for the room.
public enum AlertTransition: Sendable, Equatable {
    /// Announce it: new, refired, or no longer silenced and never announced.
    case fired(String)
    /// An announced alert has been gone for the configured number of polls.
    case resolved(String)
}

/// The follow state machine: Alertmanager's answers in, transitions out. A value type with
/// no clock of its own (every call says when it is), restored from the store after a restart.
///
/// - A fingerprint it knows as firing is never announced twice.
/// - An alert missing from `resolveAfterMissedPolls` successful polls in a row is resolved
///   (Alertmanager drops alerts whose `endsAt` passed); one whose `endsAt` passed counts as missing.
/// - Failed polls change nothing, and polls made while `countMisses` is false (just after an
///   outage, while Prometheus re-sends) resolve nothing.
/// - Silenced or inhibited alerts are followed but not announced until they are not.
public struct AlertTracker: Sendable {
    public private(set) var alerts: [String: FollowedAlert]
    public var resolveAfterMissedPolls: Int
    /// Fingerprints whose persisted state changed since ``takeChanges()``.
    public private(set) var changed: Set<String> = []
    /// Fingerprints forgotten (pruned) since ``takeChanges()``.
    public private(set) var forgotten: Set<String> = []

    public init(known: [FollowedAlert] = [], resolveAfterMissedPolls: Int = 2) {
        alerts = Dictionary(known.map { ($0.fingerprint, $0) }, uniquingKeysWith: { a, _ in a })
        self.resolveAfterMissedPolls = max(1, resolveAfterMissedPolls)
    }

    /// Applies one successful poll.
    public mutating func observe(_ seen: [String: AMAlert], at now: Date, countMisses: Bool = true) -> [AlertTransition] {
        var fired: [FollowedAlert] = []
        var resolved: [FollowedAlert] = []
        for (fp, a) in seen where a.endsAt > now || a.endsAt.timeIntervalSince1970 <= 0 {
            let suppressed = a.status.state == .suppressed
            if var known = alerts[fp] {
                if known.status == .resolved {
                    // Fired again after Triage said it resolved: a new episode.
                    known = FollowedAlert(fingerprint: fp, labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL,
                                          startsAt: a.startsAt, firstSeen: now, lastSeen: now, suppressed: suppressed)
                    changed.insert(fp)
                } else {
                    if known.missedPolls != 0 || known.suppressed != suppressed || known.labels != a.labels
                        || known.annotations != a.annotations || known.generatorURL != a.generatorURL {
                        changed.insert(fp)
                    }
                    known.missedPolls = 0
                    known.suppressed = suppressed
                    known.labels = a.labels
                    known.annotations = a.annotations
                    known.generatorURL = a.generatorURL
                    known.lastSeen = now
                }
                alerts[fp] = known
                if !known.announced && !suppressed { fired.append(known) }
            } else {
                let new = FollowedAlert(fingerprint: fp, labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL,
                                        startsAt: a.startsAt, firstSeen: now, lastSeen: now, suppressed: suppressed)
                alerts[fp] = new
                changed.insert(fp)
                if !suppressed { fired.append(new) }
            }
        }
        if countMisses {
            for (fp, var known) in alerts where known.status == .firing {
                if let a = seen[fp], a.endsAt > now || a.endsAt.timeIntervalSince1970 <= 0 { continue }
                known.missedPolls += 1
                if known.missedPolls >= resolveAfterMissedPolls {
                    known.status = .resolved
                    known.resolvedAt = now
                    if known.announced { resolved.append(known) }
                }
                alerts[fp] = known
                changed.insert(fp)
            }
        }
        fired.sort { ($0.startsAt, $0.fingerprint) < ($1.startsAt, $1.fingerprint) }
        resolved.sort { ($0.startsAt, $0.fingerprint) < ($1.startsAt, $1.fingerprint) }
        return fired.map { .fired($0.fingerprint) } + resolved.map { .resolved($0.fingerprint) }
    }

    /// Records where an alert was announced.
    public mutating func markAnnounced(_ fingerprint: String, platform: String?, room: String?, messageKey: String?,
                                       incidentID: Int64?, openedIncident: Bool) {
        guard var a = alerts[fingerprint] else { return }
        a.announced = true
        a.platform = platform
        a.room = room
        a.messageKey = messageKey
        a.incidentID = incidentID
        a.openedIncident = openedIncident
        alerts[fingerprint] = a
        changed.insert(fingerprint)
    }

    /// Forgets resolved alerts resolved before `date` (a refire later is a new alert anyway).
    public mutating func prune(resolvedBefore date: Date) {
        for (fp, a) in alerts where a.status == .resolved && (a.resolvedAt ?? .distantPast) < date {
            alerts[fp] = nil
            changed.remove(fp)
            forgotten.insert(fp)
        }
    }

    /// The alerts to write to the store and the fingerprints to delete, since the last call.
    public mutating func takeChanges() -> (save: [FollowedAlert], delete: [String]) {
        let save = changed.compactMap { alerts[$0] }
        let delete = Array(forgotten)
        changed.removeAll(keepingCapacity: true)
        forgotten.removeAll(keepingCapacity: true)
        return (save, delete)
    }

    public var firing: [FollowedAlert] { alerts.values.filter { $0.status == .firing } }
}
