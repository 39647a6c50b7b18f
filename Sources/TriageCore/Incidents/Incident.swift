import Foundation

/// Incident severity, sev1 (worst) to sev4.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case sev1, sev2, sev3, sev4

    public init?(text: String) {
        let t = text.lowercased().replacingOccurrences(of: "-", with: "")
        switch t {
        case "sev1", "1", "s1", "p1": self = .sev1
        case "sev2", "2", "s2", "p2": self = .sev2
        case "sev3", "3", "s3", "p3": self = .sev3
        case "sev4", "4", "s4", "p4": self = .sev4
        default: return nil
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where an incident is in its life.
public enum IncidentStatus: String, Codable, Sendable, CaseIterable {
    case investigating, identified, monitoring, resolved
}

/// An incident: one per room at most while active.
public struct Incident: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    /// `console`, `telegram`, `matrix`.
    public var platform: String
    /// The room (chat id, room id) the incident lives in.
    public var room: String
    public var title: String
    public var severity: Severity
    public var status: IncidentStatus
    public var commander: String?
    public var openedBy: String
    public var openedAt: Date
    public var acknowledgedAt: Date?
    public var mitigatedAt: Date?
    public var resolvedAt: Date?
    public var summary: String?
    /// Who holds the roles other than commander (`scribe`, `comms`), by role name. The
    /// commander lives in ``commander``; use ``holder(of:)`` and ``assign(_:to:)``.
    public var roles: [String: String]

    public init(id: Int64? = nil, platform: String, room: String, title: String, severity: Severity,
                status: IncidentStatus = .investigating, commander: String? = nil, openedBy: String, openedAt: Date,
                acknowledgedAt: Date? = nil, mitigatedAt: Date? = nil, resolvedAt: Date? = nil, summary: String? = nil,
                roles: [String: String] = [:]) {
        self.id = id
        self.platform = platform
        self.room = room
        self.title = title
        self.severity = severity
        self.status = status
        self.commander = commander
        self.openedBy = openedBy
        self.openedAt = openedAt
        self.acknowledgedAt = acknowledgedAt
        self.mitigatedAt = mitigatedAt
        self.resolvedAt = resolvedAt
        self.summary = summary
        self.roles = roles
    }

    public var isActive: Bool { status != .resolved }

    /// The person holding `role`, if any.
    public func holder(of role: IncidentRole) -> String? {
        role == .commander ? commander : roles[role.rawValue]
    }

    /// Gives `role` to `person` (nil clears it).
    public mutating func assign(_ role: IncidentRole, to person: String?) {
        if role == .commander {
            commander = person
        } else {
            roles[role.rawValue] = person
        }
    }

    /// Every role that is held, in ``IncidentRole`` order.
    public var roleHolders: [(role: IncidentRole, person: String)] {
        IncidentRole.allCases.compactMap { r in holder(of: r).map { (r, $0) } }
    }

    /// When the incident ended (resolved), or `now` while it is still active.
    public func end(now: Date) -> Date { resolvedAt ?? now }
}

/// One entry of an incident's timeline.
public struct TimelineEvent: Codable, Sendable, Equatable, Identifiable {
    /// What happened. Kept as text so new kinds never break older readers.
    public struct Kind: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let opened = Kind(rawValue: "opened")
        public static let snapshot = Kind(rawValue: "snapshot")
        public static let command = Kind(rawValue: "command")
        public static let note = Kind(rawValue: "note")
        public static let status = Kind(rawValue: "status")
        public static let severity = Kind(rawValue: "severity")
        public static let role = Kind(rawValue: "role")
        public static let action = Kind(rawValue: "action")
        public static let preview = Kind(rawValue: "preview")
        public static let confirmation = Kind(rawValue: "confirmation")
        public static let page = Kind(rawValue: "page")
        public static let acknowledged = Kind(rawValue: "acknowledged")
        public static let escalation = Kind(rawValue: "escalation")
        public static let resolved = Kind(rawValue: "resolved")
        public static let reopened = Kind(rawValue: "reopened")
        public static let followUp = Kind(rawValue: "action_item")
        public var description: String { rawValue }

        /// Lengths first: a postmortem compares kinds of a million events with constants.
        @inlinable
        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            lhs.rawValue.utf8.count == rhs.rawValue.utf8.count && lhs.rawValue == rhs.rawValue
        }
    }

    public var id: Int64?
    public var incidentID: Int64
    public var at: Date
    public var actor: String
    public var kind: Kind
    /// The command line as typed, for command events.
    public var command: String?
    /// One-line summary.
    public var text: String
    /// The full output, as plain text.
    public var output: String?
    /// Structured data (JSON) for other tools.
    public var payload: String?

    public init(id: Int64? = nil, incidentID: Int64, at: Date, actor: String, kind: Kind, command: String? = nil,
                text: String, output: String? = nil, payload: String? = nil) {
        self.id = id
        self.incidentID = incidentID
        self.at = at
        self.actor = actor
        self.kind = kind
        self.command = command
        self.text = text
        self.output = output
        self.payload = payload
    }
}
