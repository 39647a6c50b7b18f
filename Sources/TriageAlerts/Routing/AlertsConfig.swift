import Foundation
import TriageCore

/// The `alerts:` section: which Alertmanagers to follow, how often, where alerts go, and
/// what to run when they fire.
public struct AlertsConfig: Sendable, Equatable {
    /// Base URLs (`http://127.0.0.1:9093`); an HA pair is listed twice over and deduplicated.
    public var alertmanagers: [String]
    public var pollInterval: Double = 15
    public var resolveAfterMissedPolls = 2
    public var filter: [LabelMatcher] = []
    public var receiver: String?
    public var timeout: Double = 10
    /// More alerts than this in one poll go out as one digest message per room.
    public var maxAnnouncementsPerPoll = 10
    /// After an outage, polls resolve nothing for this long (Prometheus re-sends its alerts).
    public var recoveryGrace: Double = 60
    /// Backoff cap while Alertmanager is unreachable.
    public var maxBackoff: Double = 300
    public var router: AlertRouter
    public var diagnostics: [String: AlertDiagnostics] = AlertDiagnostics.defaults
    public var minSilence = 60
    public var maxSilence = 7 * 86400
    /// Resolved alerts are remembered this long.
    public var keepResolved: Double = 86400

    public init(alertmanagers: [String], router: AlertRouter) {
        self.alertmanagers = alertmanagers
        self.router = router
    }

