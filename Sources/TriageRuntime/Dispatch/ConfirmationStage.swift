import Foundation
import Logging
import Synchronization
import TriageChat
import TriageCore
import TriageHandlers
import TriageStore

/// The guard around every action, whoever implements it: a read-only preview, a single-use
/// token that expires, and on `/confirm` a run of exactly what was previewed (the stored
/// declaration and bound arguments, never the re-parsed text). Two-confirmation actions need
/// two different people unless the config names a break-glass person.
struct ConfirmationStage: CommandHandler {
    let settings: ConfirmationSettings
    let store: BotStore
    let logger: Logger
    let lanes = ActionLanes()
    /// Tokens of actions this process is running (a `running` action not in it was running
    /// when an earlier process stopped).
    let runningHere = RunningTokens()

    var declarations: [CommandDeclaration] {
        let section = "Actions"
        return [
            CommandDeclaration(words: ["confirm"], summary: "Run a previewed database action (single-use token, valid 5 minutes).",
                               section: section,
                               arguments: [ArgumentDeclaration(name: "token", type: .string, isRequired: true,
                                                               help: "the token shown by the preview")],
                               role: .operator),
            CommandDeclaration(words: ["cancel"], summary: "Drop a previewed action (the latest in this room when no token is given).",
                               section: section,
                               arguments: [ArgumentDeclaration(name: "token", type: .string, help: "the token shown by the preview")],
                               role: .operator),
        ]
    }

    /// `/cancel`; `/confirm` is routed to ``confirm(_:handlers:registry:)`` by the dispatcher.
    func handle(_ context: CommandContext) async throws -> CommandOutcome {
        try await cancel(context)
    }

    // MARK: Preview

