import Foundation
import TriageHandlers
import TriageChat
import TriageCore
import TriageStore

/// `/page`, `/ack`, `/escalate`, `/oncall` and `/oncall override`. Every change happens in
/// the command's own transaction; provider calls are made later by the escalation service,
/// so a provider that is down never delays a reply.
public struct PagingCommands: CommandHandler {
    let pager: Pager
    var config: PagingConfig { pager.config }

    public init(pager: Pager) {
        self.pager = pager
    }

    public var declarations: [CommandDeclaration] {
        let section = "Paging"
        return [
            CommandDeclaration(words: ["page"], summary: "Page an escalation policy or a person until someone acknowledges.", section: section,
                               arguments: [ArgumentDeclaration(name: "target", type: .string, isRequired: true, help: "a policy name or @person"),
                                           ArgumentDeclaration(name: "message", type: .text, help: "what is wrong (default: the incident's title)")],
                               role: .responder),
            CommandDeclaration(words: ["ack"], summary: "Acknowledge the pages in this room: escalation stops.", section: section,
                               arguments: [ArgumentDeclaration(name: "page", type: .integer(min: 1, max: Int(Int32.max)), help: "one page's number")],
                               role: .responder, aliases: [["acknowledge"]]),
            CommandDeclaration(words: ["escalate"], summary: "Page the next level of the escalation now.", section: section,
                               arguments: [ArgumentDeclaration(name: "page", type: .integer(min: 1, max: Int(Int32.max)), help: "one page's number")],
                               role: .responder),
            CommandDeclaration(words: ["oncall"], summary: "Who is on call now and next, with handoff times.", section: section,
                               arguments: [ArgumentDeclaration(name: "schedule", type: .string, help: "a schedule name (default: all)")]),
            CommandDeclaration(words: ["oncall", "override"], summary: "Put someone on call for a while, instead of the rotation.", section: section,
                               arguments: [ArgumentDeclaration(name: "person", type: .string, isRequired: true, help: "@person"),
                                           ArgumentDeclaration(name: "duration", type: .duration, isRequired: true, help: "e.g. 4h"),
                                           ArgumentDeclaration(name: "schedule", type: .string, isFlag: true, help: "which schedule (default: the only one, or the person's)")],
                               role: .responder),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        switch context.declaration.name {
        case "page": return try page(context)
        case "ack": return ack(context)
        case "escalate": return escalate(context)
        case "oncall override": return try override(context)
        default: return try oncall(context)
        }
    }

    // MARK: /page

    func page(_ context: CommandContext) throws -> CommandOutcome {
        let m = context.message
        let at = context.now
        let target = context.arguments.string("target") ?? ""
        let policy: EscalationPolicy
        if let p = config.policies[target], !target.hasPrefix("@") {
            policy = p
        } else if let person = config.person(named: target) {
            policy = config.personPolicy(person)
        } else {
            let names = Array(config.policies.keys) + config.people.values.map(\.handle)
            throw UsageError(.badArgument, "No policy or person named '\(target.prefix(60))'. Policies: "
                             + (config.policies.keys.sorted().joined(separator: ", ").nonEmpty ?? "none")
                             + "; people: " + (config.people.values.map(\.handle).sorted().joined(separator: ", ").nonEmpty ?? "none") + ".",
                             suggestions: Suggester.closest(to: target, among: names).map { "page \($0)" })
        }
        let message = context.arguments.string("message")
        let pager = self.pager
        return CommandOutcome(reply: Reply()) { tx, _ in
            let incident = try tx.activeIncident(platform: m.platform, room: m.room)
            guard let summary = message ?? incident?.title else {
                throw UsageError(.badArgument, "Say what is wrong: /page \(target) MESSAGE (no incident is open here).",
                                 usage: context.declaration.usage)
            }
            guard let report = try pager.start(Pager.Start(platform: m.platform, room: m.room, incidentID: incident?.id, summary: summary,
                                                           severity: incident?.severity ?? .sev2, openedBy: m.senderName, policy: policy),
                                               at: at, in: tx) else {
                throw TriageError(.conflict, "This incident is already paged.")
            }
            var reply = Self.startedReply(report, policy: policy)
            // The page's status message in this room carries the buttons (and is edited as the
            // page moves); without one here, this reply does.
            let id = report.page.id ?? 0
            if try tx.outboxMessage(platform: m.platform, key: Pager.statusKey(page: id, platform: m.platform, room: m.room)) == nil {
                reply.buttons = try Self.pageButtons(page: report.page.id, platform: m.platform, room: m.room, at: at, in: tx,
                                                     allowing: report.recipients.flatMap { $0.userIDs(on: m.platform) })
            }
            return reply
        }
    }

    static func startedReply(_ report: Pager.StepReport, policy: EscalationPolicy) -> Reply {
        let page = report.page
        var kvs = [KeyValue("policy", policy.name),
                   KeyValue("level", "1 of \(policy.levels.count)" + (policy.repeats > 0 ? ", repeated \(policy.repeats)×" : "")),
                   KeyValue("paged", report.recipients.map(\.handle).joined(separator: ", ").nonEmpty ?? "rooms only", mark: .warning),
                   KeyValue("via", report.providers.joined(separator: ", "))]
        if let next = page.nextAt {
            kvs.append(KeyValue(policy.levels.count > 1 || policy.repeats > 0 ? "next level" : "gives up", UTCTime.format(next) + " unless acknowledged"))
        }
        return Reply(title: "Page #\(page.id!) started", blocks: [.keyValues(kvs), .text("Type /ack to acknowledge, /escalate to page the next level now.")],
                     mark: .warning, summary: "page \(page.id!) started (\(policy.name))")
    }

    /// [Ack] [Escalate now] for a page, in one room: each runs `/ack N` or `/escalate N` as
    /// whoever taps, with their role.
    /// - Parameter people: platform user ids of the people paged, who may tap [Ack] whatever their role.
    static func pageButtons(page: Int64?, platform: String, room: String, at: Date, in tx: StoreTransaction,
                            allowing people: [String] = []) throws -> [[ReplyButton]]? {
        guard let page, let number = Int(exactly: page) else { return nil }
        let arguments = BoundArguments(["page": .integer(number)])
        return [[try tx.storeButton("Ack", emoji: "👀", command: "ack", arguments: arguments, platform: platform, room: room, at: at,
                                    allowing: people),
                 try tx.storeButton("Escalate now", emoji: "⏩", command: "escalate", arguments: arguments, platform: platform, room: room, at: at)]]
    }

    // MARK: /ack

    func ack(_ context: CommandContext) -> CommandOutcome {
        let m = context.message
        let at = context.now
        let only = context.arguments.int("page").map(Int64.init)
        let pager = self.pager
        return CommandOutcome(reply: Reply()) { tx, _ in
            var pages = try tx.pages(platform: m.platform, room: m.room, phases: ["pending", "waiting", "exhausted"])
            if let only {
                pages = pages.filter { $0.id == only }
                guard !pages.isEmpty else { throw TriageError(.notFound, "Page #\(only) is not waiting for an acknowledgement in this room.") }
            }
            var incident = try tx.activeIncident(platform: m.platform, room: m.room)
            var lines: [KeyValue] = []
            for page in pages.reversed() {
                let report = try pager.acknowledge(page, by: m.senderName, at: at, in: tx)
                var text = "stopped at level \(page.level + 1)"
                if !report.followUps.isEmpty { text += "; acknowledging at " + report.followUps.joined(separator: ", ") }
                if report.cancelled > 0 { text += "; \(report.cancelled) undelivered call(s) cancelled" }
                lines.append(KeyValue("page #\(page.id!)", text, mark: .ok))
            }
            if var i = incident, i.acknowledgedAt == nil {
                i.acknowledgedAt = at
                try tx.update(i)
                incident = i
                if pages.isEmpty {
                    try tx.append(TimelineEvent(incidentID: i.id!, at: at, actor: m.senderName, kind: .acknowledged,
                                                text: "Incident #\(i.id!) acknowledged by \(m.senderName)."))
                }
            } else if pages.isEmpty {
                if let i = incident {
                    return Reply.text("Incident #\(i.id!) was already acknowledged at \(UTCTime.format(i.acknowledgedAt!)); no page is running here.")
                }
                throw TriageError(.notFound, "Nothing to acknowledge here: no page is running and no incident is open.")
            }
            if let i = incident { lines.insert(KeyValue("incident", "#\(i.id!) acknowledged by \(m.senderName)"), at: 0) }
            return Reply(title: "Acknowledged", blocks: [.keyValues(lines)], mark: .ok,
                         summary: "acknowledged by \(m.senderName)")
        }
    }

    // MARK: /escalate

    func escalate(_ context: CommandContext) -> CommandOutcome {
        let m = context.message
        let at = context.now
        let only = context.arguments.int("page").map(Int64.init)
        let pager = self.pager
        return CommandOutcome(reply: Reply()) { tx, _ in
            let pages = try tx.pages(platform: m.platform, room: m.room, phases: ["waiting"]).filter { only == nil || $0.id == only }
            guard let page = pages.first else {
                throw TriageError(.notFound, only.map { "Page #\($0) is not escalating in this room." }
                                  ?? "No page is escalating in this room. Start one with /page POLICY|@person.")
            }
            let report = try pager.escalate(page, by: m.senderName, at: at, in: tx)
            let (policy, _) = try pager.machine(for: page)
            if report.exhausted {
                return Reply(blocks: [.note("Page #\(page.id!) was at its last level; nobody is left to page. Page someone with /page.", .warning)],
                             summary: "page \(page.id!) exhausted")
            }
            guard let n = report.notified.last else { return Reply.text("Page #\(page.id!) did not move.") }
            var kvs = [KeyValue("level", "\(n.level + 1) of \(policy.levels.count)" + (n.round > 0 ? ", round \(n.round + 1)" : "")),
                       KeyValue("paged", report.recipients.map(\.handle).joined(separator: ", ").nonEmpty ?? "rooms only", mark: .warning),
                       KeyValue("via", report.providers.joined(separator: ", "))]
            if let next = report.page.nextAt { kvs.append(KeyValue("next level", UTCTime.format(next) + " unless acknowledged")) }
            return Reply(title: "Page #\(page.id!) escalated", blocks: [.keyValues(kvs)], mark: .warning,
                         summary: "page \(page.id!) escalated to level \(n.level + 1)")
        }
    }

    // MARK: /oncall

    func oncall(_ context: CommandContext) throws -> CommandOutcome {
        let at = context.now
        var schedules = config.schedules.values.sorted { $0.name < $1.name }
        if let name = context.arguments.string("schedule") {
            guard let s = config.schedules[name] else {
                throw UsageError(.badArgument, "No schedule named '\(name.prefix(60))'. Schedules: "
                                 + (config.schedules.keys.sorted().joined(separator: ", ").nonEmpty ?? "none") + ".",
                                 suggestions: Suggester.closest(to: name, among: Array(config.schedules.keys)).map { "oncall \($0)" })
            }
            schedules = [s]
        }
        guard !schedules.isEmpty else { throw TriageError(.notFound, "No on-call schedules are configured (paging.schedules).") }
        let people = config.people
        let chosen = schedules
        return CommandOutcome(reply: Reply()) { tx, _ in
            let overrides = try tx.onCallOverrides(endingAfter: at).map {
                OnCallOverride(schedule: $0.schedule, person: $0.person, startsAt: $0.startsAt, endsAt: $0.endsAt)
            }
            var blocks: [ReplyBlock] = []
            for s in chosen {
                let (now, next) = s.nowAndNext(at: at, extraOverrides: overrides)
                func who(_ shift: OnCallSchedule.Shift) -> String {
                    (people[shift.person]?.handle ?? shift.person) + (shift.isOverride ? " (override)" : "")
                }
                let rows: [[ReplyCell]] = [
                    [ReplyCell("now"), ReplyCell(who(now), mark: now.isOverride ? .warning : .none),
                     ReplyCell(UTCTime.format(now.endsAt)), ReplyCell(s.localDescription(of: now.endsAt))],
                    [ReplyCell("next"), ReplyCell(who(next)), ReplyCell(UTCTime.format(next.endsAt)), ReplyCell(s.localDescription(of: next.endsAt))],
                ]
                blocks.append(.table(ReplyTable(title: "\(s.name) (\(s.timeZone.identifier), handoff " + String(format: "%02d:%02d", s.handoffHour, s.handoffMinute) + ")",
                                                columns: ["", "on call", "until (UTC)", "until (local)"], rows: rows)))
            }
            return Reply(title: "On call at \(UTCTime.format(at))", blocks: blocks, summary: "on call")
        }
    }

    func override(_ context: CommandContext) throws -> CommandOutcome {
        let m = context.message
        let at = context.now
        let who = context.arguments.string("person") ?? ""
        guard let person = config.person(named: who) else {
            throw UsageError(.badArgument, "No person named '\(who.prefix(60))' in paging.people.",
                             usage: context.declaration.usage,
                             suggestions: [])
        }
        let seconds = context.arguments.int("duration") ?? 0
        guard seconds > 0, seconds <= 30 * 86400 else {
            throw UsageError(.badArgument, "DURATION must be between 1s and 30d.", usage: context.declaration.usage)
        }
        let schedule: OnCallSchedule
        if let name = context.arguments.string("schedule") {
            guard let s = config.schedules[name] else { throw UsageError(.badArgument, "No schedule named '\(name.prefix(60))'.") }
            schedule = s
        } else if config.schedules.count == 1 {
            schedule = config.schedules.values.first!
        } else {
            let theirs = config.schedules.values.filter { $0.people.contains(person.name) }
            guard theirs.count == 1 else {
                throw UsageError(.badArgument, "Which schedule? Add --schedule " + config.schedules.keys.sorted().joined(separator: "|") + ".",
                                 usage: context.declaration.usage)
            }
            schedule = theirs[0]
        }
        let ends = at.addingTimeInterval(Double(seconds))
        return CommandOutcome(reply: Reply()) { tx, _ in
            try tx.insert(OnCallOverrideRecord(schedule: schedule.name, person: person.name, startsAt: at, endsAt: ends,
                                               createdBy: m.senderName, createdAt: at))
            let text = "\(person.handle) is on call for \(schedule.name) until \(UTCTime.format(ends)) (override by \(m.senderName))."
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room) {
                try tx.append(TimelineEvent(incidentID: incident.id!, at: at, actor: m.senderName, kind: .role, text: text))
            }
            return Reply(title: "On-call override", blocks: [.keyValues([
                KeyValue("schedule", schedule.name), KeyValue("on call", person.handle, mark: .warning),
                KeyValue("until (UTC)", UTCTime.format(ends)), KeyValue("until (local)", schedule.localDescription(of: ends)),
            ])], summary: text)
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
