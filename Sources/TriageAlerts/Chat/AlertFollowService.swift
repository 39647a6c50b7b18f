import Foundation
import Logging
import ServiceLifecycle
import TriageHandlers
import TriageCore
import TriageStore

extension TimelineEvent.Kind {
    /// An alert fired (the announcement, diagnostics included, as output).
    public static let alert = TimelineEvent.Kind(rawValue: "alert")
    public static let alertResolved = TimelineEvent.Kind(rawValue: "alert_resolved")
    public static let silence = TimelineEvent.Kind(rawValue: "silence")
}

/// Follows Alertmanager: polls, announces what fired (with diagnostics), says what resolved,
/// opens incidents where a route asks for it. Its state is in the store, so a restart neither
/// announces again nor forgets.
public actor AlertFollowService: Service {
    let config: AlertsConfig
    let client: AlertmanagerClient
    let store: BotStore
    public let board: AlertBoard
    let diagnostics: DiagnosticsRunner
    let database: (any SQLRunner)?
    /// Tells incident observers (paging) about incidents alerts open and resolve.
    let commands: CommandRunner
    let logger: Logger
    let clock: @Sendable () -> Date

    var tracker: AlertTracker?
    var health: AlertmanagerHealth
    /// Platforms with a running outbox in this process; rooms elsewhere are not written to.
    let served: Set<String>
    /// Polls done (for tests and the benchmark).
    public private(set) var polls = 0

    public init(config: AlertsConfig, client: AlertmanagerClient, store: BotStore, board: AlertBoard,
                diagnostics: DiagnosticsRunner, database: (any SQLRunner)?, commands: CommandRunner,
                servedPlatforms: Set<String>, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.client = client
        self.store = store
        self.board = board
        self.diagnostics = diagnostics
        self.database = database
        self.commands = commands
        self.served = servedPlatforms
        self.logger = logger
        self.clock = clock
        health = AlertmanagerHealth(urls: client.urls, baseDelay: min(config.pollInterval, 2), maxDelay: config.maxBackoff)
    }

    public func run() async throws {
        if !config.router.rooms.contains(where: { served.contains($0.platform) }) {
            logger.warning("alerts: no route names a room on a served platform; alerts are followed but announced nowhere",
                           metadata: ["chat.platforms": "\(served.sorted())"])
        }
        logger.info("following Alertmanager", metadata: ["alertmanager.urls": "\(client.urls.map(AlertmanagerClient.host))",
                                                         "poll.seconds": "\(config.pollInterval)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Fixed rate: the time a poll takes (diagnostics included) is not added to the interval.
            let started = ContinuousClock.now
            let delay = await pollOnce()
            let left = delay - Self.seconds(ContinuousClock.now - started)
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(nanoseconds: UInt64(max(0.05, left) * 1e9))
            }
        }
        logger.info("alert follower stopped")
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// One poll and everything it leads to; returns the seconds until the next one.
    @discardableResult
    public func pollOnce() async -> Double {
        let now = clock()
        if tracker == nil {
            do {
                let rows = try await store.read { tx in try tx.alertStates() }
                tracker = AlertTracker(known: rows.map(FollowedAlert.init(record:)), resolveAfterMissedPolls: config.resolveAfterMissedPolls)
            } catch {
                logger.error("cannot read alert state", metadata: ["error": "\(error)"])
                return config.pollInterval
            }
        }
        polls += 1
        let due = health.due(at: now)
        let client = self.client
        let answers = await withTaskGroup(of: (String, Result<[AMAlertGroup], Error>).self) { group in
            for url in due {
                group.addTask {
                    do { return (url, .success(try await client.groups(from: url))) } catch { return (url, .failure(error)) }
                }
            }
            var out: [(String, Result<[AMAlertGroup], Error>)] = []
            for await a in group { out.append(a) }
            return out
        }
        var answered: [String] = []
        var groups: [[AMAlertGroup]] = []
        for (url, result) in answers {
            switch result {
            case .success(let g):
                if health.peers.first(where: { $0.url == url })?.reachable == false {
                    logger.notice("Alertmanager reachable again", metadata: ["alertmanager": "\(AlertmanagerClient.host(url))"])
                }
                health.succeeded(url, at: now)
                answered.append(url)
                groups.append(g)
            case .failure(let e):
                if health.peers.first(where: { $0.url == url })?.reachable == true {
                    logger.warning("Alertmanager unreachable", metadata: ["alertmanager": "\(AlertmanagerClient.host(url))", "error": "\(e)"])
                }
                health.failed(url, error: "\(e)", at: now)
            }
        }
        guard !answered.isEmpty, var tracker else {
            let view = await board.current()
            await board.update(AlertBoard.View(snapshot: view.snapshot, health: health, lastPoll: view.lastPoll))
            let retry = health.nextRetry.map { $0.timeIntervalSince(now) } ?? config.pollInterval
            return max(0.05, min(config.pollInterval, retry))
        }
        let snapshot = AlertSnapshot.merge(groups)
        // Alerts vanishing at once may mean Alertmanager restarted (it keeps alerts in memory
        // until Prometheus re-sends them): ask when it started before resolving anything.
        if tracker.firing.contains(where: { snapshot.alerts[$0.fingerprint] == nil }) {
            for url in answered {
                if let started = try? await client.startTime(of: url), health.noteStart(url, startedAt: started, at: now) {
                    logger.notice("Alertmanager restarted; not resolving alerts during the grace period",
                                  metadata: ["alertmanager": "\(AlertmanagerClient.host(url))"])
                }
            }
        }
        let countMisses = health.missesCount(answered: answered, at: now, grace: config.recoveryGrace)
        let transitions = tracker.observe(snapshot.alerts, at: now, countMisses: countMisses)
        // What this queues, the store's enqueue signal wakes each platform's outbox for.
        var fired: [FollowedAlert] = []
        for t in transitions { if case .fired(let fp) = t, let a = tracker.alerts[fp] { fired.append(a) } }
        let full = fired.prefix(config.maxAnnouncementsPerPoll)
        for alert in full {
            await announce(alert, tracker: &tracker, at: now)
        }
        if fired.count > full.count {
            await digest(Array(fired.dropFirst(full.count)), tracker: &tracker, at: now)
        }
        for t in transitions {
            if case .resolved(let fp) = t, let a = tracker.alerts[fp] {
                await resolved(a, at: now)
            }
        }
        tracker.prune(resolvedBefore: now.addingTimeInterval(-config.keepResolved))
        let changes = tracker.takeChanges()
        if !changes.save.isEmpty || !changes.delete.isEmpty {
            let rows = changes.save.map(\.record)
            do {
                try await store.write { tx in
                    for r in rows { try tx.save(r) }
                    try tx.deleteAlertStates(fingerprints: changes.delete)
                }
            } catch {
                logger.error("cannot record alert state", metadata: ["error": "\(error)"])
            }
        }
        self.tracker = tracker
        await board.update(AlertBoard.View(snapshot: snapshot, health: health, lastPoll: now))
        return config.pollInterval
    }

    func rooms(for route: AlertRoute) -> [AlertRoute.Room] {
        route.rooms.filter { served.contains($0.platform) }
    }

    /// Announces one alert (diagnostics included); false when it went nowhere.
    @discardableResult
    func announce(_ alert: FollowedAlert, tracker: inout AlertTracker, at now: Date) async -> Bool {
        let fp = alert.fingerprint
        guard let routed = config.router.route(alert.labels) else {
            tracker.markAnnounced(fp, platform: nil, room: nil, messageKey: nil, incidentID: nil, openedIncident: false)
            return false
        }
        let rooms = rooms(for: routed.route)
        guard let primary = rooms.first else {
            tracker.markAnnounced(fp, platform: nil, room: nil, messageKey: nil, incidentID: nil, openedIncident: false)
            return false
        }
        let plan = config.diagnostics[alert.alertname]
        let results = routed.route.diagnose ? await diagnostics.run(plan?.commands ?? [], database: routed.database) : []
        let remedy = plan?.remedy(labels: alert.labels, database: routed.database)
        var snapshot: DatabaseSnapshot?
        if routed.route.openIncident, let database,
           (try? await store.read({ tx in try tx.activeIncident(platform: primary.platform, room: primary.room) })) == nil {
            snapshot = await DatabaseSnapshot.capture(database, target: routed.database)
        }
        let events = commands.incidentEvents
        let key = "alert:\(fp):\(Int64(alert.firstSeen.timeIntervalSince1970 * 1000))"
        let capturedSnapshot = snapshot
        let config = self.config
        do {
            let (incidentID, opened) = try await store.write { tx -> (Int64?, Bool) in
                var incident: (id: Int64, opened: Bool)?
                if let active = try tx.activeIncident(platform: primary.platform, room: primary.room), let id = active.id {
                    incident = (id, false)
                } else if routed.route.openIncident {
                    let inserted = try tx.insert(Incident(platform: primary.platform, room: primary.room, title: AlertButtons.incidentTitle(alert),
                                                          severity: routed.severity, openedBy: Self.actor, openedAt: now))
                    if let id = inserted.id {
                        try tx.append(TimelineEvent(incidentID: id, at: now, actor: Self.actor, kind: .opened,
                                                    text: "Opened \(routed.severity.rawValue): \(inserted.title)",
                                                    payload: Self.json(["severity": routed.severity.rawValue, "alert": fp])))
                        if let s = capturedSnapshot {
                            try tx.append(TimelineEvent(incidentID: id, at: now, actor: "triage", kind: .snapshot, text: s.summary,
                                                        output: TextRenderer(maxCellWidth: 400).render(s.reply), payload: s.payloadJSON))
                        }
                        try events.emit(IncidentEvent(.opened, incident: inserted, actor: Self.actor, at: now), in: tx)
                        incident = (id, true)
                    }
                }
                let reply = AlertMessages.announcement(alert, severity: routed.severity, database: routed.database,
                                                       diagnostics: results, remedy: remedy, incident: incident, now: now)
                for r in rooms {
                    // Each room its own buttons (a button belongs to one room).
                    var shown = reply
                    shown.buttons = try AlertButtons.keyboard(for: alert, severity: routed.severity, incident: incident?.id, config: config,
                                                              platform: r.platform, room: r.room, at: now, in: tx)
                    _ = try tx.enqueue(OutboxMessage(platform: r.platform, room: r.room, replyTo: nil,
                                                     key: "\(key):\(r.platform):\(r.room)", reply: shown, createdAt: now))
                }
                if let incident {
                    try tx.append(TimelineEvent(incidentID: incident.id, at: now, actor: Self.actor, kind: .alert,
                                                text: reply.summary ?? alert.alertname,
                                                output: TextRenderer(maxCellWidth: 4000).render(reply),
                                                payload: Self.alertPayload(alert)))
                }
                var row = alert
                row.announced = true
                row.platform = primary.platform
                row.room = primary.room
                row.messageKey = key
                row.incidentID = incident?.id
                row.openedIncident = incident?.opened ?? false
                try tx.save(row.record)
                return (incident?.id, incident?.opened ?? false)
            }
            tracker.markAnnounced(fp, platform: primary.platform, room: primary.room, messageKey: key,
                                  incidentID: incidentID, openedIncident: opened)
            logger.info("alert announced", metadata: ["alert.name": "\(alert.alertname)", "alert.fingerprint": "\(fp)",
                                                      "chat.room": "\(primary.room)"])
            return true
        } catch {
            // Not marked announced: the next poll tries again.
            logger.error("cannot announce alert", metadata: ["alert.fingerprint": "\(fp)", "error": "\(error)"])
            return false
        }
    }

    /// One message per room for alerts beyond the per-poll limit.
    @discardableResult
    func digest(_ alerts: [FollowedAlert], tracker: inout AlertTracker, at now: Date) async -> Bool {
        var byRoom: [AlertRoute.Room: [FollowedAlert]] = [:]
        var order: [AlertRoute.Room] = []
        for a in alerts {
            guard let routed = config.router.route(a.labels), let primary = rooms(for: routed.route).first else {
                tracker.markAnnounced(a.fingerprint, platform: nil, room: nil, messageKey: nil, incidentID: nil, openedIncident: false)
                continue
            }
            if byRoom[primary] == nil { order.append(primary) }
            byRoom[primary, default: []].append(a)
        }
        var queued = false
        for room in order {
            guard let list = byRoom[room] else { continue }
            let reply = AlertMessages.digest(list, now: now)
            let key = "alert-digest:\(Int64(now.timeIntervalSince1970 * 1000)):\(room.platform):\(room.room)"
            do {
                let incidentID = try await store.write { tx -> Int64? in
                    _ = try tx.enqueue(OutboxMessage(platform: room.platform, room: room.room, replyTo: nil, key: key, reply: reply, createdAt: now))
                    let incident = try tx.activeIncident(platform: room.platform, room: room.room)?.id
                    if let incident {
                        try tx.append(TimelineEvent(incidentID: incident, at: now, actor: Self.actor, kind: .alert,
                                                    text: reply.summary ?? "alerts", output: TextRenderer(maxCellWidth: 4000).render(reply)))
                    }
                    for a in list {
                        var row = a
                        row.announced = true
                        row.platform = room.platform
                        row.room = room.room
                        row.messageKey = key
                        row.incidentID = incident
                        try tx.save(row.record)
                    }
                    return incident
                }
                for a in list {
                    tracker.markAnnounced(a.fingerprint, platform: room.platform, room: room.room, messageKey: key,
                                          incidentID: incidentID, openedIncident: false)
                }
                queued = true
            } catch {
                logger.error("cannot queue the alert digest", metadata: ["error": "\(error)"])
            }
        }
        return queued
    }

    /// Tells the alert's rooms it resolved; resolves the incident if its route says so.
    @discardableResult
    func resolved(_ alert: FollowedAlert, at now: Date) async -> Bool {
        guard let platform = alert.platform, let room = alert.room else { return false }
        let route = config.router.route(alert.labels)?.route
        var rooms = route.map { self.rooms(for: $0) } ?? []
        if !rooms.contains(AlertRoute.Room(platform: platform, room: room)) {
            rooms.insert(AlertRoute.Room(platform: platform, room: room), at: 0)
        }
        let events = commands.incidentEvents
        let targets = rooms
        let resolveIncident = route?.resolveIncident ?? false
        do {
            try await store.write { tx in
                var incidentResolved = false
                var incidentID: Int64?
                if let id = alert.incidentID, var incident = try tx.incident(id: id), incident.isActive {
                    incidentID = id
                    try tx.append(TimelineEvent(incidentID: id, at: now, actor: Self.actor, kind: .alertResolved,
                                                text: "Alert \(alert.alertname) resolved after \(DurationFormatter.format(seconds: max(0, now.timeIntervalSince(alert.startsAt))))",
                                                payload: Self.alertPayload(alert)))
                    let others = try tx.firingAlerts(incident: id).filter { $0.fingerprint != alert.fingerprint }
                    // An incident an alert opened is closed with the last alert recorded in it.
                    if resolveIncident, incident.openedBy == Self.actor, others.isEmpty {
                        incident.status = .resolved
                        incident.resolvedAt = now
                        if incident.mitigatedAt == nil { incident.mitigatedAt = now }
                        try tx.update(incident)
                        try tx.append(TimelineEvent(incidentID: id, at: now, actor: Self.actor, kind: .resolved,
                                                    text: "Resolved: every alert in it resolved"))
                        try events.emit(IncidentEvent(.resolved, incident: incident, actor: Self.actor, at: now), in: tx)
                        incidentResolved = true
                    }
                }
                let reply = AlertMessages.resolved(alert, at: now, incident: incidentID, incidentResolved: incidentResolved)
                for r in targets {
                    // A reply to the announcement in that room when the outbox recorded which
                    // platform message it became (not yet sent, or the console: a new message).
                    let announced = try alert.messageKey.flatMap { key in
                        try Self.announcementID(tx, key: key, platform: r.platform, room: r.room)
                    }
                    let base = alert.messageKey ?? "alert:\(alert.fingerprint)"
                    _ = try tx.enqueue(OutboxMessage(platform: r.platform, room: r.room, replyTo: announced,
                                                     key: "\(base):resolved:\(r.platform):\(r.room)",
                                                     reply: reply, createdAt: now))
                    // The announcement itself says it is over (edited in place; only an edit).
                    let announcementKey = "\(base):\(r.platform):\(r.room)"
                    if let original = try tx.outboxMessage(platform: r.platform, key: announcementKey),
                       let shown = try AlertAnnouncements.current(original, in: tx) {
                        _ = try tx.enqueue(OutboxMessage(platform: r.platform, room: r.room, replyTo: nil,
                                                         key: "\(base):resolved-edit:\(r.platform):\(r.room)",
                                                         reply: AlertMessages.resolvedAnnouncement(shown, alert: alert, at: now),
                                                         createdAt: now, replaces: announcementKey, editOnly: true))
                    }
                }
                try tx.save(alert.record)
            }
            logger.info("alert resolved", metadata: ["alert.name": "\(alert.alertname)", "alert.fingerprint": "\(alert.fingerprint)"])
            return true
        } catch {
            logger.error("cannot record the alert's resolution", metadata: ["alert.fingerprint": "\(alert.fingerprint)", "error": "\(error)"])
            return false
        }
    }

    /// The platform message id the announcement under `key` became in `room` (its first part):
    /// an announcement's outbox key is `key:platform:room`, a digest's is `key` itself.
    static func announcementID(_ tx: StoreTransaction, key: String, platform: String, room: String) throws -> String? {
        let suffix = ":\(platform):\(room)"
        if let id = try tx.sentMessageIDs(platform: platform, key: key + suffix).first { return id }
        guard key.hasSuffix(suffix) else { return nil }
        return try tx.sentMessageIDs(platform: platform, key: key).first
    }

    /// Who alerts act as in incidents and timelines.
    static let actor = "alertmanager"

    static func json(_ values: [String: String]) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? e.encode(values)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    struct AlertPayload: Encodable {
        var fingerprint: String
        var alertname: String
        var labels: LabelSet
        var startsAt: String
    }

    static func alertPayload(_ a: FollowedAlert) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let p = AlertPayload(fingerprint: a.fingerprint, alertname: a.alertname, labels: a.labels, startsAt: UTCTime.iso(a.startsAt))
        return (try? e.encode(p)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
