import Foundation
import TriageCore
import TriageStore

/// The paging decisions made inside a store transaction: starting a page, moving it along
/// its policy, acknowledging and resolving it. Each step writes, in the caller's transaction,
/// the page's new state, the "level notified" mark, the provider deliveries to make, the chat
/// mentions (outbox) and the timeline events — so a step happens entirely or not at all, and
/// a restart never notifies a level twice. Provider calls are made later by
/// ``EscalationEngine`` from the stored deliveries.
public struct Pager: Sendable {
    public let config: PagingConfig
    /// The actor recorded for steps nobody typed (timers, retries).
    public static let actor = "triage"

    public init(config: PagingConfig) {
        self.config = config
    }

    /// What to page.
    public struct Start: Sendable {
        public var platform: String
        public var room: String
        public var incidentID: Int64?
        public var summary: String
        public var severity: Severity
        public var openedBy: String
        public var policy: EscalationPolicy
        /// Paged automatically when the incident was opened (at most once per incident).
        public var auto: Bool

        public init(platform: String, room: String, incidentID: Int64?, summary: String, severity: Severity,
                    openedBy: String, policy: EscalationPolicy, auto: Bool = false) {
            self.platform = platform
            self.room = room
            self.incidentID = incidentID
            self.summary = summary
            self.severity = severity
            self.openedBy = openedBy
            self.policy = policy
            self.auto = auto
        }
    }

    /// What a step did, for replies.
    public struct StepReport: Sendable, Equatable {
        public var page: PageRecord
        /// Levels notified (0-based level, round).
        public var notified: [(level: Int, round: Int)] = []
        /// People notified by the last level.
        public var recipients: [PagingPerson] = []
        public var providers: [String] = []
        /// Follow-up calls queued (acknowledge/resolve) by provider.
        public var followUps: [String] = []
        public var cancelled = 0
        public var exhausted = false

        public static func == (a: StepReport, b: StepReport) -> Bool {
            a.page == b.page && a.notified.map { [$0.level, $0.round] } == b.notified.map { [$0.level, $0.round] }
                && a.recipients == b.recipients && a.providers == b.providers && a.followUps == b.followUps
                && a.cancelled == b.cancelled && a.exhausted == b.exhausted
        }
    }

    // MARK: Steps

    /// Creates a page and notifies its first level. Returns nil for an automatic page of an
    /// incident that was already paged.
    public func start(_ s: Start, at date: Date, in tx: StoreTransaction) throws -> StepReport? {
        if s.auto, let incident = s.incidentID, try tx.autoPage(incident: incident) != nil { return nil }
        let policyJSON = String(decoding: try JSONEncoder().encode(s.policy), as: UTF8.self)
        var page = try tx.insert(PageRecord(incidentID: s.incidentID, platform: s.platform, room: s.room, policyName: s.policy.name,
                                            policy: policyJSON, summary: Redaction.redact(s.summary), severity: s.severity.rawValue,
                                            openedBy: s.openedBy, createdAt: date, auto: s.auto))
        var machine = s.policy.stateMachine()
        var report = StepReport(page: page)
        try apply(machine.start(at: date), machine: machine, page: &page, policy: s.policy, actor: s.openedBy, at: date, in: tx, report: &report)
        return report
    }

    /// Advances every page whose wait has ended at `date` (catching up level by level after
    /// downtime). Returns the steps taken.
    public func fireDuePages(at date: Date, in tx: StoreTransaction) throws -> [StepReport] {
        var reports: [StepReport] = []
        for var page in try tx.duePages(at: date) {
            let (policy, m) = try machine(for: page)
            var machine = m
            var report = StepReport(page: page)
            for _ in 0..<(policy.levels.count * (policy.repeats + 1) + 1) {
                let actions = machine.timerFired(at: date)
                if actions.isEmpty { break }
                try apply(actions, machine: machine, page: &page, policy: policy, actor: Self.actor, at: date, in: tx, report: &report)
            }
            reports.append(report)
        }
        return reports
    }

