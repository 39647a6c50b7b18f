import Foundation
import TriageHandlers
import TriageCore
import TriageStore

/// `/alerts`, `/silence`, `/silences`, `/unsilence`.
public struct AlertCommands: CommandHandler {
    let client: AlertmanagerClient
    let board: AlertBoard
    let config: AlertsConfig
    static let section = "Alerts"

    public init(client: AlertmanagerClient, board: AlertBoard, config: AlertsConfig) {
        self.client = client
        self.board = board
        self.config = config
    }

    public var declarations: [CommandDeclaration] { Self.declarations }

    static var declarations: [CommandDeclaration] {
        [
            CommandDeclaration(words: ["alerts"], summary: "Firing alerts for this room, grouped as Alertmanager groups them, with silenced/inhibited state.",
                               section: Self.section, arguments: [ArgumentDeclaration(name: "all", type: .boolean, isFlag: true, help: "every room's alerts")]),
            CommandDeclaration(words: ["silence"], summary: "Silence alerts in Alertmanager: /silence alertname=X datname=shop 2h \"reason\" (or /silence #REF 2h).",
                               section: Self.section, arguments: [ArgumentDeclaration(name: "spec", type: .text, isRequired: true,
                                                                                 help: "matchers (= != =~ !~) or #REF, a duration, a comment")],
                               role: .responder),
            CommandDeclaration(words: ["silences"], summary: "Active and pending Alertmanager silences.", section: Self.section),
            CommandDeclaration(words: ["unsilence"], summary: "Expire a silence (its id, or the first 8 characters of it).", section: Self.section,
                               arguments: [ArgumentDeclaration(name: "id", type: .string, isRequired: true)], role: .responder),
        ]
    }

    public func handle(_ context: CommandContext) async throws -> CommandOutcome {
        switch context.declaration.name {
        case "alerts": return try await alerts(context)
        case "silence": return try await silence(context)
        case "silences": return try await silences(context)
        case "unsilence": return try await unsilence(context)
        default: throw TriageError(.notFound, "/\(context.declaration.name) has no handler.")
        }
    }

    // MARK: /alerts

    func alerts(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let view = await board.current()
        let here = AlertRoute.Room(platform: m.platform, room: m.room)
        let all = context.arguments.flag("all")
        var blocks: [ReplyBlock] = []
        var mark: Mark = .none
        for p in view.health.peers {
            let host = AlertmanagerClient.host(p.url)
            if let since = p.failingSince {
                mark = .critical
                let next = max(0, p.nextAttempt.timeIntervalSince(context.now))
                blocks.append(.note("Alertmanager \(host) unreachable since \(UTCTime.format(since)) (\(DurationFormatter.format(seconds: context.now.timeIntervalSince(since)))); retrying in \(DurationFormatter.format(seconds: next)). Last error: \(p.lastError ?? "-")", .critical))
            } else if let ok = p.lastSuccess {
                blocks.append(.text("Alertmanager \(host): reachable, polled \(DurationFormatter.format(seconds: max(0, context.now.timeIntervalSince(ok)))) ago."))
            } else {
                blocks.append(.text("Alertmanager \(host): not polled yet."))
            }
        }
        var shown = 0
        var elsewhere = 0
        for g in view.snapshot.groups {
            let mine = g.alerts.filter { a in
                all || (config.router.route(a.labels)?.route.rooms.contains(here) ?? false)
            }
            elsewhere += g.alerts.count - mine.count
            guard !mine.isEmpty else { continue }
            shown += mine.count
            let groupLabels = Set(g.labels.keys)
            let rows = mine.sorted { $0.startsAt < $1.startsAt }.map { a -> [ReplyCell] in
                let state: ReplyCell
                if !a.status.silencedBy.isEmpty {
                    state = ReplyCell("silenced by " + a.status.silencedBy.map { String($0.prefix(8)) }.joined(separator: ","))
                } else if !a.status.inhibitedBy.isEmpty {
                    state = ReplyCell("inhibited")
                } else {
                    state = ReplyCell(a.status.state.rawValue, mark: a.status.state == .active ? .warning : .none)
                }
                return [ReplyCell(a.alertname), ReplyCell(AlertMessages.labelText(a.labels, without: groupLabels.union(["alertname"]))),
                        ReplyCell(DurationFormatter.format(seconds: max(0, context.now.timeIntervalSince(a.startsAt)))), state,
                        ReplyCell("#" + String(a.fingerprint.prefix(8)))]
            }
            let title = (g.labels.isEmpty ? "(ungrouped)" : AlertMessages.labelText(g.labels, without: [])) + " → \(g.receiver.name)"
            blocks.append(.table(ReplyTable(title: title, columns: ["alert", "labels", "firing for", "state", "ref"], rows: rows)))
            if mine.contains(where: { $0.status.state == .active }) { mark = max(mark, .warning) }
        }
        if shown == 0 {
            blocks.append(.text(view.lastPoll == nil ? "No answer from Alertmanager yet."
                : "No alerts firing for this room" + (elsewhere > 0 ? " (\(elsewhere) for other rooms; /alerts --all)." : ".")))
        }
        let summary = shown == 0 ? "no alerts firing" : "\(shown) alerts firing"
        return CommandOutcome(reply: Reply(title: "Alerts", blocks: blocks, mark: mark, summary: summary))
    }

