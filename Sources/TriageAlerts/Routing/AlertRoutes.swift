import Foundation
import TriageCore

/// Where an alert goes and what it starts. The first route whose matchers all match wins.
public struct AlertRoute: Sendable, Equatable {
    public struct Room: Sendable, Equatable, Hashable {
        public var platform: String
        public var room: String

        public init(platform: String, room: String) {
            self.platform = platform
            self.room = room
        }
    }

    public var matchers: [LabelMatcher]
    /// In the order written; the first served one holds the incident.
    public var rooms: [Room]
    /// Overrides the severity mapping.
    public var severity: Severity?
    /// Open an incident (pages through `paging.auto_page`) when none is open in the room.
    public var openIncident: Bool
    /// Resolve an incident an alert opened when the last alert recorded in it resolves.
    public var resolveIncident: Bool
    /// The database target for diagnostics (overrides `databases:` rules).
    public var database: String?
    /// Run the diagnostics (default true).
    public var diagnose: Bool

    public init(matchers: [LabelMatcher] = [], rooms: [Room], severity: Severity? = nil, openIncident: Bool = false,
                resolveIncident: Bool = false, database: String? = nil, diagnose: Bool = true) {
        self.matchers = matchers
        self.rooms = rooms
        self.severity = severity
        self.openIncident = openIncident
        self.resolveIncident = resolveIncident
        self.database = database
        self.diagnose = diagnose
    }

    public func matches(_ labels: LabelSet) -> Bool { matchers.allSatisfy { $0.matches(labels) } }
}

/// Labels → database target (`datname="shop"` → `main`).
public struct DatabaseRule: Sendable, Equatable {
    public var matchers: [LabelMatcher]
    public var target: String

    public init(matchers: [LabelMatcher], target: String) {
        self.matchers = matchers
        self.target = target
    }
}

/// The routing decision for one alert.
public struct RoutedAlert: Sendable, Equatable {
    public var route: AlertRoute
    public var severity: Severity
    /// nil: the first configured database.
    public var database: String?
}

/// Routes, severity mapping and database rules together.
public struct AlertRouter: Sendable, Equatable {
    public var routes: [AlertRoute]
    /// Value of the `severity` label → incident severity.
    public var severities: [String: Severity]
    public var databases: [DatabaseRule]

    public static let defaultSeverities: [String: Severity] = [
        "critical": .sev2, "page": .sev2, "error": .sev3, "warning": .sev3, "info": .sev4, "none": .sev4,
    ]

    public init(routes: [AlertRoute], severities: [String: Severity] = AlertRouter.defaultSeverities, databases: [DatabaseRule] = []) {
        self.routes = routes
        self.severities = severities
        self.databases = databases
    }

    /// The route for `labels`; nil when none matches (the alert is followed but announced nowhere).
    public func route(_ labels: LabelSet) -> RoutedAlert? {
        guard let route = routes.first(where: { $0.matches(labels) }) else { return nil }
        let severity = route.severity ?? labels["severity"].flatMap { severities[$0.lowercased()] } ?? .sev3
        let database = route.database ?? databases.first { rule in rule.matchers.allSatisfy { $0.matches(labels) } }?.target
        return RoutedAlert(route: route, severity: severity, database: database)
    }

    /// Every room any route names.
    public var rooms: [AlertRoute.Room] {
        var seen = Set<AlertRoute.Room>()
        return routes.flatMap(\.rooms).filter { seen.insert($0).inserted }
    }
}