    /// Moves a page to its next level now.
    public func escalate(_ page: PageRecord, by actor: String, at date: Date, in tx: StoreTransaction) throws -> StepReport {
        var page = page
        var (policy, machine) = try machine(for: page)
        var report = StepReport(page: page)
        try apply(machine.escalate(at: date), machine: machine, page: &page, policy: policy, actor: actor, at: date, in: tx, report: &report)
        return report
    }

    /// Stops a page's escalation and acknowledges at the providers that were triggered.
    /// - Parameter provider: the provider the acknowledgement was made in (seen by polling
    ///   it); it is not sent an acknowledge of its own.
    public func acknowledge(_ page: PageRecord, by actor: String, at date: Date, in tx: StoreTransaction,
                            inProvider provider: String? = nil) throws -> StepReport {
        var page = page
        var (policy, machine) = try machine(for: page)
        var report = StepReport(page: page)
        let actions = machine.acknowledge(at: date)
        if !actions.isEmpty {
            page.acknowledgedBy = actor
            page.acknowledgedAt = date
        }
        try apply(actions, machine: machine, page: &page, policy: policy, actor: actor, at: date, in: tx, report: &report,
                  skipping: provider)
        return report
    }

    /// Ends a page and resolves it at the providers that were triggered.
    /// - Parameter reason: why, for the timeline (default: the incident was resolved).
    public func resolve(_ page: PageRecord, by actor: String, at date: Date, in tx: StoreTransaction,
                        reason: String? = nil) throws -> StepReport {
        var page = page
        var (policy, machine) = try machine(for: page)
        var report = StepReport(page: page)
        let actions = machine.resolve(at: date)
        if !actions.isEmpty { page.resolvedAt = date }
        try apply(actions, machine: machine, page: &page, policy: policy, actor: actor, at: date, in: tx, report: &report,
                  reason: reason)
        return report
    }

    // MARK: State

    /// The page's policy snapshot and its state machine.
    public func machine(for page: PageRecord) throws -> (EscalationPolicy, EscalationStateMachine) {
        let policy = try JSONDecoder().decode(EscalationPolicy.self, from: Data(page.policy.utf8))
        let phase = EscalationStateMachine.Phase(rawValue: page.phase) ?? .pending
        return (policy, EscalationStateMachine(waits: policy.levels.map(\.waitSeconds), repeats: policy.repeats, phase: phase,
                                               level: page.level, round: page.round, nextAt: page.nextAt))
    }

