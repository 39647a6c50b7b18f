import Foundation

/// Derives a ``Postmortem`` from an incident and its timeline in one pass over the events.
public enum PostmortemBuilder {
    /// The actor of events Triage records by itself (snapshots); not listed as a participant.
    public static let botActor = "triage"

    /// - Parameters:
    ///   - incident: the incident.
    ///   - events: its timeline, in order.
    ///   - generatedAt: now (the end of an incident that is still open).
    public static func build(incident: Incident, events: [TimelineEvent], generatedAt: Date) -> Postmortem {
        var counts: [String: Int] = [:]
        var order: [String] = []
        var followUps: [Int] = []
        var withOutput: [Int] = []
        var phases: [Postmortem.Phase] = []
        var current = IncidentStatus.investigating
        var start = incident.openedAt
        var lastAt = incident.openedAt

        func switchTo(_ status: IncidentStatus, at: Date) {
            guard status != current else { return }
            if at > start { phases.append(.init(status: current, start: start, end: at)) }
            current = status
            start = max(start, at)
        }

        for (i, e) in events.enumerated() {
            if let n = counts[e.actor] {
                counts[e.actor] = n + 1
            } else {
                counts[e.actor] = 1
                order.append(e.actor)
            }
            if e.at > lastAt { lastAt = e.at }
            if e.output != nil { withOutput.append(i) }
            switch e.kind {
            case .followUp: followUps.append(i)
            case .status: if let to = statusTarget(e) { switchTo(to, at: e.at) }
            case .resolved: switchTo(.resolved, at: e.at)
            case .reopened: switchTo(.investigating, at: e.at)
            default: break
            }
        }
        let end = max(incident.resolvedAt ?? generatedAt, lastAt)
        if end > start || phases.isEmpty { phases.append(.init(status: current, start: start, end: max(end, start))) }

        // Role holders first, then everyone else in order of first appearance.
        var roles: [String: [String]] = [:]
        var people: [String] = []
        for (role, person) in incident.roleHolders {
            if roles[person] == nil { people.append(person) }
            roles[person, default: []].append(role.rawValue)
        }
        if roles[incident.openedBy] == nil { people.append(incident.openedBy) }
        roles[incident.openedBy, default: []].append("opener")
        for actor in order where roles[actor] == nil && actor != botActor {
            people.append(actor)
            roles[actor] = []
        }
        let participants = people.map { Postmortem.Participant(name: $0, roles: roles[$0] ?? [], events: counts[$0] ?? 0) }

        return Postmortem(incident: incident, events: events, generatedAt: generatedAt, moments: KeyMoments(incident),
                          end: end, phases: phases, participants: participants, followUps: followUps, withOutput: withOutput)
    }

    private struct StatusPayload: Decodable { var to: String }

    /// The status a `status` event moved to (from its payload `{"from":…,"to":…}`).
    static func statusTarget(_ e: TimelineEvent) -> IncidentStatus? {
        guard let payload = e.payload,
              let p = try? JSONDecoder().decode(StatusPayload.self, from: Data(payload.utf8)) else { return nil }
        return IncidentStatus(rawValue: p.to)
    }
}
