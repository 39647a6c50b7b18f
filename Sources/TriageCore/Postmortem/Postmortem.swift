import Foundation

/// Everything a postmortem shows, derived once from an incident and its timeline; the
/// Markdown, SVG and JSON renderers only format it.
public struct Postmortem: Sendable {
    /// A stretch of time in one status (the bands of the timeline picture).
    public struct Phase: Sendable, Equatable {
        public var status: IncidentStatus
        public var start: Date
        public var end: Date

        public init(status: IncidentStatus, start: Date, end: Date) {
            self.status = status
            self.start = start
            self.end = end
        }

        public var seconds: Double { end.timeIntervalSince(start) }
    }

    /// Someone who took part: their roles and how many events they produced.
    public struct Participant: Sendable, Equatable {
        public var name: String
        public var roles: [String]
        public var events: Int

        public init(name: String, roles: [String], events: Int) {
            self.name = name
            self.roles = roles
            self.events = events
        }
    }

    public var incident: Incident
    /// The whole timeline, in order.
    public var events: [TimelineEvent]
    /// When the postmortem was made (the end of an incident still open).
    public var generatedAt: Date
    public var moments: KeyMoments
    /// The end of the picture: the resolution, or `generatedAt` while open (never before the last event).
    public var end: Date
    public var phases: [Phase]
    public var participants: [Participant]
    /// Indexes into ``events`` of the follow-up items (`/action`).
    public var followUps: [Int]
    /// Indexes into ``events`` of events with a full output (commands, snapshot, actions).
    public var withOutput: [Int]

    /// Seconds from detection to resolution (or to `generatedAt` while open).
    public var duration: Double { (incident.resolvedAt ?? generatedAt).timeIntervalSince(incident.openedAt) }

    /// The picture's file name, written beside the Markdown (`incident-12-timeline.svg`).
    public var svgFileName: String { "incident-\(incident.id ?? 0)-timeline.svg" }

    /// The base file name for this incident's documents (`incident-12`).
    public var baseFileName: String { "incident-\(incident.id ?? 0)" }
}