    func apply(_ actions: [EscalationStateMachine.Action], machine: EscalationStateMachine, page: inout PageRecord,
               policy: EscalationPolicy, actor: String, at date: Date, in tx: StoreTransaction, report: inout StepReport,
               skipping skipped: String? = nil, reason: String? = nil) throws {
        page.phase = machine.phase.rawValue
        page.level = machine.level
        page.round = machine.round
        page.nextAt = machine.nextAt
        try tx.update(page)
        for action in actions {
            switch action {
            case .notify(let level, let round):
                try notify(level: level, round: round, page: page, policy: policy, actor: actor, at: date, in: tx, report: &report)
            case .wait:
                break
            case .exhausted:
                report.exhausted = true
                let text = "Nobody acknowledged page #\(page.id!) after \(policy.levels.count) level(s)"
                    + (policy.repeats > 0 ? " × \(policy.repeats + 1) rounds" : "") + "; escalation exhausted."
                try timeline(page, .escalation, actor: Self.actor, text: text, at: date, in: tx)
                try mention(Reply(blocks: [.note(text + " Page someone with /page POLICY|@person.", .critical)], summary: text),
                            platform: page.platform, room: page.room, key: "page:\(page.id!):exhausted", at: date, in: tx)
                try updateStatus(page, to: Reply(title: "Page #\(page.id!): nobody acknowledged", blocks: [.note(text, .critical)],
                                                 mark: .critical, summary: text),
                                 suffix: "exhausted-status", keepButtons: true, at: date, in: tx)
            case .acknowledge:
                try followUp(.acknowledge, page: page, at: date, in: tx, report: &report, skipping: skipped)
                var text = "Page #\(page.id!) acknowledged by \(actor)" + (skipped.map { " in \($0)" } ?? "") + " at level \(page.level + 1)/\(policy.levels.count)"
                    + (policy.repeats > 0 ? " (round \(page.round + 1))" : "") + "; escalation stopped"
                if !report.followUps.isEmpty { text += "; acknowledge sent to " + report.followUps.joined(separator: ", ") }
                if report.cancelled > 0 { text += "; \(report.cancelled) undelivered page(s) cancelled" }
                try timeline(page, .acknowledged, actor: actor, text: text + ".", at: date, in: tx)
                try updateStatus(page, to: Reply(title: "Page #\(page.id!) acknowledged by \(actor)",
                                                 blocks: [.keyValues([KeyValue("at", UTCTime.format(date)),
                                                                      KeyValue("stopped at", "level \(page.level + 1) of \(policy.levels.count)"),
                                                                      KeyValue("page", page.summary)])],
                                                 mark: .ok, summary: text),
                                 suffix: "acknowledged-status", at: date, in: tx)
            case .resolve:
                try followUp(.resolve, page: page, at: date, in: tx, report: &report)
                var text = "Page #\(page.id!) " + (reason ?? "resolved")
                if !report.followUps.isEmpty { text += "; resolve sent to " + report.followUps.joined(separator: ", ") }
                if report.cancelled > 0 { text += "; \(report.cancelled) undelivered page(s) cancelled" }
                try timeline(page, .page, actor: actor, text: text + ".", at: date, in: tx)
                try updateStatus(page, to: Reply(title: "Page #\(page.id!) " + (reason ?? "resolved"),
                                                 blocks: [.keyValues([KeyValue("at", UTCTime.format(date)), KeyValue("page", page.summary)])],
                                                 mark: .ok, summary: text),
                                 suffix: "resolved-status", at: date, in: tx)
            }
        }
        report.page = page
    }

    // MARK: Notifying a level

    /// The people and rooms a level reaches at `date`.
    public func resolveTargets(_ level: EscalationLevel, page: PageRecord, at date: Date, in tx: StoreTransaction) throws
        -> (people: [PagingPerson], rooms: [(platform: String, room: String)], labels: [String]) {
        let overrides = try tx.onCallOverrides(endingAfter: date).map {
            OnCallOverride(schedule: $0.schedule, person: $0.person, startsAt: $0.startsAt, endsAt: $0.endsAt)
        }
        var people: [PagingPerson] = []
        var rooms: [(String, String)] = []
        var labels: [String] = []
        func add(_ name: String) -> PagingPerson? {
            guard let p = config.people[name] else { return nil }
            if !people.contains(p) { people.append(p) }
            return p
        }
        for target in level.targets {
            switch target {
            case .schedule(let s):
                guard let schedule = config.schedules[s] else { labels.append("schedule \(s) (not configured)"); continue }
                let shift = schedule.shift(at: date, extraOverrides: overrides)
                if let p = add(shift.person) { labels.append("\(p.handle) (\(s))") }
            case .person(let name):
                if let p = add(name) { labels.append(p.handle) } else { labels.append("\(name) (not configured)") }
            case .room(let r):
                if r == "incident" {
                    rooms.append((page.platform, page.room))
                    labels.append("this room")
                } else if let colon = r.firstIndex(of: ":") {
                    rooms.append((String(r[..<colon]), String(r[r.index(after: colon)...])))
                    labels.append("room \(r)")
                }
            }
        }
        return (people, rooms, labels)
    }

    /// The key the providers see (PagerDuty `dedup_key`, Opsgenie `alias`, the webhook's
    /// `groupKey`): one per incident, so every level and round of its pages updates the same
    /// alert, and the acknowledge and resolve reach it; a page of a person without an
    /// incident has its own.
    public static func providerKey(_ page: PageRecord) -> String {
        page.incidentID.map { "triage-incident-\($0)" } ?? "triage-page-\(page.id ?? 0)"
    }

    /// The stored key of one delivery: the provider key, then `#` and what makes the row
    /// unique (the store keeps one row per provider, action and key).
    static func deliveryKey(_ page: PageRecord, _ suffix: String) -> String {
        providerKey(page) + "#p\(page.id ?? 0)" + suffix
    }

