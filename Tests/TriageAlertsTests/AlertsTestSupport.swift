import Foundation
import Synchronization
import Logging
import TriageChat
import TriageCore
import TriageHandlers
import TriageHTTP
import TriageRuntime
import TriageStore
import TriageTesting
@testable import TriageAlerts

/// Where the test servers are (set by scripts/test.sh): the shared ``TestEnvironment``, plus
/// Alertmanager's binary and port.
enum AlertsTestEnvironment {
    static var env: [String: String] { TestEnvironment.env }
    static var postgresURL: String? { TestEnvironment.postgresURL }
    static var alertmanagerBinary: String { env["ALERTMANAGER_BIN"] ?? "/usr/bin/prometheus-alertmanager" }
    static var hasAlertmanager: Bool { FileManager.default.isExecutableFile(atPath: alertmanagerBinary) }
    /// Base port for test Alertmanagers (the next one is an HA peer).
    static var alertmanagerPort: Int { env["TRIAGE_TEST_AM_PORT"].flatMap { Int($0) } ?? 59093 }
    static var ready: Bool { postgresURL != nil && hasAlertmanager }
    static var root: URL { TestEnvironment.repositoryRoot }

    static func scratch(_ name: String) -> URL { TestEnvironment.scratch(name) }

    static let logger: Logger = {
        var l = Logger(label: "triage-alerts-tests")
        l.logLevel = .critical
        return l
    }()

