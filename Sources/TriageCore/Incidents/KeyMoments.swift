import Foundation

/// The moments a review asks about, derived from an incident, and the times between them.
///
/// - detected: when the incident was opened;
/// - acknowledged: first time someone took it on (`/ack` from paging, a commander named with
///   `/role commander`, or the first status change past investigating, `/resolve` included);
/// - mitigated: first `/status monitoring`;
/// - resolved: the final resolution (a `/reopen` clears it).
public struct KeyMoments: Sendable, Equatable {
    public var detected: Date
    public var acknowledged: Date?
    public var mitigated: Date?
    public var resolved: Date?

    public init(_ incident: Incident) {
        detected = incident.openedAt
        acknowledged = incident.acknowledgedAt
        mitigated = incident.mitigatedAt
        resolved = incident.resolvedAt
    }

    /// Time to acknowledge, in seconds.
    public var timeToAcknowledge: Double? { acknowledged.map { $0.timeIntervalSince(detected) } }
    /// Time to mitigate, in seconds.
    public var timeToMitigate: Double? { mitigated.map { $0.timeIntervalSince(detected) } }
    /// Time to resolve, in seconds.
    public var timeToResolve: Double? { resolved.map { $0.timeIntervalSince(detected) } }

    /// The times between detection and the other moments, in the order every report shows
    /// them: the name people read (`time to acknowledge`), its abbreviation, the JSON key.
    public var intervals: [(name: String, abbreviation: String?, key: String, seconds: Double?)] {
        [("time to acknowledge", "TTA", "timeToAcknowledgeSeconds", timeToAcknowledge),
         ("time to mitigate", nil, "timeToMitigateSeconds", timeToMitigate),
         ("time to resolve", "TTR", "timeToResolveSeconds", timeToResolve)]
    }

    /// The moments in order, as (name, time) pairs; missing ones have a nil time.
    public var list: [(name: String, at: Date?)] {
        [("detected", detected), ("acknowledged", acknowledged), ("mitigated", mitigated), ("resolved", resolved)]
    }

    /// `4m00s` or `-` when the moment has not happened.
    public static func format(_ seconds: Double?) -> String {
        seconds.map { DurationFormatter.format(seconds: $0) } ?? "-"
    }
}
