import Foundation

/// Which events of a timeline to read.
public enum TimelineEventFilter: Sendable, Equatable {
    case all
    /// Events with a full output (commands, snapshot, actions).
    case withOutput
    case kind(TimelineEvent.Kind)
    case kinds([TimelineEvent.Kind])
    /// Every event, for the summary: a source may leave the outputs out (an empty output
    /// stands for one that is there) and, past the first events of a long timeline, the text,
    /// command and payload of events the summary does not read them from.
    case summary
    /// Every event with its text and command; a source may leave the outputs out (empty).
    case withoutOutputs
    /// Events with a full output, and events of a kind (the outputs and the follow-ups).
    case withOutputOrKind(TimelineEvent.Kind)

    public func matches(_ e: TimelineEvent) -> Bool {
        switch self {
        case .all, .summary, .withoutOutputs: true
        case .withOutputOrKind(let k): e.output != nil || e.kind == k
        case .withOutput: e.output != nil
        case .kind(let k): e.kind == k
        case .kinds(let ks): ks.contains(e.kind)
        }
    }
}

/// An incident's timeline, read in order as often as a renderer needs, without holding it in
/// memory: the store streams rows (``TimelineEvent``s one at a time); tests pass an array.
public protocol TimelineEventSource: Sendable {
    /// Calls `body` with each event matching `filter`, in timeline order.
    func forEachEvent(_ filter: TimelineEventFilter, _ body: (TimelineEvent) throws -> Void) throws
    /// The timeline in consecutive parts (the first holds the first event), to be read on
    /// several threads; nil when it does not split (too short to be worth it).
    func parts() -> [any TimelineEventSource]?
}

extension TimelineEventSource {
    public func parts() -> [any TimelineEventSource]? { nil }
}

/// Events held in memory.
public struct TimelineEventArray: TimelineEventSource {
    public var events: [TimelineEvent]

    public init(_ events: [TimelineEvent]) {
        self.events = events
    }

    public func forEachEvent(_ filter: TimelineEventFilter, _ body: (TimelineEvent) throws -> Void) throws {
        for e in events where filter.matches(e) { try body(e) }
    }

    /// Any two events or more split, in up to four parts (so that tests go through the
    /// several-part path, with parts of different sizes).
    public func parts() -> [any TimelineEventSource]? {
        guard events.count >= 2 else { return nil }
        let count = min(4, events.count)
        let size = (events.count + count - 1) / count
        return stride(from: 0, to: events.count, by: size).map { TimelineEventArray(Array(events[$0..<min(events.count, $0 + size)])) }
    }
}

/// Everything a postmortem shows, derived in one pass over an incident's timeline; the
/// Markdown, HTML, SVG and JSON renderers format it, reading the events again from ``source``
/// for the parts that list them (so an incident of a million events is never in memory).
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

    /// Someone who took part: their roles, how many events they produced, and when they were
    /// paged and acknowledged (for everyone paged, whether or not they typed anything).
    public struct Participant: Sendable, Equatable {
        public var name: String
        public var roles: [String]
        public var events: Int
        public var pagedAt: Date?
        public var acknowledgedAt: Date?

        public init(name: String, roles: [String], events: Int, pagedAt: Date? = nil, acknowledgedAt: Date? = nil) {
            self.name = name
            self.roles = roles
            self.events = events
            self.pagedAt = pagedAt
            self.acknowledgedAt = acknowledgedAt
        }
    }

    /// A `/sev` change.
    public struct SeverityChange: Sendable, Equatable {
        public var at: Date
        public var from: Severity
        public var to: Severity
        public var by: String
    }

    /// A key moment, with what defined it (`@bob acknowledged page #1`).
    public struct Moment: Sendable, Equatable {
        public var name: String
        public var at: Date?
        public var definedBy: String
    }

    /// An event the picture labels (page, acknowledgement, severity and status changes).
    public struct KeyEvent: Sendable, Equatable {
        public var at: Date
        public var lane: Int
        public var label: String
    }

    /// One mark of the picture: an event, or (past ``SVGTimeline/aggregateAbove`` events) a
    /// bin of several in one lane.
    public struct Mark: Sendable, Equatable {
        public var at: Date
        public var lane: Int
        public var count: Int
        /// The event's id (0 for a bin).
        public var eventID: Int64
        public var kind: String
        public var title: String
    }

    public var incident: Incident
    /// The timeline, readable again (in order) by the renderers.
    public var source: any TimelineEventSource
    /// How many events the timeline has.
    public var eventCount: Int
    /// When the postmortem was made (the end of an incident still open).
    public var generatedAt: Date
    /// Detected, acknowledged (as defined for postmortems: the first human acknowledgement of
    /// a page or, with no page, the first responder action), mitigated, resolved.
    public var moments: KeyMoments
    /// The moments in order, each with what defined it.
    public var momentList: [Moment]
    /// The end of the picture: the resolution, or `generatedAt` while open (never before the last event).
    public var end: Date
    public var phases: [Phase]
    public var participants: [Participant]
    /// The severity the incident was opened with, the worst it reached, and every change.
    public var openedSeverity: Severity
    public var peakSeverity: Severity
    public var severityChanges: [SeverityChange]
    public var followUpCount: Int
    public var outputCount: Int
    /// Events by kind (`command`: 12).
    public var kindCounts: [String: Int]
    /// Provider delivery lines, folded into the page line they belong to: by ``PageLine/key``,
    /// the outcomes (`pagerduty delivered`, `webhook rejected (HTTP 400)`).
    public var deliveries: [String: [String]]
    /// Delivery lines folded away (not listed in the timeline table).
    public var foldedCount: Int
    /// The picture: lanes in use (indexes into ``SVGTimeline/lanes``), marks, labelled events.
    public var lanesUsed: [Int]
    public var marks: [Mark]
    public var keyEvents: [KeyEvent]

    /// Seconds from detection to resolution (or to `generatedAt` while open).
    public var duration: Double { (incident.resolvedAt ?? generatedAt).timeIntervalSince(incident.openedAt) }

    /// `sev2` or, when it changed, `sev2 (peak sev1: opened sev1, lowered to sev2 at 18:14 UTC)`.
    public var severityDescription: String {
        guard !severityChanges.isEmpty else { return incident.severity.rawValue }
        var parts = ["opened \(openedSeverity.rawValue)"]
        for c in severityChanges {
            parts.append("\(c.to < c.from ? "raised" : "lowered") to \(c.to.rawValue) at \(UTCTime.format(c.at)) by \(c.by)")
        }
        return "\(incident.severity.rawValue) (peak \(peakSeverity.rawValue): " + parts.joined(separator: ", ") + ")"
    }

    /// The picture's file name, written beside the Markdown (`incident-12-timeline.svg`).
    public var svgFileName: String { "incident-\(incident.id ?? 0)-timeline.svg" }

    /// The base file name for this incident's documents (`incident-12`).
    public var baseFileName: String { "incident-\(incident.id ?? 0)" }
}