    // MARK: /silence

    /// The text after the command word.
    static func rest(of line: String) -> String {
        guard let space = line.firstIndex(where: { $0 == " " || $0 == "\n" }) else { return "" }
        return String(line[line.index(after: space)...])
    }

    func silence(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let request = try SilenceRequest.parse(Self.rest(of: context.parsed.line), minSeconds: config.minSilence, maxSeconds: config.maxSilence,
                                               replyingTo: m.replyToText)
        let matchers: [LabelMatcher]
        switch request.target {
        case .matchers(let list):
            matchers = list
        case .alert(let ref):
            // The alerts Alertmanager has now (an announced alert that resolved needs no silence).
            let view = await board.current()
            let found = view.snapshot.alerts.values.filter { $0.fingerprint.lowercased().hasPrefix(ref) }
            guard found.count == 1, let alert = found.first else {
                throw UsageError(.badArgument, found.isEmpty ? "Silence not created: no firing alert #\(ref) (see /alerts)."
                                 : "Silence not created: #\(ref) names \(found.count) alerts; give more characters.", usage: SilenceRequest.usage)
            }
            matchers = try alert.labels.sorted { $0.key < $1.key }.map { try LabelMatcher(name: $0.key, op: .equal, value: $0.value) }
            guard !matchers.isEmpty else { throw UsageError(.badArgument, "Silence not created: the alert has no labels.", usage: SilenceRequest.usage) }
        }
        let start = context.now
        let end = start.addingTimeInterval(Double(request.seconds))
        let comment = request.comment ?? "Silenced from \(m.platform) by \(m.senderName)"
        let silence = AMPostableSilence(matchers: matchers.map(\.api), startsAt: start, endsAt: end, createdBy: m.senderName, comment: comment)
        let id: String
        do {
            id = try await client.createSilence(silence)
        } catch let e as AlertmanagerError {
            if case .status(400) = e.kind {
                throw UsageError(.badArgument, "Silence not created: Alertmanager refused it (\(e.message)).", usage: SilenceRequest.usage)
            }
            throw TriageError(.http, "Silence not created: \(e.description)")
        }
        let view = await board.current()
        let covered = Set(view.snapshot.alerts.values.filter { a in matchers.allSatisfy { $0.matches(a.labels) } }.map(\.fingerprint))
        let matching = covered.count
        let matcherText = matchers.map(\.description).joined(separator: ", ")
        let record = AlertSilenceRecord(id: id, matchers: matcherText, createdBy: m.senderName, comment: comment,
                                        platform: m.platform, room: m.room, startsAt: start, endsAt: end)
        let reply = Reply(title: "Silence \(id.prefix(8)) created", blocks: [
            .keyValues([
                KeyValue("matchers", matcherText),
                KeyValue("until", UTCTime.format(end) + " (\(DurationFormatter.format(seconds: Double(request.seconds))))"),
                KeyValue("by", m.senderName),
                KeyValue("comment", comment),
                KeyValue("matches now", "\(matching) firing alert\(matching == 1 ? "" : "s")"),
                KeyValue("id", id),
            ]),
            .text("/unsilence \(id.prefix(8)) ends it early."),
        ], mark: .ok, summary: "silence \(id.prefix(8)) for \(matcherText) until \(UTCTime.format(end))")
        return CommandOutcome(reply: reply) { tx, reply in
            var record = record
            let incident = try tx.activeIncident(platform: m.platform, room: m.room)
            record.incidentID = incident?.id
            try tx.insert(record)
            // The announcements of what it silences say so (edited in place, buttons gone).
            try SilencedAnnouncements.edit(fingerprints: covered, silenceID: id, by: m.senderName, until: end, at: start,
                                           madeIn: m.platform, room: m.room, in: tx)
            if let incidentID = incident?.id {
                try tx.append(TimelineEvent(incidentID: incidentID, at: start, actor: m.senderName, kind: .silence,
                                            command: context.parsed.line,
                                            text: "Silenced \(matcherText) for \(DurationFormatter.format(seconds: Double(request.seconds))): \(comment)",
                                            payload: AlertFollowService.json(["silence": id, "matchers": matcherText, "endsAt": UTCTime.iso(end)])))
            }
            return reply
        }
    }

