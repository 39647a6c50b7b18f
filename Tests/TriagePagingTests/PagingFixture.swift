import Foundation
import Logging
import TriageChat
import TriageHandlers
import TriageRuntime
import TriageCore
import TriageHTTP
import TriagePaging
import TriageStore
import TriageTesting

/// A scratch SQLite file, a paging config pointed at the receivers, and engines on them.
struct PagingFixture {
    let dir: String
    let storePath: String
    let config: PagingConfig
    let clock: TestClock
    let receivers: PagingReceivers

    static func yaml(base: String) -> String {
        """
        people:
          alice: {handle: "@alice", email: alice@example.com, opsgenie_id: "a-1"}
          bob: {handle: "@bob", email: bob@example.com}
          carol: {handle: "@carol", email: carol@example.com}
          dave: "@dave"
        schedules:
          primary:
            timezone: Europe/Berlin
            handoff: "09:00"
            rotation: 1d
            start: 2026-03-01
            people: [alice, bob]
          secondary:
            timezone: America/New_York
            handoff: "10:00"
            rotation: 1w
            start: 2026-03-02
            people: [carol, dave]
        policies:
          default:
            repeat: 1
            levels:
              - targets: [{schedule: primary}]
                wait: 5m
              - targets: [{schedule: secondary}]
                wait: 10m
              - targets: [{person: dave}, {room: incident}]
                wait: 15m
          quiet:
            levels:
              - targets: [{person: bob}]
                wait: 5m
                notify: [chat]
        providers:
          pagerduty: {routing_key_env: PD_KEY, url: "\(base)"}
          opsgenie: {api_key_env: OG_KEY, url: "\(base)"}
          webhook: {url: "\(base)/webhook"}
        notify: [chat, pagerduty, opsgenie, webhook]
        auto_page: {sev1: default, sev2: default}
        retry: {base: 10s, cap: 2m, give_up_after: 1h, timeout: 5s}
        """
    }

    static let environment = ["PD_KEY": PagingReceivers.pagerdutyKey, "OG_KEY": PagingReceivers.opsgenieKey,
                              "WRONG_KEY": "not-the-routing-key", "PD_TOKEN": PagingReceivers.pagerdutyToken,
                              "WRONG_TOKEN": "not-the-api-token"]

    /// The fixture with PagerDuty's REST API token set, so acknowledgements made in PagerDuty
    /// (and Opsgenie, which needs nothing more) are polled every 30 s.
    static func pollingYAML(token: String = "PD_TOKEN") -> (String) -> String {
        { base in
            yaml(base: base).replacingOccurrences(of: "pagerduty: {routing_key_env: PD_KEY, url: \"\(base)\"}",
                                                  with: "pagerduty: {routing_key_env: PD_KEY, url: \"\(base)\", api_token_env: \(token), api_url: \"\(base)\"}")
                .replacingOccurrences(of: "  bob: {handle: \"@bob\", email: bob@example.com}",
                                      with: "  bob: {handle: \"@bob\", email: bob@example.com, pagerduty_id: PBOB001}")
        }
    }

    static func parse(_ text: String, environment: [String: String] = environment) throws -> PagingConfig {
        let root = try YAMLNode.parse(text, file: "paging.yaml")
        return try PagingConfig.parse(root, environment: environment)
    }

    init(start: Date = Date(timeIntervalSince1970: 1_790_000_000), yaml: ((String) -> String)? = nil) async throws {
        receivers = try await PagingReceivers()
        let base = receivers.baseURL
        do {
            config = try Self.parse((yaml ?? Self.yaml)(base))
        } catch {
            receivers.stop()
            throw error
        }
        let root = ProcessInfo.processInfo.environment["TRIAGE_TEST_WORK"] ?? NSTemporaryDirectory()
        dir = (root as NSString).appendingPathComponent("paging-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        storePath = (dir as NSString).appendingPathComponent("timeline.sqlite")
        clock = TestClock(start)
    }

    /// A fresh store connection and engine (a "process") on the same SQLite file.
    func engine() throws -> (BotStore, EscalationEngine) {
        let store = try BotStore(path: storePath)
        let engine = EscalationEngine(pager: Pager(config: config), store: store, http: receivers.http,
                                      logger: { var l = Logger(label: "test"); l.logLevel = .critical; return l }(), clock: clock)
        return (store, engine)
    }

    func stop() {
        receivers.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Opens an incident directly in the store and starts its page, like `/incident open`.
    func openIncident(_ store: BotStore, severity: Severity = .sev1, room: String = "ops", policy: String = "default") async throws -> (Incident, PageRecord) {
        let pager = Pager(config: config)
        let at = clock.now
        let p = config.policies[policy]!
        return try await store.write { tx in
            let i = try tx.insert(Incident(platform: "telegram", room: room, title: "Primary database down", severity: severity,
                                           openedBy: "@zoe", openedAt: at))
            let report = try pager.start(Pager.Start(platform: "telegram", room: room, incidentID: i.id, summary: i.title,
                                                     severity: severity, openedBy: "@zoe", policy: p, auto: true), at: at, in: tx)!
            return (i, report.page)
        }
    }
}