    func notify(level: Int, round: Int, page: PageRecord, policy: EscalationPolicy, actor: String, at date: Date,
                in tx: StoreTransaction, report: inout StepReport) throws {
        guard try tx.markNotified(page: page.id!, level: level, round: round, at: date) else { return }
        let spec = policy.levels[level]
        let (people, rooms, labels) = try resolveTargets(spec, page: page, at: date, in: tx)
        let recipientsJSON = String(decoding: try JSONEncoder().encode(people), as: UTF8.self)
        var used: [String] = []
        for provider in spec.notify {
            if provider == "chat" {
                let handles = people.map(\.handle).joined(separator: " ")
                var text = (handles.isEmpty ? "" : handles + ": ") + "you are paged"
                if policy.levels.count > 1 || policy.repeats > 0 {
                    text += " (level \(level + 1) of \(policy.levels.count)" + (round > 0 ? ", round \(round + 1)" : "") + ")"
                }
                text += " for " + (page.incidentID.map { "incident #\($0) " } ?? "") + "\(page.severity): \(page.summary)."
                text += " Type /ack to acknowledge or /escalate to pass it on."
                let reply = Reply(title: "Page #\(page.id!)", blocks: [.note(text, .critical)], mark: .critical, summary: text)
                var targets = rooms
                if !people.isEmpty && !targets.contains(where: { $0.platform == page.platform && $0.room == page.room }) {
                    targets.insert((page.platform, page.room), at: 0)
                }
                for (platform, room) in targets {
                    try postStatus(reply, handles: handles, people: people, page: page, level: level, round: round,
                                   platform: platform, room: room, at: date, in: tx)
                }
                used.append("chat")
            } else if config.providers[provider] != nil {
                try tx.enqueue(PageDelivery(pageID: page.id!, provider: provider, action: PageAction.trigger.rawValue,
                                            dedupKey: Self.deliveryKey(page, "l\(level + 1)r\(round + 1)"),
                                            level: level, round: round, recipients: recipientsJSON, createdAt: date))
                used.append(provider)
            }
        }
        report.notified.append((level, round))
        report.recipients = people
        report.providers = used
        let position = "level \(level + 1)/\(policy.levels.count)" + (policy.repeats > 0 ? ", round \(round + 1)/\(policy.repeats + 1)" : "")
        let who = labels.isEmpty ? "nobody (no target resolved)" : labels.joined(separator: ", ")
        let via = used.isEmpty ? "" : " via " + used.joined(separator: ", ")
        if level == 0 && round == 0 {
            try timeline(page, .page, actor: actor, text: "Page #\(page.id!) (policy \(policy.name), \(position)): paged \(who)\(via).", at: date, in: tx)
        } else {
            try timeline(page, .escalation, actor: actor, text: "Page #\(page.id!) escalated to \(position): paged \(who)\(via).", at: date, in: tx)
        }
    }

    /// Queues one acknowledge/resolve call per provider whose alert a trigger reached (or may
    /// have reached); triggers not yet sent are cancelled instead.
    func followUp(_ action: PageAction, page: PageRecord, at date: Date, in tx: StoreTransaction, report: inout StepReport,
                  skipping skipped: String? = nil) throws {
        var reached: [PageDelivery] = []
        for var d in try tx.deliveries(page: page.id!) where d.action == PageAction.trigger.rawValue {
            switch d.status {
            case .pending:
                d.status = .cancelled
                d.finishedAt = date
                d.lastError = "cancelled: page \(action == .acknowledge ? "acknowledged" : "resolved") before delivery"
                try tx.update(d)
                report.cancelled += 1
            case .sending, .sent:
                if !reached.contains(where: { $0.provider == d.provider }) { reached.append(d) }
            case .failed, .cancelled:
                continue
            }
        }
        for d in reached where d.provider != skipped {
            guard let provider = config.providers[d.provider], provider.supports(action) else { continue }
            let queued = try tx.enqueue(PageDelivery(pageID: page.id!, provider: d.provider, action: action.rawValue,
                                                     dedupKey: Self.deliveryKey(page, "-" + action.rawValue),
                                                     level: page.level, round: page.round, recipients: d.recipients, createdAt: date))
            if queued && !report.followUps.contains(d.provider) { report.followUps.append(d.provider) }
        }
    }