    // MARK: /silences

    func silences(_ context: CommandContext) async throws -> CommandOutcome {
        let list = try await fetchSilences().filter { $0.status.state != .expired }
        let rows = list.map { s -> [ReplyCell] in
            [ReplyCell(String(s.id.prefix(8))), ReplyCell(s.status.state.rawValue, mark: s.status.state == .active ? .none : .warning),
             ReplyCell(s.matchers.compactMap { try? LabelMatcher($0).description }.joined(separator: ", ")),
             ReplyCell(UTCTime.format(s.endsAt)), ReplyCell(s.createdBy), ReplyCell(String(s.comment.prefix(80)))]
        }
        return CommandOutcome(reply: Reply(title: "Silences", blocks: [
            .table(ReplyTable(columns: ["id", "state", "matchers", "until", "by", "comment"], rows: rows, emptyText: "No active or pending silences.")),
        ], summary: "\(list.count) silences"))
    }

    func fetchSilences() async throws -> [AMSilence] {
        do {
            return try await client.silences()
        } catch let e as AlertmanagerError {
            throw TriageError(.http, e.description)
        }
    }

    // MARK: /unsilence

    func unsilence(_ context: CommandContext) async throws -> CommandOutcome {
        let m = context.message
        let given = (context.arguments.string("id") ?? "").lowercased()
        guard given.count >= 4, given.count <= 36, given.allSatisfy({ $0 == "-" || $0.isHexDigit }) else {
            throw UsageError(.badArgument, "'\(given.prefix(40))' is not a silence id (see /silences).", usage: "/unsilence ID")
        }
        let candidates = try await fetchSilences().filter { $0.status.state != .expired && $0.id.lowercased().hasPrefix(given) }
        guard candidates.count == 1, let silence = candidates.first else {
            throw TriageError(candidates.isEmpty ? .notFound : .conflict,
                              candidates.isEmpty ? "No active or pending silence \(given) (see /silences)."
                                                 : "\(given) matches \(candidates.count) silences; give more characters.")
        }
        do {
            try await client.expireSilence(id: silence.id)
        } catch let e as AlertmanagerError {
            throw TriageError(.http, "Silence not expired: \(e.description)")
        }
        let matcherText = silence.matchers.compactMap { try? LabelMatcher($0).description }.joined(separator: ", ")
        let at = context.now
        let reply = Reply.text("Silence \(silence.id.prefix(8)) expired (\(matcherText)); matching alerts notify again.", mark: .ok)
        return CommandOutcome(reply: reply) { tx, reply in
            try tx.markSilenceExpired(id: silence.id, by: m.senderName, at: at)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room)?.id {
                try tx.append(TimelineEvent(incidentID: incident, at: at, actor: m.senderName, kind: .silence, command: context.parsed.line,
                                            text: "Expired silence \(silence.id.prefix(8)) (\(matcherText))",
                                            payload: AlertFollowService.json(["silence": silence.id, "expired": "true"])))
            }
            return reply
        }
    }
}
