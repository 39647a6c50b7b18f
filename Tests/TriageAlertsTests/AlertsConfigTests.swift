import Foundation
import Testing
import TriageCore
@testable import TriageAlerts

@Suite("alerts: config section")
struct AlertsConfigTests {
    func parse(_ text: String) throws -> AlertsConfig {
        let root = try YAMLNode.parse(text, file: "t.yaml")
        return try AlertsConfig.parse(try root.required("alerts"), databases: ["main", "shop"])
    }

    @Test func theExampleFileParses() throws {
        let url = AlertsTestEnvironment.root.appendingPathComponent("config/alerts.example.yaml")
        let root = try YAMLNode.parse(try String(contentsOf: url, encoding: .utf8), file: url.path)
        let c = try AlertsConfig.parse(try root.required("alerts"), databases: ["main", "shop"])
        #expect(c.pollInterval == 15)
        #expect(c.router.routes.count == 3)
        #expect(c.router.routes[0].openIncident)
        #expect(c.diagnostics["PostgresDown"]?.commands == ["pg health"])
        // Defaults stay for alerts the file does not name.
        #expect(c.diagnostics["PostgresReplicationLag"]?.commands == ["pg replication"])
    }

    @Test func routingSeverityAndDatabase() throws {
        let c = try parse("""
        alerts:
          alertmanagers: [http://a:9093, http://b:9093]
          routes:
            - match: ['severity=critical']
              rooms: {telegram: "-100", console: console}
              open_incident: true
            - match: ['team=~"db|dba"']
              rooms: {matrix: "!r:x"}
              severity: sev1
          databases:
            - match: [datname=shop]
              target: shop
        """)
        let crit = try #require(c.router.route(["severity": "critical", "datname": "shop"]))
        #expect(crit.severity == .sev2)
        #expect(crit.database == "shop")
        #expect(crit.route.rooms.map(\.platform) == ["telegram", "console"])
        let team = try #require(c.router.route(["team": "dba", "severity": "info"]))
        #expect(team.severity == .sev1)
        #expect(team.database == nil)
        #expect(c.router.route(["team": "dbx"]) == nil)
        #expect(c.router.route(["severity": "bogus", "team": "db"])?.severity == .sev1)
    }

    @Test(arguments: [
        ("alerts: {routes: [{rooms: {console: console}}]}", "alertmanagers"),
        ("alerts: {alertmanagers: [ftp://x], routes: [{rooms: {console: console}}]}", "http(s) URL"),
        ("alerts: {alertmanagers: [http://a, http://a], routes: [{rooms: {console: console}}]}", "listed twice"),
        ("alerts: {alertmanagers: [http://a], routes: []}", "at least one route"),
        ("alerts: {alertmanagers: [http://a], routes: [{rooms: {irc: x}}]}", "unknown platform"),
        ("alerts: {alertmanagers: [http://a], routes: [{match: ['a=~('], rooms: {console: console}}]}", "regular expression"),
        ("alerts: {alertmanagers: [http://a], routes: [{match: [nonsense], rooms: {console: console}}]}", "not a matcher"),
        ("alerts: {alertmanagers: [http://a], routes: [{rooms: {console: console}, database: nope}]}", "unknown database"),
        ("alerts: {alertmanagers: [http://a], poll_interval: 0s, routes: [{rooms: {console: console}}]}", "poll_interval"),
        ("alerts: {alertmanagers: [http://a], poll_interval: soon, routes: [{rooms: {console: console}}]}", "not a duration"),
        ("alerts: {alertmanagers: [http://a], silences: {min: 2h, max: 1h}, routes: [{rooms: {console: console}}]}", "min must be"),
        ("alerts: {alertmanagers: [http://a], routes: [{rooms: {console: console}}], databases: [{match: [a=b], target: x}]}", "unknown database"),
        ("alerts: {alertmanagers: [http://a], routes: [{rooms: {console: console}}], typo: 1}", "typo"),
    ])
    func badSectionsNameTheProblem(_ text: String, _ expected: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch let e as ConfigError {
            #expect(e.description.contains(expected), "\(e.description)")
            #expect(e.line != nil)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func remedyFillsLabelsAndQuotesOddValues() {
        let d = AlertDiagnostics(commands: ["/pg bloat"], remedy: "/pg vacuum {schemaname}.{relname}")
        #expect(d.remedy(labels: ["schemaname": "public", "relname": "orders"], database: "main") == "/pg vacuum public.orders --db main")
        #expect(d.remedy(labels: ["schemaname": "public"], database: nil) == "/pg vacuum public.<relname>")
        // A label cannot smuggle a second command or flag into the suggestion.
        #expect(d.remedy(labels: ["schemaname": "x; DROP", "relname": "o\"k"], database: nil) == #"/pg vacuum "x; DROP"."o\"k""#)
        #expect(d.commands == ["pg bloat"])
    }
}