    /// The outbox key of a page's one status message in a room.
    static func statusKey(page: Int64, platform: String, room: String) -> String {
        "page:\(page):status:\(platform):\(room)"
    }

    /// Posts a page's status message in a room, or, when it has one there already, edits it
    /// to `reply` (its buttons kept) and mentions the newly paged in a short reply of its own
    /// (an edit notifies nobody). The people paged may tap its [Ack] whatever their role.
    func postStatus(_ reply: Reply, handles: String, people: [PagingPerson], page: PageRecord, level: Int, round: Int,
                    platform: String, room: String, at date: Date, in tx: StoreTransaction) throws {
        guard let id = page.id else { return }
        let ids = people.flatMap { $0.userIDs(on: platform) }
        let statusKey = Self.statusKey(page: id, platform: platform, room: room)
        guard let status = try tx.outboxMessage(platform: platform, key: statusKey) else {
            var notice = reply
            notice.buttons = try PagingCommands.pageButtons(page: id, platform: platform, room: room, at: date, in: tx, allowing: ids)
            try mention(notice, platform: platform, room: room, key: statusKey, at: date, in: tx)
            return
        }
        var notice = reply
        notice.buttons = (try? status.decodedReply())?.buttons
        if let ack = notice.buttons?.joined().first(where: { $0.data.hasPrefix(ChatButton.prefix) && $0.label == "Ack" }) {
            try tx.allow(ids, onButton: ack.data)
        }
        let key = "page:\(id):l\(level)r\(round):\(platform):\(room)"
        try tx.enqueue(OutboxMessage(platform: platform, room: room, replyTo: nil, key: key, reply: notice, createdAt: date,
                                     replaces: statusKey))
        guard !handles.isEmpty else { return }
        let position = "level \(level + 1)" + (round > 0 ? ", round \(round + 1)" : "")
        let text = "\(handles): you are paged (\(position)) for page #\(id): \(page.summary). Its status message above has [Ack]; or type /ack \(id)."
        try tx.enqueue(OutboxMessage(platform: platform, room: room, replyTo: try tx.sentMessageIDs(platform: platform, key: statusKey).first,
                                     key: key + ":mention", reply: Reply(blocks: [.note(text, .critical)], mark: .critical, summary: text),
                                     createdAt: date))
    }

    /// Edits every status message of `page` to say how it ended (acknowledged, resolved,
    /// exhausted): only an edit, since a reply of its own says so too. `keepButtons` keeps
    /// [Ack] (an exhausted page can still be acknowledged).
    func updateStatus(_ page: PageRecord, to reply: Reply, suffix: String, keepButtons: Bool = false, at date: Date,
                      in tx: StoreTransaction) throws {
        guard let id = page.id else { return }
        for status in try tx.outboxMessages(keyPrefix: "page:\(id):status:") {
            var edited = reply
            edited.buttons = keepButtons ? (try? status.decodedReply())?.buttons : nil
            try tx.enqueue(OutboxMessage(platform: status.platform, room: status.room, replyTo: nil,
                                         key: "page:\(id):\(suffix):\(status.platform):\(status.room)", reply: edited,
                                         createdAt: date, replaces: status.key, editOnly: true))
        }
    }

    func mention(_ reply: Reply, platform: String, room: String, key: String, at date: Date, in tx: StoreTransaction) throws {
        try tx.enqueue(OutboxMessage(platform: platform, room: room, replyTo: nil, key: key, reply: reply, createdAt: date))
    }

    func timeline(_ page: PageRecord, _ kind: TimelineEvent.Kind, actor: String, text: String, at date: Date, in tx: StoreTransaction) throws {
        guard let incident = page.incidentID else { return }
        try tx.append(TimelineEvent(incidentID: incident, at: date, actor: actor, kind: kind, text: text))
    }
}