    /// Runs a program to completion on a thread of its own (``ProcessRunner``); `out` is its
    /// standard output followed by its standard error.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, out: String) {
        let r = try await ProcessRunner.run(executable, arguments)
        return (r.status, r.stdout + r.stderr)
    }

    static func psql(_ url: String, _ sql: String) async throws -> String {
        let r = try await run("/usr/bin/psql", [url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard r.status == 0 else { throw TriageError(.database, "psql failed: \(r.out)") }
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func freshDatabase(_ prefix: String) async throws -> (url: String, name: String) {
        let base = try postgresURL.orThrow("TRIAGE_TEST_PG_URL")
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await psql(base, "CREATE DATABASE \(name)")
        guard let slash = base.range(of: "/", options: .backwards) else { throw TriageError(.config, "bad URL") }
        return (String(base[..<slash.upperBound]) + name, name)
    }

    static func dropDatabase(_ name: String) async {
        guard let base = postgresURL else { return }
        _ = try? await psql(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let self else { throw TriageError(.config, "\(what) is not set") }
        return self
    }
}

/// A real Alertmanager on loopback, started by scripts/alertmanager.sh.
struct AlertmanagerServer: Sendable {
    let dir: URL
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    static var script: String { AlertsTestEnvironment.root.appendingPathComponent("scripts/alertmanager.sh").path }

    /// Starts one on `port`; when something else holds it (loopback ports in the ephemeral
    /// range are sometimes taken by outgoing connections), on `port + 2`, `port + 4`, …
    static func start(port: Int) async throws -> AlertmanagerServer {
        var last = ""
        for attempt in 0..<5 {
            let dir = AlertsTestEnvironment.scratch("am")
            let p = port + 2 * attempt
            let r = try await AlertsTestEnvironment.run("/bin/bash", [script, "up", dir.path, "\(p)"])
            if r.status == 0 { return AlertmanagerServer(dir: dir, port: p) }
            _ = try? await AlertsTestEnvironment.run("/bin/bash", [script, "down", dir.path])
            last = r.out
            guard r.out.contains("address already in use") else { break }
        }
        throw TriageError(.config, "alertmanager did not start: \(last)")
    }

    func stop() async throws { try await AlertsTestEnvironment.run("/bin/bash", [Self.script, "stop", dir.path]) }
    func restart() async throws {
        let r = try await AlertsTestEnvironment.run("/bin/bash", [Self.script, "start", dir.path])
        guard r.status == 0 else { throw TriageError(.config, "alertmanager did not restart: \(r.out)") }
    }
    func down() async { _ = try? await AlertsTestEnvironment.run("/bin/bash", [Self.script, "down", dir.path]) }
}

/// Triage assembled from a config file text with the plug-ins it ships with (alerts
/// included) and, for tests, an extra incident observer; its alert follower is the one the
/// alerts plug-in contributed, polled by hand.
final class AlertsHarness: Sendable {
    let app: TriageApplication
    let service: AlertFollowService

    init(configText: String, directory: URL, observers: [any IncidentObserver] = []) async throws {
        let file = directory.appendingPathComponent("triage.yaml")
        try configText.write(to: file, atomically: true, encoding: .utf8)
        let config = try TriageConfig.load(path: file.path)
        let plugins = PluginList(features: StandardPlugins.all.features + [ObserverPlugin(observers: observers)],
                                 platforms: StandardPlugins.all.platforms)
        app = try TriageApplication(config: config, plugins: plugins, logger: AlertsTestEnvironment.logger)
        service = try app.featureServices.compactMap { $0 as? AlertFollowService }.first.orThrow("the alert follower")
    }

    /// Console messages queued since the last call, rendered as text; marks them sent.
    func takeMessages() async throws -> [String] {
        let pending = try await app.store.read { tx in try tx.pendingOutbox(platform: "console") }
        try await app.store.write { tx in for m in pending { try tx.markSent(outboxID: m.id!) } }
        // What the console shows: it cannot edit, so an edit-only row (an announcement that
        // resolved or was silenced) shows nothing there.
        return try pending.filter { !$0.editOnly }.map { TextRenderer(maxCellWidth: 400).render(try $0.decodedReply()) }
    }

    func send(_ text: String, sender: String = "alice", role: Role = .responder) async -> String {
        let m = InboundMessage(platform: "console", room: "console", sender: sender, senderName: sender, text: text,
                               messageID: UUID().uuidString, role: role)
        guard let reply = await app.dispatcher.handle(m) else { return "" }
        return TextRenderer(maxCellWidth: 400).render(reply)
    }

    func shutdown() async { await app.shutdown() }

    static func config(database: String, dbName: String, alertmanagers: [String], directory: URL, extra: String = "",
                       route: String = "open_incident: false") -> String {
        """
        databases:
          - name: main
            url: \(database)
        timeline: \(directory.path)/timeline.sqlite
        commands: \(AlertsTestEnvironment.root.appendingPathComponent("commands").path)
        console: {user: alice, role: operator}
        alerts:
          alertmanagers: [\(alertmanagers.joined(separator: ", "))]
          poll_interval: 1s
          recovery_grace: 0s
          timeout: 3s
          max_backoff: 2s
          routes:
            - match: [severity=critical]
              rooms: {console: console}
              open_incident: true
            - rooms: {console: console}
              \(route)
          databases:
            - match: ['datname=\(dbName)']
              target: main
        \(extra)
        """
    }
}

/// Posts alerts as Prometheus does.
func post(_ alerts: [AMPostableAlert], to url: String, http: HTTPClient) async throws {
    try await AlertmanagerClient(urls: [url], http: http).post(alerts: alerts, to: url)
}

func deadTuplesAlert(db: String, ends: Date? = nil) -> AMPostableAlert {
    AMPostableAlert(labels: ["alertname": "HighDeadTuples", "severity": "warning", "datname": db, "schemaname": "public",
                             "relname": "orders", "instance": "127.0.0.1:9187"],
                    annotations: ["summary": "Table has high dead tuple count", "description": "Run VACUUM on orders",
                                  "runbook_url": "https://runbooks.example/dead-tuples"],
                    startsAt: Date().addingTimeInterval(-120), endsAt: ends, generatorURL: "http://prometheus.example/graph?g0.expr=pg_stat_user_tables_n_dead_tup")
}

/// Records what an incident observer (paging) is told, and whether it saw the incident in the
/// same transaction.
final class RecordingObserver: IncidentObserver {
    let calls = Mutex<[String]>([])

    func incidentChanged(_ event: IncidentEvent, in tx: StoreTransaction) throws {
        let incident = event.incident
        switch event.kind {
        case .opened:
            let visible = (try? tx.incident(id: incident.id ?? -1)) != nil
            calls.withLock { $0.append("opened #\(incident.id ?? -1) \(incident.severity.rawValue) by \(event.actor) visible=\(visible)") }
        case .resolved:
            calls.withLock { $0.append("resolved #\(incident.id ?? -1) by \(event.actor) status=\(incident.status.rawValue)") }
        default:
            calls.withLock { $0.append("other") }
        }
    }
}

/// A feature that only contributes incident observers (the test's paging stand-in).
struct ObserverPlugin: FeaturePlugin {
    let observers: [any IncidentObserver]
    var name: String { "test-observers" }
    var sections: [String] { [] }
    func makeFeature(_ context: FeatureContext) throws -> FeatureParts { FeatureParts(observers: observers) }
}