    /// Reads the section. `databases` are the configured target names; `platforms` the
    /// platform names a room may name.
    public static func parse(_ node: YAMLNode, databases: [String], platforms: Set<String> = ["console", "telegram", "matrix"]) throws -> AlertsConfig {
        try node.checkKeys(["alertmanagers", "poll_interval", "resolve_after_missed_polls", "filter", "receiver", "timeout",
                            "max_announcements_per_poll", "recovery_grace", "max_backoff", "routes", "severities", "databases",
                            "diagnostics", "shipped_diagnostics", "silences", "keep_resolved"])
        let urlsNode = try node.required("alertmanagers")
        let urls: [String]
        if urlsNode.isMapping { urls = [] } else if let list = try? urlsNode.strings() { urls = list } else { urls = [try urlsNode.string()] }
        guard !urls.isEmpty else { throw urlsNode.error("list at least one Alertmanager URL") }
        for u in urls where !(u.hasPrefix("http://") || u.hasPrefix("https://")) || u.count > 500 {
            throw urlsNode.error("'\(u.prefix(60))' is not an http(s) URL")
        }
        guard Set(urls).count == urls.count else { throw urlsNode.error("an Alertmanager is listed twice") }

        var router = AlertRouter(routes: [])
        if let sev = node["severities"] {
            for (label, value) in try sev.entries() {
                guard let s = Severity(text: try value.string()) else { throw value.error("severity must be sev1…sev4") }
                router.severities[label.lowercased()] = s
            }
        }
        if let rules = node["databases"] {
            for r in try rules.list() {
                try r.checkKeys(["match", "target"])
                let target = try r.required("target").string()
                guard databases.contains(target) else {
                    throw r["target"]!.error("unknown database '\(target)' (configured: \(databases.joined(separator: ", ")))")
                }
                router.databases.append(DatabaseRule(matchers: try matchers(r["match"]), target: target))
            }
        }
        let routesNode = try node.required("routes")
        for r in try routesNode.list() {
            try r.checkKeys(["match", "rooms", "severity", "open_incident", "resolve_incident", "database", "diagnose"])
            let roomsNode = try r.required("rooms")
            var rooms: [AlertRoute.Room] = []
            for (platform, room) in try roomsNode.entries() {
                guard platforms.contains(platform) else {
                    throw roomsNode.error("unknown platform '\(platform)' (\(platforms.sorted().joined(separator: ", ")))")
                }
                let rs: [String]
                if room.isMapping { rs = [] } else if let list = try? room.strings() { rs = list } else { rs = [try room.string()] }
                for name in rs {
                    guard !name.isEmpty, name.count <= 255 else { throw room.error("a room id is 1 to 255 characters") }
                    rooms.append(AlertRoute.Room(platform: platform, room: name))
                }
            }
            guard !rooms.isEmpty else { throw roomsNode.error("a route needs at least one room") }
            var severity: Severity?
            if let s = try r.string("severity") {
                guard let v = Severity(text: s) else { throw r["severity"]!.error("severity must be sev1…sev4") }
                severity = v
            }
            let database = try r.string("database")
            if let database, !databases.contains(database) {
                throw r["database"]!.error("unknown database '\(database)' (configured: \(databases.joined(separator: ", ")))")
            }
            router.routes.append(AlertRoute(matchers: try matchers(r["match"]), rooms: rooms, severity: severity,
                                            openIncident: try r.bool("open_incident") ?? false,
                                            resolveIncident: try r.bool("resolve_incident") ?? false,
                                            database: database, diagnose: try r.bool("diagnose") ?? true))
        }
        guard !router.routes.isEmpty else { throw routesNode.error("list at least one route") }

        var config = AlertsConfig(alertmanagers: urls, router: router)
        if let v = try duration(node, "poll_interval") {
            guard v >= 1, v <= 3600 else { throw node["poll_interval"]!.error("poll_interval must be between 1s and 1h") }
            config.pollInterval = Double(v)
        }
        if let n = try node.int("resolve_after_missed_polls") {
            guard (1...100).contains(n) else { throw node["resolve_after_missed_polls"]!.error("must be between 1 and 100") }
            config.resolveAfterMissedPolls = n
        }
        if let f = node["filter"] { config.filter = try matchers(f) }
        if let r = try node.string("receiver") {
            guard (try? NSRegularExpression(pattern: r)) != nil else { throw node["receiver"]!.error("receiver is not a valid regex") }
            config.receiver = r
        }
        if let t = try duration(node, "timeout") {
            guard t >= 1, t <= 120 else { throw node["timeout"]!.error("timeout must be between 1s and 2m") }
            config.timeout = Double(t)
        }
        if let n = try node.int("max_announcements_per_poll") {
            guard (1...1000).contains(n) else { throw node["max_announcements_per_poll"]!.error("must be between 1 and 1000") }
            config.maxAnnouncementsPerPoll = n
        }
        if let g = try duration(node, "recovery_grace") { config.recoveryGrace = Double(g) }
        if let b = try duration(node, "max_backoff") {
            guard b >= 1 else { throw node["max_backoff"]!.error("max_backoff must be at least 1s") }
            config.maxBackoff = Double(b)
        }
        if let k = try duration(node, "keep_resolved") { config.keepResolved = Double(k) }
        if let s = node["silences"] {
            try s.checkKeys(["min", "max"])
            if let v = try duration(s, "min") { config.minSilence = v }
            if let v = try duration(s, "max") { config.maxSilence = v }
            guard config.minSilence >= 1, config.minSilence <= config.maxSilence else { throw s.error("silences: min must be ≥ 1s and ≤ max") }
        }
        if try node.bool("shipped_diagnostics") == false { config.diagnostics = [:] }
        if let d = node["diagnostics"] {
            for (alertname, entry) in try d.entries() {
                if entry.isMapping {
                    try entry.checkKeys(["commands", "remedy"])
                    config.diagnostics[alertname] = AlertDiagnostics(commands: try entry["commands"]?.strings() ?? [],
                                                                     remedy: try entry.string("remedy"))
                } else {
                    config.diagnostics[alertname] = AlertDiagnostics(commands: try entry.strings())
                }
            }
        }
        return config
    }

    static func matchers(_ node: YAMLNode?) throws -> [LabelMatcher] {
        guard let node else { return [] }
        let texts = node.isMapping ? try node.entries().map { "\($0.0)=\(try $0.1.string())" } : try node.strings()
        return try texts.map { text in
            do {
                guard let m = try LabelMatcher.parse(text) else { throw node.error("'\(text.prefix(60))' is not a matcher (name=value, !=, =~, !~)") }
                return m
            } catch let e as MatcherError {
                throw node.error(e.description)
            }
        }
    }

    static func duration(_ node: YAMLNode, _ key: String) throws -> Int? {
        guard let v = node[key] else { return nil }
        let text = try v.string()
        guard let s = DurationParser.seconds(text) else { throw v.error("'\(text.prefix(30))' is not a duration (e.g. 15s, 5m)") }
        return s
    }
}