    func preview(_ context: CommandContext, handler: any ActionHandler) async throws -> CommandOutcome {
        let preview = try await handler.preview(context)
        let name = context.declaration.name
        var blocks = preview.blocks
        if !preview.refusals.isEmpty {
            blocks.append(contentsOf: preview.refusals.map { .note($0, .critical) })
            return CommandOutcome(reply: Reply(title: "Cannot run: \(context.parsed.line)", blocks: blocks, mark: .critical,
                                               summary: "refused: " + preview.refusals.joined(separator: "; ")),
                                  recordsCommand: true)
        }
        if preview.nothingToDo {
            return CommandOutcome(reply: Reply(title: "Nothing to do: \(context.parsed.line)", blocks: blocks, mark: .ok,
                                               summary: "nothing to do: " + (preview.summary ?? name)),
                                  recordsCommand: true)
        }
        let extra = preview.needsExtraConfirmation
        let needed = max(1, context.declaration.confirmations) + (extra ? 1 : 0)
        let token = Self.newToken()
        let expires = context.now.addingTimeInterval(settings.lifetime)
        let people = needed > 1 ? "; each by a different person" : ""
        var facts = (preview.lockLevel.map { [KeyValue("lock", $0)] } ?? []) + [
                     KeyValue("confirmations needed", "\(needed)" + (extra ? " (this one rewrites or blocks; a second /confirm is asked for)" : "") + people),
                     KeyValue("token", token),
                     KeyValue("expires", UTCTime.format(expires) + " (in \(DurationFormatter.format(seconds: settings.lifetime)))")]
        if let t = preview.target { facts.insert(KeyValue("database", t), at: 0) }
        blocks.append(.keyValues(facts))
        if let warning = preview.warning { blocks.append(.note(warning, .warning)) }
        blocks.append(.note("To run exactly this: /confirm \(token) (operator). To drop it: /cancel \(token).", .warning))
        let summary = "preview " + (preview.summary ?? name) + "; confirm with /confirm \(token)"
        let reply = Reply(title: "Preview (nothing has run yet): \(context.parsed.line)", blocks: blocks, mark: .warning, summary: summary,
                          buttons: ActionButton.keyboard(token: token))
        let m = context.message
        var pending = PendingAction(token: token, platform: m.platform, room: m.room, command: name, line: context.parsed.line,
                                    arguments: preview.arguments ?? context.arguments, target: preview.target,
                                    requestedBy: m.senderName, requestedByID: m.sender, captured: preview.captured,
                                    confirmationsNeeded: needed, createdAt: context.now, expiresAt: expires)
        pending.previewKey = Self.replyKey(m)
        let line = context.parsed.line
        let action = pending
        return CommandOutcome(reply: reply, recordsCommand: false) { tx, reply in
            try tx.insert(action)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room), let id = incident.id {
                try tx.append(TimelineEvent(incidentID: id, at: context.now, actor: m.senderName, kind: .preview,
                                            command: line, text: summary,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            return reply
        }
    }

    // MARK: Confirm

    /// - Parameter claimed: told what the confirmation found, right after it was decided and
    ///   before anything runs (a tap is answered from it), and whether the action is running in
    ///   this process.
    func confirm(_ context: CommandContext, handlers: [String: any CommandHandler], registry: CommandRegistry,
                 claimed: (@Sendable (ConfirmationClaim, _ runningHere: Bool) async -> Void)? = nil) async throws -> CommandOutcome {
        let m = context.message
        let now = context.now
        let token = (context.arguments.string("token") ?? "").lowercased()
        let newToken = Self.newToken()
        let expires = now.addingTimeInterval(settings.lifetime)
        let line = context.parsed.line
        let mayRepeat = settings.breakGlass.contains(m.sender)
        let runningHere = self.runningHere
        let claim = try await store.write { tx -> ConfirmationClaim in
            let claim = try tx.claim(token: token, platform: m.platform, room: m.room, by: m.senderName, personID: m.sender,
                                     samePersonMayRepeat: mayRepeat, at: now, newToken: newToken, expiresAt: expires)
            // Marked inside the transaction: a racing claim of the same token, serialised
            // after this one, already sees it as running here.
            if case .run(let a) = claim { runningHere.insert(a.token) }
            // The request for the next confirmation is this message's reply.
            if case .needsAnother(let next) = claim {
                try tx.setPreviewKey(Self.replyKey(m), token: next.token)
            }
            switch claim {
            case .run(let a), .needsAnother(let a):
                if let incident = try tx.activeIncident(platform: m.platform, room: m.room), let id = incident.id {
                    try tx.append(TimelineEvent(incidentID: id, at: now, actor: m.senderName, kind: .confirmation,
                                                command: line,
                                                text: "\(m.senderName) confirmed \(a.line) (requested by \(a.requestedBy))"))
                }
            default: break
            }
            return claim
        }
        let here: Bool
        if case .used(let a) = claim, a.status == .running { here = runningHere.contains(a.token) } else { here = false }
        await claimed?(claim, here)
        switch claim {
        case .unknown:
            throw TriageError(.notFound, "No action with token '\(token.prefix(20))'. Nothing was run.")
        case .otherRoom:
            throw TriageError(.forbidden, "That token was issued in another room. Nothing was run.")
        case .used(let a) where a.status == .running && here:
            throw TriageError(.conflict, "\(a.line) is running now (confirmed by \(a.confirmedBy ?? "?")); it runs once. Its result follows.")
        case .used(let a) where a.status == .running:
            return await interrupted(a, context: context, handlers: handlers, registry: registry)
        case .used(let a):
            let how = a.status == .cancelled ? "was cancelled" : "was already used (\(a.status)" + (a.confirmedBy.map { ", confirmed by \($0)" } ?? "") + ")"
            throw TriageError(.conflict, "Token \(a.token) \(how). Nothing was run again; run the command for a new preview.")
        case .expired(let a):
            throw TriageError(.conflict, "Token \(a.token) expired at \(UTCTime.format(a.expiresAt)). Nothing was run; run \(a.line) again for a fresh preview.")
        case .sameConfirmer(let a):
            throw TriageError(.forbidden, "You already confirmed \(a.line); this action needs a confirmation from another person. "
                                          + "Nothing has run yet; the token \(a.token) is still valid for them.")
        case .needsAnother(let a):
            let reply = Reply(title: "Confirmation \(a.confirmationsGiven) of \(a.confirmationsNeeded) recorded: \(a.line)",
                              blocks: [.note("This action rewrites or blocks (see the preview). Nothing has run yet. "
                                             + "To really run it, another person types: /confirm \(a.token) (valid until \(UTCTime.format(a.expiresAt))).", .warning)],
                              mark: .warning, summary: "confirmation \(a.confirmationsGiven) of \(a.line); next: /confirm \(a.token) by another person",
                              buttons: ActionButton.keyboard(token: a.token, confirmLabel: "Confirm (\(a.confirmationsGiven + 1) of \(a.confirmationsNeeded))"))
            return CommandOutcome(reply: reply)
        case .run(let pending):
            return await run(pending, context: context, handlers: handlers, registry: registry)
        }
    }

    func run(_ pending: PendingAction, context: CommandContext, handlers: [String: any CommandHandler],
             registry: CommandRegistry) async -> CommandOutcome {
        let m = context.message
        var blocks: [ReplyBlock] = []
        var status = PendingAction.Status.done
        var summary: String
        var mark = Mark.ok
        do {
            guard let declaration = registry.declaration(named: pending.command), declaration.kind == .action,
                  let handler = handlers[declaration.name] as? any ActionHandler else {
                throw TriageError(.notFound, "/\(pending.command) is no longer an action Triage knows; nothing was run.")
            }
            var actionContext = context
            actionContext.declaration = declaration
            actionContext.arguments = pending.boundArguments
            // One action at a time per database target.
            let lane = pending.target ?? ""
            let holder = ActionLanes.Holder(line: pending.line, person: m.senderName, since: Date())
            let got = await lanes.acquire(lane, as: holder) { busy in
                let since = DurationFormatter.format(seconds: Date().timeIntervalSince(busy.since))
                await context.notify(Reply(blocks: [.note("Waiting for \(busy.line.prefix(200)) (started by \(busy.person) \(since) ago) "
                                                          + "to finish on this database; \(pending.line.prefix(200)) runs right after it.", .warning)],
                                           summary: "waiting for \(busy.line.prefix(200))"))
            }
            guard got else { throw CancellationError() }
            defer { lanes.release(lane) }
            let result = try await handler.execute(actionContext, captured: pending.capturedValues, target: pending.target)
            blocks = result.blocks
            summary = "\(pending.line) done: \(result.summary)"
            // A run that did not achieve what it is for ("VACUUM removed nothing") is not an all-clear.
            let warned = blocks.contains { if case .note(_, let m) = $0 { m >= .warning } else { false } }
            if !result.hadEffect || warned { mark = .warning }
        } catch {
            status = .failed
            mark = .critical
            let message: String
            if let presentable = error as? PresentableError {
                message = presentable.description
            } else {
                let ref = String(UInt32.random(in: 0...UInt32.max), radix: 16)
                logger.error("action failed", metadata: ["error.ref": "\(ref)", "error": "\(String(reflecting: error))"])
                message = "Internal error (ref \(ref)). The details are in Triage's log."
            }
            blocks = [.note(message, .critical)] + ((error as? ActionFailure)?.blocks ?? [])
            summary = "\(pending.line) failed: \(message)"
        }
        let finishedAt = Date(timeIntervalSince1970: max(context.now.timeIntervalSince1970, Date().timeIntervalSince1970))
        let title = status == .done ? (mark == .ok ? "Done: " : "Done, with a warning: ") : "Failed: "
        let reply = Reply(title: title + pending.line,
                          blocks: blocks + [.keyValues([KeyValue("requested by", pending.requestedBy),
                                                        KeyValue("confirmed by", pending.confirmedBy ?? m.senderName)])],
                          mark: mark, summary: summary)
        let token = pending.token
        let (finalStatus, finalSummary) = (status, summary)
        return CommandOutcome(reply: reply) { tx, reply in
            try tx.finish(token: token, status: finalStatus, result: finalSummary, at: finishedAt)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room), let id = incident.id {
                try tx.append(TimelineEvent(incidentID: id, at: context.now, actor: m.senderName, kind: .action,
                                            command: pending.line, text: finalSummary,
                                            output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            return reply
        }
    }

    /// A confirmed action that was running when Triage stopped: it may have run. Say so, and
    /// show the current state (its preview again), never "nothing was run".
    func interrupted(_ a: PendingAction, context: CommandContext, handlers: [String: any CommandHandler],
                     registry: CommandRegistry) async -> CommandOutcome {
        var blocks: [ReplyBlock] = [.note("\(a.line) was confirmed (by \(a.confirmedBy ?? "?")) and was running when Triage stopped: "
                                          + "it may have run, fully or in part. Nothing was run again. The current state:", .warning)]
        if let declaration = registry.declaration(named: a.command), let handler = handlers[declaration.name] as? any ActionHandler {
            var c = context
            c.declaration = declaration
            c.arguments = a.boundArguments
            do {
                let now = try await handler.preview(c)
                blocks += now.nothingToDo ? [.text("Nothing left to do: what the action would change is gone.")] + now.blocks : now.blocks
            } catch let e as PresentableError {
                blocks.append(.note("Could not read the current state: \(e.description)", .critical))
            } catch {
                blocks.append(.note("Could not read the current state.", .critical))
            }
        }
        let token = a.token, m = context.message, at = context.now
        let summary = "\(a.line) was interrupted by a restart; it may have run"
        let reply = Reply(title: "Interrupted: \(a.line)", blocks: blocks, mark: .warning, summary: summary)
        return CommandOutcome(reply: reply) { tx, reply in
            try tx.finish(token: token, status: .failed, result: summary, at: at)
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room), let id = incident.id {
                try tx.append(TimelineEvent(incidentID: id, at: at, actor: m.senderName, kind: .action, command: a.line,
                                            text: summary, output: TextRenderer(maxCellWidth: 4000).render(reply)))
            }
            return reply
        }
    }

    // MARK: Cancel

    func cancel(_ context: CommandContext) async throws -> CommandOutcome {
        try await cancelling(context).outcome
    }

    /// The outbox key of the reply to `message` (as the dispatcher queues it).
    static func replyKey(_ message: InboundMessage) -> String {
        "\(message.platform):\(message.room):\(message.messageID)"
    }

    /// `/cancel`, and the token of the action it cancelled.
    func cancelling(_ context: CommandContext) async throws -> (outcome: CommandOutcome, token: String) {
        let m = context.message
        let now = context.now
        let token = context.arguments.string("token")?.lowercased()
        let line = context.parsed.line
        let cancelled: PendingAction = try await store.write { tx in
            let found: PendingAction?
            if let token {
                found = try tx.pendingAction(token: token)
            } else {
                found = try tx.latestPendingAction(platform: m.platform, room: m.room, at: now)
            }
            guard let action = found, action.platform == m.platform, action.room == m.room else {
                throw TriageError(.notFound, token == nil ? "No pending action in this room." : "No action with that token in this room.")
            }
            guard try tx.cancel(token: action.token, at: now, by: m.senderName) else {
                throw TriageError(.conflict, "Token \(action.token) is not pending (\(action.status)); nothing to cancel.")
            }
            if let incident = try tx.activeIncident(platform: m.platform, room: m.room), let id = incident.id {
                try tx.append(TimelineEvent(incidentID: id, at: now, actor: m.senderName, kind: .action,
                                            command: line, text: "cancelled \(action.line) (token \(action.token))"))
            }
            return action
        }
        return (CommandOutcome(reply: Reply.text("Cancelled \(cancelled.line) (token \(cancelled.token)). Nothing was run.", mark: .ok)),
                cancelled.token)
    }

    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// The tokens of actions this process is running.
    final class RunningTokens: Sendable {
        private let tokens = Mutex<Set<String>>([])
        func insert(_ token: String) { tokens.withLock { _ = $0.insert(token) } }
        func contains(_ token: String) -> Bool { tokens.withLock { $0.contains(token) } }
    }

    /// A short random token that is easy to type on a phone.
    static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<8).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }
}
